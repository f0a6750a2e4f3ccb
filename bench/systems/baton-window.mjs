// Baton sharing one window instead of the screen: the same server, agent and meeting page as
// baton.mjs, with `--window <id>` naming the host Chromium's window, which shows the workload and
// covers the screen (kiosk, no window manager). So both systems share the same content, and the
// difference is only the capture path: the window's own Composite pixmap (RedirectWindow +
// NameWindowPixmap, DAMAGE on the window) instead of the root window.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as baton from './baton.mjs';

export const name = 'baton-window';
export const availability = baton.availability;

const AGENT_CLI = join(fileURLToPath(new URL('../../', import.meta.url)), 'packages/agent/dist/cli.js');

/** The largest window `baton-agent windows` lists: the host browser's (it opens 1921x1081 at 0,0). */
function hostWindow(display, env) {
  const out = execFileSync(process.execPath, [AGENT_CLI, 'windows', '--display', display], { env, encoding: 'utf8' });
  const windows = out
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((f) => f.length >= 4)
    .map(([id, title, , geo]) => {
      const m = /^(\d+)x(\d+)/.exec(geo);
      return { id, title, width: Number(m?.[1] ?? 0), height: Number(m?.[2] ?? 0) };
    });
  if (windows.length === 0) throw new Error(`baton-agent windows lists no window: ${out.slice(0, 200)}`);
  return windows.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
}

export async function start(args) {
  const win = hostWindow(args.display, args.env);
  args.log?.(`baton-window: sharing window ${win.id} '${win.title}' (${win.width}x${win.height})`);
  const sys = await baton.start({ ...args, agentArgs: [...args.agentArgs, '--window', win.id], expectSize: [win.width, win.height] });
  return { ...sys, label: sys.label.replace(/^Baton/, 'Baton window share') };
}

// Baton: the server (child process), the host agent (baton-agent share, child process, on the Xvfb
// display) and the real meeting page (the web client built by lib/buildWeb.mjs, served by the server
// as its web directory), signed in as a second user: the share opens by itself, in Fit.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildWebClient } from '../lib/buildWeb.mjs';

export const name = 'baton';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_CLI = join(ROOT, 'packages/server/dist/cli.js');
const AGENT_CLI = join(ROOT, 'packages/agent/dist/cli.js');
const VIEWER_SOURCES = [join(ROOT, 'packages/web/index.html'), join(ROOT, 'packages/web/src/sharing/SharedScreen.tsx')];
const PASSWORD = 'bench-password-1';

export function availability({ build = true } = {}) {
  if (build) {
    // Measure what the sources say now, not a stale dist/ (incremental: quick when up to date).
    try {
      execFileSync('npx', ['tsc', '-b', 'packages/protocol', 'packages/server', 'packages/agent'], { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(0, 3).join(' / ');
      return `the build failed: ${out || err.message}`;
    }
  }
  for (const f of [SERVER_CLI, AGENT_CLI, ...VIEWER_SOURCES]) if (!existsSync(f)) return `${f.slice(ROOT.length)} does not exist yet`;
  return null;
}

/** A minimal REST client with a cookie jar of one cookie. */
class Api {
  constructor(base) {
    this.base = base;
    this.cookie = '';
  }
  async call(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: { 'content-type': 'application/json', origin: this.base, ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.getSetCookie?.() ?? [];
    if (set.length) this.cookie = set.map((c) => c.split(';')[0]).join('; ');
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  }
}

function waitForLine(child, re, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const check = () => {
      for (const line of child.log) {
        const m = re.exec(line);
        if (m) return resolve(m), true;
      }
      return false;
    };
    if (check()) return;
    const timer = setInterval(() => check() && clearInterval(timer), 50);
    setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`${what} did not start in ${timeoutMs} ms: ${child.log.slice(-6).join(' | ')}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${what} exited (${code}): ${child.log.slice(-6).join(' | ')}`));
    });
  });
}

/** `expectSize`: the shared picture's size when it is not the screen's (a window share: baton-window.mjs). */
export async function start({ procs, display, env, log, agentArgs = [], verify = false, expectSize = null }) {
  const webDir = await buildWebClient();

  const dataDir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
  const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = procs.spawn('baton-server', process.execPath, [...serverNodeArgs, SERVER_CLI, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn', '--signup', 'open', '--web-dir', webDir], {
    env: { ...process.env, BATON_RECONNECT_GRACE_MS: '2000' },
  });
  let agent = null;
  const stop = async () => {
    if (agent) await procs.stop(agent);
    await procs.stop(server);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const [, url] = await waitForLine(server, /Baton is running at (\S+)/, 60_000, 'baton-server');
    const host = new Api(url);
    await host.call('POST', '/api/auth/signup', { username: 'bench-host', password: PASSWORD });
    const conf = await host.call('POST', '/api/conferences', { subject: 'bench', policy: { guests: 'allow', control: 'signed-in', present: 'anyone' } });
    const { token } = await host.call('POST', `/api/conferences/${conf.id}/agent-tokens`, {});
    await new Api(url).call('POST', '/api/auth/signup', { username: 'bench-viewer', password: PASSWORD });

    // BENCH_AGENT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the agent.
    const nodeArgs = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // Frame verification: each frame carries the hash of the host's lossless picture; the viewer checks it.
    const agentEnv = verify ? { ...env, BATON_VERIFY_FRAMES: '1' } : env;
    agent = procs.spawn('baton-agent', process.execPath, [...nodeArgs, AGENT_CLI, 'share', conf.url, '--token', token, '--allow-control', 'signed-in', '--display', display, ...agentArgs], { env: agentEnv });
    await waitForLine(agent, /^Sharing /, 60_000, 'baton-agent');
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

    return {
      label: `Baton ${version} (server + baton-agent ${agentArgs.join(' ') || 'defaults'} + the meeting page in Fit${verify ? ', frame verification on' : ''})`,
      serverPids: [server.pid],
      /** For benches that drive the meeting themselves (bench/recording.mjs): the server, the meeting, the host user's cookie. */
      url,
      conferenceId: conf.id,
      hostCookie: host.cookie,
      dataDir,
      agentPids: [agent.pid],
      canvasSelector: '[data-testid=share-canvas]',
      /** Sign the page's context in as the viewer user (the agent lets signed-in participants control). */
      async preparePage(page) {
        const res = await page.context().request.post(`${url}/api/auth/signin`, { data: { username: 'bench-viewer', password: PASSWORD }, headers: { origin: url } });
        if (!res.ok()) throw new Error(`viewer sign-in: HTTP ${res.status()}`);
      },
      /** The meeting page as a signed-in participant opens it: it joins and shows the share in its default view. */
      async openViewer(page, width, height) {
        if (expectSize) [width, height] = expectSize;
        const query = [verify ? 'verifyFrames=1' : '', process.env.BENCH_VIEWER_QUERY ?? ''].filter(Boolean).join('&');
        await page.goto(`${url}/m/${encodeURIComponent(conf.id)}${query ? `?${query}` : ''}`, { timeout: 90_000 });
        try {
          await page.waitForFunction(([w, h]) => {
            const vp = document.querySelector('[data-testid=share-viewport]');
            const c = document.querySelector('[data-testid=share-canvas]');
            return !!vp && !!c && vp.dataset.drawn === 'true' && c.width === w && c.height === h && window.__batonViewer?.framesDrawn > 0;
          }, [width, height], { timeout: 90_000, polling: 50 });
        } catch (err) {
          const st = await page.evaluate(() => ({ path: location.pathname, viewport: { ...document.querySelector('[data-testid=share-viewport]')?.dataset }, text: document.body.innerText.slice(0, 200) })).catch(() => null);
          throw new Error(`${err.message.split('\n')[0]} (meeting page ${JSON.stringify(st)}; agent: ${agent.log.slice(-3).join(' | ')})`);
        }
      },
      /** Take control the way a user does (the button; the agent's signed-in consent grants it), then focus the screen. */
      async prepareInput(page) {
        await page.getByTestId('control-request').click({ timeout: 10_000 });
        await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=control-status]')].some((e) => e.textContent === 'You are in control'), null, { timeout: 10_000 });
        await page.focus('[data-testid=share-canvas]');
      },
      logs: () => ({ server: server.log.slice(-20), agent: agent.log.slice(-20) }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

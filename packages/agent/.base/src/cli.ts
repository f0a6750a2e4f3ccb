#!/usr/bin/env node
/**
 * baton-agent share <meeting-url> [--token <one-time-token> | --token -] [--monitor X | --window W]
 *   [--allow-control ask|never|signed-in] [--clipboard off|to-host|both] [--tile-size 32] [--max-fps 60] [--display :0] [--no-p2p] [--no-video]
 * baton-agent monitors [--display :0]
 * baton-agent windows [--display :0]
 *
 * Everything it prints goes through printable(): status lines carry names, notices and close
 * reasons that come from other people.
 */
import { createWriteStream, realpathSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printable } from '@baton/protocol';
import { CONTROL_MODES, ConsentPrompt, type ControlMode } from './ConsentPrompt.js';
import { HostConsole } from './HostConsole.js';
import { CLIPBOARD_MODES, ShareClient, type ClipboardMode } from './ShareClient.js';
import { DEFAULT_TILE_SIZE } from './TileEncoder.js';
import { X11Connection } from './X11Connection.js';
import { listMonitors } from './monitors.js';
import { hexId, listWindows } from './WindowCapture.js';

const USAGE = `Usage:
  baton-agent share <meeting-url> --token <one-time-token> [options]
      --token <token>            the one-time token from the meeting page; on the command line
                                 every user of this computer can read it (ps) while the agent
                                 runs, so better:
      --token -                  read the token from standard input (paste it at the prompt)
      BATON_AGENT_TOKEN=<token>  environment variable, used when --token is not given
      --monitor <name|index>     share one monitor (default: the whole screen)
      --window <id|title|pick>   share one window (its own pixels even where covered;
                                 pick: click it); see baton-agent windows
      --allow-control <mode>     ask (default) | never | signed-in
      --clipboard <mode>         text clipboard with the one in control: to-host (default:
                                 their copied text can be pasted here) | both (also what is
                                 copied here while they are in control goes to them alone) | off
      --tile-size <px>           tile grid, 16..256 (default ${DEFAULT_TILE_SIZE})
      --max-fps <n>              capture passes per second at most (default 60; below it the rate
                                 follows the screen, the agent's CPU and the viewers' acks)
      --display <name>           X display (default $DISPLAY)
      --no-p2p                   never stream directly to a viewer; always through the server
      --no-video                 no H.264 video layer for regions in motion: tiles only (the
                                 layer needs the optional node-av package; without it, tiles only)
      --indicator                a "Sharing" window in the corner of the screen (off by default;
                                 viewers see what is under it, through Composite; the terminal
                                 always shows the state)
      --no-page-switch           ignore "Switch source" and Pause/Resume from your own meeting page
  While sharing, on this terminal: s = switch what is shared (then its number), p = pause/resume,
  i = state, h = help. With standard input not a terminal, the same as lines (s, <n>,
  source <id>, p, r, i): see the README.
  baton-agent monitors [--display <name>]
  baton-agent windows [--display <name>]   windows on the screen: id, title, class, size
`;

const OPTIONS = {
  token: { type: 'string' },
  monitor: { type: 'string' },
  window: { type: 'string' },
  'allow-control': { type: 'string', default: 'ask' },
  clipboard: { type: 'string', default: 'to-host' },
  'tile-size': { type: 'string', default: String(DEFAULT_TILE_SIZE) },
  'max-fps': { type: 'string', default: '60' },
  display: { type: 'string' },
  'no-p2p': { type: 'boolean', default: false },
  'no-video': { type: 'boolean', default: false },
  indicator: { type: 'boolean', default: false },
  'no-indicator': { type: 'boolean', default: false },
  'no-page-switch': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `--token -abc` as `--token=-abc`: one-time tokens are base64url and may start with '-', which
 * parseArgs would otherwise take for an option (the command the meeting page shows has a space).
 */
export function joinOptionValues(argv: string[]): string[] {
  const takesValue = (arg: string): boolean => {
    const o = (OPTIONS as Record<string, { type: string }>)[arg.slice(2)];
    return arg.startsWith('--') && o?.type === 'string';
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (takesValue(a) && i + 1 < argv.length) out.push(`${a}=${argv[++i]}`);
    else out.push(a);
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: joinOptionValues(argv), allowPositionals: true, options: OPTIONS });
  const [command, meetingUrl] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (command === 'monitors') {
    const conn = await X11Connection.open({ display: values.display });
    const monitors = await listMonitors(conn);
    monitors.forEach((m, i) => process.stdout.write(`${i}: ${m.name}${m.primary ? ' (primary)' : ''} ${m.width}x${m.height}+${m.x}+${m.y}\n`));
    await conn.close();
    return 0;
  }
  if (command === 'windows') {
    const conn = await X11Connection.open({ display: values.display });
    for (const w of await listWindows(conn)) process.stdout.write(`${hexId(w.id)}\t${printable(w.title)}\t${printable(w.wmClass)}\t${w.width}x${w.height}+${w.x}+${w.y}\n`);
    await conn.close();
    return 0;
  }
  if (values.window !== undefined && values.monitor !== undefined) {
    process.stderr.write('baton-agent: give --window or --monitor, not both\n');
    return 2;
  }
  if (command !== 'share' || !meetingUrl) {
    process.stderr.write(USAGE);
    return 2;
  }
  const token = await readToken(values.token, process.env, process.stdin);
  if (!token.ok) {
    process.stderr.write(`baton-agent: ${token.error}\n`);
    return 2;
  }
  const mode = values['allow-control'] as ControlMode;
  if (!CONTROL_MODES.includes(mode)) {
    process.stderr.write(`baton-agent: --allow-control must be one of ${CONTROL_MODES.join(', ')}\n`);
    return 2;
  }
  const clipboard = values.clipboard as ClipboardMode;
  if (!CLIPBOARD_MODES.includes(clipboard)) {
    process.stderr.write(`baton-agent: --clipboard must be one of ${CLIPBOARD_MODES.join(', ')}\n`);
    return 2;
  }
  if (mode === 'ask' && values.token === '-' && process.stdin.readableEnded) {
    process.stderr.write('baton-agent: standard input ended after the token, so control requests cannot be answered here and will be denied (use BATON_AGENT_TOKEN, or type the token at the prompt)\n');
  }
  const tileSize = Number(values['tile-size']);
  const maxFps = Number(values['max-fps']);
  if (!Number.isInteger(tileSize) || tileSize < 16 || tileSize > 256) {
    process.stderr.write('baton-agent: --tile-size must be an integer from 16 to 256\n');
    return 2;
  }
  if (!(maxFps > 0 && maxFps <= 120)) {
    process.stderr.write('baton-agent: --max-fps must be between 1 and 120\n');
    return 2;
  }

  const log = (line: string): void => void process.stderr.write(`${printable(line)}\n`);
  // Standard input is the host's: its keys, and the answers to consent questions while one is open.
  let consent: ConsentPrompt | null = null;
  const hostConsole = new HostConsole({ asking: () => consent?.asking ?? false, commands: {
    sources: () => client.sources.refresh(),
    current: () => client.currentSource,
    switchTo: (id) => client.switchSource(id),
    paused: () => client.paused,
    setPaused: (on) => client.setPaused(on),
    state: () => client.stateLine,
  } });
  consent = new ConsentPrompt({ mode, input: hostConsole.consentInput });
  let client: ShareClient;
  try {
    client = await ShareClient.start({ meetingUrl, token: token.token, monitor: values.monitor, window: values.window, allowControl: mode, clipboard, consent, tileSize, maxFps, display: values.display, log, p2p: !values['no-p2p'], video: !values['no-video'], indicator: values.indicator && !values['no-indicator'], pageSwitch: !values['no-page-switch'] });
  } catch (err) {
    hostConsole.close();
    throw err;
  }
  client.on('error', (err) => log(`warning: ${err.message}`));
  hostConsole.start();
  // BATON_AGENT_TRACE=<file>: one JSON line per pass (timings, tiles, bytes), for profiling and bench/.
  const tracePath = process.env.BATON_AGENT_TRACE;
  if (tracePath) {
    const trace = createWriteStream(tracePath, { flags: 'a' });
    client.on('frame', (s) => void trace.write(`${JSON.stringify({ at: Date.now(), ...s })}\n`));
  }
  return new Promise<number>((resolve) => {
    let interrupted = false;
    const onSignal = (): void => {
      if (interrupted) process.exit(130); // a second Ctrl-C does not wait
      interrupted = true;
      void client.stop('stopped by the host');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    hostConsole.on('interrupt', onSignal);
    client.on('closed', () => {
      hostConsole.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(0);
    });
  });
}

export type TokenResult = { ok: true; token: string } | { ok: false; error: string };

/**
 * The one-time token: `--token <t>`, `--token -` (one line from standard input; the rest of the
 * input stays for the consent prompt), or BATON_AGENT_TOKEN. The flag wins over the environment.
 */
export async function readToken(flag: string | undefined, env: Record<string, string | undefined>, stdin: Readable & { isTTY?: boolean }): Promise<TokenResult> {
  if (flag !== undefined && flag !== '-') return flag ? { ok: true, token: flag } : { ok: false, error: '--token is empty' };
  if (flag === undefined) {
    const fromEnv = env.BATON_AGENT_TOKEN?.trim();
    if (fromEnv) return { ok: true, token: fromEnv };
    return { ok: false, error: '--token is required: give --token <token>, --token - (read from standard input) or set BATON_AGENT_TOKEN (copy it from the meeting page)' };
  }
  if (stdin.isTTY) process.stderr.write('One-time token (from the meeting page): ');
  const line = await readLine(stdin);
  if (line === null || !line.trim()) return { ok: false, error: '--token -: no token on standard input' };
  return { ok: true, token: line.trim() };
}

/** One line from a stream, without taking more: whatever follows the newline is put back. */
function readLine(stream: Readable): Promise<string | null> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const finish = (line: string | null, rest?: Buffer): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onEnd);
      stream.pause();
      if (rest && rest.length > 0) stream.unshift(rest);
      resolve(line);
    };
    const onData = (chunk: Buffer | string): void => {
      buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl >= 0) finish(buf.subarray(0, nl).toString('utf8').replace(/\r$/, ''), buf.subarray(nl + 1));
      else if (buf.length > 4096) finish(null);
    };
    const onEnd = (): void => finish(buf.length > 0 ? buf.toString('utf8') : null);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onEnd);
    stream.resume();
  });
}

/** The process entry: `node dist/cli.js` and the baton-agent bin wrapper both come here. */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`baton-agent: ${printable(err.message)}\n`);
      process.exit(1);
    },
  );
}

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) run(process.argv.slice(2));

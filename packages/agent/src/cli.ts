#!/usr/bin/env node
/**
 * baton-agent share <meeting-url> --token <one-time-token> [--monitor X]
 *   [--allow-control ask|never|signed-in] [--tile-size 32] [--max-fps 30] [--display :0] [--no-p2p]
 * baton-agent monitors [--display :0]
 */
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { CONTROL_MODES, type ControlMode } from './ConsentPrompt.js';
import { ShareClient } from './ShareClient.js';
import { DEFAULT_TILE_SIZE } from './TileEncoder.js';
import { X11Connection } from './X11Connection.js';
import { listMonitors } from './monitors.js';

const USAGE = `Usage:
  baton-agent share <meeting-url> --token <one-time-token> [options]
      --monitor <name|index>     share one monitor (default: the whole screen)
      --allow-control <mode>     ask (default) | never | signed-in
      --tile-size <px>           tile grid, 16..256 (default ${DEFAULT_TILE_SIZE})
      --max-fps <n>              capture passes per second at most (default 30)
      --display <name>           X display (default $DISPLAY)
      --no-p2p                   never stream directly to a viewer; always through the server
  baton-agent monitors [--display <name>]
`;

const OPTIONS = {
  token: { type: 'string' },
  monitor: { type: 'string' },
  'allow-control': { type: 'string', default: 'ask' },
  'tile-size': { type: 'string', default: String(DEFAULT_TILE_SIZE) },
  'max-fps': { type: 'string', default: '30' },
  display: { type: 'string' },
  'no-p2p': { type: 'boolean', default: false },
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
  if (command !== 'share' || !meetingUrl) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!values.token) {
    process.stderr.write('baton-agent: --token is required (copy the command from the meeting page)\n');
    return 2;
  }
  const mode = values['allow-control'] as ControlMode;
  if (!CONTROL_MODES.includes(mode)) {
    process.stderr.write(`baton-agent: --allow-control must be one of ${CONTROL_MODES.join(', ')}\n`);
    return 2;
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

  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const client = await ShareClient.start({ meetingUrl, token: values.token, monitor: values.monitor, allowControl: mode, tileSize, maxFps, display: values.display, log, p2p: !values['no-p2p'] });
  client.on('error', (err) => log(`warning: ${err.message}`));
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
    client.on('closed', () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(0);
    });
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`baton-agent: ${err.message}\n`);
    process.exit(1);
  },
);

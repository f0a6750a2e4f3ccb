/**
 * Runs Janus as a child of the server and keeps it running: a private config directory, a free
 * loopback port for its WebSocket API chosen at each start (tests and other servers on the machine
 * never collide), a random API secret, and a restart with backoff whenever it dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import path from 'node:path';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { secretToken } from '../util/ids.js';
import { writeJanusConfig } from './janusConfig.js';

export interface JanusProcessOptions {
  /** Private directory: config, log. */
  dir: string;
  binary: string;
  rtpPortRange?: string;
  log?: { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
}

export type JanusProcessEvents = {
  /** Janus accepts API connections at this URL (after every start and restart). */
  up: [url: string];
  /** Janus exited on its own; a restart follows. */
  exit: [code: number | null, signal: NodeJS.Signals | null];
};

/** The janus binary on PATH, or null when it is not installed. */
export function findJanus(envPath = process.env.PATH ?? ''): string | null {
  return findOnPath('janus', envPath);
}

function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | null {
  for (const dir of [...envPath.split(path.delimiter), '/usr/bin', '/usr/local/bin', '/bin']) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

export class JanusProcess extends TypedEmitter<JanusProcessEvents> {
  readonly apiSecret = secretToken();
  readonly #opts: JanusProcessOptions;
  #child: ChildProcess | null = null;
  #url: string | null = null;
  #closed = false;
  #restartDelay = 250;
  #restartTimer: NodeJS.Timeout | null = null;
  #startedAt = 0;

  constructor(opts: JanusProcessOptions) {
    super();
    this.#opts = opts;
  }

  /** The WebSocket API URL while Janus is up, else null. */
  get url(): string | null {
    return this.#url;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Starts Janus; resolves when it accepts connections. Later deaths restart it on their own. */
  async start(): Promise<string> {
    if (this.#closed) throw new Error('closed');
    const port = await freePort();
    const conf = writeJanusConfig({ dir: this.#opts.dir, wsPort: port, apiSecret: this.apiSecret, rtpPortRange: this.#opts.rtpPortRange });
    const logFd = openSync(path.join(this.#opts.dir, 'janus.log'), 'a', 0o600);
    const args = ['-F', this.#opts.dir, '-C', conf, '-o'];
    // If this server is killed outright (SIGKILL, OOM) Janus must not live on holding its ports:
    // setpriv (util-linux) asks the kernel to kill it when we die, then becomes Janus (exec).
    const setpriv = findOnPath('setpriv');
    const child = setpriv
      ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', this.#opts.binary, ...args], { stdio: ['ignore', logFd, logFd] })
      : spawn(this.#opts.binary, args, { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    this.#child = child;
    this.#startedAt = Date.now();
    let exited = false;
    child.once('exit', (code, signal) => {
      exited = true;
      if (this.#child !== child) return;
      this.#child = null;
      this.#url = null;
      if (this.#closed) return;
      this.#opts.log?.warn({ code, signal }, 'janus exited; restarting');
      this.emit('exit', code, signal);
      this.#scheduleRestart();
    });
    child.once('error', (err) => this.#opts.log?.warn({ err }, 'janus failed to start'));
    // Poll the port: Janus has no readiness signal, and it takes a moment to load its plugins.
    const deadline = Date.now() + 15_000;
    while (!exited && !this.#closed && Date.now() < deadline) {
      if (await canConnect(port)) {
        this.#url = `ws://127.0.0.1:${port}`;
        this.#opts.log?.info({ url: this.#url, pid: child.pid }, 'janus is up');
        this.emit('up', this.#url);
        return this.#url;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!exited) child.kill('SIGKILL');
    throw new Error(`janus did not start; see ${path.join(this.#opts.dir, 'janus.log')}`);
  }

  #scheduleRestart(): void {
    if (this.#closed || this.#restartTimer) return;
    // A Janus that ran for a while gets a quick restart; one that keeps dying backs off to 10 s.
    if (Date.now() - this.#startedAt > 30_000) this.#restartDelay = 250;
    const delay = this.#restartDelay;
    this.#restartDelay = Math.min(this.#restartDelay * 2, 10_000);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      this.start().catch((err) => {
        this.#opts.log?.warn({ err }, 'janus restart failed');
        this.#scheduleRestart();
      });
    }, delay);
    this.#restartTimer.unref();
  }

  /** Tests: simulate a crash. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.#child?.kill(signal);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    // Janus keeps nothing worth a graceful stop (rooms live in our memory), and a SIGTERM during
    // its start-up can be lost: never leave one behind.
    this.#child?.kill('SIGKILL');
    this.#child = null;
    this.#url = null;
    this.removeAllListeners();
  }
}

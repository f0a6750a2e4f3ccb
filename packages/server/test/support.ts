/** Test helpers: a real server on a temp SQLite store, real HTTP and real WebSockets. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION, type ServerMessage, type ClientMessage } from '@baton/protocol';
import { startServer } from '../src/start.js';
import type { BatonServer } from '../src/app.js';
import type { StartOptions } from '../src/start.js';

export async function testServer(opts: Partial<StartOptions> = {}): Promise<BatonServer & { dataDir: string; dispose(): Promise<void> }> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'baton-test-'));
  const server = await startServer({ logLevel: 'silent', ...opts, dataDir });
  return Object.assign(server, {
    dataDir,
    async dispose() {
      await server.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export async function api(base: string, method: string, url: string, body?: unknown, cookie?: string) {
  const res = await fetch(base + url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, setCookie: res.headers.get('set-cookie') };
}

/** Sign up a user and return its session cookie ("baton_session=..."). */
export async function signUp(base: string, username: string, password = 'correct horse battery'): Promise<string> {
  const r = await api(base, 'POST', '/api/auth/signup', { username, password, displayName: username[0]!.toUpperCase() + username.slice(1) });
  if (r.status !== 201) throw new Error(`signup failed: ${JSON.stringify(r.body)}`);
  return r.setCookie!.split(';')[0]!;
}

export async function createConference(base: string, cookie: string, policy: Record<string, string> = {}, subject = 'Test meeting'): Promise<string> {
  const r = await api(base, 'POST', '/api/conferences', { subject, policy }, cookie);
  if (r.status !== 201) throw new Error(`create failed: ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

/** A conference WebSocket client that queues what it receives, for step-by-step assertions. */
export class TestClient {
  readonly ws: WebSocket;
  readonly received: ServerMessage[] = [];
  #waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;
  #rid = 0;

  constructor(base: string, conferenceId: string, opts: { cookie?: string; origin?: string } = {}) {
    this.ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/conference/${conferenceId}`, {
      headers: { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...(opts.origin ? { origin: opts.origin } : {}) },
    });
    this.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as ServerMessage;
      const i = this.#waiters.findIndex((w) => w.pred(msg));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(msg);
      else this.received.push(msg);
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  async send(msg: Record<string, unknown>): Promise<void> {
    await this.opened();
    this.ws.send(JSON.stringify(msg));
  }

  async hello(extra: Partial<Extract<ClientMessage, { type: 'hello' }>> = {}): Promise<void> {
    await this.send({ type: 'hello', v: PROTOCOL_VERSION, ...extra });
  }

  /**
   * The next message of this type (and matching pred), from the queue or as it arrives. The default
   * bound is long on purpose: it only ends a wait that is already lost, and at load 18 a hop through
   * another cluster node took over 5 s (the old default; CI run, 2026-12-07).
   */
  next<T extends ServerMessage['type']>(type: T, pred: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true, timeoutMs = 20_000): Promise<Extract<ServerMessage, { type: T }>> {
    const match = (m: ServerMessage) => m.type === type && pred(m as Extract<ServerMessage, { type: T }>);
    return this.nextAny(match, timeoutMs).catch((e: Error) => {
      throw new Error(`waiting for ${type}: ${e.message}`);
    }) as Promise<Extract<ServerMessage, { type: T }>>;
  }

  nextAny(match: (m: ServerMessage) => boolean, timeoutMs = 20_000): Promise<ServerMessage> {
    const i = this.received.findIndex(match);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { pred: match, resolve };
      this.#waiters.push(w);
      setTimeout(() => {
        const k = this.#waiters.indexOf(w);
        if (k >= 0) {
          this.#waiters.splice(k, 1);
          reject(new Error(`timed out; queued: ${this.received.map((m) => m.type).join(', ')}`));
        }
      }, timeoutMs);
    });
  }

  /** Send a command and wait for its ack or error. */
  async request(msg: Record<string, unknown>): Promise<ServerMessage> {
    const rid = `r${++this.#rid}`;
    await this.send({ ...msg, rid });
    return this.nextAny((m) => (m.type === 'ack' || m.type === 'error') && m.rid === rid);
  }

  close(code = 1000, reason = 'leave'): void {
    this.ws.close(code, reason);
  }
}

/**
 * The agent's side of the conference WebSocket (JSON): hello with the one-time agent token, welcome,
 * requests answered by `ack`/`error` with the same rid, and the server's events.
 */
import WebSocket from 'ws';
import { PROTOCOL_VERSION, decodeServerMessage, type ClientMessage, type ServerMessage, type ServerMessageOf } from '@baton/protocol';
import { TypedEmitter } from './TypedEmitter.js';

export type ConferenceClientOptions = {
  /** ws(s)://host/ws/conference/<meetingId> */
  url: string;
  agentToken?: string;
  name?: string;
  timeoutMs?: number;
  /** Keep-alive ping interval. */
  pingMs?: number;
  /** Capabilities announced in hello (p2p: the agent can stream over a WebRTC DataChannel). */
  caps?: { p2p?: boolean };
  /**
   * After an unexpected drop, reconnect and resume the seat with the welcome's resume token for this
   * long (ms; the server keeps a dropped seat 30 s by default). 0 turns resuming off. Default 25 000.
   */
  resumeForMs?: number;
};

export type ConferenceClientEvents = {
  message: [ServerMessage];
  /** The socket dropped unexpectedly; the client is reconnecting to its seat. Requests fail meanwhile. */
  reconnecting: [code: number, reason: string];
  /** Back on the same seat; the new welcome carries the roster and the share as they are now. */
  resumed: [ServerMessageOf<'welcome'>];
  /** For good: closed by us, by the server on purpose, or resuming failed. */
  close: [code: number, reason: string];
};

/**
 * Close codes after which resuming is pointless: a deliberate close, a policy or protocol error, removal,
 * denial, the meeting's end, a newer connection on the seat.
 */
const FINAL_CLOSE_CODES = new Set([1000, 1002, 1003, 1007, 1008, 1009, 4001, 4003, 4004, 4005, 4006, 4007]);

/** A request the server refused, with its error code. */
export class ConferenceRequestError extends Error {
  override name = 'ConferenceRequestError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class ConferenceClosedError extends Error {
  override name = 'ConferenceClosedError';
  constructor(readonly code: number, readonly reason: string) {
    super(`conference socket closed (${code}${reason ? `: ${reason}` : ''})`);
  }
}

type Pending = { resolve: (m: ServerMessageOf<'ack'>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** Client messages without the rid the client adds itself. */
export type ClientCommand = ClientMessage extends infer M ? (M extends { rid?: unknown } ? Omit<M, 'rid'> : never) : never;

export class ConferenceClient extends TypedEmitter<ConferenceClientEvents> {
  #welcome: ServerMessageOf<'welcome'>;
  #ws: WebSocket;
  #options: ConferenceClientOptions;
  #timeoutMs: number;
  #nextRid = 1;
  #pending = new Map<number, Pending>();
  #ping: NodeJS.Timeout;
  #closed = false;
  #resuming = false;

  private constructor(ws: WebSocket, welcome: ServerMessageOf<'welcome'>, options: ConferenceClientOptions) {
    super();
    this.#ws = ws;
    this.#welcome = welcome;
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#attach(ws);
    this.#ping = setInterval(() => this.send({ type: 'ping' }), options.pingMs ?? 20_000);
    this.#ping.unref();
  }

  /** Connect, say hello and wait for welcome. Rejects on close, error, lobby or timeout. */
  static async connect(options: ConferenceClientOptions): Promise<ConferenceClient> {
    const { ws, welcome } = await openSocket(options, { agentToken: options.agentToken });
    return new ConferenceClient(ws, welcome, options);
  }

  /** The latest welcome (replaced when the seat is resumed). */
  get welcome(): ServerMessageOf<'welcome'> {
    return this.#welcome;
  }

  get selfId(): string {
    return this.#welcome.self;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Reconnecting after a drop. */
  get resuming(): boolean {
    return this.#resuming;
  }

  send(msg: ClientCommand | ClientMessage): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(JSON.stringify(msg));
  }

  /** Send a command and wait for its ack (rejects with ConferenceRequestError on error). */
  request(msg: ClientCommand): Promise<ServerMessageOf<'ack'>> {
    if (this.#closed) return Promise.reject(new ConferenceClosedError(1006, 'closed'));
    if (this.#resuming) return Promise.reject(new ConferenceClosedError(1006, 'reconnecting to the meeting'));
    const rid = this.#nextRid++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(new Error(`no answer to ${msg.type} in time`));
      }, this.#timeoutMs);
      this.#pending.set(rid, { resolve, reject, timer });
      this.send({ ...msg, rid } as ClientMessage);
    });
  }

  close(code = 1000, reason = ''): void {
    if (this.#closed) return;
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(code, reason);
    else this.#ws.terminate();
    this.#final(code, reason);
  }

  #attach(ws: WebSocket): void {
    ws.on('message', (data, isBinary) => {
      if (isBinary || ws !== this.#ws) return;
      const r = decodeServerMessage(data.toString());
      if (r.ok) this.#onMessage(r.value);
    });
    ws.on('error', () => undefined); // 'close' follows with the reason
    ws.on('close', (code, reason) => {
      if (ws === this.#ws) this.#onSocketClosed(code, reason.toString());
    });
  }

  #onMessage(m: ServerMessage): void {
    if ((m.type === 'ack' || m.type === 'error') && typeof m.rid === 'number') {
      const p = this.#pending.get(m.rid);
      if (p) {
        this.#pending.delete(m.rid);
        clearTimeout(p.timer);
        if (m.type === 'ack') p.resolve(m);
        else p.reject(new ConferenceRequestError(m.code, m.message));
        return;
      }
    }
    this.emit('message', m);
  }

  #failPending(err: Error): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }

  #onSocketClosed(code: number, reason: string): void {
    if (this.#closed || this.#resuming) return;
    const resumeForMs = this.#options.resumeForMs ?? 25_000;
    if (FINAL_CLOSE_CODES.has(code) || resumeForMs <= 0) return this.#final(code, reason);
    this.#failPending(new ConferenceClosedError(code, reason));
    this.#resuming = true;
    this.emit('reconnecting', code, reason);
    void this.#resume(Date.now() + resumeForMs, code, reason);
  }

  /** Reconnect with the resume token, backing off, until the deadline or a refusal. */
  async #resume(deadline: number, code: number, reason: string): Promise<void> {
    let delay = 250;
    let lastError = reason;
    while (!this.#closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 4000);
      if (this.#closed) return;
      try {
        const timeoutMs = Math.max(1000, Math.min(this.#timeoutMs, deadline - Date.now()));
        const { ws, welcome } = await openSocket({ ...this.#options, timeoutMs }, { resume: this.#welcome.resumeToken });
        if (this.#closed) return void ws.close(1000, 'closed');
        this.#ws = ws;
        this.#welcome = welcome;
        this.#resuming = false;
        this.#attach(ws);
        this.emit('resumed', welcome);
        return;
      } catch (err) {
        lastError = (err as Error).message;
        // The server refused the seat (gone, ended, denied): no point in trying again.
        if (err instanceof ConferenceClosedError && FINAL_CLOSE_CODES.has(err.code)) return this.#final(err.code, err.reason);
      }
    }
    this.#final(code === 1000 ? 1006 : code, `could not reconnect to the meeting: ${lastError}`);
  }

  #final(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#resuming = false;
    clearInterval(this.#ping);
    this.#failPending(new ConferenceClosedError(code, reason));
    this.emit('close', code, reason);
  }
}

/** Open the socket, say hello (with the agent token, or the resume token of a seat) and wait for welcome. */
function openSocket(options: ConferenceClientOptions, auth: { agentToken?: string; resume?: string }): Promise<{ ws: WebSocket; welcome: ServerMessageOf<'welcome'> }> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const ws = new WebSocket(options.url, { handshakeTimeout: timeoutMs });
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.on('error', () => undefined);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error('no welcome from the server in time')), timeoutMs);
    ws.on('error', (err) => fail(new Error(`cannot connect to ${options.url}: ${err.message}`)));
    ws.once('close', (code, reason) => fail(new ConferenceClosedError(code, reason.toString())));
    ws.once('open', () => {
      const hello: Record<string, unknown> = { type: 'hello', v: PROTOCOL_VERSION, client: 'agent' };
      if (auth.agentToken) hello.agentToken = auth.agentToken;
      if (auth.resume) hello.resume = auth.resume;
      if (options.name) hello.name = options.name;
      if (options.caps) hello.caps = options.caps;
      ws.send(JSON.stringify(hello));
    });
    const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      if (isBinary) return;
      const r = decodeServerMessage(data.toString());
      if (!r.ok) return;
      const m = r.value;
      if (m.type === 'welcome') {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.off('message', onMessage);
        ws.removeAllListeners('close');
        ws.removeAllListeners('error');
        resolve({ ws, welcome: m });
      } else if (m.type === 'lobby.wait') {
        fail(new Error('the meeting put the agent in the lobby; admit it or sign in as the organizer'));
      } else if (m.type === 'error') {
        fail(new ConferenceRequestError(m.code, m.message));
      }
    };
    ws.on('message', onMessage);
  });
}

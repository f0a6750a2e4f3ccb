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
};

export type ConferenceClientEvents = {
  message: [ServerMessage];
  close: [code: number, reason: string];
};

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
  readonly welcome: ServerMessageOf<'welcome'>;
  #ws: WebSocket;
  #timeoutMs: number;
  #nextRid = 1;
  #pending = new Map<number, Pending>();
  #ping: NodeJS.Timeout;
  #closed = false;

  private constructor(ws: WebSocket, welcome: ServerMessageOf<'welcome'>, options: ConferenceClientOptions) {
    super();
    this.#ws = ws;
    this.welcome = welcome;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const r = decodeServerMessage(data.toString());
      if (r.ok) this.#onMessage(r.value);
    });
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString()));
    this.#ping = setInterval(() => this.send({ type: 'ping' }), options.pingMs ?? 20_000);
    this.#ping.unref();
  }

  /** Connect, say hello and wait for welcome. Rejects on close, error, lobby or timeout. */
  static connect(options: ConferenceClientOptions): Promise<ConferenceClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(options.url, { handshakeTimeout: options.timeoutMs ?? 10_000 });
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.removeAllListeners('message');
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error('no welcome from the server in time')), options.timeoutMs ?? 10_000);
      ws.on('error', (err) => fail(new Error(`cannot connect to ${options.url}: ${err.message}`)));
      ws.once('close', (code, reason) => fail(new ConferenceClosedError(code, reason.toString())));
      ws.once('open', () => {
        const hello: Record<string, unknown> = { type: 'hello', v: PROTOCOL_VERSION, client: 'agent' };
        if (options.agentToken) hello.agentToken = options.agentToken;
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
          ws.on('error', () => undefined); // 'close' follows with the reason
          resolve(new ConferenceClient(ws, m, options));
        } else if (m.type === 'lobby.wait') {
          fail(new Error('the meeting put the agent in the lobby; admit it or sign in as the organizer'));
        } else if (m.type === 'error') {
          fail(new ConferenceRequestError(m.code, m.message));
        }
      };
      ws.on('message', onMessage);
    });
  }

  get selfId(): string {
    return this.welcome.self;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(msg: ClientCommand | ClientMessage): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(JSON.stringify(msg));
  }

  /** Send a command and wait for its ack (rejects with ConferenceRequestError on error). */
  request(msg: ClientCommand): Promise<ServerMessageOf<'ack'>> {
    if (this.#closed) return Promise.reject(new ConferenceClosedError(1006, 'closed'));
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
    this.#onClose(code, reason);
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

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ping);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ConferenceClosedError(code, reason));
    }
    this.#pending.clear();
    this.emit('close', code, reason);
  }
}

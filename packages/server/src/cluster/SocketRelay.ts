/**
 * One client socket that arrived at a node which is not its conference's home, carried to the home
 * node over a node-to-node WebSocket: every frame as it is, both ways, and the close code and reason
 * too, so the client cannot tell. Flow control stays end to end: when one side's socket has more
 * than `highWater` bytes waiting, the other side is no longer read (TCP pushes back to the sender;
 * the home node's per-viewer flow control then sees a slow viewer, exactly as if it were direct).
 */
import WebSocket, { type RawData } from 'ws';
import { TypedEmitter } from '../util/TypedEmitter.js';

export type RelayTarget = { node: string; url: string } | { local: true };

export interface SocketRelayOptions {
  client: WebSocket;
  /** The home node and its ws:// URL for this socket. */
  target: { node: string; url: string };
  headers: Record<string, string>;
  /** Frames the client sent before the relay started (the share socket's auth frame). */
  pending?: { data: RawData; binary: boolean }[];
  maxPayload: number;
  highWater?: number;
  /**
   * When the home cannot be reached before anything went through (it died and its lease has not run
   * out yet): where to try next, asked every RETRY_MS until holdMs. The client's socket is held open
   * meanwhile, so it joins the new home as soon as there is one instead of backing off. Absent: the
   * client is told to reconnect at once.
   */
  retarget?: () => Promise<RelayTarget | null>;
  holdMs?: number;
  /** The conference moved to this very node while the socket was held: serve it here, with the frames it sent so far. */
  onLocal?: (pending: { data: RawData; binary: boolean }[]) => void;
  /** Counts the bytes carried from the home node to the client. */
  onDownstreamBytes?: (n: number) => void;
  log?: { warn(o: unknown, m?: string): void };
}

export type SocketRelayEvents = { closed: [] };

const DEFAULT_HIGH_WATER = 1024 * 1024;
/** Codes a peer may not send in a close frame: an abnormal end becomes "the server is restarting" (clients reconnect). */
const RESERVED = new Set([1005, 1006, 1015]);
const SERVICE_RESTART = 1012;
const RETRY_MS = 250;
const MOVING = 'the meeting is moving to another server; reconnecting';

export class SocketRelay extends TypedEmitter<SocketRelayEvents> {
  readonly #o: SocketRelayOptions;
  #upstream: WebSocket | null = null;
  /** The node this socket is relayed to now. */
  node: string;
  #open = false;
  #queue: { data: RawData; binary: boolean }[] = [];
  #closed = false;
  readonly #holdUntil: number;
  readonly #onClientMessage: (data: RawData, binary: boolean) => void;
  readonly #onClientClose: (code: number, reason: Buffer) => void;

  constructor(opts: SocketRelayOptions) {
    super();
    this.#o = opts;
    this.node = opts.target.node;
    this.#queue = [...(opts.pending ?? [])];
    this.#holdUntil = Date.now() + (opts.holdMs ?? 0);
    const { client } = opts;
    this.#onClientMessage = (data, binary) => {
      if (!this.#open || !this.#upstream) return void this.#queue.push({ data, binary });
      this.#forward(client, this.#upstream, data, binary);
    };
    this.#onClientClose = (code, reason) => {
      if (this.#upstream) this.#end(this.#upstream, code, reason);
      else this.#markClosed();
    };
    client.on('message', this.#onClientMessage);
    client.on('close', this.#onClientClose);
    client.on('error', () => this.#upstream && this.#end(this.#upstream, 1001, Buffer.alloc(0)));
    this.#connect(opts.target.url);
  }

  #connect(url: string): void {
    const { client } = this.#o;
    const up = new WebSocket(url, { headers: this.#o.headers, maxPayload: this.#o.maxPayload, perMessageDeflate: false, handshakeTimeout: 5000 });
    this.#upstream = up;
    let failed = false;
    up.on('open', () => {
      this.#open = true;
      for (const m of this.#queue) up.send(m.data, { binary: m.binary });
      this.#queue = [];
    });
    up.on('message', (data, binary) => {
      this.#o.onDownstreamBytes?.(size(data));
      this.#forward(up, client, data, binary);
    });
    up.on('close', (code, reason) => {
      if (!failed) this.#end(client, code, reason);
    });
    // The home node cannot be reached (died, or is not home any more).
    const fail = (why: string) => {
      if (failed) return;
      failed = true;
      up.terminate();
      if (this.#closed || client.readyState !== client.OPEN) return;
      if (!this.#open && this.#o.retarget && Date.now() < this.#holdUntil) return void this.#retry();
      this.#o.log?.warn({ err: why, url }, 'relay to the home node failed');
      this.#end(client, SERVICE_RESTART, Buffer.from(MOVING));
    };
    up.on('unexpected-response', (_req, res) => {
      res.resume();
      fail(`HTTP ${res.statusCode}`);
    });
    up.on('error', (err) => fail(err.message));
  }

  #retry(): void {
    setTimeout(() => {
      if (this.#closed || this.#o.client.readyState !== this.#o.client.OPEN) return;
      this.#o.retarget!().then(
        (t) => {
          if (this.#closed) return;
          if (!t) return Date.now() < this.#holdUntil ? this.#retry() : this.#end(this.#o.client, SERVICE_RESTART, Buffer.from(MOVING));
          if ('local' in t) {
            // Served here from now on: hand the socket and what it said over, and step aside.
            this.#o.client.off('message', this.#onClientMessage);
            this.#o.client.off('close', this.#onClientClose);
            this.#markClosed();
            return this.#o.onLocal ? this.#o.onLocal(this.#queue) : this.#end(this.#o.client, SERVICE_RESTART, Buffer.from(MOVING));
          }
          this.node = t.node;
          this.#connect(t.url);
        },
        () => (Date.now() < this.#holdUntil ? this.#retry() : this.#end(this.#o.client, SERVICE_RESTART, Buffer.from(MOVING))),
      );
    }, RETRY_MS).unref();
  }
  #forward(from: WebSocket, to: WebSocket, data: RawData, binary: boolean): void {
    if (to.readyState !== to.OPEN) return;
    to.send(data, { binary });
    if (to.bufferedAmount > (this.#o.highWater ?? DEFAULT_HIGH_WATER) && !from.isPaused) {
      from.pause();
      const wait = setInterval(() => {
        if (to.readyState !== to.OPEN || from.readyState !== from.OPEN || to.bufferedAmount < (this.#o.highWater ?? DEFAULT_HIGH_WATER) / 2) {
          clearInterval(wait);
          from.resume();
        }
      }, 10);
    }
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('closed');
  }

  #end(other: WebSocket, code: number, reason: Buffer): void {
    this.#markClosed();
    const c = RESERVED.has(code) || code === 0 ? SERVICE_RESTART : code;
    if (other.readyState === other.OPEN || other.readyState === other.CONNECTING) {
      try {
        if (other.readyState === other.CONNECTING) other.terminate();
        else other.close(c, reason.subarray(0, 123).toString());
      } catch {
        other.terminate();
      }
      // A peer that never answers the close is cut.
      setTimeout(() => other.terminate(), 5000).unref();
    }
  }

  close(): void {
    if (this.#upstream) this.#end(this.#upstream, 1001, Buffer.from('relay closing'));
    this.#end(this.#o.client, SERVICE_RESTART, Buffer.from('the server is restarting; reconnecting'));
  }
}

function size(data: RawData): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : (data as Buffer).byteLength;
}

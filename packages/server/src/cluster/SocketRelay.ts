/**
 * One client socket that arrived at a node which is not its conference's home, carried to the home
 * node over a node-to-node WebSocket: every frame as it is, both ways, and the close code and reason
 * too, so the client cannot tell. Flow control stays end to end: when one side's socket has more
 * than `highWater` bytes waiting, the other side is no longer read (TCP pushes back to the sender;
 * the home node's per-viewer flow control then sees a slow viewer, exactly as if it were direct).
 */
import WebSocket, { type RawData } from 'ws';
import { TypedEmitter } from '../util/TypedEmitter.js';

export interface SocketRelayOptions {
  client: WebSocket;
  /** ws://home/ws/... */
  upstreamUrl: string;
  headers: Record<string, string>;
  /** Frames the client sent before the relay started (the share socket's auth frame). */
  pending?: { data: RawData; binary: boolean }[];
  maxPayload: number;
  highWater?: number;
  /** Counts the bytes carried from the home node to the client. */
  onDownstreamBytes?: (n: number) => void;
  log?: { warn(o: unknown, m?: string): void };
}

export type SocketRelayEvents = { closed: [] };

const DEFAULT_HIGH_WATER = 1024 * 1024;
/** Codes a peer may not send in a close frame: an abnormal end becomes "the server is restarting" (clients reconnect). */
const RESERVED = new Set([1005, 1006, 1015]);
const SERVICE_RESTART = 1012;

export class SocketRelay extends TypedEmitter<SocketRelayEvents> {
  readonly #o: SocketRelayOptions;
  readonly #upstream: WebSocket;
  #open = false;
  #queue: { data: RawData; binary: boolean }[] = [];
  #closed = false;

  constructor(opts: SocketRelayOptions) {
    super();
    this.#o = opts;
    this.#queue = [...(opts.pending ?? [])];
    const { client } = opts;
    this.#upstream = new WebSocket(opts.upstreamUrl, { headers: opts.headers, maxPayload: opts.maxPayload, perMessageDeflate: false, handshakeTimeout: 5000 });
    const up = this.#upstream;
    up.on('open', () => {
      this.#open = true;
      for (const m of this.#queue) up.send(m.data, { binary: m.binary });
      this.#queue = [];
    });
    client.on('message', (data, binary) => {
      if (!this.#open) return void this.#queue.push({ data, binary });
      this.#forward(client, up, data, binary);
    });
    up.on('message', (data, binary) => {
      this.#o.onDownstreamBytes?.(size(data));
      this.#forward(up, client, data, binary);
    });
    client.on('close', (code, reason) => this.#end(up, code, reason));
    up.on('close', (code, reason) => this.#end(client, code, reason));
    // The home node cannot be reached (died, or is not home any more): the client reconnects, and
    // its next connection finds the conference's new home.
    up.on('unexpected-response', (_req, res) => {
      res.resume();
      this.#end(client, SERVICE_RESTART, Buffer.from('the meeting is moving to another server; reconnecting'));
      up.terminate();
    });
    up.on('error', (err) => {
      opts.log?.warn({ err: err.message, url: opts.upstreamUrl }, 'relay to the home node failed');
      this.#end(client, SERVICE_RESTART, Buffer.from('the meeting is moving to another server; reconnecting'));
    });
    client.on('error', () => this.#end(up, 1001, Buffer.alloc(0)));
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

  #end(other: WebSocket, code: number, reason: Buffer): void {
    if (!this.#closed) {
      this.#closed = true;
      this.emit('closed');
    }
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
    this.#end(this.#upstream, 1001, Buffer.from('relay closing'));
    this.#end(this.#o.client, SERVICE_RESTART, Buffer.from('the server is restarting; reconnecting'));
  }
}

function size(data: RawData): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : (data as Buffer).byteLength;
}

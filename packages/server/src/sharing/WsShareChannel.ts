import WebSocket from 'ws';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { ShareChannel, ShareChannelEvents } from './ShareChannel.js';

export interface WsShareChannelOptions {
  /** `drain` fires when bufferedAmount falls to or under this after having been above it. Keep it under the relay's high-water mark. */
  lowWater?: number;
  /** While above the low-water mark, bufferedAmount is also polled this often (send callbacks alone can miss the edge). */
  pollMs?: number;
  /**
   * Frames that arrive while nobody listens to `message` (e.g. while the route checks a ticket) are held,
   * up to this many bytes, and delivered to the first listener; past it the channel is closed with 1008.
   */
  maxEarlyBytes?: number;
  /**
   * Hard cap on bufferedAmount: a peer that lets this much pile up is not reading, and the channel is
   * closed with 1008 and that reason. The relay never sends a viewer past its own (lower) budget, so this
   * catches what the relay does not pace: acks, refresh requests and input queued for a host.
   */
  maxBuffered?: number;
  /**
   * Text frames are emitted as `text` instead of closing the channel: only for a channel between two
   * nodes of a cluster (a share cascade), whose control messages travel in order with the stream.
   */
  allowText?: boolean;
  /** The sharing protocol version the peer said in its auth. */
  peerVersion?: number;
}

/**
 * What one queued message costs beyond its bytes: ws's frame header, the stream's write request and
 * our callback, measured at ~500 bytes on Node 20. Counted in bufferedAmount, so a flood of tiny
 * messages weighs what it really costs (a million 8-byte frames held ~480 MiB, not 8 MB).
 */
export const MESSAGE_COST = 512;

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
function clipReason(reason: string): string {
  const enc = new TextEncoder();
  if (enc.encode(reason).length <= 123) return reason;
  let out = reason;
  while (enc.encode(out).length > 120) out = out.slice(0, -1);
  return `${out}...`;
}

function sendableCode(code: number): number {
  const ok = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  return ok ? code : 1000;
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** ShareChannel over a `ws` WebSocket (server side). The caller should create the server with `maxPayload: SHARE_LIMITS.maxFrame`. */
export class WsShareChannel extends TypedEmitter<ShareChannelEvents> implements ShareChannel {
  readonly #ws: WebSocket;
  readonly #lowWater: number;
  readonly #pollMs: number;
  readonly #maxEarlyBytes: number;
  readonly #maxBuffered: number;
  readonly #allowText: boolean;
  readonly peerVersion: number | undefined;
  /** Messages handed to ws whose write has not completed. */
  #queued = 0;
  /** Why we closed the channel ourselves: reported in `close` whatever the socket says (a stuck peer never answers). */
  #closedWith: { code: number; reason: string } | null = null;
  #aboveLowWater = false;
  #poll: NodeJS.Timeout | null = null;
  #closed = false;
  /** close() was called: nothing more is sent or delivered, even before the socket's close completes. */
  #closing = false;
  #messageListeners = 0;
  #early: Uint8Array[] = [];
  #earlyBytes = 0;
  #flushScheduled = false;

  constructor(ws: WebSocket, options: WsShareChannelOptions = {}) {
    super();
    this.#ws = ws;
    this.#lowWater = options.lowWater ?? 256 * 1024;
    this.#pollMs = options.pollMs ?? 20;
    this.#maxEarlyBytes = options.maxEarlyBytes ?? 32 * 1024 * 1024;
    this.#maxBuffered = options.maxBuffered ?? 16 * 1024 * 1024;
    this.#allowText = options.allowText ?? false;
    this.peerVersion = options.peerVersion;
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    // 'close' always follows 'error' in ws; the listener only keeps errors from being unhandled.
    ws.on('error', () => {});
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    if (ws.readyState === WebSocket.CLOSED) queueMicrotask(() => this.#onClose(1006, 'closed before attach'));
  }

  /** Bytes queued for the peer and not yet handed to the kernel, plus MESSAGE_COST for each queued message. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount + this.#queued * MESSAGE_COST;
  }

  send(bytes: Uint8Array): void {
    if (this.#closing || this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#queued++;
    this.#ws.send(bytes, { binary: true }, () => {
      this.#queued--;
      this.#checkDrain();
    });
    const buffered = this.bufferedAmount;
    if (buffered > this.#maxBuffered) {
      // The close frame would wait behind everything queued, for a peer that reads nothing: the socket
      // goes at once (its memory with it), and our listeners still get this code and reason.
      this.close(1008, `the peer is not reading: over ${this.#maxBuffered} bytes queued for it`);
      this.#ws.terminate();
      return;
    }
    if (!this.#aboveLowWater && buffered > this.#lowWater) {
      this.#aboveLowWater = true;
      this.#poll ??= setInterval(() => this.#checkDrain(), this.#pollMs);
    }
  }

  sendText(text: string): void {
    if (!this.#allowText || this.#closing || this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(text, { binary: false });
  }

  close(code = 1000, reason = ''): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.#closedWith = { code, reason };
    const state = this.#ws.readyState;
    if (state === WebSocket.CONNECTING) this.#ws.terminate();
    else if (state === WebSocket.OPEN) this.#ws.close(sendableCode(code), clipReason(reason));
    // The 'close' event of the socket finishes the job (#onClose).
  }

  override on<K extends keyof ShareChannelEvents & string>(event: K, listener: (...args: ShareChannelEvents[K]) => void): this {
    super.on(event, listener);
    if (event === 'message') {
      this.#messageListeners++;
      if (this.#early.length > 0 && !this.#flushScheduled) {
        // Deliver after the caller's synchronous setup, so every listener it adds sees the held frames.
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flushEarly());
      }
    }
    return this;
  }

  override off<K extends keyof ShareChannelEvents & string>(event: K, listener: (...args: ShareChannelEvents[K]) => void): this {
    super.off(event, listener);
    if (event === 'message') this.#messageListeners = Math.max(0, this.#messageListeners - 1);
    return this;
  }

  #flushEarly(): void {
    this.#flushScheduled = false;
    while (this.#early.length > 0 && this.#messageListeners > 0 && !this.#closed && !this.#closing) {
      const bytes = this.#early.shift()!;
      this.#earlyBytes -= bytes.byteLength;
      this.emit('message', bytes);
    }
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#closed || this.#closing) return;
    if (!isBinary && this.#allowText) {
      this.emit('text', Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(toBytes(data)).toString('utf8'));
      return;
    }
    if (!isBinary) {
      this.close(1003, 'the sharing channel carries binary frames only');
      return;
    }
    const bytes = toBytes(data);
    if (this.#messageListeners === 0 || this.#early.length > 0) {
      this.#earlyBytes += bytes.byteLength;
      if (this.#earlyBytes > this.#maxEarlyBytes) {
        this.close(1008, 'too much data before the channel was attached');
        return;
      }
      this.#early.push(bytes);
      return;
    }
    this.emit('message', bytes);
  }

  #checkDrain(): void {
    if (!this.#aboveLowWater || this.#closed) return;
    if (this.bufferedAmount > this.#lowWater) return;
    this.#aboveLowWater = false;
    this.#stopPoll();
    this.emit('drain');
  }

  #stopPoll(): void {
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopPoll();
    this.#early = [];
    this.#earlyBytes = 0;
    if (this.#closedWith) ({ code, reason } = this.#closedWith);
    this.emit('close', code, reason);
    this.removeAllListeners();
  }
}

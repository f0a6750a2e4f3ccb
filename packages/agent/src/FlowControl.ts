/**
 * Frame pacing by acknowledgement. A frame window, not a fixed count: `maxInFlight` frames may always
 * be unacknowledged, whatever their size, and more (up to `maxSmallInFlight`) while everything
 * unacknowledged is small (under `smallBytes` together). Small updates (a typed character, a clock)
 * then flow at the screen's rate even when a round trip is longer than two frame periods, while big
 * frames keep the two-frame bound: a viewer that is slow to take them never has more than two queued,
 * so their latency does not grow. The transport's send buffer must also stay under `maxBuffered` bytes.
 * The capture loop asks canSend() before each pass; while blocked, damage keeps accumulating in the X
 * server and the next pass sends the newest pixels, never a queue of stale frames (a slow viewer skips
 * versions).
 */
import { TypedEmitter } from './TypedEmitter.js';

export type FlowControlOptions = {
  /** Frames that may always be unacknowledged, whatever their size. Default 2. */
  maxInFlight?: number;
  /** Frames that may be unacknowledged while all of them are small. Default 8 (at least maxInFlight). */
  maxSmallInFlight?: number;
  /** Bytes of unacknowledged frames under which another small frame may go. Default 48 KiB. */
  smallBytes?: number;
  maxBuffered?: number;
  /** Sequence number the first frame follows (frames count up from startSeq + 1, wrapping at 2^32). */
  startSeq?: number;
};

export type FlowControlEvents = {
  /** An ack made room for another frame. */
  unblocked: [];
};

export class FlowControl extends TypedEmitter<FlowControlEvents> {
  readonly maxInFlight: number;
  readonly maxSmallInFlight: number;
  readonly smallBytes: number;
  readonly maxBuffered: number;
  #lastSent = 0;
  #lastAcked = 0;
  /** Bytes of each frame in flight, oldest first (one entry per frame from lastAcked + 1 to lastSent). */
  #sizes: number[] = [];
  #bytesInFlight = 0;

  constructor(options: FlowControlOptions = {}) {
    super();
    this.maxInFlight = options.maxInFlight ?? 2;
    this.maxSmallInFlight = Math.max(this.maxInFlight, options.maxSmallInFlight ?? 8);
    this.smallBytes = options.smallBytes ?? 48 * 1024;
    this.maxBuffered = options.maxBuffered ?? 4 * 1024 * 1024;
    this.#lastSent = this.#lastAcked = (options.startSeq ?? 0) >>> 0;
  }

  /** Frames sent and not yet acknowledged (acks are cumulative; uint32 sequence arithmetic). */
  get inFlight(): number {
    return (this.#lastSent - this.#lastAcked) >>> 0;
  }

  /** Bytes of the frames in flight (as told to nextSeq). */
  get bytesInFlight(): number {
    return this.#bytesInFlight;
  }

  get lastSent(): number {
    return this.#lastSent;
  }

  /** No frame may go until an ack comes (whatever the socket buffer holds). */
  get windowFull(): boolean {
    const n = this.inFlight;
    if (n < this.maxInFlight) return false;
    return n >= this.maxSmallInFlight || this.#bytesInFlight >= this.smallBytes;
  }

  /**
   * Frames the window lets be in flight at once when each frame is `bytes` long: what the viewers'
   * round trip allows per period (FrameRateGovernor's viewers bound).
   */
  windowFor(bytes: number): number {
    if (!(bytes > 0)) return this.maxSmallInFlight;
    // Another frame goes while the ones in flight are under smallBytes.
    const n = Math.ceil(this.smallBytes / bytes);
    return Math.max(this.maxInFlight, Math.min(this.maxSmallInFlight, n));
  }

  canSend(bufferedAmount = 0): boolean {
    return !this.windowFull && bufferedAmount < this.maxBuffered;
  }

  /** Sequence number for the next frame of `bytes` bytes, counted as in flight from now on. */
  nextSeq(bytes = 0): number {
    this.#lastSent = (this.#lastSent + 1) >>> 0;
    const b = bytes > 0 ? bytes : 0;
    this.#sizes.push(b);
    this.#bytesInFlight += b;
    return this.#lastSent;
  }

  /** Acknowledge every frame up to `seq`. Acks for frames not in flight are ignored. */
  ack(seq: number): void {
    const ahead = (seq - this.#lastAcked) >>> 0;
    if (ahead === 0 || ahead > this.inFlight) return;
    const wasBlocked = this.windowFull;
    this.#lastAcked = seq >>> 0;
    for (const b of this.#sizes.splice(0, ahead)) this.#bytesInFlight -= b;
    if (wasBlocked && !this.windowFull) this.emit('unblocked');
  }

  /** Forget frames in flight (new share channel). */
  reset(): void {
    const wasBlocked = this.windowFull;
    this.#lastAcked = this.#lastSent;
    this.#sizes = [];
    this.#bytesInFlight = 0;
    if (wasBlocked) this.emit('unblocked');
  }
}

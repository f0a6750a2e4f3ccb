/**
 * Frame pacing by acknowledgement: at most `maxInFlight` frames may be unacknowledged, and the
 * transport's send buffer must stay under `maxBuffered` bytes. The capture loop asks canSend()
 * before each pass; while blocked, damage keeps accumulating in the X server and the next pass
 * sends the newest pixels, never a queue of stale frames.
 */
import { TypedEmitter } from './TypedEmitter.js';

export type FlowControlOptions = {
  maxInFlight?: number;
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
  readonly maxBuffered: number;
  #lastSent = 0;
  #lastAcked = 0;

  constructor(options: FlowControlOptions = {}) {
    super();
    this.maxInFlight = options.maxInFlight ?? 2;
    this.maxBuffered = options.maxBuffered ?? 4 * 1024 * 1024;
    this.#lastSent = this.#lastAcked = (options.startSeq ?? 0) >>> 0;
  }

  /** Frames sent and not yet acknowledged (acks are cumulative; uint32 sequence arithmetic). */
  get inFlight(): number {
    return (this.#lastSent - this.#lastAcked) >>> 0;
  }

  get lastSent(): number {
    return this.#lastSent;
  }

  canSend(bufferedAmount = 0): boolean {
    return this.inFlight < this.maxInFlight && bufferedAmount < this.maxBuffered;
  }

  /** Sequence number for the next frame, counted as in flight from now on. */
  nextSeq(): number {
    this.#lastSent = (this.#lastSent + 1) >>> 0;
    return this.#lastSent;
  }

  /** Acknowledge every frame up to `seq`. Acks for frames not in flight are ignored. */
  ack(seq: number): void {
    const ahead = (seq - this.#lastAcked) >>> 0;
    if (ahead === 0 || ahead > this.inFlight) return;
    const wasBlocked = this.inFlight >= this.maxInFlight;
    this.#lastAcked = seq >>> 0;
    if (wasBlocked && this.inFlight < this.maxInFlight) this.emit('unblocked');
  }

  /** Forget frames in flight (new share channel). */
  reset(): void {
    this.#lastAcked = this.#lastSent;
  }
}

/**
 * Where the capture loop's time between two passes went, by what it waited for: new damage, the viewers'
 * acks, the socket buffer, the rate's interval, the duty cycle's rest, the next repaint, or a timer that
 * was due. Shares of these, not wall-clock rates, say what holds the loop back on a loaded machine.
 */
export type WaitReason = 'damage' | 'acks' | 'buffer' | 'rate' | 'rest' | 'paint' | 'timer';

export type WaitTotals = Record<WaitReason, number>;

export class LoopWaits {
  #reason: WaitReason | null = null;
  #since = 0;
  #ms: WaitTotals = zero();

  /** The loop waits for `reason` from `now` on (ms, any monotonic clock). */
  enter(reason: WaitReason, now: number): void {
    this.#close(now);
    this.#reason = reason;
    this.#since = now;
  }

  /** A pass starts: the time waited since the last one, by reason. */
  take(now: number): WaitTotals {
    this.#close(now);
    this.#reason = null;
    const out = this.#ms;
    this.#ms = zero();
    return out;
  }

  #close(now: number): void {
    if (this.#reason !== null) this.#ms[this.#reason] += Math.max(0, now - this.#since);
    this.#reason = null;
  }
}

function zero(): WaitTotals {
  return { damage: 0, acks: 0, buffer: 0, rate: 0, rest: 0, paint: 0, timer: 0 };
}

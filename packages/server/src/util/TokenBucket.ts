/** A token bucket: `burst` tokens at most, refilled at `perSecond`. One per connection or per key. */
export interface BucketSpec {
  burst: number;
  perSecond: number;
}

export class TokenBucket {
  readonly #spec: BucketSpec;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(spec: BucketSpec, now: () => number = Date.now) {
    this.#spec = spec;
    this.#now = now;
    this.#tokens = spec.burst;
    this.#at = now();
  }

  /** Tokens available now (refilled since the last take). */
  available(): number {
    return Math.min(this.#spec.burst, this.#tokens + ((this.#now() - this.#at) / 1000) * this.#spec.perSecond);
  }

  /** Takes one token if there is one. */
  take(): boolean {
    this.#tokens = this.available();
    this.#at = this.#now();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** When a token was last asked for. */
  get touched(): number {
    return this.#at;
  }
}

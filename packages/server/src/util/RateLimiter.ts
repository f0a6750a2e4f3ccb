/**
 * Token buckets by key (a user, a guest's address), in a map of bounded size: a bucket that has
 * refilled is the same as none, so buckets idle that long are dropped. The map is kept in
 * last-use order, so dropping them looks only at the oldest entries (amortized O(1) per take).
 */
import { TokenBucket, type BucketSpec } from './TokenBucket.js';

export class RateLimiter {
  readonly #spec: BucketSpec;
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();
  /** A bucket untouched this long has refilled completely. */
  readonly #idleMs: number;

  constructor(spec: BucketSpec, now: () => number = Date.now) {
    this.#spec = spec;
    this.#now = now;
    this.#idleMs = (spec.burst / spec.perSecond) * 1000;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Whether `key` has a token now, without taking it. */
  has(key: string): boolean {
    return (this.#buckets.get(key)?.available() ?? this.#spec.burst) >= 1;
  }

  /** Takes a token for `key`; false when it has none left. */
  take(key: string): boolean {
    this.#sweep();
    let b = this.#buckets.get(key);
    if (b) this.#buckets.delete(key); // re-inserted below: the map stays in last-use order
    else b = new TokenBucket(this.#spec, this.#now);
    this.#buckets.set(key, b);
    return b.take();
  }

  #sweep(): void {
    const cutoff = this.#now() - this.#idleMs;
    for (const [key, b] of this.#buckets) {
      if (b.touched > cutoff) break; // everything after it was used more recently
      this.#buckets.delete(key);
    }
  }
}

import { describe, expect, it } from 'vitest';
import { RateLimiter } from './RateLimiter.js';

describe('RateLimiter', () => {
  it('gives each key its burst, then its refill rate', () => {
    let now = 0;
    const rl = new RateLimiter({ burst: 3, perSecond: 2 }, () => now);
    expect([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([true, true, true, false]);
    expect(rl.take('b')).toBe(true); // keys are independent
    now = 500; // one token back
    expect(rl.has('a')).toBe(true);
    expect([rl.take('a'), rl.take('a')]).toEqual([true, false]);
  });

  it('forgets keys idle long enough to have refilled, so the map stays bounded', () => {
    let now = 0;
    const rl = new RateLimiter({ burst: 4, perSecond: 2 }, () => now); // full again after 2 s
    for (let i = 0; i < 10_000; i++) rl.take(`guest-${i}`);
    expect(rl.size).toBe(10_000);
    now = 1_000;
    rl.take('late');
    expect(rl.size).toBe(10_001); // none has refilled yet
    now = 2_500;
    rl.take('later');
    expect(rl.size).toBe(2); // only 'late' (1.5 s idle) and 'later' remain
    // A forgotten key starts full, which is what it had anyway.
    expect([1, 2, 3, 4, 5].map(() => rl.take('guest-1'))).toEqual([true, true, true, true, false]);
  });
});

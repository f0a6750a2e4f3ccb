import { describe, expect, it } from 'vitest';
import { hashToken, newToken } from './tokens.js';

describe('tokens', () => {
  it('makes base64url tokens of the requested entropy', () => {
    const t = newToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(Buffer.from(newToken(16), 'base64url')).toHaveLength(16);
  });

  it('never repeats', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newToken()));
    expect(seen.size).toBe(1000);
  });

  it('hashes with SHA-256 hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('abd')).not.toBe(hashToken('abc'));
  });
});

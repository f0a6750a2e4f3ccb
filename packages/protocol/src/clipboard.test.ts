import { describe, expect, it } from 'vitest';
import { SHARE_LIMITS, ShareDecodeError, decodeShareMessage, encodeShareMessage, utf8Length } from './share.js';

describe('clipboard frames', () => {
  it('round-trip UTF-8 text and refusals', () => {
    for (const text of ['', 'plain', 'Grüße 👋\nzweite Zeile', 'x'.repeat(SHARE_LIMITS.maxClipboardBytes)]) {
      expect(decodeShareMessage(encodeShareMessage({ type: 'clipboard', text }))).toEqual({ type: 'clipboard', text });
    }
    for (const reason of ['off', 'tooLarge'] as const) {
      expect(decodeShareMessage(encodeShareMessage({ type: 'clipboardRefused', reason, size: 123_456 }))).toEqual({ type: 'clipboardRefused', reason, size: 123_456 });
    }
    expect(utf8Length('Grüße 👋')).toBe(12);
  });

  it('refuse text over the limit, invalid UTF-8 and unknown refusals', () => {
    const big = encodeShareMessage({ type: 'clipboard', text: 'ü'.repeat(SHARE_LIMITS.maxClipboardBytes / 2) + 'a' });
    expect(() => decodeShareMessage(big)).toThrow(/clipboard: 65537 bytes of text exceed 65536/);
    expect(() => decodeShareMessage(Uint8Array.of(0x13, 0xc3, 0x28))).toThrow(ShareDecodeError);
    expect(() => decodeShareMessage(Uint8Array.of(0x14, 9, 0, 0, 0, 1))).toThrow(/unknown reason/);
    expect(() => decodeShareMessage(Uint8Array.of(0x14, 1, 0))).toThrow(ShareDecodeError);
  });
});

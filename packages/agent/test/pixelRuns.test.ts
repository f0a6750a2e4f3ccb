/**
 * The block helpers the encoder's hot paths use (tileCodecs: firstDifferentRow, copyBlock): narrow
 * blocks go through a loop over 32-bit pixels, wide ones through Buffer.compare/copy per row; both must
 * give the same answers, pixel for pixel. And the encoder's run-by-run comparison (TileEncoder
 * #matchRuns): a scrolled picture with one odd cell in the middle of a wide run is copied around it.
 */
import { describe, expect, it } from 'vitest';
import { TileEncoding, copySource } from '@baton/protocol';
import { deflateSync, inflateSync } from 'node:zlib';
import { copyBlock, deflateSized, extractRgb, firstDifferentRow, pixelPair } from '../src/tileCodecs.js';
import { TileEncoder } from '../src/TileEncoder.js';
import { Canvas, frameFromRgb } from './helpers/canvas.js';

const W = 300, H = 40, STRIDE = W * 4;

function noise(seed: number): Buffer {
  const b = Buffer.alloc(STRIDE * H);
  for (let i = 0; i < b.length; i++) b[i] = Math.imul(i + seed, 2654435761) >>> 24;
  return b;
}

describe('extractRgb', () => {
  it('gives the same RGB bytes four pixels at a time as pixel by pixel', () => {
    const data = noise(7);
    // The same pixels one byte off a word boundary: no 32-bit view, so the byte loop runs.
    const shifted = Buffer.alloc(data.length + 1).subarray(1);
    data.copy(shifted);
    for (const [x, y, w, h] of [[0, 0, 16, 16], [4, 3, 64, 20], [20, 0, 280, 40], [1, 1, 13, 7], [299, 39, 1, 1]] as const) {
      const words = extractRgb({ width: W, height: H, stride: STRIDE, data }, x, y, w, h);
      const bytes = extractRgb({ width: W, height: H, stride: STRIDE, data: shifted }, x, y, w, h);
      expect(words.length).toBe(w * h * 3);
      expect(Buffer.compare(words, bytes)).toBe(0);
      // Spot-check against the definition: BGRX in, RGB out.
      const o = ((h - 1) * w + (w - 1)) * 3, i = (y + h - 1) * STRIDE + (x + w - 1) * 4;
      expect([words[o], words[o + 1], words[o + 2]]).toEqual([data[i + 2], data[i + 1], data[i]]);
    }
  });
});

describe('deflateSized', () => {
  it('gives the bytes a fresh zlib stream gives, call after call, for every size and level', () => {
    for (const n of [1, 31, 500, 2048, 5000, 40_000, 200_000]) {
      const data = Buffer.concat(Array.from({ length: Math.ceil(n / (STRIDE * H)) }, (_, k) => noise(n + k))).subarray(0, n);
      for (let i = 0; i < n; i += 3) data[i] = 0; // compressible, like tile indices
      let windowBits = 9;
      while (windowBits < 15 && 1 << windowBits < n) windowBits++;
      const memLevel = Math.max(2, Math.min(8, windowBits - 6));
      for (const level of [1, 6, 9]) {
        const fresh = deflateSync(data, { level, windowBits, memLevel });
        for (let k = 0; k < 2; k++) expect(Buffer.compare(deflateSized(data, level), fresh)).toBe(0);
        expect(Buffer.compare(inflateSync(deflateSized(data, level)), data)).toBe(0);
      }
    }
  });
});

describe('firstDifferentRow / copyBlock', () => {
  for (const w of [16, 48, 64, 200]) {
    it(`${w} px wide: equal blocks, the first differing row, offsets and fromRow`, () => {
      const a = noise(1);
      const b = Buffer.from(a);
      const p = pixelPair(a, b, STRIDE)!;
      expect(p).not.toBeNull();
      expect(firstDifferentRow(p, 10, 5, w, 16, 10, 5)).toBe(16);
      // One byte of one pixel in row 9 of the block (its last pixel, the edge a loop could miss).
      b[(5 + 9) * STRIDE + (10 + w - 1) * 4 + 1] ^= 0x40;
      expect(firstDifferentRow(p, 10, 5, w, 16, 10, 5)).toBe(9);
      expect(firstDifferentRow(p, 10, 5, w, 16, 10, 5, 10)).toBe(16);
      // A block of `a` against one elsewhere in `b` (motion): b holds a's pixels 3 right and 2 down.
      const moved = Buffer.alloc(STRIDE * H);
      for (let y = 0; y + 2 < H; y++) a.copy(moved, (y + 2) * STRIDE + 12, y * STRIDE, y * STRIDE + (W - 3) * 4);
      const m = pixelPair(a, moved, STRIDE)!;
      expect(firstDifferentRow(m, 20, 4, w, 16, 23, 6)).toBe(16);
      expect(firstDifferentRow(m, 20, 4, w, 16, 22, 6)).toBe(0);
    });

    it(`${w} px wide: copyBlock copies exactly the block`, () => {
      const a = noise(2);
      const b = noise(3);
      const before = Buffer.from(b);
      copyBlock(pixelPair(a, b, STRIDE)!, 7, 3, w, 20);
      const expected = Buffer.alloc(STRIDE * H);
      for (let i = 0; i < expected.length; i += 4) {
        const x = (i % STRIDE) / 4, y = Math.floor(i / STRIDE);
        const inside = x >= 7 && x < 7 + w && y >= 3 && y < 23;
        for (let k = 0; k < 4; k++) expected[i + k] = (inside ? a : before)[i + k]!;
      }
      expect(b.equals(expected)).toBe(true);
    });
  }
});

describe('TileEncoder run comparison', () => {
  it('copies a scrolled picture around a cell that changed in the middle of a wide run, and the viewer gets exact pixels', async () => {
    const w = 512, h = 256, T = 16;
    // Rows of distinct noise: every 16x16 block is unique, so only the true offset matches.
    const pic = (shift: number): Uint8Array => {
      const rgb = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++) for (let x = 0; x < w * 3; x++) rgb[y * w * 3 + x] = Math.imul((y + shift) * 7919 + x, 2654435761) >>> 26 << 2;
      return rgb;
    };
    const all = [{ x: 0, y: 0, width: w, height: h }];
    const enc = new TileEncoder({ tileSize: T });
    const canvas = new Canvas(w, h);
    for (const t of await enc.encode(frameFromRgb(w, h, pic(0)), all, 1000)) await canvas.apply(t);
    for (const t of await enc.refine(5000)) await canvas.apply(t);
    // Scrolled up by 32 px, with one odd cell at (256, 96) that is nowhere in the old picture.
    const next = pic(32);
    for (let y = 96; y < 112; y++) for (let x = 256; x < 272; x++) next.set([255, 0, 255], (y * w + x) * 3);
    const frame = frameFromRgb(w, h, next);
    const tiles = await enc.encode(frame, all, 6000);
    const copy = tiles[0]!;
    expect(copy.encoding).toBe(TileEncoding.Copy);
    expect(copySource(copy).y - copy.y).toBe(32);
    for (const t of tiles) await canvas.apply(t);
    for (const t of await enc.refine(60_000)) await canvas.apply(t);
    expect(canvas.diff(frame)).toBe(0);
  });
});

/**
 * Frame verification, the host's side (issue 17): the hash a frame carries is the hash of the captured
 * picture over the cells whose newest tile is lossless, however the frame was sent (pixels, a Copy of
 * moved content, merged rectangles), and it changes when the picture does.
 */
import { describe, expect, it } from 'vitest';
import { CELL_HASH_SEED, TILE_FLAG_LOSSY, TileEncoding, cellHashStep, frameHashFold } from '@baton/protocol';
import { TileEncoder } from '../src/TileEncoder.js';
import { hashCell, hashCells4 } from '../src/FrameHasher.js';
import type { FrameBuffer } from '../src/ScreenCapture.js';
import { frameFromRgb } from './helpers/canvas.js';
import { photoLike } from './helpers/painter.js';

const W = 200, H = 120, T = 16;

/** The reference: every cell in `exact` hashed straight from the captured frame. */
function reference(f: FrameBuffer, exact: (i: number) => boolean): number {
  const cols = Math.ceil(W / T), rows = Math.ceil(H / T);
  let h = CELL_HASH_SEED;
  for (let i = 0; i < cols * rows; i++) {
    if (!exact(i)) continue;
    const x0 = (i % cols) * T, y0 = Math.floor(i / cols) * T;
    let ch = CELL_HASH_SEED;
    for (let y = y0; y < Math.min(y0 + T, H); y++) {
      for (let x = x0; x < Math.min(x0 + T, W); x++) {
        const o = y * f.stride + x * 4;
        ch = cellHashStep(ch, (f.data[o + 2]! << 16) | (f.data[o + 1]! << 8) | f.data[o]!);
      }
    }
    h = frameHashFold(h, i, ch);
  }
  return h;
}

/** A "document" of 30 grey levels with a block at (bx, by): lossless everywhere. */
function doc(bx: number, by: number): Uint8Array {
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inBlock = x >= bx && x < bx + 96 && y >= by && y < by + 64;
      const v = inBlock ? ((Math.imul((x - bx) * 374761393 + (y - by) * 668265263, 1274126177) >>> 24) % 30) * 7 : 240 - ((x + y) % 3);
      rgb.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return rgb;
}

describe('FrameHasher (through TileEncoder.frameHash)', () => {
  it('hashes the captured picture over lossless cells, also for frames sent as a Copy', async () => {
    const enc = new TileEncoder({ tileSize: T });
    const all = [{ x: 0, y: 0, width: W, height: H }];
    let f = frameFromRgb(W, H, doc(16, 16));
    let tiles = await enc.encode(f, all, 1000);
    expect(enc.frameHash(tiles)).toBe(reference(f, () => true));
    // The block moves by (+32, +16): sent as a Copy plus the uncovered background.
    f = frameFromRgb(W, H, doc(48, 32));
    tiles = await enc.encode(f, all, 1100);
    expect(tiles[0]!.encoding).toBe(TileEncoding.Copy);
    const h = enc.frameHash(tiles);
    expect(h).toBe(reference(f, () => true));
    expect(h).not.toBe(reference(frameFromRgb(W, H, doc(16, 16)), () => true));
    // Nothing changed: same picture, same hash.
    expect(enc.frameHash(await enc.encode(f, all, 1200))).toBe(h);
  });

  it('leaves lossy cells out until their lossless refinement is sent', async () => {
    const enc = new TileEncoder({ tileSize: T, refineAfterMs: 300 });
    const rgb = doc(16, 16);
    const photo = photoLike(96, 56, 3);
    for (let y = 0; y < 56; y++) rgb.set(photo.subarray(y * 96 * 3, (y + 1) * 96 * 3), ((y + 64) * W + 96) * 3);
    const f = frameFromRgb(W, H, rgb);
    const tiles = await enc.encode(f, [{ x: 0, y: 0, width: W, height: H }], 1000);
    const lossy = new Set<number>();
    const cols = Math.ceil(W / T);
    for (const t of tiles) {
      if (!(t.flags & TILE_FLAG_LOSSY)) continue;
      for (let y = t.y; y < t.y + t.h; y += T) for (let x = t.x; x < t.x + t.w; x += T) lossy.add((y / T) * cols + x / T);
    }
    expect(lossy.size).toBeGreaterThan(0);
    expect(enc.frameHash(tiles)).toBe(reference(f, (i) => !lossy.has(i)));
    const refined = await enc.refine(2000);
    expect(refined.length).toBeGreaterThan(0);
    expect(enc.frameHash(refined)).toBe(reference(f, () => true));
  });
});

describe('hashCell', () => {
  it('is the protocol hash of a cell of pixels as 0xRRGGBB, the unused byte ignored, whole and clipped cells', () => {
    const w = 40, h = 20;
    const words = new Uint32Array(w * h);
    // Colours with the top bit of every channel set and garbage in the unused byte.
    for (let i = 0; i < words.length; i++) words[i] = (Math.imul(i + 1, 2654435761) | 0x80808080) >>> 0;
    const expected = (x0: number, y0: number, x1: number, y1: number): number => {
      let ch = CELL_HASH_SEED;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ch = cellHashStep(ch, words[y * w + x]! & 0xffffff);
      return ch;
    };
    expect(hashCell(words, w, 16, 0, 32, 16)).toBe(expected(16, 0, 32, 16));
    expect(hashCell(words, w, 32, 16, 40, 20)).toBe(expected(32, 16, 40, 20));
    expect(hashCell(words, w, 0, 0, 16, 16)).toBeGreaterThanOrEqual(0);
  });

  it('hashes four cells side by side at once exactly as one by one (hashCells4)', () => {
    const w = 160, h = 64;
    const words = new Uint32Array(w * h);
    for (let i = 0; i < words.length; i++) words[i] = Math.imul(i + 1, 2654435761) >>> 0; // high byte set: ignored
    const out = new Uint32Array(4);
    for (const ts of [16, 32]) {
      for (const [x0, y0] of [[0, 0], [16, ts], [32, 0]] as const) {
        hashCells4(words, w, x0, y0, ts, out);
        expect([...out]).toEqual([0, 1, 2, 3].map((k) => hashCell(words, w, x0 + k * ts, y0, x0 + (k + 1) * ts, y0 + ts)));
      }
    }
  });
});

describe('TileEncoder after a refresh', () => {
  it('sends the pass after invalidate() without any Copy, then copies again', async () => {
    const enc = new TileEncoder({ tileSize: T });
    const all = [{ x: 0, y: 0, width: W, height: H }];
    await enc.encode(frameFromRgb(W, H, doc(0, 0)), all, 1000);
    const moved = await enc.encode(frameFromRgb(W, H, doc(16, 16)), all, 1100);
    const copy = moved[0]!;
    expect(copy.encoding).toBe(TileEncoding.Copy);
    // The relay could not give some viewer that Copy: it waits for a frame it can send whole.
    enc.invalidate(copy.x, copy.y, copy.w, copy.h);
    const answer = await enc.encode(frameFromRgb(W, H, doc(32, 32)), all, 1200);
    expect(answer.some((t) => t.encoding === TileEncoding.Copy)).toBe(false);
    const next = await enc.encode(frameFromRgb(W, H, doc(48, 32)), all, 1300);
    expect(next[0]!.encoding).toBe(TileEncoding.Copy);
  });
});

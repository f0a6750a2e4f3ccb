/**
 * Motion search (motion.ts): the offset content moved by, found exactly, for scrolling (vertical band),
 * dragging (the square around each feature, also at its edges) and with a hint; nothing for content
 * that did not move, and no vote from features that match in many places.
 */
import { describe, expect, it } from 'vitest';
import { findMotion, type Block } from '../src/motion.js';
import type { FrameBuffer } from '../src/ScreenCapture.js';

const W = 320, H = 240;

/** Noise, so every 16x16 block is unique. */
function noise(seed: number): Buffer {
  const b = Buffer.alloc(W * H * 4);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE((Math.imul(i + seed, 2654435761) >>> 8) & 0xffffff, i);
  return b;
}

/** `prev` moved by (dx, dy) over another noise background: cur[x, y] = prev[x - dx, y - dy] where that is on the screen. */
function moved(prev: Buffer, dx: number, dy: number): FrameBuffer {
  const data = noise(99);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = x - dx, sy = y - dy;
      if (sx >= 0 && sy >= 0 && sx < W && sy < H) data.writeUInt32LE(prev.readUInt32LE((sy * W + sx) * 4), (y * W + x) * 4);
    }
  }
  return { width: W, height: H, stride: W * 4, data };
}

const blocks = (...xy: [number, number][]): Block[] => xy.map(([x, y]) => ({ x, y, w: 16, h: 16 }));

describe('findMotion', () => {
  it('finds a 2D move anywhere in the square, also with dx at the edges of the range and of the screen', () => {
    const prev = noise(1);
    for (const [dx, dy] of [[-64, 0], [64, -64], [17, 23], [-5, 64], [1, -1]] as const) {
      const cur = moved(prev, dx, dy);
      // Features whose sources are on the screen: near the left and right edges too.
      const fs = blocks([80, 80], [150, 100], [Math.max(0, dx) + 2, 120], [W - 16 + Math.min(0, dx) - 2, 90]);
      expect(findMotion(cur, prev, fs, null)).toEqual({ dx, dy });
    }
  });

  it('finds a scroll beyond the square, and a continued motion from the hint', () => {
    const prev = noise(2);
    expect(findMotion(moved(prev, 0, -150), prev, blocks([40, 20], [200, 60], [100, 80]), null)).toEqual({ dx: 0, dy: -150 });
    expect(findMotion(moved(prev, 30, 10), prev, blocks([100, 100], [200, 150]), { dx: 25, dy: 8 })).toEqual({ dx: 30, dy: 10 });
  });

  it('finds a drag beyond the square with the wide search, or near a hint scaled to a late pass', () => {
    const prev = noise(5);
    const fs = blocks([150, 40], [200, 60], [250, 100]);
    // 110 px right and 90 up: outside the usual 64 px square.
    expect(findMotion(moved(prev, 110, -90), prev, fs, null)).toBeNull();
    expect(findMotion(moved(prev, 110, -90), prev, fs, null, { wideRange2d: 128 })).toEqual({ dx: 110, dy: -90 });
    // The last pass moved (40, -30); this one came three times as late: near (120, -90), not near (40, -30).
    expect(findMotion(moved(prev, 115, -86), prev, fs, [{ dx: 40, dy: -30 }, { dx: 120, dy: -90 }])).toEqual({ dx: 115, dy: -86 });
  });

  it('finds content of mostly one colour (text on a page) in the square and the wide search, wherever its features lie', () => {
    // White with sparse dots (one pixel in ten): every lattice pixel of the square search is mostly the
    // colour most of a feature is, so most offsets are tested; features off the 16 px grid and at the edges.
    const page = Buffer.alloc(W * H * 4, 0xff);
    for (let i = 0; i < W * H; i++) if ((Math.imul(i, 2654435761) >>> 24) < 26) page.writeUInt32LE(Math.imul(i, 40503) & 0xffffff, i * 4);
    for (const [dx, dy, wide] of [[-97, -27, 128], [40, 50, 0], [-63, 64, 0], [0, 33, 0], [120, 0, 128]] as const) {
      const cur = moved(page, dx, dy);
      const fs = blocks([Math.max(0, dx) + 3, Math.max(0, dy) + 1], [W - 16 + Math.min(0, dx), H - 16 + Math.min(0, dy)], [Math.max(0, dx) + 61, Math.max(0, dy) + 37]);
      expect(findMotion(cur, page, fs, null, wide ? { wideRange2d: wide } : {})).toEqual({ dx, dy });
    }
  });

  it('a feature that matches in more than two places does not vote, in the wide search too', () => {
    const prev = noise(6);
    // The block at (100, 100) also at three other places, each beyond the 64 px square but within 128 px of where it is now (10, 170).
    for (const [x, y] of [[100, 200], [20, 60], [120, 140]]) for (let r = 0; r < 16; r++) prev.copy(prev, ((y + r) * W + x) * 4, ((100 + r) * W + 100) * 4, ((100 + r) * W + 116) * 4);
    const cur = moved(prev, -90, 70);
    expect(findMotion(cur, prev, blocks([10, 170]), null, { wideRange2d: 128 })).toBeNull();
    expect(findMotion(cur, prev, blocks([10, 170], [150, 100]), null, { wideRange2d: 128 })).toEqual({ dx: -90, dy: 70 });
  });

  it('returns null when nothing moved, and repeated content does not vote', () => {
    const prev = noise(3);
    const cur = { width: W, height: H, stride: W * 4, data: noise(4) };
    expect(findMotion(cur, prev, blocks([40, 40], [100, 100], [200, 50]), null)).toBeNull();
    // A two-colour stripe pattern repeats every 4 px: every feature matches at many offsets.
    const stripes = Buffer.alloc(W * H * 4);
    for (let i = 0; i < W * H; i++) stripes.writeUInt32LE((i % W) % 4 < 2 ? 0x202020 : 0xe0e0e0, i * 4);
    const shifted = { width: W, height: H, stride: W * 4, data: Buffer.from(stripes) };
    expect(findMotion(shifted, stripes, blocks([40, 40], [100, 100], [200, 50]), null)).toBeNull();
  });
});

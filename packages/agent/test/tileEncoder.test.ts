import { describe, expect, it } from 'vitest';
import { CELL_HASH_SEED, TILE_FLAG_LOSSY, TileEncoding, copySource, frameHashFold, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TileEncoder } from '../src/TileEncoder.js';
import { CellPalettes, classifyTile, countColours, packIndices, paletteOf } from '../src/tileCodecs.js';
import { hashCell } from '../src/FrameHasher.js';
import { Canvas, frameFromRgb } from './helpers/canvas.js';
import { photoLike } from './helpers/painter.js';

const W = 200, H = 130; // not a multiple of 64: edge tiles are partial

/** Grey background, black "text" strokes in the top-left tile, a photo block at (128,0)-(192,64). */
function scene(): Uint8Array {
  const rgb = new Uint8Array(W * H * 3).fill(200);
  for (let y = 10; y < 50; y += 8) for (let x = 5; x < 60; x++) if ((x * 7 + y) % 5 < 2) rgb.set([0, 0, 0], (y * W + x) * 3);
  const photo = photoLike(64, 64, 7);
  for (let y = 0; y < 64; y++) rgb.set(photo.subarray(y * 64 * 3, (y + 1) * 64 * 3), (y * W + 128) * 3);
  return rgb;
}

/** Through the wire format and back. */
function decodeTile(t: Extract<ShareMessage, { type: 'tile' }>) {
  const m = decodeShareMessage(encodeShareMessage(t));
  if (m.type !== 'tile') throw new Error('not a tile');
  return m;
}

describe('TileEncoder', () => {
  it('classifies tiles: fill, few colours, photo-like', () => {
    const f = frameFromRgb(W, H, scene());
    expect(classifyTile(f, 64, 64, 64, 64, 256)).toEqual({ kind: 'fill', rgb: [200, 200, 200] });
    expect(classifyTile(f, 0, 0, 64, 64, 256)).toEqual({ kind: 'few', colours: 2 });
    expect(classifyTile(f, 128, 0, 64, 64, 256).kind).toBe('many');
  });

  it('encodes a full frame losslessly except photo tiles, and the tiles reassemble the frame', async () => {
    const enc = new TileEncoder({ tileSize: 64, merge: false, lossless: 'zrgb', maxSmallLossyPixels: 0 });
    const frame = frameFromRgb(W, H, scene());
    const tiles = await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }], 1000);
    expect(tiles).toHaveLength(4 * 3);
    const byPos = new Map(tiles.map((t) => [`${t.x},${t.y}`, t]));
    expect(byPos.get('0,0')).toMatchObject({ encoding: TileEncoding.ZRgb, flags: 0, w: 64, h: 64 });
    expect(byPos.get('64,64')).toMatchObject({ encoding: TileEncoding.Fill, data: Uint8Array.from([200, 200, 200]) });
    expect(byPos.get('128,0')).toMatchObject({ encoding: TileEncoding.Jpeg, flags: TILE_FLAG_LOSSY });
    expect(byPos.get('192,64')).toMatchObject({ w: 8, h: 64 });
    expect(byPos.get('192,128')).toMatchObject({ w: 8, h: 2 });
    expect(enc.lastStats).toMatchObject({ tiles: 12, unchanged: 0, lossy: 1 });

    // Through the wire format and back, as a viewer would see them.
    const canvas = new Canvas(W, H);
    for (const t of tiles) {
      const m = decodeShareMessage(encodeShareMessage(t));
      if (m.type !== 'tile') throw new Error('not a tile');
      await canvas.apply(m);
    }
    expect(canvas.diff(frame, 0)).toBeGreaterThan(0); // the JPEG tile is approximate
    expect(canvas.diff(frame, 40)).toBe(0);

    // Nothing changed: damaged tiles are skipped.
    expect(await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }], 1100)).toHaveLength(0);
    expect(enc.lastStats.unchanged).toBe(12);

    // The photo tile stays still for 300 ms: a lossless refinement makes the picture exact.
    expect(enc.nextRefineAt()).toBe(1300);
    expect(await enc.refine(1200)).toHaveLength(0);
    const refined = await enc.refine(1300);
    expect(refined).toHaveLength(1);
    expect(refined[0]).toMatchObject({ x: 128, y: 0, encoding: TileEncoding.ZRgb, flags: 0 });
    await canvas.apply(refined[0]!);
    expect(canvas.diff(frame, 0)).toBe(0);
    expect(enc.nextRefineAt()).toBeNull();
  });

  it('sends only the tiles whose pixels changed, and restarts the refinement clock of a moving photo', async () => {
    const enc = new TileEncoder({ tileSize: 64, merge: false, lossless: 'zrgb', maxSmallLossyPixels: 0 });
    const rgb = scene();
    const frame = frameFromRgb(W, H, rgb);
    await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }], 0);
    // Change one pixel in the photo tile and one in the fill tile at (64,64).
    frame.data[(10 * W + 130) * 4] ^= 0xff;
    frame.data[(70 * W + 70) * 4] = 0;
    const tiles = await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }], 250);
    expect(tiles.map((t) => `${t.x},${t.y}`).sort()).toEqual(['128,0', '64,64']);
    expect(tiles.find((t) => t.x === 64)!.encoding).toBe(TileEncoding.ZRgb);
    expect(await enc.refine(300)).toHaveLength(0); // changed at 250: not still long enough
    expect(await enc.refine(550)).toHaveLength(1);
  });

  it('sends a small photo-like rectangle losslessly at once, and a large one as JPEG', async () => {
    const enc = new TileEncoder({ tileSize: 16 }); // the 64x64 photo block is 4096 px: small
    const frame = frameFromRgb(W, H, scene());
    const tiles = await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }], 0);
    expect(enc.lastStats.lossy).toBe(0);
    expect(tiles.some((t) => t.flags & TILE_FLAG_LOSSY)).toBe(false);
    const canvas = new Canvas(W, H);
    for (const t of tiles) await canvas.apply(t);
    expect(canvas.diff(frame, 0)).toBe(0); // exact without waiting for a refinement
    expect(enc.nextRefineAt()).toBeNull();

    const big = new TileEncoder({ tileSize: 16, maxSmallLossyPixels: 4095 });
    const bigTiles = await big.encode(frame, [{ x: 0, y: 0, width: W, height: H }], 1000);
    expect(bigTiles.filter((t) => t.encoding === TileEncoding.Jpeg).map((t) => [t.x, t.y, t.w, t.h])).toEqual([[128, 0, 64, 64]]);
    expect(big.nextRefineAt()).toBe(1300);
  });

  it('sends content that moved as one Copy tile first, and the viewer rebuilds the new frame exactly', async () => {
    const FW = 320, FH = 240;
    // A block of non-repeating "text-like" texture (40 grey levels: lossless) on a flat background.
    const tex = (x: number, y: number) => ((Math.imul(x * 374761393 + y * 668265263, 1274126177) >>> 24) % 40) * 6;
    const scene = (bx: number, by: number) => {
      const rgb = new Uint8Array(FW * FH * 3).fill(230);
      for (let y = 0; y < 96; y++) for (let x = 0; x < 128; x++) rgb.fill(tex(x, y), ((by + y) * FW + bx + x) * 3, ((by + y) * FW + bx + x) * 3 + 3);
      return frameFromRgb(FW, FH, rgb);
    };
    const enc = new TileEncoder({ tileSize: 16 });
    const all = [{ x: 0, y: 0, width: FW, height: FH }];
    const canvas = new Canvas(FW, FH);
    for (const t of await enc.encode(scene(32, 32), all, 1000)) await canvas.apply(t);
    // Dragged by (37, 21): a Copy tile comes first and covers most of the block's new place.
    const moved = scene(69, 53);
    const tiles = await enc.encode(moved, all, 1100);
    expect(tiles[0]!.encoding).toBe(TileEncoding.Copy);
    expect(tiles.filter((t) => t.encoding === TileEncoding.Copy)).toHaveLength(1);
    const src = copySource(tiles[0]!);
    expect([tiles[0]!.x - src.x, tiles[0]!.y - src.y]).toEqual([37, 21]);
    expect(enc.lastStats.copied).toBeGreaterThanOrEqual(20);
    for (const t of tiles) await canvas.apply(decodeTile(t));
    expect(canvas.diff(moved, 0)).toBe(0);
    const withCopy = tiles.reduce((n, t) => n + t.data.length, 0);
    const plain = new TileEncoder({ tileSize: 16, motion: false });
    await plain.encode(scene(32, 32), all, 1000);
    const without = (await plain.encode(moved, all, 1100)).reduce((n, t) => n + t.data.length, 0);
    expect(withCopy).toBeLessThan(without / 3);

    // Moving on at the same speed: the last motion is tried first and found again.
    const again = scene(106, 74);
    const next = await enc.encode(again, all, 1200);
    expect(next[0]!.encoding).toBe(TileEncoding.Copy);
    for (const t of next) await canvas.apply(t);
    expect(canvas.diff(again, 0)).toBe(0);
    // Along a curve the speed changes a little: found near the last motion.
    const curve = scene(146, 92);
    const turned = await enc.encode(curve, all, 1250);
    expect(turned[0]!.encoding).toBe(TileEncoding.Copy);
    expect([turned[0]!.x - copySource(turned[0]!).x, turned[0]!.y - copySource(turned[0]!).y]).toEqual([40, 18]);
    for (const t of turned) await canvas.apply(t);
    expect(canvas.diff(curve, 0)).toBe(0);

    // After a reset (a new path, a new screen) the viewers have nothing to copy from: pixels only.
    const fresh = new TileEncoder({ tileSize: 16 });
    await fresh.encode(scene(32, 32), all, 1000);
    fresh.reset(FW, FH);
    expect((await fresh.encode(moved, all, 1100)).some((t) => t.encoding === TileEncoding.Copy)).toBe(false);

    // The relay could not give someone the Copy: those cells come as pixels next time, not copied.
    enc.invalidate(0, 0, FW, FH);
    const refreshed = await enc.encode(curve, all, 1300);
    expect(refreshed.some((t) => t.encoding === TileEncoding.Copy)).toBe(false);
    expect(enc.lastStats.tiles - enc.lastStats.unchanged).toBe((FW / 16) * (FH / 16));
  });

  it('finds a drag whose next pass comes late and far (a busy machine), and the viewer gets exact pixels', async () => {
    const FW = 640, FH = 400;
    const tex = (x: number, y: number) => ((Math.imul(x * 374761393 + y * 668265263, 1274126177) >>> 24) % 40) * 6;
    const scene = (bx: number, by: number) => {
      const rgb = new Uint8Array(FW * FH * 3).fill(230);
      for (let y = 0; y < 128; y++) for (let x = 0; x < 160; x++) rgb.fill(tex(x, y), ((by + y) * FW + bx + x) * 3, ((by + y) * FW + bx + x) * 3 + 3);
      return frameFromRgb(FW, FH, rgb);
    };
    const enc = new TileEncoder({ tileSize: 16 });
    const all = [{ x: 0, y: 0, width: FW, height: FH }];
    const canvas = new Canvas(FW, FH);
    for (const t of await enc.encode(scene(20, 20), all, 1000)) await canvas.apply(t);
    for (const t of await enc.encode(scene(50, 40), all, 1033)) await canvas.apply(decodeTile(t));
    // Three pass periods later the block went three times as far: (93, 62), outside the 64 px square.
    const late = scene(143, 102);
    const tiles = await enc.encode(late, all, 1132);
    expect(tiles[0]!.encoding).toBe(TileEncoding.Copy);
    expect([tiles[0]!.x - copySource(tiles[0]!).x, tiles[0]!.y - copySource(tiles[0]!).y]).toEqual([93, 62]);
    for (const t of tiles) await canvas.apply(decodeTile(t));
    expect(canvas.diff(late, 0)).toBe(0);
    // A drag that starts with a big step is found too (the wide search, at most every half second).
    const fresh = new TileEncoder({ tileSize: 16 });
    await fresh.encode(scene(20, 20), all, 5000);
    const jump = await fresh.encode(scene(150, 130), all, 5100);
    expect(jump[0]!.encoding).toBe(TileEncoding.Copy);
  });

  it('hands the tiles over as they are encoded: the Copy first, each once, in the order returned, and they rebuild the frame exactly', async () => {
    const FW = 640, FH = 400;
    const tex = (x: number, y: number) => ((Math.imul(x * 374761393 + y * 668265263, 1274126177) >>> 24) % 40) * 6;
    // A dragged window (text-like texture) beside a photo that changes: Palette, JPEG and a Copy in one pass.
    const scene = (bx: number, by: number, seed: number) => {
      const rgb = new Uint8Array(FW * FH * 3).fill(230);
      for (let y = 0; y < 128; y++) for (let x = 0; x < 160; x++) rgb.fill(tex(x, y), ((by + y) * FW + bx + x) * 3, ((by + y) * FW + bx + x) * 3 + 3);
      const photo = photoLike(192, 128, seed);
      for (let y = 0; y < 128; y++) rgb.set(photo.subarray(y * 192 * 3, (y + 1) * 192 * 3), ((256 + y) * FW + 400) * 3);
      return frameFromRgb(FW, FH, rgb);
    };
    const enc = new TileEncoder({ tileSize: 16, concurrency: 4 });
    const all = [{ x: 0, y: 0, width: FW, height: FH }];
    const canvas = new Canvas(FW, FH);
    for (const t of await enc.encode(scene(20, 20, 1), all, 1000)) await canvas.apply(t);
    const moved = scene(57, 41, 2);
    const handed: Array<Extract<ShareMessage, { type: 'tile' }>> = [];
    let calls = 0;
    const tiles = await enc.encode(moved, all, 1033, (ts) => {
      calls++;
      handed.push(...ts);
    });
    expect(handed).toEqual(tiles);
    expect(new Set(handed).size).toBe(handed.length);
    expect(calls).toBeGreaterThan(1);
    expect(handed[0]!.encoding).toBe(TileEncoding.Copy);
    expect(handed.some((t) => t.encoding === TileEncoding.Jpeg)).toBe(true);
    // Applied in the order handed over (the viewer's): exact but for the JPEG's error, and exact once
    // the still photo is refined.
    for (const t of handed) await canvas.apply(decodeTile(t));
    expect(canvas.diff(moved, 0)).toBeGreaterThan(0);
    expect(canvas.diff(moved, 48)).toBe(0);
    for (let now = 2000, r = await enc.refine(now); r.length > 0; r = await enc.refine((now += 50))) for (const t of r) await canvas.apply(decodeTile(t));
    expect(canvas.diff(moved, 0)).toBe(0);
  });

  it('finds a vertical scroll and copies the band that scrolled', async () => {
    const FW = 256, FH = 256;
    const tex = (x: number, y: number) => ((Math.imul(x * 2246822519 + y * 3266489917, 668265263) >>> 24) % 32) * 7;
    const doc = (top: number) => {
      const rgb = new Uint8Array(FW * FH * 3);
      for (let y = 0; y < FH; y++) for (let x = 0; x < FW; x++) rgb.fill(tex(x, y + top), (y * FW + x) * 3, (y * FW + x) * 3 + 3);
      return frameFromRgb(FW, FH, rgb);
    };
    const enc = new TileEncoder({ tileSize: 16 });
    const all = [{ x: 0, y: 0, width: FW, height: FH }];
    const canvas = new Canvas(FW, FH);
    for (const t of await enc.encode(doc(0), all, 1000)) await canvas.apply(t);
    const scrolled = doc(13); // scrolled down by 13 px: content moves up
    const tiles = await enc.encode(scrolled, all, 1100);
    expect(tiles[0]!.encoding).toBe(TileEncoding.Copy);
    expect(copySource(tiles[0]!).y - tiles[0]!.y).toBe(13);
    expect(tiles[0]!.w).toBe(FW);
    for (const t of tiles) await canvas.apply(t);
    expect(canvas.diff(scrolled, 0)).toBe(0);
  });

  it('copies a scrolled page across a band that changed, and the band is overdrawn exactly', async () => {
    const FW = 256, FH = 256;
    const tex = (x: number, y: number) => ((Math.imul(x * 2246822519 + y * 3266489917, 668265263) >>> 24) % 32) * 7;
    // A heading band whose pixels depend on where it is on the screen (a dithered gradient): re-rendered, not moved.
    const doc = (top: number) => {
      const rgb = new Uint8Array(FW * FH * 3);
      for (let y = 0; y < FH; y++) for (let x = 0; x < FW; x++) rgb.fill(tex(x, y + top), (y * FW + x) * 3, (y * FW + x) * 3 + 3);
      for (let y = 120 - top; y < 140 - top; y++) for (let x = 0; x < FW; x++) rgb.set([(((x >> 3) + y + top * 2) & 7) * 20, 90, 200], (y * FW + x) * 3);
      return frameFromRgb(FW, FH, rgb);
    };
    const all = [{ x: 0, y: 0, width: FW, height: FH }];
    const enc = new TileEncoder({ tileSize: 16 });
    const canvas = new Canvas(FW, FH);
    for (const t of await enc.encode(doc(0), all, 1000)) await canvas.apply(t);
    const scrolled = doc(13);
    const tiles = await enc.encode(scrolled, all, 1100);
    expect(tiles[0]!.encoding).toBe(TileEncoding.Copy);
    expect(copySource(tiles[0]!).y - tiles[0]!.y).toBe(13);
    // One Copy over both halves of the page (not only the larger one), the band's cells drawn after it.
    expect(tiles[0]!.h).toBeGreaterThan(FH / 2 + 32);
    expect(tiles.filter((t) => t.encoding === TileEncoding.Copy)).toHaveLength(1);
    expect(enc.lastStats.copied).toBeLessThan((tiles[0]!.w / 16) * (tiles[0]!.h / 16));
    for (const t of tiles) await canvas.apply(decodeTile(t));
    expect(canvas.diff(scrolled, 0)).toBe(0);
    // Frame verification: every cell exact (nothing lossy here), hashed as the viewer's picture is.
    const hashed = new TileEncoder({ tileSize: 16 });
    hashed.frameHash(await hashed.encode(doc(0), all, 1000));
    const again = await hashed.encode(scrolled, all, 1100);
    expect(again.some((t) => t.flags & TILE_FLAG_LOSSY)).toBe(false);
    const words = new Uint32Array(scrolled.data.buffer, scrolled.data.byteOffset, scrolled.data.length >> 2);
    let expected = CELL_HASH_SEED;
    for (let i = 0; i < 16 * 16; i++) expected = frameHashFold(expected, i, hashCell(words, FW, (i % 16) * 16, Math.floor(i / 16) * 16, (i % 16) * 16 + 16, Math.floor(i / 16) * 16 + 16));
    expect(hashed.frameHash(again)).toBe(expected);
  });

  it('can use PNG as the lossless codec', async () => {
    const enc = new TileEncoder({ tileSize: 64, lossless: 'png' });
    const frame = frameFromRgb(W, H, scene());
    const tiles = await enc.encode(frame, [{ x: 0, y: 0, width: 64, height: 64 }]);
    expect(tiles[0]).toMatchObject({ encoding: TileEncoding.Png });
    const canvas = new Canvas(W, H);
    await canvas.apply(tiles[0]!);
    expect(canvas.at(0, 0)).toEqual([200, 200, 200]);
  });

  it('resets to resend everything', async () => {
    const enc = new TileEncoder({ tileSize: 64, merge: false });
    const frame = frameFromRgb(W, H, scene());
    await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }]);
    enc.reset(W, H);
    expect(await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }])).toHaveLength(12);
  });

  it('merges changed cells into rectangles of one kind: one JPEG for a photo, Palette bands for text', async () => {
    // 256x160 at 32 px cells (8x5): text on grey everywhere, a 96x64 photo at (64,32) (cells 2-4 x 1-2).
    const w = 256, h = 160;
    const rgb = new Uint8Array(w * h * 3).fill(200);
    for (let y = 0; y < h; y += 6) for (let x = 0; x < w; x++) if ((x * 7 + y) % 5 < 2) rgb.set([0, 0, 0], (y * w + x) * 3);
    const photo = photoLike(96, 64, 3);
    for (let y = 0; y < 64; y++) rgb.set(photo.subarray(y * 96 * 3, (y + 1) * 96 * 3), ((32 + y) * w + 64) * 3);
    const frame = frameFromRgb(w, h, rgb);
    const enc = new TileEncoder({ tileSize: 32 });
    const tiles = await enc.encode(frame, [{ x: 0, y: 0, width: w, height: h }], 1000);
    const jpegs = tiles.filter((t) => t.encoding === TileEncoding.Jpeg);
    expect(jpegs).toHaveLength(1);
    expect(jpegs[0]).toMatchObject({ x: 64, y: 32, w: 96, h: 64, flags: TILE_FLAG_LOSSY });
    const lossless = tiles.filter((t) => t.encoding !== TileEncoding.Jpeg);
    expect(lossless.every((t) => t.encoding === TileEncoding.Palette)).toBe(true);
    // Row 0 whole, rows 1-2 left and right of the photo, rows 3-4 whole: 5 rectangles instead of 34 cells.
    expect(lossless.map((t) => `${t.x},${t.y},${t.w}x${t.h}`).sort()).toEqual(['0,0,256x32', '0,32,64x64', '0,96,256x64', '160,32,96x64'].sort());
    // Every tile is whole cells, clipped to the screen, and survives the wire.
    for (const t of tiles) {
      expect(t.x % 32 + t.y % 32).toBe(0);
      const d = decodeShareMessage(encodeShareMessage(t)) as typeof t;
      expect({ ...d, data: Buffer.from(d.data) }).toEqual({ ...t, data: Buffer.from(t.data) });
    }
    const canvas = new Canvas(w, h);
    for (const t of tiles) await canvas.apply(t);
    expect(canvas.diff(frame, 40)).toBe(0);
    const lossyPixels = canvas.diff(frame, 0);
    expect(lossyPixels).toBeGreaterThan(0);
    expect(lossyPixels).toBeLessThanOrEqual(96 * 64); // only the photo is approximate
    // Palette: 2 colours (grey, black) → 1 bit a pixel; far smaller than the same rows as ZRgb.
    const zrgb = new TileEncoder({ tileSize: 32, lossless: 'zrgb' });
    const zt = await zrgb.encode(frame, [{ x: 0, y: 0, width: w, height: 32 }], 1000);
    const pal = tiles.find((t) => t.y === 0)!;
    expect(pal.data[0]).toBe(1); // colours - 1
    expect(pal.data.length).toBeLessThan(zt[0]!.data.length);
    // Still for 300 ms: the photo comes back as one lossless rectangle.
    const refined = await enc.refine(1300);
    expect(refined.map((t) => `${t.x},${t.y},${t.w}x${t.h}`)).toEqual(['64,32,96x64']);
    expect(refined[0]!.encoding).toBe(TileEncoding.ZRgb); // a photo has more than 256 colours
    await canvas.apply(refined[0]!);
    expect(canvas.diff(frame, 0)).toBe(0);
  });

  it('splits a merged rectangle at the size limit and only sends changed cells', async () => {
    const w = 320, h = 64;
    const rgb = new Uint8Array(w * h * 3).fill(255);
    for (let x = 0; x < w; x += 3) rgb.set([10, 20, 30], (5 * w + x) * 3);
    const frame = frameFromRgb(w, h, rgb);
    const enc = new TileEncoder({ tileSize: 16, maxLosslessPixels: 16 * 16 * 8 });
    const tiles = await enc.encode(frame, [{ x: 0, y: 0, width: w, height: h }], 0);
    // 20x4 cells; row 0 has the dotted line (runs of 8 cells), rows 1-3 are white: one Fill per block.
    for (const t of tiles) expect(t.w * t.h).toBeLessThanOrEqual(16 * 16 * 8);
    const canvas = new Canvas(w, h);
    for (const t of tiles) await canvas.apply(t);
    expect(canvas.diff(frame, 0)).toBe(0);
    expect(tiles.filter((t) => t.encoding === TileEncoding.Fill).every((t) => t.data.join() === '255,255,255')).toBe(true);
    // Change two pixels in cells 3 and 4 of row 2: one 32x16 tile.
    frame.data[(40 * w + 50) * 4] = 0;
    frame.data[(40 * w + 70) * 4] = 0;
    const next = await enc.encode(frame, [{ x: 48, y: 32, width: 40, height: 16 }], 10);
    expect(next.map((t) => `${t.x},${t.y},${t.w}x${t.h}`)).toEqual(['48,32,32x16']);
    expect(next[0]!.encoding).toBe(TileEncoding.Palette);
    expect(next[0]!.data.length).toBeLessThan(40);
    await canvas.apply(next[0]!);
    expect(canvas.diff(frame, 0)).toBe(0);
  });

  it('builds a rectangle palette from its cells: the same pixels as paletteOf, null past 256 colours', () => {
    // 80x40 at 16 px cells (5x3, the last row 8 px high): each cell its own 40 colours, in runs.
    const w = 80, h = 40;
    const rgb = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const cell = Math.floor(y / 16) * 5 + Math.floor(x / 16);
        const k = Math.floor((x % 16) / 2 + (y % 16) * 3) % 40;
        rgb.set([cell * 13, k * 6, (cell * 7 + k) & 255], (y * w + x) * 3);
      }
    }
    const frame = frameFromRgb(w, h, rgb);
    const cells = new CellPalettes(w, h, 16);
    // The classification's count stops past its limit, and is the exact count below it.
    expect(cells.count(frame, 0, 8)).toBeGreaterThan(8);
    expect(cells.count(frame, 0, 64)).toBe(countColours(frame, 0, 0, 16, 16, 64));
    expect(cells.count(frame, 12, 64)).toBe(countColours(frame, 32, 32, 16, 8, 64));
    const decode = (p: { palette: Buffer; indices: Uint8Array }) => [...p.indices].map((i) => [...p.palette.subarray(i * 3, i * 3 + 3)].join()).join(';');
    // 2x2 cells at (16,16)..(47,39): 4 x 40 colours, the bottom pair clipped to 8 rows.
    const merged = cells.of(frame, 1, 1, 2, 2, 16, 16, 32, 24);
    const direct = paletteOf(frame, 16, 16, 32, 24);
    expect(merged && direct).toBeTruthy();
    expect(merged!.palette.length / 3).toBe(direct!.palette.length / 3);
    expect(decode(merged!)).toBe(decode(direct!));
    // A whole row of 5 cells: 200 colours fit; all 15 cells: 600 do not.
    expect(decode(cells.of(frame, 0, 0, 4, 0, 0, 0, 80, 16)!)).toBe(decode(paletteOf(frame, 0, 0, 80, 16)!));
    expect(cells.of(frame, 0, 0, 4, 2, 0, 0, 80, 40)).toBeNull();
    // A new picture: the cells are built again from it.
    frame.data.fill(0);
    cells.next();
    const black = cells.of(frame, 0, 0, 4, 2, 0, 0, 80, 40)!;
    expect([...black.palette]).toEqual([0, 0, 0]);
  });

  it('sends 16 px text in many colours as Palette tiles that reassemble the frame exactly, pass after pass', async () => {
    // Coloured "text" over a gradient: a few dozen colours a cell, several hundred a row of cells.
    const w = 320, h = 96;
    const paint = (shift: number) => {
      const rgb = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([(x >> 2) & 255, (y >> 2) * 8, 128], (y * w + x) * 3);
      for (let y = 3; y < h; y += 7) for (let x = 0; x < w; x++) if ((x * 5 + y + shift) % 7 < 3) rgb.set([((x >> 1) * 3 + shift) & 255, 0, (y * 11) & 255], (y * w + x) * 3);
      return rgb;
    };
    const frame = frameFromRgb(w, h, paint(0));
    const enc = new TileEncoder({ tileSize: 16 });
    const canvas = new Canvas(w, h);
    const first = await enc.encode(frame, [{ x: 0, y: 0, width: w, height: h }], 1000);
    // More than 256 colours a row of cells: the rows are cut into parts that fit a palette.
    expect(first.filter((t) => t.encoding === TileEncoding.Palette).length).toBeGreaterThan(h / 16);
    for (const t of first) await canvas.apply(decodeTile(t));
    expect(canvas.diff(frame, 0)).toBe(0);
    for (let pass = 1; pass <= 3; pass++) {
      const next = frameFromRgb(w, h, paint(pass));
      frame.data.set(next.data);
      const tiles = await enc.encode(frame, [{ x: 0, y: 0, width: w, height: h }], 1000 + pass * 1000);
      expect(tiles.length).toBeGreaterThan(0);
      expect(tiles.every((t) => t.encoding === TileEncoding.Palette || t.encoding === TileEncoding.Fill)).toBe(true);
      for (const t of tiles) await canvas.apply(decodeTile(t));
      expect(canvas.diff(frame, 0)).toBe(0);
    }
  });

  it('refines a large still photo as lossless WebP over several passes within a byte budget, ending pixel-exact', async () => {
    const w = 512, h = 384;
    const frame = frameFromRgb(w, h, photoLike(w, h, 5));
    const enc = new TileEncoder({ tileSize: 16, refineBytesPerPass: 64 * 1024 });
    const canvas = new Canvas(w, h);
    const first = await enc.encode(frame, [{ x: 0, y: 0, width: w, height: h }], 1000);
    expect(first.every((t) => t.encoding === TileEncoding.Jpeg && t.flags === TILE_FLAG_LOSSY)).toBe(true);
    for (const t of first) await canvas.apply(decodeTile(t));
    expect(canvas.diff(frame, 0)).toBeGreaterThan(0);
    // Not yet still for refineAfterMs: nothing.
    expect(await enc.refine(1200)).toHaveLength(0);
    const passes: number[] = [];
    for (let now = 1300; enc.nextRefineAt() !== null; now += 10) {
      expect(enc.nextRefineAt()).toBeLessThanOrEqual(now);
      const refined = await enc.refine(now);
      expect(refined.length).toBeGreaterThan(0);
      for (const t of refined) {
        expect(t.flags).toBe(0);
        if (t.w * t.h >= 8 * 1024) expect(t.encoding).toBe(TileEncoding.Webp);
        expect(t.w * t.h).toBeLessThanOrEqual(32 * 1024);
        await canvas.apply(decodeTile(t));
      }
      passes.push(refined.reduce((n, t) => n + t.data.length, 0));
      expect(passes.length).toBeLessThan(100);
    }
    expect(passes.length).toBeGreaterThan(1);
    // Each pass stopped taking rectangles at the budget: at most the rectangles in flight (4) past it.
    const largest = Math.max(...passes);
    expect(largest).toBeLessThan(64 * 1024 + 4 * 32 * 1024 * 3);
    expect(canvas.diff(frame, 0)).toBe(0);
    // Lossless WebP for the photo: smaller than the same pixels as ZRgb.
    const zrgb = new TileEncoder({ tileSize: 16, lossless: 'zrgb', refineBytesPerPass: Infinity, maxRefinePerPass: Infinity });
    await zrgb.encode(frame, [{ x: 0, y: 0, width: w, height: h }], 1000);
    const zt = await zrgb.refine(1300);
    expect(zt.every((t) => t.encoding === TileEncoding.ZRgb)).toBe(true);
    expect(passes.reduce((a, b) => a + b, 0)).toBeLessThan(zt.reduce((n, t) => n + t.data.length, 0));
  });

  it('packs palette indices at 1, 2, 4 and 8 bits with rows padded to a byte', () => {
    const idx = Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1]);
    expect([...packIndices(idx, 6, 2, 2)]).toEqual([0b10110000, 0b01110100]);
    expect([...packIndices(Uint8Array.from([3, 2, 1, 0, 3]), 5, 1, 4)]).toEqual([0b11100100, 0b11000000]);
    expect([...packIndices(Uint8Array.from([15, 1, 7]), 3, 1, 16)]).toEqual([0xf1, 0x70]);
    expect(packIndices(Uint8Array.from([200, 3]), 2, 1, 201)).toEqual(Uint8Array.from([200, 3]));
  });
});

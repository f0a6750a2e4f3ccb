import { describe, expect, it } from 'vitest';
import { TileEncoding, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TileEncoder } from '../src/TileEncoder.js';
import { TileCache } from '../src/TileCache.js';
import { Canvas, frameFromRgb } from './helpers/canvas.js';
import { photoLike } from './helpers/painter.js';

type Tile = Extract<ShareMessage, { type: 'tile' }>;
const FW = 320, FH = 240;
const all = [{ x: 0, y: 0, width: FW, height: FH }];
/** Non-repeating "text-like" texture (40 grey levels: lossless). */
const tex = (x: number, y: number) => ((Math.imul(x * 374761393 + y * 668265263, 1274126177) >>> 24) % 40) * 6;
/** A textured block at (bx, by) on a flat background, and a photo at the bottom right (JPEG, then refined). */
function scene(bx: number, by: number) {
  const rgb = new Uint8Array(FW * FH * 3).fill(230);
  for (let y = 0; y < 96; y++) for (let x = 0; x < 128; x++) rgb.fill(tex(x, y), ((by + y) * FW + bx + x) * 3, ((by + y) * FW + bx + x) * 3 + 3);
  const photo = photoLike(96, 64, 3);
  for (let y = 0; y < 64; y++) rgb.set(photo.subarray(y * 96 * 3, (y + 1) * 96 * 3), ((170 + y) * FW + 220) * 3);
  return frameFromRgb(FW, FH, rgb);
}
const wire = (t: Tile) => decodeShareMessage(encodeShareMessage(t)) as Tile;

describe('TileCache', () => {
  it('keeps per cell the newest self-contained tile; Copy, video and partly covered cells go missing', () => {
    const c = new TileCache();
    c.reset(64, 32, 16); // 4 x 2 cells
    const tile = (x: number, y: number, w: number, h: number, encoding: number = TileEncoding.Fill): Tile => ({ type: 'tile', x, y, w, h, encoding: encoding as Tile['encoding'], flags: 0, data: new Uint8Array([1, 2, 3]) });
    const a = tile(0, 0, 64, 32), b = tile(0, 0, 16, 16), copy = tile(32, 0, 32, 16, TileEncoding.Copy), half = tile(16, 16, 8, 16);
    c.note([a, b]);
    expect(c.snapshot()).toEqual({ tiles: [a, b], missing: [] });
    c.note([copy, half]);
    expect(c.snapshot()).toEqual({ tiles: [a, b], missing: [2, 3, 5] });
    // A tile overdrawn everywhere is let go.
    c.note([tile(0, 0, 64, 32)]);
    expect(c.snapshot().tiles).toHaveLength(1);
    expect(c.bytes).toBe(3);
    c.forget(0, 16, 64, 16);
    expect(c.snapshot().missing).toEqual([4, 5, 6, 7]);
  });

  it('stays within its byte budget by letting the oldest tiles go', () => {
    const c = new TileCache({ budgetBytes: 10 });
    c.reset(64, 16, 16);
    for (let i = 0; i < 4; i++) c.note([{ type: 'tile', x: i * 16, y: 0, w: 16, h: 16, encoding: TileEncoding.Png, flags: 0, data: new Uint8Array(4) }]);
    expect(c.bytes).toBeLessThanOrEqual(10);
    expect(c.snapshot().missing).toEqual([0, 1]);
  });

  it("gives a new receiver the encoder's picture: the snapshot plus the next pass rebuild the screen exactly, after a Copy and with lossy cells refined later", async () => {
    const enc = new TileEncoder({ tileSize: 16, refineAfterMs: 300 });
    const old = new Canvas(FW, FH);
    for (const t of await enc.encode(scene(32, 32), all, 1000)) await old.apply(wire(t));
    for (const t of await enc.refine(1400)) await old.apply(wire(t));
    // Dragged: a Copy tile.
    const moved = scene(69, 53);
    const tiles = await enc.encode(moved, all, 2000);
    expect(tiles[0]!.encoding).toBe(TileEncoding.Copy);
    for (const t of tiles) await old.apply(wire(t));
    expect(old.diff(moved, 0)).toBe(0);
    const resets = enc.counts.resets;

    // A new receiver: the snapshot (no encoding), then one pass over the cells the Copy drew.
    const snap = enc.snapshot();
    expect(snap.tiles.some((t) => t.encoding === TileEncoding.Copy)).toBe(false);
    expect(snap.missing.length).toBeGreaterThan(0);
    const fresh = new Canvas(FW, FH);
    for (const t of snap.tiles) await fresh.apply(wire(t));
    const next = await enc.encode(moved, snap.missing, 2100);
    expect(next.some((t) => t.encoding === TileEncoding.Copy)).toBe(false);
    for (const t of next) await fresh.apply(wire(t));
    expect(fresh.diff(moved, 0)).toBe(0);
    // The old receiver, drawing the same pass, stays exact too.
    for (const t of next) await old.apply(wire(t));
    expect(old.diff(moved, 0)).toBe(0);
    expect(enc.counts.resets).toBe(resets);
    expect(enc.counts.snapshots).toBe(1);

    // Lossy now: a snapshot replays the JPEG, and the refinement still comes for the new receiver.
    const photo2 = scene(69, 53);
    const p2 = photoLike(96, 64, 9);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 96; x++) photo2.data.set([p2[(y * 96 + x) * 3 + 2]!, p2[(y * 96 + x) * 3 + 1]!, p2[(y * 96 + x) * 3]!], ((170 + y) * FW + 220 + x) * 4);
    const lossy = await enc.encode(photo2, all, 3000);
    expect(lossy.some((t) => t.encoding === TileEncoding.Jpeg)).toBe(true);
    const third = new Canvas(FW, FH);
    const s2 = enc.snapshot();
    expect(s2.missing).toEqual([]);
    for (const t of s2.tiles) await third.apply(wire(t));
    expect(third.diff(photo2, 0)).toBeGreaterThan(0);
    expect(third.diff(photo2, 80)).toBeLessThan(64 * 96);
    for (const t of await enc.refine(3400)) await third.apply(wire(t));
    expect(third.diff(photo2, 0)).toBe(0);
  });
});

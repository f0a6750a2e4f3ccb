import { describe, expect, it } from 'vitest';
import { TILE_FLAG_LOSSY, TileEncoding, decodeShareMessage, encodeShareMessage } from '@baton/protocol';
import { TileEncoder } from '../src/TileEncoder.js';
import { classifyTile } from '../src/tileCodecs.js';
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

describe('TileEncoder', () => {
  it('classifies tiles: fill, few colours, photo-like', () => {
    const f = frameFromRgb(W, H, scene());
    expect(classifyTile(f, 64, 64, 64, 64, 256)).toEqual({ kind: 'fill', rgb: [200, 200, 200] });
    expect(classifyTile(f, 0, 0, 64, 64, 256)).toEqual({ kind: 'few', colours: 2 });
    expect(classifyTile(f, 128, 0, 64, 64, 256).kind).toBe('many');
  });

  it('encodes a full frame losslessly except photo tiles, and the tiles reassemble the frame', async () => {
    const enc = new TileEncoder({ tileSize: 64 });
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
    const enc = new TileEncoder({ tileSize: 64 });
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
    const enc = new TileEncoder({ tileSize: 64 });
    const frame = frameFromRgb(W, H, scene());
    await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }]);
    enc.reset(W, H);
    expect(await enc.encode(frame, [{ x: 0, y: 0, width: W, height: H }])).toHaveLength(12);
  });
});

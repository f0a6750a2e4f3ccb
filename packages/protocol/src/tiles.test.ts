import { describe, expect, it } from 'vitest';
import { ShareDecodeError, ShareType, TileEncoding, copyPayload, decodeShareMessage, encodeShareMessage, encodeTileBatch, type ShareMessage } from './share.js';

type Tile = Extract<ShareMessage, { type: 'tile' }>;
const tile = (x: number, encoding: TileEncoding, data: Uint8Array, flags = 0): Tile => ({ type: 'tile', x, y: 16, w: 16, h: 16, encoding, flags, data });

describe('tiles batches', () => {
  it('round-trips the tiles of a batch, each a view of the one message', () => {
    const tiles = [tile(0, TileEncoding.Fill, Uint8Array.of(1, 2, 3)), tile(16, TileEncoding.Png, new Uint8Array(50).fill(7), 1), tile(32, TileEncoding.ZRgb, new Uint8Array(9).fill(4))];
    const bytes = encodeShareMessage({ type: 'tiles', tiles });
    expect(bytes[0]).toBe(ShareType.Tiles);
    // The relay's form (encoded tile frames) is the same bytes.
    expect([...encodeTileBatch(tiles.map((t) => encodeShareMessage(t)))]).toEqual([...bytes]);
    const got = decodeShareMessage(bytes);
    expect(got).toEqual({ type: 'tiles', tiles });
    if (got.type !== 'tiles') throw new Error('not tiles');
    for (const t of got.tiles) expect(t.data.buffer).toBe(bytes.buffer);
  });

  it('refuses Copy and Video tiles, truncated or trailing bytes, bad tiles and an empty batch', () => {
    const fill = encodeShareMessage(tile(0, TileEncoding.Fill, Uint8Array.of(1, 2, 3)));
    const copy = encodeShareMessage(tile(16, TileEncoding.Copy, copyPayload(0, 0)));
    expect(() => decodeShareMessage(encodeTileBatch([fill, copy]))).toThrow(/Copy/);
    const ok = encodeTileBatch([fill, fill]);
    expect(() => decodeShareMessage(ok.subarray(0, ok.length - 1))).toThrow(ShareDecodeError);
    expect(() => decodeShareMessage(Uint8Array.from([...ok, 0]))).toThrow(ShareDecodeError);
    expect(() => decodeShareMessage(encodeTileBatch([]))).toThrow(/no tiles/);
    expect(() => decodeShareMessage(encodeTileBatch([encodeShareMessage({ type: 'frame', seq: 1, time: 2 })]))).toThrow(/not a tile/);
    const badFill = encodeShareMessage(tile(0, TileEncoding.Fill, Uint8Array.of(1, 2)));
    expect(() => decodeShareMessage(encodeTileBatch([fill, badFill]))).toThrow(/fill needs 3 bytes/);
  });
});

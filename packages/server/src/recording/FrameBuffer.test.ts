/** The export's decoder: a video layer's frame (ALT tiles, then the H.264 tile) draws the ALT picture; the cursor is blended on output only. */
import { describe, expect, it } from 'vitest';
import { TILE_FLAG_ALT, TileEncoding, encodeShareMessage, videoPayload } from '@baton/protocol';
import { FrameBuffer } from './FrameBuffer.js';

describe('FrameBuffer', () => {
  it('draws the ALT tiles of a video region and skips the H.264 unit without an error', async () => {
    const fb = new FrameBuffer();
    await fb.handle(encodeShareMessage({ type: 'screen', width: 64, height: 32, tileSize: 16 }));
    await fb.handle(encodeShareMessage({ type: 'tile', x: 0, y: 0, w: 64, h: 32, encoding: TileEncoding.Fill, flags: TILE_FLAG_ALT, data: new Uint8Array([1, 2, 3]) }));
    await fb.handle(encodeShareMessage({ type: 'tile', x: 0, y: 0, w: 64, h: 32, encoding: TileEncoding.Video, flags: 0, data: videoPayload({ key: true, end: false, stream: 1, seq: 0 }, new Uint8Array([0, 0, 0, 1, 0x67])) }));
    expect(await fb.handle(encodeShareMessage({ type: 'frame', seq: 1, time: 0 }))).toBe(true);
    expect(fb.errors).toBe(0);
    expect([...fb.rgb.subarray(0, 3)]).toEqual([1, 2, 3]);
    // The cursor goes onto the output, never into the picture.
    await fb.handle(encodeShareMessage({ type: 'cursorShape', w: 1, h: 1, hotX: 0, hotY: 0, rgba: new Uint8Array([200, 100, 50, 255]) }));
    await fb.handle(encodeShareMessage({ type: 'cursorPos', x: 0, y: 0, visible: true }));
    const out = Buffer.alloc(64 * 32 * 3);
    fb.copyInto(out, 64, 32);
    expect([...out.subarray(0, 6)]).toEqual([200, 100, 50, 1, 2, 3]);
    expect([...fb.rgb.subarray(0, 3)]).toEqual([1, 2, 3]);
  });
});

/**
 * The host's side of frame verification (a debug mode, BATON_VERIFY_FRAMES=1): the hash of the picture
 * the viewers should show after a frame, over the cells whose newest tile was lossless (see the
 * protocol's cellHashStep/frameHashFold). Cell hashes are kept and recomputed only for the cells a
 * frame's tiles cover, from the encoder's copy of what was sent, so a pass costs in proportion to what
 * it sent plus one fold over the grid.
 */
import { CELL_HASH_SEED, CellHashGrid, type ShareMessage } from '@baton/protocol';
import type { FrameBuffer } from './ScreenCapture.js';

type TileMessage = Extract<ShareMessage, { type: 'tile' }>;

export class FrameHasher {
  readonly #grid = new CellHashGrid();

  /** A new grid: nothing sent yet, nothing to compare. */
  reset(width: number, height: number, tileSize: number): void {
    this.#grid.reset(width, height, tileSize);
  }

  /**
   * The hash after `tiles` (the whole frame, in sending order) are drawn over the previous picture;
   * `sent` holds the exact pixels the tiles were encoded from (BGRX, the frame's geometry).
   */
  frameHash(sent: FrameBuffer, tiles: readonly TileMessage[]): number {
    const g = this.#grid;
    if (sent.width !== g.width || sent.height !== g.height) g.reset(sent.width, sent.height, g.tileSize);
    const ts = g.tileSize, cols = g.cols;
    const stale = g.cover(tiles);
    const words = new Uint32Array(sent.data.buffer, sent.data.byteOffset, sent.data.length >> 2);
    const ws = sent.stride >> 2;
    for (let i = 0; i < stale.length; i++) {
      if (!stale[i]) continue;
      const x0 = (i % cols) * ts, y0 = Math.floor(i / cols) * ts;
      g.set(i, hashCell(words, ws, x0, y0, Math.min(x0 + ts, g.width), Math.min(y0 + ts, g.height)));
    }
    return g.fold();
  }
}

/** One cell's hash (a small function of its own, so V8 optimizes it as a whole rather than by OSR). */
export function hashCell(words: Uint32Array, ws: number, x0: number, y0: number, x1: number, y1: number): number {
  // The step (the protocol's cellHashStep) is written out in int32 here: called per pixel it returned a
  // uint32, which V8 kept as a heap number when the call was not inlined (~12 ns a pixel, 0.13 ms for the
  // 40 cells of a 320x32 strip). Same bits: `^` and Math.imul read their operands as int32 anyway.
  let ch = CELL_HASH_SEED | 0;
  // BGRX little-endian as a 32-bit word is 0xXXRRGGBB.
  for (let y = y0; y < y1; y++) {
    for (let k = y * ws + x0, end = y * ws + x1; k < end; k++) {
      ch = Math.imul(ch ^ (words[k]! & 0xffffff), 0x01000193);
      ch ^= ch >>> 15;
    }
  }
  return ch >>> 0;
}

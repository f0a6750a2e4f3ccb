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
    const four = new Uint32Array(4);
    for (let i = 0; i < stale.length; i++) {
      if (!stale[i]) continue;
      const x0 = (i % cols) * ts, y0 = Math.floor(i / cols) * ts;
      // Four stale whole cells side by side in a row (a Copy, a band of text): hashed together.
      if (i % cols <= cols - 4 && stale[i + 1] && stale[i + 2] && stale[i + 3] && x0 + 4 * ts <= g.width && y0 + ts <= g.height) {
        hashCells4(words, ws, x0, y0, ts, four);
        for (let k = 0; k < 4; k++) g.set(i + k, four[k]!);
        i += 3;
        continue;
      }
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

/**
 * hashCell() of four whole ts×ts cells side by side from (x0, y0), into `out`: the same hashes, but four
 * independent chains in one loop, so the CPU overlaps their multiplies (one chain waits for each step's
 * multiply; a scroll's Copy rehashes thousands of cells a pass for frame verification).
 */
export function hashCells4(words: Uint32Array, ws: number, x0: number, y0: number, ts: number, out: Uint32Array): void {
  // The chains stay int32 (the same bits as cellHashStep's uint32) so V8 keeps them in registers.
  let h0 = CELL_HASH_SEED | 0, h1 = h0, h2 = h0, h3 = h0;
  for (let y = y0; y < y0 + ts; y++) {
    for (let k = y * ws + x0, end = k + ts; k < end; k++) {
      h0 = Math.imul(h0 ^ (words[k]! & 0xffffff), 0x01000193);
      h1 = Math.imul(h1 ^ (words[k + ts]! & 0xffffff), 0x01000193);
      h2 = Math.imul(h2 ^ (words[k + 2 * ts]! & 0xffffff), 0x01000193);
      h3 = Math.imul(h3 ^ (words[k + 3 * ts]! & 0xffffff), 0x01000193);
      h0 ^= h0 >>> 15;
      h1 ^= h1 >>> 15;
      h2 ^= h2 >>> 15;
      h3 ^= h3 >>> 15;
    }
  }
  out[0] = h0;
  out[1] = h1;
  out[2] = h2;
  out[3] = h3;
}

/**
 * The host's side of frame verification (a debug mode, BATON_VERIFY_FRAMES=1): the hash of the picture
 * the viewers should show after a frame, over the cells whose newest tile was lossless (see the
 * protocol's cellHashStep/frameHashFold). Cell hashes are kept and recomputed only for the cells a
 * frame's tiles cover, from the encoder's copy of what was sent, so a pass costs in proportion to what
 * it sent plus one fold over the grid.
 */
import { CELL_HASH_SEED, TILE_FLAG_LOSSY, cellHashStep, frameHashFold, type ShareMessage } from '@baton/protocol';
import type { FrameBuffer } from './ScreenCapture.js';

type TileMessage = Extract<ShareMessage, { type: 'tile' }>;

export class FrameHasher {
  #tileSize = 16;
  #cols = 0;
  #rows = 0;
  #width = 0;
  #height = 0;
  #cell = new Uint32Array(0);
  /** 1: the newest tile over the cell was lossless, so the viewers' pixels there are exact. */
  #exact = new Uint8Array(0);

  /** A new grid: nothing sent yet, nothing to compare. */
  reset(width: number, height: number, tileSize: number): void {
    this.#width = width;
    this.#height = height;
    this.#tileSize = tileSize;
    this.#cols = Math.ceil(width / tileSize);
    this.#rows = Math.ceil(height / tileSize);
    this.#cell = new Uint32Array(this.#cols * this.#rows);
    this.#exact = new Uint8Array(this.#cols * this.#rows);
  }

  /**
   * The hash after `tiles` (the whole frame, in sending order) are drawn over the previous picture;
   * `sent` holds the exact pixels the tiles were encoded from (BGRX, the frame's geometry).
   */
  frameHash(sent: FrameBuffer, tiles: readonly TileMessage[]): number {
    if (sent.width !== this.#width || sent.height !== this.#height) this.reset(sent.width, sent.height, this.#tileSize);
    const ts = this.#tileSize, cols = this.#cols;
    const touched = new Uint8Array(this.#exact.length);
    for (const t of tiles) {
      const exact = t.flags & TILE_FLAG_LOSSY ? 0 : 1;
      const c1 = Math.min(cols, Math.ceil((t.x + t.w) / ts)), r1 = Math.min(this.#rows, Math.ceil((t.y + t.h) / ts));
      for (let r = Math.floor(t.y / ts); r < r1; r++) {
        for (let c = Math.floor(t.x / ts); c < c1; c++) {
          this.#exact[r * cols + c] = exact;
          touched[r * cols + c] = 1;
        }
      }
    }
    const words = new Uint32Array(sent.data.buffer, sent.data.byteOffset, sent.data.length >> 2);
    const ws = sent.stride >> 2;
    let h = CELL_HASH_SEED;
    for (let i = 0; i < this.#exact.length; i++) {
      if (!this.#exact[i]) continue;
      if (touched[i]) {
        const x0 = (i % cols) * ts, y0 = Math.floor(i / cols) * ts;
        const x1 = Math.min(x0 + ts, this.#width), y1 = Math.min(y0 + ts, this.#height);
        let ch = CELL_HASH_SEED;
        // BGRX little-endian as a 32-bit word is 0xXXRRGGBB.
        for (let y = y0; y < y1; y++) for (let k = y * ws + x0, end = y * ws + x1; k < end; k++) ch = cellHashStep(ch, words[k]! & 0xffffff);
        this.#cell[i] = ch;
      }
      h = frameHashFold(h, i, this.#cell[i]!);
    }
    return h;
  }
}

/**
 * The viewer's side of frame verification (a debug mode): after a whole frame is on the canvas, hash
 * the canvas over the cells whose newest tile was lossless, exactly as the host hashed its picture
 * (the protocol's cellHashStep/frameHashFold), and compare with the hash the frame carries. Cell hashes
 * are kept; only the cells the frame's tiles covered are read back (one getImageData per row of cells),
 * since nothing else draws on the canvas.
 */
import { CELL_HASH_SEED, TILE_FLAG_LOSSY, cellHashStep, frameHashFold } from '@baton/protocol';

export type TileRect = { x: number; y: number; w: number; h: number; flags: number };

export class FrameVerifier {
  #tileSize = 16;
  #cols = 0;
  #rows = 0;
  #width = 0;
  #height = 0;
  #cell = new Uint32Array(0);
  #exact = new Uint8Array(0);

  /** A new screen (the canvas is black): nothing to compare until tiles arrive. */
  reset(width: number, height: number, tileSize: number): void {
    this.#width = width;
    this.#height = height;
    this.#tileSize = tileSize;
    this.#cols = Math.ceil(width / tileSize);
    this.#rows = Math.ceil(height / tileSize);
    this.#cell = new Uint32Array(this.#cols * this.#rows);
    this.#exact = new Uint8Array(this.#cols * this.#rows);
  }

  /** The canvas's hash after the frame whose tiles were `tiles` (all of them drawn, in order). */
  hash(ctx: CanvasRenderingContext2D, tiles: readonly TileRect[]): number {
    const ts = this.#tileSize, cols = this.#cols, rows = this.#rows;
    const touched = new Uint8Array(this.#exact.length);
    const rowMin = new Int32Array(rows).fill(cols), rowMax = new Int32Array(rows).fill(-1);
    for (const t of tiles) {
      const exact = t.flags & TILE_FLAG_LOSSY ? 0 : 1;
      const c0 = Math.floor(t.x / ts), c1 = Math.min(cols, Math.ceil((t.x + t.w) / ts)) - 1;
      const r1 = Math.min(rows, Math.ceil((t.y + t.h) / ts));
      for (let r = Math.floor(t.y / ts); r < r1; r++) {
        for (let c = c0; c <= c1; c++) {
          this.#exact[r * cols + c] = exact;
          touched[r * cols + c] = 1;
        }
      }
    }
    // Only cells that changed and are exact need reading back (lossy ones, a video, are not hashed).
    for (let r = 0; r < rows; r++) {
      for (let c = 0, i = r * cols; c < cols; c++, i++) {
        if (!touched[i] || !this.#exact[i]) continue;
        if (c < rowMin[r]!) rowMin[r] = c;
        if (c > rowMax[r]!) rowMax[r] = c;
      }
    }
    for (let r = 0; r < rows; r++) {
      if (rowMax[r]! < 0) continue;
      const x0 = rowMin[r]! * ts, y0 = r * ts;
      const w = Math.min(this.#width, (rowMax[r]! + 1) * ts) - x0, h = Math.min(this.#height, y0 + ts) - y0;
      const px = new Uint32Array(ctx.getImageData(x0, y0, w, h).data.buffer);
      for (let c = rowMin[r]!; c <= rowMax[r]!; c++) {
        const i = r * cols + c;
        if (!touched[i] || !this.#exact[i]) continue;
        const cx = c * ts - x0, cw = Math.min(ts, this.#width - c * ts);
        let ch = CELL_HASH_SEED;
        // RGBA bytes as a little-endian word are 0xAABBGGRR; the host hashes 0xRRGGBB.
        for (let y = 0; y < h; y++) {
          for (let k = y * w + cx, end = k + cw; k < end; k++) {
            const v = px[k]!;
            ch = cellHashStep(ch, ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff));
          }
        }
        this.#cell[i] = ch;
      }
    }
    let h = CELL_HASH_SEED;
    for (let i = 0; i < this.#exact.length; i++) if (this.#exact[i]) h = frameHashFold(h, i, this.#cell[i]!);
    return h;
  }
}

/**
 * The viewer's side of frame verification (a debug mode): after a whole frame is on the canvas, hash
 * the canvas over the cells whose newest tile was lossless, exactly as the host hashed its picture
 * (the protocol's cellHashStep/frameHashFold), and compare with the hash the frame carries. Cell hashes
 * are kept; only the cells the frame's tiles covered are read back (one getImageData per row of cells),
 * since nothing else draws on the canvas.
 */
import { CELL_HASH_SEED, CellHashGrid, cellHashStep } from '@baton/protocol';

export type TileRect = { x: number; y: number; w: number; h: number; flags: number };

export class FrameVerifier {
  readonly #grid = new CellHashGrid();

  /** A new screen (the canvas is black): nothing to compare until tiles arrive. */
  reset(width: number, height: number, tileSize: number): void {
    this.#grid.reset(width, height, tileSize);
  }

  /** The canvas's hash after the frame whose tiles were `tiles` (all of them drawn, in order). */
  hash(ctx: CanvasRenderingContext2D, tiles: readonly TileRect[]): number {
    const g = this.#grid;
    const ts = g.tileSize, cols = g.cols, rows = g.rows;
    // Only cells that changed and are exact need reading back (lossy ones, a video, are not hashed).
    const stale = g.cover(tiles);
    const rowMin = new Int32Array(rows).fill(cols), rowMax = new Int32Array(rows).fill(-1);
    for (let r = 0; r < rows; r++) {
      for (let c = 0, i = r * cols; c < cols; c++, i++) {
        if (!stale[i]) continue;
        if (c < rowMin[r]!) rowMin[r] = c;
        if (c > rowMax[r]!) rowMax[r] = c;
      }
    }
    for (let r = 0; r < rows; r++) {
      if (rowMax[r]! < 0) continue;
      const x0 = rowMin[r]! * ts, y0 = r * ts;
      const w = Math.min(g.width, (rowMax[r]! + 1) * ts) - x0, h = Math.min(g.height, y0 + ts) - y0;
      const px = new Uint32Array(ctx.getImageData(x0, y0, w, h).data.buffer);
      for (let c = rowMin[r]!; c <= rowMax[r]!; c++) {
        const i = r * cols + c;
        if (!stale[i]) continue;
        const cx = c * ts - x0, cw = Math.min(ts, g.width - c * ts);
        let ch = CELL_HASH_SEED;
        // RGBA bytes as a little-endian word are 0xAABBGGRR; the host hashes 0xRRGGBB.
        for (let y = 0; y < h; y++) {
          for (let k = y * w + cx, end = k + cw; k < end; k++) {
            const v = px[k]!;
            ch = cellHashStep(ch, ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff));
          }
        }
        g.set(i, ch);
      }
    }
    return g.fold();
  }
}

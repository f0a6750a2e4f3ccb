/**
 * Test helper: an X client that draws known pixels (override-redirect windows, filled rectangles,
 * RGB images) so capture tests can compare what the agent sends against what was drawn.
 */
import type { FrameBuffer } from '../../src/ScreenCapture.js';
import { X11Connection } from '../../src/X11Connection.js';

export type Rgb = [number, number, number];

export const pixel = (c: Rgb): number => (c[0] << 16) | (c[1] << 8) | c[2];

/** The colour at (x, y) of a captured frame (BGRX in memory). */
export function px(f: FrameBuffer, x: number, y: number): Rgb {
  const i = y * f.stride + x * 4;
  return [f.data[i + 2]!, f.data[i + 1]!, f.data[i]!];
}

export class Painter {
  private constructor(readonly conn: X11Connection) {}

  static async open(display: string): Promise<Painter> {
    return new Painter(await X11Connection.open({ display }));
  }

  /** A mapped override-redirect window (no window manager needed) filled with one colour. */
  async window(x: number, y: number, w: number, h: number, colour: Rgb, eventMask = 0): Promise<number> {
    const X = this.conn.client;
    const wid = X.AllocID();
    X.CreateWindow(wid, this.conn.root, x, y, w, h, 0, 0, 1, 0, { backgroundPixel: pixel(colour), overrideRedirect: 1, eventMask });
    X.MapWindow(wid);
    await this.conn.sync();
    return wid;
  }

  async fill(drawable: number, x: number, y: number, w: number, h: number, colour: Rgb): Promise<void> {
    const X = this.conn.client;
    const gc = X.AllocID();
    X.CreateGC(gc, drawable, { foreground: pixel(colour) });
    X.PolyFillRectangle(drawable, gc, [x, y, w, h]);
    X.FreeGC(gc);
    await this.conn.sync();
  }

  /** Draw packed RGB pixels at (x, y), in row chunks that fit a plain PutImage request. */
  async putRgb(drawable: number, x: number, y: number, w: number, h: number, rgb: Uint8Array): Promise<void> {
    const X = this.conn.client;
    const gc = X.AllocID();
    X.CreateGC(gc, drawable, {});
    const rowsPerChunk = Math.max(1, Math.floor(200_000 / (w * 4)));
    for (let y0 = 0; y0 < h; y0 += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, h - y0);
      const buf = Buffer.alloc(w * rows * 4);
      for (let i = 0, j = y0 * w * 3; i < buf.length; i += 4, j += 3) {
        buf[i] = rgb[j + 2]!;
        buf[i + 1] = rgb[j + 1]!;
        buf[i + 2] = rgb[j]!;
      }
      X.PutImage(2, drawable, gc, w, rows, x, y + y0, 0, 24, buf);
    }
    X.FreeGC(gc);
    await this.conn.sync();
  }

  /** Move a window (the X server moves its pixels along, as it does for a dragged window). */
  async move(wid: number, x: number, y: number): Promise<void> {
    this.conn.client.MoveWindow(wid, x, y);
    await this.conn.sync();
  }

  async destroy(wid: number): Promise<void> {
    this.conn.client.DestroyWindow(wid);
    await this.conn.sync();
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

/** A photo-like RGB image: smooth multi-scale value noise plus fine grain, so nearly every pixel differs. */
export function photoLike(w: number, h: number, seed = 1): Uint8Array {
  let s = seed >>> 0;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const grid = (cell: number) => {
    const gw = Math.ceil(w / cell) + 2, gh = Math.ceil(h / cell) + 2;
    const g = new Float32Array(gw * gh * 3);
    for (let i = 0; i < g.length; i++) g[i] = rand();
    return { cell, gw, g };
  };
  const octaves = [grid(240), grid(60), grid(15)];
  const weights = [150, 60, 25];
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        octaves.forEach((o, k) => {
          const fx = x / o.cell, fy = y / o.cell;
          const ix = Math.floor(fx), iy = Math.floor(fy);
          const tx = fx - ix, ty = fy - iy;
          const at = (gx: number, gy: number) => o.g[(gy * o.gw + gx) * 3 + c]!;
          const top = at(ix, iy) * (1 - tx) + at(ix + 1, iy) * tx;
          const bot = at(ix, iy + 1) * (1 - tx) + at(ix + 1, iy + 1) * tx;
          v += (top * (1 - ty) + bot * ty) * weights[k]!;
        });
        v += (rand() - 0.5) * 24;
        out[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

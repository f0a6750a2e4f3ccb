/**
 * Encodes one grid cell of a captured frame into a `tile` message with the browser's own codecs:
 * JPEG and PNG through OffscreenCanvas.convertToBlob (libjpeg-turbo / libpng inside the browser), ZRgb
 * through CompressionStream('deflate') (zlib-wrapped, as the protocol wants). Runs in a worker or a page.
 *
 * Why not one big image per frame: the relay keeps the screen as one tile per cell (late joiners, slow
 * viewers skipping stale tiles), so each cell needs its own independently decodable payload.
 */
import { TILE_FLAG_LOSSY, TileEncoding, type ShareMessage } from '@baton/protocol';
import type { TileRect } from './TileDiffer';

export type TileMessage = Extract<ShareMessage, { type: 'tile' }>;
export type LosslessCodec = 'png' | 'zrgb';

export interface PixelSource {
  /** RGBA pixels as little-endian 32-bit words, rows of `width`. */
  data: Uint32Array;
  width: number;
  height: number;
}

export interface CanvasTileEncoderOptions {
  /** JPEG quality 0..1 for lossy tiles. */
  jpegQuality?: number;
}

export class CanvasTileEncoder {
  readonly jpegQuality: number;
  /** One scratch canvas per tile size (edge cells are smaller). */
  readonly #canvases = new Map<string, OffscreenCanvasRenderingContext2D>();
  /** ImageData views over capture buffers, so putImageData needs no copy of the whole frame. */
  #views = new WeakMap<Uint32Array, ImageData>();

  constructor(options: CanvasTileEncoderOptions = {}) {
    this.jpegQuality = options.jpegQuality ?? 0.7;
  }

  fill(rect: TileRect, rgba: number): TileMessage {
    const data = Uint8Array.of(rgba & 0xff, (rgba >>> 8) & 0xff, (rgba >>> 16) & 0xff);
    return tile(rect, TileEncoding.Fill, 0, data);
  }

  async jpeg(src: PixelSource, rect: TileRect): Promise<TileMessage> {
    return tile(rect, TileEncoding.Jpeg, TILE_FLAG_LOSSY, await this.#blob(src, rect, 'image/jpeg', this.jpegQuality));
  }

  async png(src: PixelSource, rect: TileRect): Promise<TileMessage> {
    return tile(rect, TileEncoding.Png, 0, await this.#blob(src, rect, 'image/png'));
  }

  async zrgb(src: PixelSource, rect: TileRect): Promise<TileMessage> {
    const rgb = extractRgb(src, rect);
    const stream = new Blob([rgb]).stream().pipeThrough(new CompressionStream('deflate'));
    return tile(rect, TileEncoding.ZRgb, 0, new Uint8Array(await new Response(stream).arrayBuffer()));
  }

  lossless(src: PixelSource, rect: TileRect, codec: LosslessCodec): Promise<TileMessage> {
    return codec === 'png' ? this.png(src, rect) : this.zrgb(src, rect);
  }

  async #blob(src: PixelSource, rect: TileRect, type: string, quality?: number): Promise<Uint8Array> {
    const ctx = this.#canvas(rect.w, rect.h);
    // The dirty rectangle copies just this cell; the offset puts it at the scratch canvas's origin.
    ctx.putImageData(this.#view(src), -rect.x, -rect.y, rect.x, rect.y, rect.w, rect.h);
    // convertToBlob snapshots the canvas now, so the next cell may reuse the canvas at once.
    const blob = await ctx.canvas.convertToBlob(quality === undefined ? { type } : { type, quality });
    return new Uint8Array(await blob.arrayBuffer());
  }

  #canvas(w: number, h: number): OffscreenCanvasRenderingContext2D {
    const key = `${w}x${h}`;
    let ctx = this.#canvases.get(key);
    if (!ctx) {
      const c = new OffscreenCanvas(w, h).getContext('2d', { alpha: false });
      if (!c) throw new Error('no 2D context on OffscreenCanvas');
      ctx = c;
      this.#canvases.set(key, ctx);
    }
    return ctx;
  }

  #view(src: PixelSource): ImageData {
    let view = this.#views.get(src.data);
    if (!view || view.width !== src.width || view.height !== src.height) {
      const bytes = new Uint8ClampedArray(src.data.buffer as ArrayBuffer, src.data.byteOffset, src.data.byteLength);
      view = new ImageData(bytes, src.width, src.height);
      this.#views.set(src.data, view);
    }
    return view;
  }
}

/** Packed RGB rows of one cell (the ZRgb payload before deflate). */
export function extractRgb(src: PixelSource, rect: TileRect): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(rect.w * rect.h * 3);
  const px = src.data;
  let o = 0;
  for (let row = rect.y; row < rect.y + rect.h; row++) {
    const start = row * src.width + rect.x;
    for (let i = start; i < start + rect.w; i++) {
      const c = px[i]!;
      out[o++] = c & 0xff;
      out[o++] = (c >>> 8) & 0xff;
      out[o++] = (c >>> 16) & 0xff;
    }
  }
  return out;
}

function tile(rect: TileRect, encoding: TileEncoding, flags: number, data: Uint8Array): TileMessage {
  return { type: 'tile', x: rect.x, y: rect.y, w: rect.w, h: rect.h, encoding, flags, data };
}

/**
 * Tile decoders, looked up by the tile's encoding. A decoder turns a `tile` message into something that
 * can be drawn on a 2D canvas; decoding is asynchronous, drawing is synchronous, so ScreenView can decode
 * a frame's tiles in parallel and still draw them in order.
 *
 * Measured in Chromium on a full 1080p frame of 64 px tiles (viewer.test.ts has the end-to-end figure):
 * createImageBitmap(Blob) costs ~0.45 ms per tile whatever the codec, WebCodecs' ImageDecoder 3-5x less,
 * so images go through ImageDecoder where the browser has it. ZRgb is inflated with fflate into a buffer
 * of the known size, 3-4x faster than a DecompressionStream per tile (the stream set-up dominates for
 * 12 KiB tiles), and by default in Web Workers, which keeps the main thread free for input.
 */
import { unzlibSync } from 'fflate';
import { TileEncoding, copySource, type ShareMessage } from '@baton/protocol';
import { ZRgbWorkerPool } from './ZRgbWorkerPool';
import { paletteToRgba } from './tilePixels';
import { VideoTileDecoder } from './VideoTileDecoder';
import { decodeImage, type ImageSourceLike } from './imageDecode';
import type { BatchTile } from './tileBatch';

export type TileMessage = Extract<ShareMessage, { type: 'tile' }>;

export interface DecodedTile {
  /** Draws it; throws when (part of) it could not be decoded, after drawing what could. */
  draw(ctx: CanvasRenderingContext2D): void;
  /** Tiles it stands for (a batch: many; default 1). */
  readonly count?: number;
  /** A batch a decode worker drew. */
  readonly inWorker?: boolean;
  /** Free what the decoded form holds (an ImageBitmap's or VideoFrame's memory). */
  release(): void;
}

export type TileDecoder = (tile: TileMessage) => Promise<DecodedTile>;
export type DecoderTable = Record<TileEncoding, TileDecoder>;

/** Inflate zlib (RFC 1950) data whose inflated size is known. */
export type Inflate = (data: Uint8Array, size: number) => Promise<Uint8Array>;

export class TileDecodeError extends Error {
  override name = 'TileDecodeError';
}

/**
 * fflate, synchronously (its async form starts a worker per call, far too costly per tile), into a buffer
 * of the known size, which spares it growing and copying its output. One spare byte makes an oversized
 * tile detectable (fflate stops silently at the end of the buffer).
 */
export const inflateWithFflate: Inflate = (data, size) => {
  try {
    return Promise.resolve(unzlibSync(data, { out: new Uint8Array(size + 1) }));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
};

/** The browser's own zlib, through the Compression Streams API ('deflate' is the zlib-wrapped format). */
export const inflateWithStreams: Inflate = async (data) => {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
};

const NOTHING = (): void => {};

function fill(tile: TileMessage): Promise<DecodedTile> {
  const [r, g, b] = tile.data;
  const style = `rgb(${r},${g},${b})`;
  return Promise.resolve({
    draw(ctx) {
      ctx.fillStyle = style;
      ctx.fillRect(tile.x, tile.y, tile.w, tile.h);
    },
    release: NOTHING,
  });
}

/**
 * Copy: pixels already on the canvas, moved (scrolled text, a dragged window). The host sends at most
 * one per frame, first, so the canvas as it is when this tile is drawn is the picture before the frame.
 * Drawing a canvas onto itself reads a snapshot of it, so overlapping source and destination are fine.
 */
function copy(tile: TileMessage): Promise<DecodedTile> {
  const src = copySource(tile);
  return Promise.resolve({
    draw(ctx) {
      const c = ctx.canvas;
      if (src.x + tile.w > c.width || src.y + tile.h > c.height || tile.x + tile.w > c.width || tile.y + tile.h > c.height) {
        throw new TileDecodeError(`copy tile ${tile.w}x${tile.h} from ${src.x},${src.y} to ${tile.x},${tile.y} is outside the screen`);
      }
      ctx.drawImage(c, src.x, src.y, tile.w, tile.h, tile.x, tile.y, tile.w, tile.h);
    },
    release: NOTHING,
  });
}

function image(type: string, useImageDecoder: boolean): TileDecoder {
  return async (tile) => {
    let img: ImageSourceLike;
    try {
      img = await decodeImage(type, tile.data, useImageDecoder);
    } catch (err) {
      throw new TileDecodeError(`cannot decode ${type} tile at ${tile.x},${tile.y}: ${(err as Error).message}`);
    }
    return {
      draw(ctx) {
        // The source rectangle clips an image larger than its tile instead of letting it paint a neighbour.
        ctx.drawImage(img, 0, 0, tile.w, tile.h, tile.x, tile.y, tile.w, tile.h);
      },
      release: () => img.close(),
    };
  };
}

/** Expand packed RGB rows into RGBA ImageData. */
export function rgbToImageData(rgb: Uint8Array, w: number, h: number): ImageData {
  const img = new ImageData(w, h);
  const out = new Uint32Array(img.data.buffer);
  // ImageData is RGBA in memory; as little-endian 32-bit words that is 0xAABBGGRR.
  for (let i = 0, o = 0; o < out.length; o++, i += 3) {
    out[o] = 0xff000000 | (rgb[i + 2]! << 16) | (rgb[i + 1]! << 8) | rgb[i]!;
  }
  return img;
}

export function zrgb(inflate: Inflate): TileDecoder {
  return async (tile) => {
    let rgb: Uint8Array;
    const expected = tile.w * tile.h * 3;
    try {
      rgb = await inflate(tile.data, expected);
    } catch (err) {
      throw new TileDecodeError(`cannot inflate ZRgb tile at ${tile.x},${tile.y}: ${(err as Error).message}`);
    }
    if (rgb.length !== expected) throw new TileDecodeError(`ZRgb tile at ${tile.x},${tile.y}: ${rgb.length} bytes, expected ${expected}`);
    const img = rgbToImageData(rgb, tile.w, tile.h);
    return {
      draw(ctx) {
        ctx.putImageData(img, tile.x, tile.y);
      },
      release: NOTHING,
    };
  };
}

function putRgba(tile: TileMessage, rgba: Uint8ClampedArray<ArrayBuffer>): DecodedTile {
  const img = new ImageData(rgba, tile.w, tile.h);
  return {
    draw(ctx) {
      ctx.putImageData(img, tile.x, tile.y);
    },
    release: NOTHING,
  };
}

/** Palette tiles on the calling thread. */
export const palette: TileDecoder = (tile) => {
  try {
    return Promise.resolve(putRgba(tile, paletteToRgba(tile.data, tile.w, tile.h)));
  } catch (err) {
    return Promise.reject(new TileDecodeError(`cannot decode Palette tile at ${tile.x},${tile.y}: ${(err as Error).message}`));
  }
};

/**
 * Tiles under this many pixels are decoded on the main thread even when workers are available. Measured
 * in the bench (drag, ~130 tiles a frame): a worker round trip costs ~0.1 ms of main-thread time per tile,
 * more than inflating a 16x16 or 64x64 tile there.
 */
export const INLINE_PIXELS = 64 * 64;

/**
 * ZRgb (or Palette) decoded in a worker pool: the main thread only puts the RGBA pixels on the canvas.
 * Without a usable pool (no Worker, or the workers failed to start) tiles go to `fallback` instead.
 */
export function zrgbInWorkers(pool: () => ZRgbWorkerPool | null, fallback: TileDecoder, kind: 'zrgb' | 'palette' = 'zrgb', inlinePixels = INLINE_PIXELS): TileDecoder {
  return async (tile) => {
    // A small tile decodes in less time than the round trip to a worker costs (copy, post, answer).
    if (tile.w * tile.h < inlinePixels) return fallback(tile);
    const p = pool();
    if (!p || p.broken) return fallback(tile);
    let rgba: Uint8ClampedArray<ArrayBuffer>;
    try {
      rgba = await p.decode(tile.data, tile.w, tile.h, kind);
    } catch (err) {
      if (p.broken) return fallback(tile);
      throw new TileDecodeError(`cannot inflate ${kind === 'zrgb' ? 'ZRgb' : 'Palette'} tile at ${tile.x},${tile.y}: ${(err as Error).message}`);
    }
    const img = new ImageData(rgba, tile.w, tile.h);
    return {
      draw(ctx) {
        ctx.putImageData(img, tile.x, tile.y);
      },
      release: NOTHING,
    };
  };
}

/**
 * One pool for the page, started by the first view that will use it (prewarmDecoders) or else on the
 * first ZRgb tile. Starting a module worker (fetch, parse, evaluate) took longer than the whole screen's
 * tiles took to arrive for a late joiner, whose first frame then waited for it (bench/late-joiner.mjs).
 */
let sharedPool: ZRgbWorkerPool | null | undefined;

/** Start the decode workers now, while the sharing connection is still being set up. */
export function prewarmDecoders(): void {
  if (typeof Worker !== 'undefined') getSharedPool();
}
function getSharedPool(): ZRgbWorkerPool | null {
  if (sharedPool === undefined) {
    try {
      sharedPool = new ZRgbWorkerPool();
    } catch {
      sharedPool = null;
    }
  }
  return sharedPool;
}

export interface DecoderOptions {
  /** Where ZRgb is inflated: 'workers' (default where Web Workers exist) or 'main' (with `inflate`). */
  zrgb?: 'workers' | 'main';
  /** The inflater for zrgb: 'main' (default fflate). */
  inflate?: Inflate;
  /** Use WebCodecs' ImageDecoder for PNG/JPEG/WebP where available (default true). */
  imageDecoder?: boolean;
}

/**
 * The decoder table; options choose the ZRgb and image paths (for comparisons and fallbacks). Each table
 * has its own video decoder (a stream's state), so one view's table is not shared with another's.
 */
export function createDecoders(options: DecoderOptions = {}): DecoderTable {
  const inWorkers = (options.zrgb ?? (typeof Worker !== 'undefined' ? 'workers' : 'main')) === 'workers';
  const useImageDecoder = options.imageDecoder ?? true;
  return {
    [TileEncoding.Fill]: fill,
    [TileEncoding.Png]: image('image/png', useImageDecoder),
    [TileEncoding.Jpeg]: image('image/jpeg', useImageDecoder),
    [TileEncoding.Webp]: image('image/webp', useImageDecoder),
    [TileEncoding.ZRgb]: inWorkers ? zrgbInWorkers(getSharedPool, zrgb(inflateWithFflate)) : zrgb(options.inflate ?? inflateWithFflate),
    [TileEncoding.Palette]: inWorkers ? zrgbInWorkers(getSharedPool, palette, 'palette') : palette,
    [TileEncoding.Copy]: copy,
    [TileEncoding.Video]: new VideoTileDecoder().decode,
  };
}

export const decoders: DecoderTable = createDecoders();

/** Decodes a `tiles` message's tiles into one drawable (drawn where the message stands in its frame). */
export type BatchDecoder = (tiles: readonly TileMessage[]) => Promise<DecodedTile>;

/**
 * A batch bounding box larger than this (pixels) is decoded tile by tile instead: the worker's canvas
 * and the bitmap are 4 bytes a pixel each (a 4K screen is 8.3 Mpx).
 */
const MAX_BATCH_BOX = 4096 * 4096;

/**
 * The batch decoder: the whole batch to one decode worker in one message (the socket message's own
 * buffer, transferred), drawn there into an ImageBitmap (tileBatch.ts) which the page draws with one
 * drawImage. Without usable workers or OffscreenCanvas the tiles go through `table` one by one.
 */
export function createBatchDecoder(table: DecoderTable, pool: () => ZRgbWorkerPool | null = getSharedPool): BatchDecoder {
  const oneByOne = (tiles: readonly TileMessage[]): Promise<DecodedTile> => {
    const parts = tiles.map((t) => table[t.encoding](t));
    return Promise.allSettled(parts).then((results) => ({
      count: tiles.length,
      draw(ctx) {
        let failed: unknown = null;
        for (const r of results) {
          if (r.status === 'rejected') failed ??= r.reason;
          else r.value.draw(ctx);
        }
        if (failed) throw failed;
      },
      release() {
        for (const r of results) if (r.status === 'fulfilled') r.value.release();
      },
    }));
  };
  return (tiles) => {
    const p = typeof OffscreenCanvas === 'undefined' ? null : pool();
    if (!p || p.broken || tiles.length === 0) return oneByOne(tiles);
    let x0 = Infinity, y0 = Infinity, x1 = 0, y1 = 0, start = Infinity, end = 0;
    const buffer = tiles[0]!.data.buffer;
    for (const t of tiles) {
      if (t.data.buffer !== buffer) return oneByOne(tiles);
      x0 = Math.min(x0, t.x);
      y0 = Math.min(y0, t.y);
      x1 = Math.max(x1, t.x + t.w);
      y1 = Math.max(y1, t.y + t.h);
      start = Math.min(start, t.data.byteOffset);
      end = Math.max(end, t.data.byteOffset + t.data.byteLength);
    }
    const box = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    if (box.w * box.h > MAX_BATCH_BOX) return oneByOne(tiles);
    // The socket message's own buffer goes over as it is (transferred); one that holds much more than the
    // batch (a view into something larger) is copied down to the batch's bytes first, and so is every
    // batch until a worker has answered once: a worker that never started (a CSP, a missing chunk) would
    // take the bytes with it, and the tiles go one by one instead.
    const proven = p.proven;
    const whole = proven && buffer instanceof ArrayBuffer && buffer.byteLength <= end - start + 64 * 1024;
    const sent = whole ? (buffer as ArrayBuffer) : buffer.slice(start, end);
    const base = whole ? 0 : start;
    const list: BatchTile[] = tiles.map((t) => ({ x: t.x, y: t.y, w: t.w, h: t.h, encoding: t.encoding, offset: t.data.byteOffset - base, length: t.data.byteLength }));
    return p.drawBatch(sent as ArrayBuffer, list, box).then(
      ({ bitmap, errors }) => ({
        count: tiles.length,
        inWorker: true,
        draw(ctx) {
          ctx.drawImage(bitmap, box.x, box.y);
          if (errors.length > 0) throw new TileDecodeError(`${errors.length} of ${tiles.length} tiles of a batch not decoded: ${errors[0]}`);
        },
        release: () => bitmap.close(),
      }),
      (err: unknown) => {
        if (!proven && p.broken) return oneByOne(tiles);
        throw new TileDecodeError(`cannot draw a batch of ${tiles.length} tiles: ${(err as Error).message}`);
      },
    );
  };
}

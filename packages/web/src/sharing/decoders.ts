/**
 * Tile decoders, looked up by the tile's encoding. A decoder turns a `tile` message into something that
 * can be drawn on a 2D canvas; decoding is asynchronous (image decoding runs off the main thread), drawing
 * is synchronous, so ScreenView can decode a frame's tiles in parallel and still draw them in order.
 */
import { TileEncoding, type ShareMessage } from '@baton/protocol';

export type TileMessage = Extract<ShareMessage, { type: 'tile' }>;

export interface DecodedTile {
  draw(ctx: CanvasRenderingContext2D): void;
  /** Free what the decoded form holds (an ImageBitmap's memory). */
  release(): void;
}

export type TileDecoder = (tile: TileMessage) => Promise<DecodedTile>;
export type DecoderTable = Record<TileEncoding, TileDecoder>;

/** Inflate zlib (RFC 1950) data. */
export type Inflate = (data: Uint8Array) => Promise<Uint8Array>;

export class TileDecodeError extends Error {
  override name = 'TileDecodeError';
}

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

function image(type: string): TileDecoder {
  return async (tile) => {
    const blob = new Blob([tile.data as Uint8Array<ArrayBuffer>], { type });
    let bitmap: ImageBitmap;
    try {
      // No colour management and no premultiplication: lossless tiles must land bit-exact.
      bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch (err) {
      throw new TileDecodeError(`cannot decode ${type} tile at ${tile.x},${tile.y}: ${(err as Error).message}`);
    }
    return {
      draw(ctx) {
        // The source rectangle clips an image larger than its tile instead of letting it paint a neighbour.
        ctx.drawImage(bitmap, 0, 0, tile.w, tile.h, tile.x, tile.y, tile.w, tile.h);
      },
      release: () => bitmap.close(),
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
    try {
      rgb = await inflate(tile.data);
    } catch (err) {
      throw new TileDecodeError(`cannot inflate ZRgb tile at ${tile.x},${tile.y}: ${(err as Error).message}`);
    }
    const expected = tile.w * tile.h * 3;
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

/** The decoder table; pass another `inflate` to swap the ZRgb inflater. */
export function createDecoders(inflate: Inflate = inflateWithStreams): DecoderTable {
  return {
    [TileEncoding.Fill]: fill,
    [TileEncoding.Png]: image('image/png'),
    [TileEncoding.Jpeg]: image('image/jpeg'),
    [TileEncoding.Webp]: image('image/webp'),
    [TileEncoding.ZRgb]: zrgb(inflate),
  };
}

export const decoders: DecoderTable = createDecoders();

/**
 * A `tiles` message (a late joiner's snapshot, in a few messages) drawn in a decode worker: every tile
 * goes onto one OffscreenCanvas covering the batch's bounding box, in order, and the worker hands back
 * that canvas as one ImageBitmap, which the page draws with a single drawImage. The canvas starts
 * transparent and every tile is opaque, so pixels no tile covered leave the page's canvas as it was.
 * The main thread then spends a postMessage and a drawImage per batch instead of a message, a decode,
 * a copy, a postMessage and a putImageData per tile.
 */
import { TileEncoding } from '@baton/protocol/tilePixels';
import { decodeImage, imageType, type ImageSourceLike } from './imageDecode';
import { paletteToRgba, zrgbToRgba } from './tilePixels';

/** One tile of a batch: its rectangle and encoding, and where its payload lies in the message's buffer. */
export type BatchTile = { x: number; y: number; w: number; h: number; encoding: number; offset: number; length: number };
export type BatchBox = { x: number; y: number; w: number; h: number };

export interface DrawnBatch {
  bitmap: ImageBitmap;
  /** Tiles that could not be decoded (skipped, like a bad single tile; the host's next change repairs them). */
  errors: string[];
}

/** Draw a batch's tiles (payloads in `buffer`) onto a canvas of `box`; the result as an ImageBitmap. */
export async function drawBatch(buffer: ArrayBuffer, tiles: readonly BatchTile[], box: BatchBox): Promise<DrawnBatch> {
  const canvas = new OffscreenCanvas(box.w, box.h);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D context on an OffscreenCanvas');
  const errors: string[] = [];
  // Images decode in parallel while the rest is drawn; everything lands in the batch's order.
  const images: (Promise<ImageSourceLike> | null)[] = tiles.map((t) => {
    const type = imageType(t.encoding);
    if (!type) return null;
    const p = decodeImage(type, new Uint8Array(buffer, t.offset, t.length), true);
    p.catch(() => {});
    return p;
  });
  for (let i = 0; i < tiles.length; i++) {
    const t = tiles[i]!;
    const dx = t.x - box.x, dy = t.y - box.y;
    try {
      const data = new Uint8Array(buffer, t.offset, t.length);
      if (t.encoding === TileEncoding.Fill) {
        ctx.fillStyle = `rgb(${data[0]},${data[1]},${data[2]})`;
        ctx.fillRect(dx, dy, t.w, t.h);
      } else if (t.encoding === TileEncoding.ZRgb || t.encoding === TileEncoding.Palette) {
        const rgba = t.encoding === TileEncoding.ZRgb ? zrgbToRgba(data, t.w, t.h) : paletteToRgba(data, t.w, t.h);
        ctx.putImageData(new ImageData(rgba, t.w, t.h), dx, dy);
      } else if (images[i]) {
        const img = await images[i]!;
        try {
          // The source rectangle clips an image larger than its tile instead of letting it paint a neighbour.
          ctx.drawImage(img, 0, 0, t.w, t.h, dx, dy, t.w, t.h);
        } finally {
          img.close();
        }
      } else throw new Error(`encoding ${t.encoding} cannot be batched`);
    } catch (err) {
      errors.push(`tile at ${t.x},${t.y}: ${(err as Error).message}`);
    }
  }
  return { bitmap: canvas.transferToImageBitmap(), errors };
}

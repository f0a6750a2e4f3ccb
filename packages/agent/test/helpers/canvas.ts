/** Test helper: what a viewer does — decode tiles and reassemble the shared screen as RGB. */
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { TileEncoding, copySource, paletteBits, paletteRowBytes, type ShareMessage } from '@baton/protocol';
import type { FrameBuffer } from '../../src/ScreenCapture.js';

type Tile = Extract<ShareMessage, { type: 'tile' }>;

export class Canvas {
  rgb: Buffer;
  constructor(public width: number, public height: number) {
    this.rgb = Buffer.alloc(width * height * 3);
  }

  async apply(t: Tile): Promise<void> {
    let px: Buffer;
    switch (t.encoding) {
      case TileEncoding.Fill:
        px = Buffer.alloc(t.w * t.h * 3);
        for (let i = 0; i < px.length; i += 3) px.set(t.data, i);
        break;
      case TileEncoding.ZRgb:
        px = inflateSync(t.data);
        break;
      case TileEncoding.Copy: {
        // The picture as it is now (a Copy tile comes first in its frame).
        const src = copySource(t);
        if (src.x + t.w > this.width || src.y + t.h > this.height) throw new Error('copy source outside the canvas');
        px = Buffer.alloc(t.w * t.h * 3);
        for (let row = 0; row < t.h; row++) this.rgb.copy(px, row * t.w * 3, ((src.y + row) * this.width + src.x) * 3, ((src.y + row) * this.width + src.x + t.w) * 3);
        break;
      }
      case TileEncoding.Palette: {
        const n = t.data[0]! + 1;
        const bits = paletteBits(n), rowBytes = paletteRowBytes(t.w, n);
        const idx = inflateSync(t.data.subarray(1 + 3 * n));
        if (idx.length !== rowBytes * t.h) throw new Error(`palette indices ${idx.length} != ${rowBytes * t.h}`);
        px = Buffer.alloc(t.w * t.h * 3);
        for (let y = 0; y < t.h; y++) {
          for (let x = 0; x < t.w; x++) {
            const bit = x * bits;
            const v = (idx[y * rowBytes + (bit >> 3)]! >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
            if (v >= n) throw new Error(`palette index ${v} >= ${n}`);
            px.set(t.data.subarray(1 + 3 * v, 4 + 3 * v), (y * t.w + x) * 3);
          }
        }
        break;
      }
      default: {
        const { data, info } = await sharp(t.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        if (info.width !== t.w || info.height !== t.h) throw new Error(`tile image ${info.width}x${info.height} != ${t.w}x${t.h}`);
        px = data;
      }
    }
    if (px.length !== t.w * t.h * 3) throw new Error(`tile payload ${px.length} != ${t.w * t.h * 3}`);
    for (let row = 0; row < t.h; row++) px.copy(this.rgb, ((t.y + row) * this.width + t.x) * 3, row * t.w * 3, (row + 1) * t.w * 3);
  }

  at(x: number, y: number): [number, number, number] {
    const i = (y * this.width + x) * 3;
    return [this.rgb[i]!, this.rgb[i + 1]!, this.rgb[i + 2]!];
  }

  /** Number of pixels differing from the frame (BGRX) by more than `tolerance` in any channel. */
  diff(frame: FrameBuffer, tolerance = 0): number {
    let bad = 0;
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const i = (y * this.width + x) * 3, j = y * frame.stride + x * 4;
        if (Math.abs(this.rgb[i]! - frame.data[j + 2]!) > tolerance || Math.abs(this.rgb[i + 1]! - frame.data[j + 1]!) > tolerance || Math.abs(this.rgb[i + 2]! - frame.data[j]!) > tolerance) bad++;
      }
    }
    return bad;
  }
}

/** Build a BGRX frame from packed RGB. */
export function frameFromRgb(width: number, height: number, rgb: Uint8Array): FrameBuffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    data[i] = rgb[j + 2]!;
    data[i + 1] = rgb[j + 1]!;
    data[i + 2] = rgb[j]!;
  }
  return { width, height, stride: width * 4, data };
}

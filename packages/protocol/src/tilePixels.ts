/**
 * Pure pixel decoding of the deflated tile encodings (ZRgb, Palette) into RGBA, shared by the web
 * viewer (main thread and decode workers, with fflate) and the server's video export (node:zlib).
 * `inflate` inflates zlib data whose inflated size is known and must return exactly that many bytes
 * (or throw).
 */
import { paletteBits, paletteRowBytes } from './share.js';

// For the decode workers, which import this subpath only (no zod, no message schemas).
export { TileEncoding } from './share.js';

export type InflateExact = (data: Uint8Array, size: number) => Uint8Array;

/** ZRgb: zlib of packed RGB rows → RGBA. */
export function zrgbToRgba(data: Uint8Array, w: number, h: number, inflate: InflateExact): Uint8ClampedArray<ArrayBuffer> {
  const rgb = inflate(data, w * h * 3);
  const rgba = new Uint8ClampedArray(w * h * 4);
  const out = new Uint32Array(rgba.buffer);
  // RGBA in memory is 0xAABBGGRR as little-endian 32-bit words.
  for (let i = 0, o = 0; o < out.length; o++, i += 3) out[o] = 0xff000000 | (rgb[i + 2]! << 16) | (rgb[i + 1]! << 8) | rgb[i]!;
  return rgba;
}

/** Palette: u8 (colours - 1), RGB palette, zlib of packed indices (rows padded to a byte) → RGBA. */
export function paletteToRgba(data: Uint8Array, w: number, h: number, inflate: InflateExact): Uint8ClampedArray<ArrayBuffer> {
  const n = data[0]! + 1;
  const pal = new Uint32Array(256);
  for (let i = 0, p = 1; i < n; i++, p += 3) pal[i] = 0xff000000 | (data[p + 2]! << 16) | (data[p + 1]! << 8) | data[p]!;
  const bits = paletteBits(n);
  const rowBytes = paletteRowBytes(w, n);
  const idx = inflate(data.subarray(1 + 3 * n), rowBytes * h);
  const rgba = new Uint8ClampedArray(w * h * 4);
  const out = new Uint32Array(rgba.buffer);
  let o = 0;
  if (bits === 8) {
    for (let i = 0; i < idx.length; i++) out[i] = pal[idx[i]!]!;
    return rgba;
  }
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  for (let y = 0; y < h; y++) {
    let i = y * rowBytes;
    let x = 0;
    while (x < w) {
      const byte = idx[i++]!;
      // Most significant bits first.
      for (let k = perByte - 1; k >= 0 && x < w; k--, x++) out[o++] = pal[(byte >> (k * bits)) & mask]!;
    }
  }
  return rgba;
}

/**
 * Pure pixel decoding of the deflated tile encodings (ZRgb, Palette) into RGBA, shared by the main
 * thread and the decode workers. The decoding itself lives in @baton/protocol (the server's video
 * export uses it too); here fflate inflates synchronously into a buffer of the known size (plus one
 * spare byte: fflate stops silently at the end of its buffer, so an oversized tile shows as size + 1).
 */
import { unzlibSync } from 'fflate';
// The subpath, not the package's index: the decode workers then load no zod and no message schemas.
import { paletteToRgba as paletteWith, zrgbToRgba as zrgbWith } from '@baton/protocol/tilePixels';

function inflateExact(data: Uint8Array, size: number): Uint8Array {
  const out = unzlibSync(data, { out: new Uint8Array(size + 1) });
  if (out.length !== size) throw new Error(`${out.length} bytes, expected ${size}`);
  return out;
}

/** ZRgb: zlib of packed RGB rows → RGBA. */
export function zrgbToRgba(data: Uint8Array, w: number, h: number): Uint8ClampedArray<ArrayBuffer> {
  return zrgbWith(data, w, h, inflateExact);
}

/** Palette: u8 (colours - 1), RGB palette, zlib of packed indices (rows padded to a byte) → RGBA. */
export function paletteToRgba(data: Uint8Array, w: number, h: number): Uint8ClampedArray<ArrayBuffer> {
  return paletteWith(data, w, h, inflateExact);
}

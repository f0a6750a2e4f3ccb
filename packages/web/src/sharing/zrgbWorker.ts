/**
 * Web Worker: inflates ZRgb tiles and expands them to RGBA, off the page's main thread (which then only
 * does putImageData). Protocol with ZRgbWorkerPool: { id, data, w, h } in, { id, rgba } or { id, error } out.
 */
import { unzlibSync } from 'fflate';

export type ZRgbRequest = { id: number; data: Uint8Array; w: number; h: number };
export type ZRgbResponse = { id: number; rgba: Uint8ClampedArray<ArrayBuffer> } | { id: number; error: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ZRgbRequest>) => void) | null;
  postMessage(message: ZRgbResponse, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { id, data, w, h } = e.data;
  try {
    const size = w * h * 3;
    // One spare byte: fflate stops silently at the end of its buffer, so an oversized tile shows as size + 1.
    const rgb = unzlibSync(data, { out: new Uint8Array(size + 1) });
    if (rgb.length !== size) throw new Error(`${rgb.length} bytes, expected ${size}`);
    const rgba = new Uint8ClampedArray(w * h * 4);
    const out = new Uint32Array(rgba.buffer);
    for (let i = 0, o = 0; o < out.length; o++, i += 3) out[o] = 0xff000000 | (rgb[i + 2]! << 16) | (rgb[i + 1]! << 8) | rgb[i]!;
    scope.postMessage({ id, rgba }, [rgba.buffer]);
  } catch (err) {
    scope.postMessage({ id, error: (err as Error).message }, []);
  }
};

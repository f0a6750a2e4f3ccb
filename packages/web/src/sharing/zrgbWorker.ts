/**
 * Web Worker: inflates ZRgb and Palette tiles and expands them to RGBA, off the page's main thread (which
 * then only does putImageData). Protocol with ZRgbWorkerPool: { id, kind, data, w, h } in, { id, rgba } or
 * { id, error } out.
 */
import { paletteToRgba, zrgbToRgba } from './tilePixels';

export type ZRgbRequest = { id: number; kind: 'zrgb' | 'palette'; data: Uint8Array; w: number; h: number };
export type ZRgbResponse = { id: number; rgba: Uint8ClampedArray<ArrayBuffer> } | { id: number; error: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ZRgbRequest>) => void) | null;
  postMessage(message: ZRgbResponse, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { id, kind, data, w, h } = e.data;
  try {
    const rgba = kind === 'palette' ? paletteToRgba(data, w, h) : zrgbToRgba(data, w, h);
    scope.postMessage({ id, rgba }, [rgba.buffer]);
  } catch (err) {
    scope.postMessage({ id, error: (err as Error).message }, []);
  }
};

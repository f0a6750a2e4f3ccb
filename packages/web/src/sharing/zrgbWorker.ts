/**
 * Web Worker: inflates ZRgb and Palette tiles and expands them to RGBA, off the page's main thread (which
 * then only does putImageData), and draws whole `tiles` batches into an ImageBitmap (tileBatch.ts).
 * Protocol with ZRgbWorkerPool: { id, kind, data, w, h } in, { id, rgba } or { id, error } out;
 * { id, kind: 'batch', buffer, tiles, box } in, { id, bitmap, errors } or { id, error } out.
 */
import { drawBatch, type BatchBox, type BatchTile } from './tileBatch';
import { paletteToRgba, zrgbToRgba } from './tilePixels';

export type ZRgbRequest =
  | { id: number; kind: 'zrgb' | 'palette'; data: Uint8Array; w: number; h: number }
  | { id: number; kind: 'batch'; buffer: ArrayBuffer; tiles: BatchTile[]; box: BatchBox };
export type ZRgbResponse =
  | { id: number; rgba: Uint8ClampedArray<ArrayBuffer> }
  | { id: number; bitmap: ImageBitmap; errors: string[] }
  | { id: number; error: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ZRgbRequest>) => void) | null;
  postMessage(message: ZRgbResponse, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  const req = e.data;
  const { id } = req;
  if (req.kind === 'batch') {
    drawBatch(req.buffer, req.tiles, req.box).then(
      ({ bitmap, errors }) => scope.postMessage({ id, bitmap, errors }, [bitmap]),
      (err: unknown) => scope.postMessage({ id, error: (err as Error).message }, []),
    );
    return;
  }
  try {
    const { data, w, h } = req;
    const rgba = req.kind === 'palette' ? paletteToRgba(data, w, h) : zrgbToRgba(data, w, h);
    scope.postMessage({ id, rgba }, [rgba.buffer]);
  } catch (err) {
    scope.postMessage({ id, error: (err as Error).message }, []);
  }
};

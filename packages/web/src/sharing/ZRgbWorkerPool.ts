/**
 * A few Web Workers that inflate ZRgb tiles and draw `tiles` batches (zrgbWorker.ts), so a full-screen update does not block the
 * page's main thread (input, React) for the 100+ ms a 1080p frame of ZRgb costs there. Tiles are handed
 * out round-robin; answers come back in any order and are matched by id.
 */
import type { ZRgbRequest, ZRgbResponse } from './zrgbWorker';
import type { BatchBox, BatchTile, DrawnBatch } from './tileBatch';

export interface ZRgbWorkerPoolOptions {
  /** Number of workers (default: half the cores, 2 to 4). */
  size?: number;
}

type Pending = { resolve: (answer: Exclude<ZRgbResponse, { error: string }>) => void; reject: (err: Error) => void };

export class ZRgbWorkerPool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #id = 0;
  #closed = false;
  #broken = false;
  #proven = false;

  constructor(options: ZRgbWorkerPoolOptions = {}) {
    const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
    // Two at least: on a 2-core machine one worker left full-screen scrolling waiting ~20 ms a frame on
    // inflating while the other core had room (bench/, scroll).
    const size = options.size ?? Math.max(2, Math.min(4, Math.floor(cores / 2)));
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./zrgbWorker.ts', import.meta.url), { type: 'module', name: 'baton-zrgb' });
      worker.onmessage = (e: MessageEvent<ZRgbResponse>) => this.#answer(e.data);
      // A worker that cannot load (blocked by a CSP, missing chunk) or dies makes the pool unusable.
      worker.onerror = (e) => {
        this.#broken = true;
        this.#fail(new Error(`ZRgb worker failed: ${e.message || 'could not start'}`));
      };
      this.#workers.push(worker);
    }
  }

  /** The workers failed: callers should decode on the main thread instead. */
  get broken(): boolean {
    return this.#broken || this.#closed;
  }

  /** A worker has answered: the workers run (until one fails). */
  get proven(): boolean {
    return this.#proven && !this.broken;
  }

  /** RGBA pixels of a w×h ZRgb (or Palette) tile. */
  decode(data: Uint8Array, w: number, h: number, kind: 'zrgb' | 'palette' = 'zrgb'): Promise<Uint8ClampedArray<ArrayBuffer>> {
    if (this.broken) return Promise.reject(new Error('the ZRgb worker pool is not usable'));
    const id = this.#id++;
    // The tile is a view into the whole socket message: copy it out so only it is transferred.
    const copy = data.slice();
    return this.#ask({ id, kind, data: copy, w, h }, [copy.buffer]).then((a) => (a as { rgba: Uint8ClampedArray<ArrayBuffer> }).rgba);
  }

  /**
   * A `tiles` batch drawn in a worker (tileBatch.ts): `buffer` (the message's) is transferred, not
   * copied, so the caller must not use it afterwards.
   */
  drawBatch(buffer: ArrayBuffer, tiles: BatchTile[], box: BatchBox): Promise<DrawnBatch> {
    if (this.broken) return Promise.reject(new Error('the ZRgb worker pool is not usable'));
    return this.#ask({ id: this.#id++, kind: 'batch', buffer, tiles, box }, [buffer]).then((a) => a as DrawnBatch);
  }

  #ask(request: ZRgbRequest, transfer: Transferable[]): Promise<Exclude<ZRgbResponse, { error: string }>> {
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject });
      worker.postMessage(request, transfer);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.terminate();
    this.#fail(new Error('the ZRgb worker pool is closed'));
  }

  #answer(msg: ZRgbResponse): void {
    this.#proven = true;
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if ('error' in msg) p.reject(new Error(msg.error));
    else p.resolve(msg);
  }

  #fail(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}

/**
 * Removes the bytes no record names any more: a deleted meeting's shared files and slide decks, a
 * file removed while another meeting still had the same bytes and then lost them too, and uploads a
 * crash left half written. Content addressing means a blob may be shared between meetings, so it
 * goes only when no row of its table names it. A blob younger than `minAgeMs` is kept whatever the
 * store says, because an upload writes its bytes before the row that names them.
 */
import type { BlobTable, Store } from '../store/Store.js';
import type { Blobs } from './Blobs.js';

export interface BlobSweeperOptions {
  store: Store;
  /** Each blob store with the table whose rows name its blobs. */
  shelves: { blobs: Blobs; table: BlobTable }[];
  /** Cluster mode: sweep only while this node holds the sweep lease (StoreLease). */
  lease?: { claim(): Promise<boolean> };
  /** Blobs (and temporary uploads) younger than this are never removed. Default: an hour. */
  minAgeMs?: number;
  /** How often sweep() runs after start(). Default: an hour. */
  intervalMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

const HOUR = 3_600_000;

export class BlobSweeper {
  readonly #opts: BlobSweeperOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #closed = false;

  constructor(opts: BlobSweeperOptions) {
    this.#opts = opts;
  }

  /** Sweeps now (in the background) and then every interval. */
  start(): void {
    if (this.#closed || this.#timer) return;
    const run = () => void this.sweep().catch((err: unknown) => this.#opts.log?.warn({ err }, 'blob sweep failed'));
    run();
    this.#timer = setInterval(run, this.#opts.intervalMs ?? HOUR);
    this.#timer.unref();
  }

  /** One pass over every shelf; resolves to how many blobs it removed. Passes never overlap. */
  sweep(now = Date.now()): Promise<number> {
    this.#running ??= this.#sweep(now).finally(() => (this.#running = null));
    return this.#running;
  }

  async #sweep(now: number): Promise<number> {
    // In a cluster one node sweeps the shared blobs at a time: whoever holds the lease.
    if (this.#opts.lease && !(await this.#opts.lease.claim())) return 0;
    const cutoff = now - (this.#opts.minAgeMs ?? HOUR);
    let removed = 0;
    for (const { blobs, table } of this.#opts.shelves) {
      if (this.#closed) break;
      const old = await blobs.stale(cutoff);
      // Asked in batches, so a big shelf is a few queries, not one a blob.
      for (let i = 0; i < old.length; i += 500) {
        const batch = old.slice(i, i + 500);
        const used = await this.#opts.store.blobsInUse(table, batch);
        for (const sha of batch) {
          if (used.has(sha)) continue;
          if (await blobs.removeIfStale(sha, cutoff)) removed++;
        }
      }
    }
    return removed;
  }

  /** Stops the timer and waits for a pass under way. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => 0);
  }
}

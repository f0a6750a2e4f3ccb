/**
 * The whiteboard of one conference: a Yjs document (docs/decisions/0005-whiteboard-model.md). Each
 * update from a client is checked first (validateWbUpdate: structure, fields, caps, whose Yjs client
 * id it is), then applied, appended to the store, and only then announced (`update`), so that what
 * anyone has seen survives a restart. The stored rows are compacted into one state now and then and
 * when the board closes. The Focus authorizes who may draw and rate-limits senders before calling in.
 */
import * as Y from 'yjs';
import { MAX_WB_STATE_BYTES, MAX_WB_UPDATE_BYTES, WB_ROOT, base64ToBytes, bytesToBase64 } from '@baton/protocol';
import type { Store } from '../store/Store.js';
import { BadRequestError, ConflictError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { validateWbUpdate } from './validateWbUpdate.js';

/**
 * Boards of this process still storing their last state, by conference: a meeting that starts again
 * at once (its Focus closed, a join came) loads only after that, so two boards never write one
 * meeting's rows at the same time.
 */
const closing = new Map<string, Promise<void>>();

export interface WhiteboardOptions {
  conferenceId: string;
  store: Store;
  /** Compact the stored rows into one state after this many appended updates. */
  compactEvery?: number;
  log?: { warn(obj: unknown, msg?: string): void };
}

export type WhiteboardEvents = {
  /** An update was accepted and stored: send it (base64) to everyone but `fromSeat`. */
  update: [update: string, fromSeat: string];
};

export class Whiteboard extends TypedEmitter<WhiteboardEvents> {
  readonly #opts: WhiteboardOptions;
  #doc = new Y.Doc();
  /** Yjs client id -> the lasting key of the participant that writes with it. */
  readonly #owners = new Map<number, string>();
  #nextSeq = 1;
  #sinceCompaction = 0;
  /** Bytes stored since the last compaction plus the state then: a bound on the board's size. */
  #bytes = 0;
  /** Store writes, one after another, so compaction never races an append. */
  #writes: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(opts: WhiteboardOptions) {
    super();
    this.#opts = opts;
  }

  async load(): Promise<void> {
    await closing.get(this.#opts.conferenceId);
    const rows = await this.#opts.store.listWhiteboardUpdates(this.#opts.conferenceId);
    for (const row of rows) {
      try {
        Y.applyUpdate(this.#doc, base64ToBytes(row.data), 'store');
      } catch (err) {
        this.#opts.log?.warn({ err, conference: this.#opts.conferenceId, seq: row.seq }, 'a stored whiteboard update could not be read; skipped');
      }
      this.#nextSeq = Math.max(this.#nextSeq, row.seq + 1);
    }
    this.#bytes = rows.reduce((n, r) => n + (r.data.length * 3) / 4, 0);
    if (rows.length > 1) this.#compact();
  }

  /** The whole board as one Yjs update (base64), for a joiner. */
  state(): string {
    return bytesToBase64(Y.encodeStateAsUpdate(this.#doc));
  }

  /** How many elements the board holds (for tests and diagnostics). */
  get size(): number {
    return this.#doc.getMap(WB_ROOT).size;
  }

  /** The board's elements as plain objects (tests). */
  toJSON(): Record<string, unknown> {
    return this.#doc.getMap(WB_ROOT).toJSON();
  }

  /**
   * One update from `memberKey`'s seat `seatId`: refused with a clear reason unless it is a valid
   * edit of the board; applied and stored otherwise. Never throws anything but a BatonError.
   */
  async handleUpdate(b64: string, memberKey: string, seatId: string): Promise<void> {
    if (this.#closed) throw new ConflictError('the whiteboard is closed');
    let update: Uint8Array;
    try {
      update = base64ToBytes(b64);
    } catch {
      throw new BadRequestError('the whiteboard update is not base64');
    }
    if (update.length > MAX_WB_UPDATE_BYTES) throw new BadRequestError(`a whiteboard update is at most ${MAX_WB_UPDATE_BYTES} bytes`);
    if (this.#bytes + update.length > MAX_WB_STATE_BYTES) throw new ConflictError('the whiteboard is full; delete something first');
    const check = validateWbUpdate(this.#doc, update, (client) => (this.#owners.get(client) ?? memberKey) === memberKey);
    if (!check.ok) throw new BadRequestError(check.error);
    for (const c of check.clients) this.#owners.set(c, memberKey);
    try {
      Y.applyUpdate(this.#doc, update, 'client');
    } catch (err) {
      this.#opts.log?.warn({ err, conference: this.#opts.conferenceId }, 'a checked whiteboard update failed to apply');
      throw new BadRequestError('the whiteboard update could not be applied');
    }
    // Belt and braces: nothing may wait in memory for structs that never come.
    const store = this.#doc.store as unknown as { pendingStructs: unknown; pendingDs: unknown };
    if (store.pendingStructs || store.pendingDs) {
      store.pendingStructs = null;
      store.pendingDs = null;
    }
    this.#bytes += update.length;
    const seq = this.#nextSeq++;
    // A failed write is logged (#write); the board still has it and the next compaction stores it.
    await this.#write(() => this.#opts.store.appendWhiteboardUpdate(this.#opts.conferenceId, seq, b64)).catch(() => {});
    if (++this.#sinceCompaction >= (this.#opts.compactEvery ?? 200)) this.#compact();
    if (!this.#closed) this.emit('update', b64, seatId);
  }

  #write(fn: () => Promise<void>): Promise<void> {
    const next = this.#writes.then(fn);
    this.#writes = next.catch((err) => this.#opts.log?.warn({ err, conference: this.#opts.conferenceId }, 'storing the whiteboard failed'));
    return next;
  }

  /** Replace the stored rows by one state (deleted content garbage-collected by Yjs). */
  #compact(): Promise<void> {
    this.#sinceCompaction = 0;
    const seq = this.#nextSeq++;
    return this.#write(async () => {
      const state = Y.encodeStateAsUpdate(this.#doc);
      this.#bytes = state.length;
      await this.#opts.store.compactWhiteboard(this.#opts.conferenceId, seq, bytesToBase64(state));
    });
  }

  /** Stores the compacted board, then frees it; later calls are no-ops. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.removeAllListeners();
    const id = this.#opts.conferenceId;
    const done = (this.#sinceCompaction > 0 ? this.#compact() : this.#writes).catch(() => {}).then(() => {
      if (closing.get(id) === done) closing.delete(id);
      this.#doc.destroy();
    });
    closing.set(id, done);
    await done;
  }
}

/**
 * This page's replica of the meeting's whiteboard: a Yjs document kept in step with the server over
 * the conference socket, for as long as the page is in the meeting (whatever the stage shows).
 *
 * - The welcome (and `wb.state`) brings the whole board; `wb.updated` brings others' edits.
 * - Local edits run in `edit()` (origin LOCAL); they are gathered for up to 80 ms and sent as one
 *   `wb.update` (merged while it stays under the size cap), at most ~12 a second (the server's limit
 *   is 15). Unanswered updates are sent again after a reconnection (Yjs ignores what it has).
 * - Undo and redo touch only this user's own edits: a Y.UndoManager tracking the LOCAL origin.
 * - A refused update (policy, a cap, bad input) would leave this replica with edits the server never
 *   took, and every later edit would depend on them: the page starts afresh from the server's board
 *   (a new document, `wb.sync`) and says why (`refused`).
 */
import * as Y from 'yjs';
import { MAX_WB_UPDATE_BYTES, WB_ROOT, WbElement, base64ToBytes, bytesToBase64, type ServerMessage } from '@baton/protocol';
import type { CommandError, ConferenceClient } from '../conference/ConferenceClient';
import { Emitter } from '../conference/Emitter';

export const LOCAL = 'local';
const REMOTE = 'remote';
const FLUSH_MS = 80;

export type BoardEvents = {
  /** The board changed (any edit, local or remote, or a fresh start). */
  change: void;
  /** An update of ours was refused: the server's reason. */
  refused: string;
};

export class BoardSync extends Emitter<BoardEvents> {
  #client: ConferenceClient;
  #doc = new Y.Doc();
  #undo: Y.UndoManager;
  /** Made here, not yet sent. */
  #queue: Uint8Array[] = [];
  /** Sent, not yet acknowledged: sent again after a reconnection. */
  #unacked = new Map<number, Uint8Array>();
  #nextId = 1;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastFlush = 0;
  #off: () => void;
  #syncing = false;
  #closed = false;
  #cache: WbElement[] | null = null;

  constructor(client: ConferenceClient) {
    super();
    this.#client = client;
    this.#undo = this.#attach();
    this.#off = client.on('message', (msg) => this.#onMessage(msg));
    // The meeting page mounts after the welcome: what came before is waiting in the client.
    for (const u of client.takeBoardBacklog()) Y.applyUpdate(this.#doc, base64ToBytes(u), REMOTE);
  }

  #attach(): Y.UndoManager {
    const doc = this.#doc;
    const undo = new Y.UndoManager(doc.getMap(WB_ROOT), { trackedOrigins: new Set([LOCAL]), captureTimeout: 300 });
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      this.#cache = null;
      // Our own edits, and undo/redo of them (whose origin is the undo manager), go to the server.
      if (origin === LOCAL || origin === undo) this.#enqueue(update);
      this.emit('change', undefined);
    });
    undo.on('stack-item-added', () => this.emit('change', undefined));
    undo.on('stack-item-popped', () => this.emit('change', undefined));
    return undo;
  }

  get doc(): Y.Doc {
    return this.#doc;
  }

  get elementsMap(): Y.Map<Y.Map<unknown>> {
    return this.#doc.getMap(WB_ROOT);
  }

  /** The board's elements, checked (an invalid one is skipped), bottom to top. */
  elements(): WbElement[] {
    if (this.#cache) return this.#cache;
    const out: WbElement[] = [];
    this.elementsMap.forEach((m, id) => {
      if (!(m instanceof Y.Map)) return;
      const parsed = WbElement.safeParse({ ...m.toJSON(), id });
      if (parsed.success) out.push(parsed.data);
    });
    out.sort((a, b) => a.z - b.z || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.#cache = out;
    return out;
  }

  /** Run local edits as one change (one undo step unless merged with the next within 300 ms). */
  edit(fn: (elements: Y.Map<Y.Map<unknown>>) => void): void {
    this.#doc.transact(() => fn(this.elementsMap), LOCAL);
  }

  get canUndo(): boolean {
    return this.#undo.canUndo();
  }
  get canRedo(): boolean {
    return this.#undo.canRedo();
  }
  undo(): void {
    this.#undo.undo();
  }
  redo(): void {
    this.#undo.redo();
  }
  /** The next edit starts a new undo step (e.g. after a stroke ends). */
  stopCapturing(): void {
    this.#undo.stopCapturing();
  }

  #onMessage(msg: ServerMessage): void {
    if (this.#closed) return;
    switch (msg.type) {
      case 'welcome':
        if (msg.whiteboard) Y.applyUpdate(this.#doc, base64ToBytes(msg.whiteboard), REMOTE);
        // After a reconnection: what the server may not have got goes again, in order.
        if (this.#unacked.size) {
          this.#queue = [...this.#unacked.values(), ...this.#queue];
          this.#unacked.clear();
        }
        this.#schedule();
        break;
      case 'wb.updated':
        Y.applyUpdate(this.#doc, base64ToBytes(msg.update), REMOTE);
        break;
      case 'wb.state':
        if (!this.#syncing) Y.applyUpdate(this.#doc, base64ToBytes(msg.state), REMOTE);
        else this.#restart(msg.state);
        break;
    }
  }

  #enqueue(update: Uint8Array): void {
    this.#queue.push(update);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.#queue.length === 0 || this.#closed) return;
    const wait = Math.max(0, this.#lastFlush + FLUSH_MS - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, Math.max(wait, 16));
  }

  #flush(): void {
    if (this.#client.snapshot.state !== 'joined' || this.#syncing) return; // sent after the next welcome
    this.#lastFlush = Date.now();
    // As many queued updates as fit in one message, merged.
    let batch: Uint8Array[] = [];
    let merged: Uint8Array | null = null;
    while (this.#queue.length) {
      const next = [...batch, this.#queue[0]!];
      const m = next.length === 1 ? next[0]! : Y.mergeUpdates(next);
      if (m.length > MAX_WB_UPDATE_BYTES && batch.length > 0) break;
      batch = next;
      merged = m;
      this.#queue.shift();
      if (m.length > MAX_WB_UPDATE_BYTES) break;
    }
    if (!merged) return;
    if (merged.length > MAX_WB_UPDATE_BYTES) {
      // One edit too big to send (a huge paste): it cannot reach the others, so it is taken back.
      this.#refused('that change is too big for the whiteboard');
      return;
    }
    const id = this.#nextId++;
    this.#unacked.set(id, merged);
    this.#client
      .request({ type: 'wb.update', update: bytesToBase64(merged) })
      .then(() => this.#unacked.delete(id))
      .catch((err: CommandError | null) => {
        // Not connected, or no answer: kept for the next welcome. Refused: start afresh.
        if (!err || err.code === 'offline' || err.code === 'timeout') return;
        this.#unacked.delete(id);
        this.#refused(err.message);
      });
    this.#schedule();
  }

  #refused(reason: string): void {
    this.emit('refused', reason);
    if (this.#syncing) return;
    this.#syncing = true;
    this.#queue = [];
    this.#unacked.clear();
    if (this.#client.send({ type: 'wb.sync' }) === null) this.#syncing = false;
  }

  /** A fresh replica from the server's board: our refused edits are gone, and so is our undo history. */
  #restart(state: string): void {
    this.#syncing = false;
    this.#undo.destroy();
    this.#doc.destroy();
    this.#doc = new Y.Doc();
    Y.applyUpdate(this.#doc, base64ToBytes(state), REMOTE);
    this.#undo = this.#attach();
    this.#cache = null;
    this.emit('change', undefined);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#off();
    this.#undo.destroy();
    this.#doc.destroy();
  }
}

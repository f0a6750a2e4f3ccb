import type { ShareChannel } from './ShareChannel.js';
import type { TileEntry, TileStore } from './TileStore.js';

/** Counters the relay shares with its viewers (so totals survive a viewer leaving). */
export interface ShareCounters {
  bytesOut: number;
  tilesSkipped: number;
}

export interface ShareViewerOptions {
  participantId: string;
  channel: ShareChannel;
  store: TileStore;
  counters: ShareCounters;
  /** Frames sent but not acknowledged before the viewer stops being sent new ones. */
  maxUnacked: number;
  /** Send-buffer size above which the viewer is busy: nothing but screen changes is sent to it. */
  highWater: number;
}

/**
 * One viewer's flow control. The viewer keeps the set of grid cells that changed since it was last
 * sent a frame; while it is behind (too many unacknowledged frames, or a full send buffer) the set just
 * grows, and when it catches up it is sent the newest tiles covering those cells, each once, in version order. A slow viewer skips
 * versions instead of queueing them, and costs at most one flag per cell.
 */
export class ShareViewer {
  readonly participantId: string;
  readonly channel: ShareChannel;
  readonly #store: TileStore;
  readonly #counters: ShareCounters;
  readonly #maxUnacked: number;
  readonly #highWater: number;
  #dirty = new Set<number>();
  #unacked: number[] = [];
  #sentCommit = 0;
  #cursorShapeDirty = false;
  #cursorPosDirty = false;
  /** A new screen: the viewer's picture is black, nothing to copy from until it is sent a whole frame. */
  #stale = false;

  constructor(options: ShareViewerOptions) {
    this.participantId = options.participantId;
    this.channel = options.channel;
    this.#store = options.store;
    this.#counters = options.counters;
    this.#maxUnacked = options.maxUnacked;
    this.#highWater = options.highWater;
  }

  get busy(): boolean {
    return this.channel.bufferedAmount >= this.#highWater;
  }
  /** May be sent a new frame now. */
  get ready(): boolean {
    return !this.busy && this.#unacked.length < this.#maxUnacked;
  }
  get unacked(): number {
    return this.#unacked.length;
  }
  get dirtyCount(): number {
    return this.#dirty.size;
  }

  /** Bring a late joiner up to date: screen, every current tile, cursor, then a frame (via flush). */
  start(onUnresolved?: (entry: TileEntry) => void): number | null {
    const s = this.#store;
    if (s.screenBytes) this.#send(s.screenBytes);
    for (const i of s.filledCells()) this.#dirty.add(i);
    this.#cursorShapeDirty = s.cursorShape !== null;
    this.#cursorPosDirty = s.cursorPos !== null;
    return this.flush(onUnresolved);
  }

  /** A new screen: sent at once, whatever the backlog, since every tile after it refers to the new grid. */
  screenChanged(): void {
    this.#dirty.clear();
    this.#stale = true; // a new screen starts black on the viewer: nothing to copy from yet
    if (this.#store.screenBytes) this.#send(this.#store.screenBytes);
  }

  /** Cells changed by a committed frame. A cell already waiting means the viewer skips a version. */
  markDirty(cells: readonly number[]): void {
    for (const i of cells) {
      if (this.#dirty.has(i)) this.#counters.tilesSkipped++;
      else this.#dirty.add(i);
    }
  }

  /** Cursor changes go out immediately unless the send buffer is full; then only the latest is kept. */
  cursorShapeChanged(): void {
    this.#cursorShapeDirty = true;
    if (!this.busy) this.#sendCursor();
  }
  cursorPosChanged(): void {
    this.#cursorPosDirty = true;
    if (!this.busy) this.#sendCursor();
  }

  /** The viewer drew frame `seq`: it and every frame sent before it are done. */
  ack(seq: number): void {
    const at = this.#unacked.indexOf(seq);
    if (at >= 0) this.#unacked.splice(0, at + 1);
  }

  /**
   * Send what the viewer is missing if it is ready: the newest bytes of every dirty cell, then the
   * host's latest `frame` (unchanged, so its seq and capture time measure latency end to end).
   * Returns the commit number of the frame sent (or held back, see below), or null when nothing was
   * sent. A Copy tile goes only to a viewer whose picture is exactly the one before that tile's frame.
   * For any other viewer the whole frame is held back: sending the rest without the Copy's cells would
   * draw a picture the host never showed (a dragged window torn in two, text at two offsets; issue 17).
   * `onUnresolved` asks the host for those cells as pixels; it answers with a frame without any Copy,
   * and that frame (or a later one) reaches this viewer whole. The host is still acked for a held-back
   * frame, or it could never send that answer.
   */
  flush(onUnresolved?: (entry: TileEntry) => void): number | null {
    if (this.busy) return null;
    this.#sendCursor();
    const last = this.#store.lastFrame;
    if (!last || this.#sentCommit >= last.commit || this.#unacked.length >= this.#maxUnacked) return null;
    const exact = !this.#stale && this.#sentCommit === last.commit - 1;
    // A tile may cover many cells: each distinct one once, oldest first, so newer tiles overdraw.
    const tiles = this.#store.tilesFor(this.#dirty);
    if (!exact) {
      let held = false;
      for (const t of tiles) {
        if (!t.copy) continue;
        held = true;
        onUnresolved?.(t);
      }
      if (held) return last.commit;
    }
    for (const t of tiles) this.#send(t.bytes);
    this.#dirty.clear();
    this.#stale = false;
    this.#send(last.bytes);
    this.#unacked.push(last.seq);
    this.#sentCommit = last.commit;
    return last.commit;
  }

  #sendCursor(): void {
    const s = this.#store;
    if (this.#cursorShapeDirty && s.cursorShape) this.#send(s.cursorShape);
    if (this.#cursorPosDirty && s.cursorPos) this.#send(s.cursorPos);
    this.#cursorShapeDirty = false;
    this.#cursorPosDirty = false;
  }

  #send(bytes: Uint8Array): void {
    this.#counters.bytesOut += bytes.byteLength;
    this.channel.send(bytes);
  }
}

import { SHARE_TILES_VERSION, ShareType, TileEncoding, TILE_BATCH_ENTRY_BYTES, TILE_BATCH_HEADER_BYTES, encodeTileBatch } from '@baton/protocol';
import type { ShareChannel } from './ShareChannel.js';
import type { CommittedFrame, TileEntry, TileStore, VideoTrack } from './TileStore.js';

/** Counters the relay shares with its viewers (so totals survive a viewer leaving). */
export interface ShareCounters {
  bytesOut: number;
  tilesSkipped: number;
  /** Frames a viewer that had missed some was sent by replaying the missed frames' tiles (see TileStore.tilesSince). */
  framesReplayed: number;
}

export interface ShareViewerOptions {
  participantId: string;
  channel: ShareChannel;
  store: TileStore;
  counters: ShareCounters;
  /** Frames sent but not acknowledged before the viewer stops being sent new ones, whatever their size. */
  maxUnacked: number;
  /**
   * More frames may be unacknowledged while they are small together (under smallBytes): small updates
   * (typing, a clock) then reach the viewer at the screen's rate over a round trip longer than two frame
   * periods, while big frames keep maxUnacked. Defaults: maxUnacked (no extra frames), 48 KiB.
   */
  maxSmallUnacked?: number;
  smallBytes?: number;
  /** Send-buffer size (ShareChannel.bufferedAmount) at which the viewer is busy: nothing more is sent to it until it drains. */
  highWater: number;
  /** The viewer was sent the frame of this commit (or was passed over it, see #begin): the host may be acked up to it. */
  onFrame: (commit: number) => void;
  /** A Copy tile the viewer cannot use: the host is asked for those cells as pixels. */
  onUnresolved: (entry: TileEntry) => void;
  /** The viewer is being sent a long run of video units (it joined mid-stream or fell far behind): a keyframe would shorten it. */
  onLongVideoRun?: (rect: VideoTrack['rect']) => void;
  /** A catch-up sends at most this many tiles, or sliceBytes, then yields to the event loop. */
  sliceTiles?: number;
  sliceBytes?: number;
}

/** More video units than this sent at once to one viewer: the host is asked for a keyframe. */
const LONG_VIDEO_RUN = 12;

/**
 * A snapshot's `tiles` messages hold up to this many bytes: a 1080p screen of text and pictures
 * (~580 kB) goes in about five, which the viewer's decode workers take in parallel while the rest arrive.
 */
export const TILE_BATCH_BYTES = 128 * 1024;

/** The tiles of one frame being sent to a viewer, a slice at a time, and the frame that ends them. */
interface Batch {
  tiles: { readonly bytes: Uint8Array }[];
  next: number;
  frame: CommittedFrame;
}

/**
 * One viewer's flow control. The viewer keeps the set of grid cells that changed since it was last
 * sent a frame; while it is behind (too many unacknowledged frames, or a full send buffer) the set just
 * grows, and when it catches up it is sent the newest tiles covering those cells, each once, in version
 * order. A slow viewer skips versions instead of queueing them, and costs at most one flag per cell.
 *
 * Nothing is sent while the channel holds `highWater` bytes or more (screen and cursor included: a
 * viewer far behind gets the latest of each once it drains, never a queue of them). A catch-up (a late
 * joiner's whole screen, or every cell a slow viewer skipped) goes out in slices of at most sliceTiles
 * tiles or sliceBytes, with a turn of the event loop between slices and a pause whenever the channel is
 * full, so 262,144 one-cell tiles never hold up the server. The frame's tiles are fixed when its batch
 * starts, so what the viewer draws at the frame is still exactly that frame.
 */
export class ShareViewer {
  readonly participantId: string;
  /** Cluster: this "viewer" is another node relaying the share to its own viewers. */
  node: string | undefined = undefined;
  /** The controller that node was last told of (undefined: not yet; it assumes nobody). */
  toldController: string | null | undefined = undefined;
  readonly channel: ShareChannel;
  readonly #store: TileStore;
  readonly #counters: ShareCounters;
  readonly #maxUnacked: number;
  readonly #maxSmallUnacked: number;
  readonly #smallBytes: number;
  readonly #highWater: number;
  readonly #onFrame: (commit: number) => void;
  readonly #onUnresolved: (entry: TileEntry) => void;
  readonly #sliceTiles: number;
  readonly #sliceBytes: number;
  /** Cells changed since the viewer was last sent a frame: a flag per cell and the list of those set. */
  #dirtyMask = new Uint8Array(0);
  #dirty: number[] = [];
  #batch: Batch | null = null;
  /** The next slice of the batch, scheduled for the next turn of the event loop. */
  #resume: NodeJS.Immediate | null = null;
  /** The store's screen changed while the viewer was busy: it gets the latest one when it drains. */
  #screenPending = false;
  /** The commit whose frame was held back from this viewer (it needs the host's pixels first). */
  #heldAt = 0;
  #closed = false;
  #unacked: number[] = [];
  /** Bytes of each unacknowledged frame's batch, beside #unacked, and their sum. */
  #unackedSizes: number[] = [];
  #unackedBytes = 0;
  #sentCommit = 0;
  #cursorShapeDirty = false;
  #cursorPosDirty = false;
  /** A new screen: the viewer's picture is black, nothing to copy from until it is sent a whole frame. */
  #stale = false;
  /** The viewer decodes Video tiles (its `caps`). */
  #video = false;
  /** It is sent the ALT tiles under a video stream as well as the stream (a cascade node with both kinds of viewers). */
  #keepAlt = false;
  /** The run of video units this viewer is in, and how many of them it was sent. */
  #vTrack: VideoTrack | null = null;
  #vSent = 0;
  /**
   * It said it decodes video after it was sent the latest frame (a joiner's `caps` lands just after its
   * first batch): the run goes out at once, behind that frame's `frame` again, not with the next frame.
   */
  #videoOwed = false;
  /** The viewer takes `tiles` messages (its auth said so): a snapshot goes out in a few of those. */
  readonly batches: boolean;
  readonly #onLongVideoRun: ((rect: VideoTrack['rect']) => void) | undefined;

  constructor(options: ShareViewerOptions) {
    this.participantId = options.participantId;
    this.channel = options.channel;
    this.#store = options.store;
    this.#counters = options.counters;
    this.#maxUnacked = options.maxUnacked;
    this.#maxSmallUnacked = Math.max(options.maxUnacked, options.maxSmallUnacked ?? options.maxUnacked);
    this.#smallBytes = options.smallBytes ?? 48 * 1024;
    this.#highWater = options.highWater;
    this.#onFrame = options.onFrame;
    this.#onUnresolved = options.onUnresolved;
    this.#onLongVideoRun = options.onLongVideoRun;
    this.batches = (options.channel.peerVersion ?? 0) >= SHARE_TILES_VERSION;
    this.#sliceTiles = options.sliceTiles ?? 512;
    this.#sliceBytes = options.sliceBytes ?? 256 * 1024;
  }

  get busy(): boolean {
    return this.channel.bufferedAmount >= this.#highWater;
  }
  /** May be sent a new frame now. */
  get ready(): boolean {
    return !this.busy && this.#windowOpen();
  }
  #windowOpen(): boolean {
    const n = this.#unacked.length;
    return n < this.#maxUnacked || (n < this.#maxSmallUnacked && this.#unackedBytes < this.#smallBytes);
  }
  get unacked(): number {
    return this.#unacked.length;
  }
  get dirtyCount(): number {
    return this.#dirty.length;
  }
  /** The viewer decodes video: it is sent the stream instead of the ALT tiles under it. */
  get video(): boolean {
    return this.#video;
  }
  set video(on: boolean) {
    if (on === this.#video) return;
    this.#video = on;
    this.#vTrack = null;
    this.#vSent = 0;
    this.#videoOwed = on && this.#store.videoTrack !== null;
    // Without video from now on: the ALT tiles it was not sent are what it needs now.
    if (!on) this.markDirty(this.#store.filledCells());
  }

  get keepAlt(): boolean {
    return this.#keepAlt;
  }
  set keepAlt(on: boolean) {
    if (on === this.#keepAlt) return;
    this.#keepAlt = on;
    if (on && this.#video) this.markDirty(this.#store.filledCells());
  }

  /** A frame's tiles are being sent, a slice at a time. */
  get catchingUp(): boolean {
    return this.#batch !== null;
  }

  /** Bring a late joiner up to date: screen, cursor, every current tile, then a frame. */
  start(): void {
    const s = this.#store;
    this.#screenPending = s.screenBytes !== null;
    this.#resetDirty();
    this.markDirty(s.filledCells());
    this.#cursorShapeDirty = s.cursorShape !== null;
    this.#cursorPosDirty = s.cursorPos !== null;
    this.pump();
  }

  /**
   * A new screen: every tile after it refers to the new grid, so a batch under way is dropped (its frame
   * will never be shown) and the screen goes out now, or as soon as a busy viewer drains.
   */
  screenChanged(): void {
    this.#resetDirty();
    this.#batch = null;
    this.#heldAt = 0;
    this.#stale = true; // a new screen starts black on the viewer: nothing to copy from yet
    this.#screenPending = this.#store.screenBytes !== null;
    if (!this.busy) this.#sendScreen();
  }

  /** Cells changed by a committed frame. A cell already waiting means the viewer skips a version. */
  markDirty(cells: readonly number[]): void {
    const mask = this.#dirtyMask;
    for (const i of cells) {
      if (mask[i]) this.#counters.tilesSkipped++;
      else {
        mask[i] = 1;
        this.#dirty.push(i);
      }
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
    if (at < 0) return;
    this.#unacked.splice(0, at + 1);
    for (const b of this.#unackedSizes.splice(0, at + 1)) this.#unackedBytes -= b;
  }

  /**
   * Send what the viewer is missing, as far as its channel has room: a pending screen, the cursor, then
   * the next slice of the frame it is being sent, or a new frame's batch if it is ready for one. Called
   * on every event that may let it go on (a host frame, an ack, a drain); the rest of a batch follows
   * by itself, a slice per turn of the event loop.
   */
  pump(): void {
    if (this.#closed || this.#resume) return;
    this.#run();
  }

  /** Stop: nothing more is sent, a scheduled slice is cancelled. */
  close(): void {
    this.#closed = true;
    this.#batch = null;
    this.#dirty = [];
    this.#dirtyMask = new Uint8Array(0);
    if (this.#resume) clearImmediate(this.#resume);
    this.#resume = null;
  }

  #run(): void {
    let tiles = this.#sliceTiles;
    let bytes = this.#sliceBytes;
    for (;;) {
      if (this.busy) return; // the channel's 'drain' pumps again
      if (this.#screenPending) this.#sendScreen();
      this.#sendCursor();
      this.#batch ??= this.#begin();
      const batch = this.#batch;
      if (!batch) return;
      while (batch.next < batch.tiles.length) {
        if (this.busy) return;
        if (tiles-- <= 0 || bytes <= 0) {
          this.#resume = setImmediate(() => {
            this.#resume = null;
            if (!this.#closed) this.#run();
          });
          return;
        }
        const t = batch.tiles[batch.next++]!;
        bytes -= t.bytes.byteLength;
        this.#send(t.bytes);
      }
      // The frame itself (a few bytes) follows its last tile even past the high-water mark.
      this.#batch = null;
      this.#send(batch.frame.bytes);
      this.#unacked.push(batch.frame.seq);
      let size = batch.frame.bytes.byteLength;
      for (const t of batch.tiles) size += t.bytes.byteLength;
      this.#unackedSizes.push(size);
      this.#unackedBytes += size;
      this.#sentCommit = batch.frame.commit;
      this.#stale = false;
      this.#onFrame(batch.frame.commit);
      // A newer frame may have been committed meanwhile: the loop starts its batch if the viewer is ready.
    }
  }

  /**
   * The batch of the host's latest frame if the viewer is ready for it: the newest tile of every dirty
   * cell, each distinct one once, oldest first, so newer tiles overdraw; then that `frame`, relayed
   * unchanged (its seq and capture time measure latency end to end). A Copy tile goes only to a viewer
   * whose picture is exactly the one before that tile's frame, or one replayed every frame since its
   * last in order (while the store still holds them). For any other viewer the whole frame is held back: sending the rest without the Copy's cells would draw a picture the host never showed (a
   * dragged window torn in two, text at two offsets; issue 17). `onUnresolved` asks the host for those
   * cells as pixels; it answers with a frame without any Copy, and that frame (or a later one) reaches
   * this viewer whole. The host is still acked for a held-back frame, or it could never send that answer.
   */
  #begin(): Batch | null {
    const last = this.#store.lastFrame;
    if (!last || !this.#windowOpen()) return null;
    if (this.#sentCommit >= last.commit) {
      if (!this.#videoOwed || this.#stale) return null;
      this.#videoOwed = false;
      const units = this.#withVideo([]);
      return units.length > 0 ? { tiles: units, next: 0, frame: last } : null;
    }
    this.#videoOwed = false; // this batch carries the run
    if (this.#heldAt === last.commit) return null; // already held back: nothing new to decide
    const exact = !this.#stale && this.#sentCommit === last.commit - 1;
    let tiles = this.#store.tilesFor(this.#dirty);
    if (!exact && tiles.some((t) => t.copy)) {
      // A viewer a frame or two behind is replayed the frames it missed, in order (the Copy then reads the
      // picture it was made from); it draws them in one go at the last `frame`, so it shows only that one.
      const replay = !this.#stale && this.#sentCommit > 0 ? this.#store.tilesSince(this.#sentCommit) : null;
      if (replay) {
        tiles = replay;
        this.#counters.framesReplayed++;
      } else {
        for (const t of tiles) if (t.copy) this.#onUnresolved(t);
        this.#heldAt = last.commit;
        this.#onFrame(last.commit);
        return null;
      }
    }
    this.#clearDirty();
    // A snapshot (a joiner, or a new screen) is hundreds of tiles: a few batches cost the viewer far less.
    const snapshot = this.#sentCommit === 0 || this.#stale;
    const out = this.#withVideo(tiles);
    return { tiles: this.batches && snapshot ? packTiles(out) : out, next: 0, frame: last };
  }

  /**
   * For a viewer that decodes video, while a stream runs: the ALT tiles (the stream's stand-in) are left
   * out and the units it has not had go last, in order: from where it is in the current run, or the whole
   * run from its keyframe (a late joiner, a new keyframe meanwhile). Decoding them all shows the stream's
   * latest picture; a long run asks the host for a keyframe, which later viewers start from.
   */
  #withVideo(tiles: TileEntry[]): { readonly bytes: Uint8Array }[] {
    const track = this.#video ? this.#store.videoTrack : null;
    if (!track) {
      this.#vTrack = null;
      return tiles;
    }
    if (this.#vTrack !== track) {
      this.#vTrack = track;
      this.#vSent = 0;
    }
    const units = track.units.slice(this.#vSent);
    this.#vSent = track.units.length;
    if (units.length > LONG_VIDEO_RUN) this.#onLongVideoRun?.(track.rect);
    const out: { readonly bytes: Uint8Array }[] = this.#keepAlt ? [...tiles] : tiles.filter((t) => !t.alt);
    for (const u of units) out.push(u);
    return out;
  }

  /** A new grid (or none): no cell is dirty, one flag per cell of it. */
  #resetDirty(): void {
    const g = this.#store.grid;
    const cells = g ? g.cols * g.rows : 0;
    if (this.#dirtyMask.length === cells) this.#clearDirty();
    else {
      this.#dirtyMask = new Uint8Array(cells);
      this.#dirty = [];
    }
  }

  #clearDirty(): void {
    for (const i of this.#dirty) this.#dirtyMask[i] = 0;
    this.#dirty = [];
  }

  #sendScreen(): void {
    this.#screenPending = false;
    const screen = this.#store.screenBytes;
    if (screen) this.#send(screen);
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

/** A tile the viewer may take inside a `tiles` message: not a Copy or a Video unit, which keep their own. */
function batchable(bytes: Uint8Array): boolean {
  return bytes[0] === ShareType.Tile && bytes[9] !== TileEncoding.Copy && bytes[9] !== TileEncoding.Video;
}

/** Runs of batchable tiles packed into `tiles` messages of at most TILE_BATCH_BYTES, order kept. */
export function packTiles(items: readonly { readonly bytes: Uint8Array }[]): { readonly bytes: Uint8Array }[] {
  const out: { readonly bytes: Uint8Array }[] = [];
  let run: Uint8Array[] = [];
  let size = TILE_BATCH_HEADER_BYTES;
  const flush = (): void => {
    if (run.length === 1) out.push({ bytes: run[0]! });
    else if (run.length > 1) out.push({ bytes: encodeTileBatch(run) });
    run = [];
    size = TILE_BATCH_HEADER_BYTES;
  };
  for (const item of items) {
    const b = item.bytes;
    if (!batchable(b)) {
      flush();
      out.push(item);
      continue;
    }
    const cost = TILE_BATCH_ENTRY_BYTES + b.length;
    if (size + cost > TILE_BATCH_BYTES || run.length === 0xffff) flush();
    run.push(b);
    size += cost;
  }
  flush();
  return out;
}

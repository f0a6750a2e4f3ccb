import { TILE_FLAG_ALT, TileEncoding, copySource, videoHeader, type ShareMessage } from '@baton/protocol';

type ScreenMsg = Extract<ShareMessage, { type: 'screen' }>;
type TileMsg = Extract<ShareMessage, { type: 'tile' }>;
type FrameMsg = Extract<ShareMessage, { type: 'frame' }>;

export interface ScreenGrid {
  width: number;
  height: number;
  tileSize: number;
  cols: number;
  rows: number;
}

export interface CommittedFrame {
  seq: number;
  time: number;
  /** The host's encoded `frame` message, relayed unchanged. */
  bytes: Uint8Array;
  /** Counts commits since the store was created; never reset, so a viewer can tell "have I seen this one". */
  commit: number;
}

/** A tile that does not fit the announced grid, arrived before any screen, or would take the store past its budget. */
export class TileStoreError extends Error {
  override name = 'TileStoreError';
}

/** One encoded `tile` frame and the cells it still shows (cells a newer tile covers no longer count). */
export interface TileEntry {
  readonly bytes: Uint8Array;
  /** Order of commit (0 while pending); strictly increasing across all tiles. */
  version: number;
  /** Cells for which this is the newest tile; at 0 nothing refers to it any more. */
  alive: number;
  /**
   * A Copy tile: its pixels are the viewer's own from before its frame, so only a viewer that drew every
   * frame before it can use it. `rect` is what to ask the host to send as pixels for the others.
   */
  copy: { x: number; y: number; w: number; h: number } | null;
  /** The host was asked for the pixels of this Copy tile's cells. */
  refreshAsked?: boolean;
  /** Held by the recent-frames history (see tilesSince) even once no cell refers to it. */
  kept?: boolean;
  /** An ALT tile: the video stream's stand-in for viewers without video (not sent to those being sent the stream). */
  alt?: boolean;
}

/** One access unit of the video stream: a Video tile frame, relayed unchanged. */
export interface VideoUnit {
  readonly bytes: Uint8Array;
  readonly seq: number;
  /** The commit of the frame it came in. */
  commit: number;
}

/**
 * The video stream under way, from its last keyframe: what a viewer that decodes video needs to show
 * the stream's current picture (all of it in order from the first unit). A new object per keyframe,
 * so a viewer can tell by identity whether it is still in the same run of units.
 */
export interface VideoTrack {
  readonly stream: number;
  readonly rect: { x: number; y: number; w: number; h: number };
  readonly units: VideoUnit[];
  bytes: number;
}

/** A tile's place on the grid: columns c0..c1 and rows r0..r1, inclusive. */
export interface CellSpan {
  c0: number;
  r0: number;
  c1: number;
  r1: number;
}

export interface TileStoreOptions {
  /**
   * Most bytes of tiles held (committed and pending together) per pixel of the screen. A legitimate
   * host's committed screen is at most about its raw RGBA size (4 bytes a pixel: incompressible content
   * in ZRgb or a high-quality JPEG), and its batch in progress as much again; 12 leaves room for both
   * and for the per-tile bookkeeping of a fine grid.
   */
  budgetPerPixel?: number;
  /** The budget never goes below this (small screens, fine grids). */
  minBudget?: number;
  /**
   * How many of the latest frames' tiles are kept whole (also the ones newer tiles overdrew), so a viewer
   * that missed the last few frames is replayed them in order instead of waiting for the host's pixels
   * (tilesSince). They count against the budget and give way first. Default 4; 0 keeps none.
   */
  historyFrames?: number;
  /**
   * The history keeps at most this many bytes per screen pixel of tiles no cell shows any more (at least
   * 1 MiB): a dragged window's frames fit many times over, full-screen video does not and keeps none.
   */
  historyPerPixel?: number;
}

/** More than the cells of the largest grid (512 x 512): packs a position next to a version in one double. */
const POSITIONS = 2 ** 20;

/** What one held tile costs beyond its bytes (the entry, the Uint8Array object): counted against the budget. */
const ENTRY_COST = 128;

/**
 * The current shared screen as, per grid cell, a reference to the latest encoded `tile` frame covering it
 * (relayed byte for byte, never re-encoded). A tile covers a rectangle of whole cells: x and y on the grid,
 * w and h multiples of the cell size, clipped at the right and bottom edges. Tiles of a batch are held
 * apart until the host's `frame` ends the batch, so a viewer is only ever sent whole frames.
 *
 * Replaying the distinct tiles behind a set of cells in version order (older first, newer ones overdraw)
 * rebuilds those cells exactly: any newer tile that overdraws part of an older one was committed later,
 * so its cells are in the set too. A Copy tile among them needs the picture of the frame before its own,
 * so for a viewer that missed a frame or two the last few frames are also kept whole (tilesSince). Memory
 * is bounded by the grid and that history: a tile is kept only while it is the newest for at least one
 * cell or belongs to one of those frames.
 *
 * The bytes held are counted as tiles come and go, and bounded per share (`budget`, from the screen's
 * size): a tile that would take the store past it is refused with a TileStoreError, which the relay
 * turns into closing the host's channel. Without it a host could park a 512 KiB payload in every cell
 * (~128 GiB at the largest screen).
 */
export class TileStore {
  readonly #budgetPerPixel: number;
  readonly #minBudget: number;
  readonly #historyFrames: number;
  readonly #historyPerPixel: number;
  #budget: number;
  /** Bytes of the tiles held only by the history (overdrawn on every cell), and the most it may hold. */
  #historyOnly = 0;
  #historyCap = 1024 * 1024;
  /** Bytes of the tile entries the store references (cells, pending map, pending order) and how many there are. */
  #heldBytes = 0;
  #heldEntries = 0;
  #grid: ScreenGrid | null = null;
  #screenBytes: Uint8Array | null = null;
  #cells: (TileEntry | undefined)[] = [];
  #pending = new Map<number, TileEntry>();
  #pendingOrder: TileEntry[] = [];
  #nextVersion = 1;
  #lastFrame: CommittedFrame | null = null;
  #commits = 0;
  /** The tiles of the last `historyFrames` commits, oldest first, each frame's in version order. */
  #history: { commit: number; tiles: TileEntry[] }[] = [];
  /** Video units of the batch in progress, in order. */
  #pendingVideo: { bytes: Uint8Array; stream: number; seq: number; key: boolean; end: boolean; rect: VideoTrack['rect'] }[] = [];
  #video: VideoTrack | null = null;
  /** Most bytes one run of units (keyframe and what follows) may hold before it is dropped and a keyframe asked for. */
  #videoCap = 4 * 1024 * 1024;
  /** Set when the track was dropped in a way that needs a keyframe from the host (read by takeKeyframeWanted). */
  #keyframeWanted: VideoTrack['rect'] | null = null;
  cursorShape: Uint8Array | null = null;
  cursorPos: Uint8Array | null = null;

  constructor(options: TileStoreOptions = {}) {
    this.#budgetPerPixel = options.budgetPerPixel ?? 12;
    this.#minBudget = options.minBudget ?? 8 * 1024 * 1024;
    this.#historyFrames = options.historyFrames ?? 4;
    this.#historyPerPixel = options.historyPerPixel ?? 1;
    this.#budget = this.#minBudget;
  }

  /** Most bytes of tiles (with their bookkeeping) this share may hold, for the current screen. */
  get budget(): number {
    return this.#budget;
  }
  /** Bytes of tiles held now, with their bookkeeping: what the budget bounds. */
  get heldCost(): number {
    return this.#heldBytes + this.#heldEntries * ENTRY_COST;
  }

  get grid(): ScreenGrid | null {
    return this.#grid;
  }
  get screenBytes(): Uint8Array | null {
    return this.#screenBytes;
  }
  get lastFrame(): CommittedFrame | null {
    return this.#lastFrame;
  }
  /** Tiles of the batch in progress (received, not yet ended by a frame). */
  get pendingTiles(): number {
    return this.#pending.size;
  }
  /** Number of frames committed so far (monotonic, survives screen resets). */
  get commits(): number {
    return this.#commits;
  }

  /** A new screen (first one, or a resolution change): every tile is forgotten. */
  setScreen(msg: ScreenMsg, bytes: Uint8Array): void {
    const cols = Math.ceil(msg.width / msg.tileSize);
    const rows = Math.ceil(msg.height / msg.tileSize);
    this.#grid = { width: msg.width, height: msg.height, tileSize: msg.tileSize, cols, rows };
    this.#screenBytes = compact(bytes);
    // Filled: a large holey array can be slow to scan (V8 may keep it as a dictionary).
    this.#cells = new Array<TileEntry | undefined>(cols * rows).fill(undefined);
    this.#pending.clear();
    this.#pendingOrder = [];
    this.#lastFrame = null;
    this.#history = [];
    this.#historyOnly = 0;
    this.#historyCap = Math.max(1024 * 1024, this.#historyPerPixel * msg.width * msg.height);
    this.#heldBytes = 0;
    this.#heldEntries = 0;
    this.#pendingVideo = [];
    this.#video = null;
    this.#keyframeWanted = null;
    this.#budget = Math.max(this.#minBudget, this.#budgetPerPixel * msg.width * msg.height);
    this.#videoCap = Math.max(4 * 1024 * 1024, Math.floor(this.#budget / 4));
  }

  /** The video stream from its last keyframe (null: none runs). */
  get videoTrack(): VideoTrack | null {
    return this.#video;
  }

  /** A rectangle the host should send a keyframe for (the track broke or grew too large), once. */
  takeKeyframeWanted(): VideoTrack['rect'] | null {
    const r = this.#keyframeWanted;
    this.#keyframeWanted = null;
    return r;
  }

  /** The cells a tile covers; throws TileStoreError when it does not cover whole cells exactly. */
  spanOf(msg: TileMsg): CellSpan {
    const g = this.#grid;
    if (!g) throw new TileStoreError('tile before any screen');
    const { x, y, w, h } = msg;
    const ts = g.tileSize;
    if (x + w > g.width || y + h > g.height) throw new TileStoreError(`tile ${w}x${h}+${x}+${y} outside the ${g.width}x${g.height} screen`);
    if (x % ts !== 0 || y % ts !== 0) throw new TileStoreError(`tile at ${x},${y} is not on the ${ts}px grid`);
    if ((w % ts !== 0 && x + w !== g.width) || (h % ts !== 0 && y + h !== g.height)) {
      throw new TileStoreError(`tile ${w}x${h} at ${x},${y} does not cover its ${ts}px grid cells exactly`);
    }
    return { c0: x / ts, r0: y / ts, c1: Math.ceil((x + w) / ts) - 1, r1: Math.ceil((y + h) / ts) - 1 };
  }

  /** Grid index of a tile's top-left cell; throws TileStoreError when it does not cover whole cells. */
  indexOf(msg: TileMsg): number {
    const s = this.spanOf(msg);
    return s.r0 * this.#grid!.cols + s.c0;
  }

  /** Hold a tile of the batch in progress (overriding earlier ones of the batch where they overlap). Returns its first cell. */
  putTile(msg: TileMsg, bytes: Uint8Array): number {
    const s = this.spanOf(msg);
    const g = this.#grid!;
    const cols = g.cols;
    if (msg.encoding === TileEncoding.Video) {
      // Not a cell's picture: a unit of the stream, kept with its run from the keyframe (see commit).
      if (this.heldCost + bytes.byteLength + ENTRY_COST > this.#budget) throw new TileStoreError(`the share would hold more than its ${this.#budget} bytes of tiles (budget for a ${g.width}x${g.height} screen)`);
      const h = videoHeader(msg.data);
      const held = compact(bytes);
      this.#heldBytes += held.byteLength;
      this.#heldEntries++;
      this.#pendingVideo.push({ bytes: held, stream: h.stream, seq: h.seq, key: h.key, end: h.end, rect: { x: msg.x, y: msg.y, w: msg.w, h: msg.h } });
      return s.r0 * cols + s.c0;
    }
    let copy: TileEntry['copy'] = null;
    if (msg.encoding === TileEncoding.Copy) {
      const src = copySource(msg);
      if (src.x + msg.w > g.width || src.y + msg.h > g.height) throw new TileStoreError(`copy from ${src.x},${src.y} reaches outside the ${g.width}x${g.height} screen`);
      copy = { x: msg.x, y: msg.y, w: msg.w, h: msg.h };
    }
    const cost = bytes.byteLength + ENTRY_COST;
    if (this.heldCost + cost > this.#budget) {
      this.#dropDeadPending();
      while (this.#history.length > 0 && this.heldCost + cost > this.#budget) this.#forgetOldestFrame();
      if (this.heldCost + cost > this.#budget) {
        throw new TileStoreError(`the share would hold more than its ${this.#budget} bytes of tiles (budget for a ${g.width}x${g.height} screen)`);
      }
    }
    const entry: TileEntry = { bytes: compact(bytes), version: 0, alive: 0, copy, ...((msg.flags & TILE_FLAG_ALT) !== 0 ? { alt: true } : {}) };
    this.#hold(entry);
    for (let r = s.r0; r <= s.r1; r++) {
      for (let c = s.c0; c <= s.c1; c++) {
        const i = r * cols + c;
        const old = this.#pending.get(i);
        if (old) old.alive--;
        this.#pending.set(i, entry);
        entry.alive++;
      }
    }
    // Tiles wholly overdrawn within the batch are dropped now and then, so a host that never ends its batch stays bounded.
    if (this.#pendingOrder.length >= 2 * this.#cells.length) this.#dropDeadPending();
    this.#pendingOrder.push(entry);
    return s.r0 * cols + s.c0;
  }

  /** The host's `frame` ends the batch: pending tiles become current. Returns the cells that changed. */
  commit(msg: FrameMsg, bytes: Uint8Array): number[] {
    const changed = [...this.#pending.keys()];
    const tiles: TileEntry[] = [];
    // Versions follow arrival order, so a later tile of the batch overdraws an earlier one on replay.
    for (const e of this.#pendingOrder) {
      if (e.alive > 0) {
        e.version = this.#nextVersion++;
        tiles.push(e);
      } else this.#release(e); // overdrawn within its own batch
    }
    for (const [index, entry] of this.#pending) {
      const old = this.#cells[index];
      this.#cells[index] = entry;
      if (!old || --old.alive > 0) continue;
      if (old.kept) this.#historyOnly += old.bytes.byteLength;
      else this.#release(old);
    }
    this.#pending.clear();
    this.#pendingOrder = [];
    this.#lastFrame = { seq: msg.seq, time: msg.time, bytes: compact(bytes), commit: ++this.#commits };
    this.#commitVideo(this.#commits);
    if (this.#historyFrames > 0) {
      for (const e of tiles) e.kept = true;
      this.#history.push({ commit: this.#commits, tiles });
      while (this.#history.length > this.#historyFrames || this.#historyOnly > this.#historyCap) this.#forgetOldestFrame();
    }
    return changed;
  }

  /**
   * The batch's video units join the track: a keyframe starts a new one, the next unit of the stream
   * extends it, an end unit ends it. Anything else (a gap, a unit of an unknown stream) drops the track
   * and asks the host for a keyframe, as does a track past its byte cap: a viewer is only ever sent a
   * run of units it can decode from its start.
   */
  #commitVideo(commit: number): void {
    for (const u of this.#pendingVideo) {
      const t = this.#video;
      this.#heldBytes -= u.bytes.byteLength;
      this.#heldEntries--;
      if (u.end) {
        if (t?.stream === u.stream) this.#dropVideo();
        continue;
      }
      if (u.key) {
        this.#dropVideo();
        this.#video = { stream: u.stream, rect: u.rect, units: [], bytes: 0 };
      } else if (!t || t.stream !== u.stream || t.units.at(-1)!.seq + 1 !== u.seq) {
        this.#dropVideo();
        this.#keyframeWanted = u.rect;
        continue;
      }
      const track = this.#video!;
      track.units.push({ bytes: u.bytes, seq: u.seq, commit });
      track.bytes += u.bytes.byteLength;
      this.#heldBytes += u.bytes.byteLength;
      this.#heldEntries++;
      if (track.bytes > this.#videoCap) {
        this.#dropVideo();
        this.#keyframeWanted = u.rect;
      }
    }
    this.#pendingVideo = [];
  }

  #dropVideo(): void {
    const t = this.#video;
    if (!t) return;
    this.#video = null;
    this.#heldBytes -= t.bytes;
    this.#heldEntries -= t.units.length;
  }

  /** The grid cells a Copy tile covers (empty for any other tile). */
  cellsOf(entry: TileEntry): number[] {
    const g = this.#grid;
    const r = entry.copy;
    if (!g || !r) return [];
    const ts = g.tileSize;
    const out: number[] = [];
    for (let row = r.y / ts; row < Math.min(g.rows, Math.ceil((r.y + r.h) / ts)); row++) {
      for (let col = r.x / ts; col < Math.min(g.cols, Math.ceil((r.x + r.w) / ts)); col++) out.push(row * g.cols + col);
    }
    return out;
  }

  /** The latest committed tile covering a cell. */
  entry(index: number): TileEntry | undefined {
    return this.#cells[index];
  }

  /** The bytes of the latest committed tile frame covering a cell. */
  tile(index: number): Uint8Array | undefined {
    return this.#cells[index]?.bytes;
  }

  /** Version of the cell's current tile (0 = never set); strictly increasing across all tiles. */
  version(index: number): number {
    return this.#cells[index]?.version ?? 0;
  }

  /**
   * The distinct tiles behind these cells, oldest first: sending them in this order rebuilds the cells.
   * Linear but for one numeric sort, so a whole 262,144-cell screen takes milliseconds, not a Set and a
   * comparator sort over objects (hundreds of milliseconds with the event loop held).
   */
  tilesFor(cells: Iterable<number>): TileEntry[] {
    const found: TileEntry[] = [];
    let min = Infinity;
    for (const i of cells) {
      const e = this.#cells[i];
      if (!e) continue;
      found.push(e);
      if (e.version < min) min = e.version;
    }
    // (version, position in `found`) packed in one double; versions are unique per entry, so a tile
    // that covers several cells shows up as neighbours with the same version, kept once.
    const keys = new Float64Array(found.length);
    for (let k = 0; k < found.length; k++) keys[k] = (found[k]!.version - min) * POSITIONS + k;
    keys.sort();
    const out: TileEntry[] = [];
    let last = -1;
    for (let k = 0; k < keys.length; k++) {
      const e = found[keys[k]! % POSITIONS]!;
      if (e.version !== last) out.push(e);
      last = e.version;
    }
    return out;
  }

  /**
   * Every tile committed after commit `since`, frame by frame in commit order, or null when the history
   * no longer holds all of those frames. Drawn in this order over the picture of commit `since`, they
   * give exactly the latest picture, Copy tiles included (each reads the picture of the frame before its
   * own, which the replay has just drawn).
   */
  tilesSince(since: number): TileEntry[] | null {
    const h = this.#history;
    if (since >= this.#commits) return since === this.#commits ? [] : null;
    if (h.length === 0 || h[0]!.commit > since + 1) return null;
    const out: TileEntry[] = [];
    for (const f of h) if (f.commit > since) for (const e of f.tiles) out.push(e);
    return out;
  }

  /** Indices of every cell that holds a tile, in grid order. */
  filledCells(): number[] {
    const out: number[] = [];
    const cells = this.#cells;
    for (let i = 0; i < cells.length; i++) if (cells[i] !== undefined) out.push(i);
    return out;
  }

  /** Bytes held (tiles, pending tiles, cursor): for stats and to check the memory bound. */
  byteSize(): number {
    return this.#heldBytes + (this.#screenBytes?.byteLength ?? 0) + (this.cursorShape?.byteLength ?? 0) + (this.cursorPos?.byteLength ?? 0);
  }

  /** Tiles held (committed + pending), never more than twice the number of cells. */
  entryCount(): number {
    return this.#distinct().size;
  }

  #distinct(): Set<TileEntry> {
    const set = new Set<TileEntry>();
    for (const t of this.#cells) if (t) set.add(t);
    for (const t of this.#pending.values()) set.add(t);
    return set;
  }

  clear(): void {
    this.#grid = null;
    this.#screenBytes = null;
    this.#cells = [];
    this.#pending.clear();
    this.#pendingOrder = [];
    this.#lastFrame = null;
    this.#history = [];
    this.#historyOnly = 0;
    this.#pendingVideo = [];
    this.#video = null;
    this.cursorShape = null;
    this.cursorPos = null;
    this.#heldBytes = 0;
    this.#heldEntries = 0;
  }

  #hold(entry: TileEntry): void {
    this.#heldBytes += entry.bytes.byteLength;
    this.#heldEntries++;
  }

  /** The store no longer references this entry (a viewer being sent it may, until it is sent). */
  #release(entry: TileEntry): void {
    this.#heldBytes -= entry.bytes.byteLength;
    this.#heldEntries--;
  }

  /** The oldest frame leaves the history: its tiles no cell shows any more are let go. */
  #forgetOldestFrame(): void {
    for (const e of this.#history.shift()?.tiles ?? []) {
      e.kept = false;
      if (e.alive > 0) continue;
      this.#historyOnly -= e.bytes.byteLength;
      this.#release(e);
    }
  }

  /** Forget pending tiles wholly overdrawn within the batch. */
  #dropDeadPending(): void {
    const keep: TileEntry[] = [];
    for (const e of this.#pendingOrder) {
      if (e.alive > 0) keep.push(e);
      else this.#release(e);
    }
    this.#pendingOrder = keep;
  }
}

/**
 * A received frame may be a view into a much larger socket read buffer; keeping that view would keep
 * the whole buffer alive for as long as the tile stays on screen, so such views are copied out.
 */
export function compact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : bytes.slice();
}

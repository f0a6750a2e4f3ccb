import type { ShareMessage } from '@baton/protocol';

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

/** A tile that does not fit the announced grid, or arrived before any screen. */
export class TileStoreError extends Error {
  override name = 'TileStoreError';
}

/**
 * The current shared screen as the latest encoded `tile` frame per grid cell (relayed byte for byte,
 * never re-encoded). Tiles of a batch are held apart until the host's `frame` ends the batch, so a
 * viewer is only ever sent whole frames. Memory is bounded by the grid: at most one committed and one
 * pending entry per cell, plus the cursor shape and position.
 *
 * A tile must cover exactly one grid cell: x and y on the grid, w and h the cell size (clipped at the
 * right and bottom edges). Anything else would leave part of a cell unknown to a late joiner.
 */
export class TileStore {
  #grid: ScreenGrid | null = null;
  #screenBytes: Uint8Array | null = null;
  #committed: (Uint8Array | undefined)[] = [];
  #versions: number[] = [];
  #pending = new Map<number, Uint8Array>();
  #nextVersion = 1;
  #lastFrame: CommittedFrame | null = null;
  #commits = 0;
  cursorShape: Uint8Array | null = null;
  cursorPos: Uint8Array | null = null;

  get grid(): ScreenGrid | null {
    return this.#grid;
  }
  get screenBytes(): Uint8Array | null {
    return this.#screenBytes;
  }
  get lastFrame(): CommittedFrame | null {
    return this.#lastFrame;
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
    this.#committed = new Array<Uint8Array | undefined>(cols * rows);
    this.#versions = new Array<number>(cols * rows).fill(0);
    this.#pending.clear();
    this.#lastFrame = null;
  }

  /** Grid index of a tile; throws TileStoreError when it does not cover exactly one cell. */
  indexOf(msg: TileMsg): number {
    const g = this.#grid;
    if (!g) throw new TileStoreError('tile before any screen');
    const { x, y, w, h } = msg;
    if (x + w > g.width || y + h > g.height) throw new TileStoreError(`tile ${w}x${h}+${x}+${y} outside the ${g.width}x${g.height} screen`);
    if (x % g.tileSize !== 0 || y % g.tileSize !== 0) throw new TileStoreError(`tile at ${x},${y} is not on the ${g.tileSize}px grid`);
    if (w !== Math.min(g.tileSize, g.width - x) || h !== Math.min(g.tileSize, g.height - y)) {
      throw new TileStoreError(`tile ${w}x${h} at ${x},${y} does not cover its ${g.tileSize}px grid cell`);
    }
    return (y / g.tileSize) * g.cols + x / g.tileSize;
  }

  /** Hold a tile of the batch in progress (replacing an earlier one for the same cell). Returns its index. */
  putTile(msg: TileMsg, bytes: Uint8Array): number {
    const index = this.indexOf(msg);
    this.#pending.set(index, compact(bytes));
    return index;
  }

  /** The host's `frame` ends the batch: pending tiles become current. Returns the cells that changed. */
  commit(msg: FrameMsg, bytes: Uint8Array): number[] {
    const changed = [...this.#pending.keys()];
    for (const [index, tile] of this.#pending) {
      this.#committed[index] = tile;
      this.#versions[index] = this.#nextVersion++;
    }
    this.#pending.clear();
    this.#lastFrame = { seq: msg.seq, time: msg.time, bytes: compact(bytes), commit: ++this.#commits };
    return changed;
  }

  /** The latest committed encoded tile frame of a cell. */
  tile(index: number): Uint8Array | undefined {
    return this.#committed[index];
  }

  /** Version of the cell's current tile (0 = never set); strictly increasing across all cells. */
  version(index: number): number {
    return this.#versions[index] ?? 0;
  }

  /** Indices of every cell that holds a tile, in grid order. */
  filledCells(): number[] {
    const out: number[] = [];
    this.#committed.forEach((t, i) => {
      if (t) out.push(i);
    });
    return out;
  }

  /** Bytes held (tiles, pending tiles, cursor): for stats and to check the memory bound. */
  byteSize(): number {
    let n = (this.#screenBytes?.byteLength ?? 0) + (this.cursorShape?.byteLength ?? 0) + (this.cursorPos?.byteLength ?? 0);
    for (const t of this.#committed) n += t?.byteLength ?? 0;
    for (const t of this.#pending.values()) n += t.byteLength;
    return n;
  }

  /** Entries held (committed + pending), never more than twice the number of cells. */
  entryCount(): number {
    return this.#committed.reduce((n, t) => n + (t ? 1 : 0), 0) + this.#pending.size;
  }

  clear(): void {
    this.#grid = null;
    this.#screenBytes = null;
    this.#committed = [];
    this.#versions = [];
    this.#pending.clear();
    this.#lastFrame = null;
    this.cursorShape = null;
    this.cursorPos = null;
  }
}

/**
 * A received frame may be a view into a much larger socket read buffer; keeping that view would keep
 * the whole buffer alive for as long as the tile stays on screen, so such views are copied out.
 */
export function compact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : bytes.slice();
}

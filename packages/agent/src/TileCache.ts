/**
 * The agent's copy of the screen as tiles: per cell, the newest self-contained tile that drew it. A new
 * path (a peer channel opening, the share moving to the server) gets the whole screen from here at once
 * instead of a fresh capture and encode of every cell (100-1000 ms of a 1080p rich screen, seconds at
 * high load: bench/late-joiner.mjs, peer case).
 *
 * Tiles that are not self-contained are not kept: a Copy refers to the receiver's previous picture, a
 * video unit needs the stream from its keyframe, and an ALT tile is the stream's stand-in. Their cells
 * (and cells only partly covered by a tile) are "missing": the snapshot leaves them to be encoded from
 * pixels again. Bounded in bytes: past the budget the oldest tiles are dropped (their cells go missing).
 */
import { TILE_FLAG_ALT, TileEncoding } from '@baton/protocol';
import type { TileMessage } from './VideoLayer.js';

type Entry = { tile: TileMessage; alive: number };

export class TileCache {
  #cols = 0;
  #rows = 0;
  #tileSize = 16;
  #width = 0;
  #height = 0;
  #owner: Array<Entry | null> = [];
  /** Insertion order is sending order: a snapshot replays them in that order, so newer tiles overdraw older. */
  #entries = new Set<Entry>();
  #bytes = 0;
  /** Byte budget (default: 4 bytes a pixel of the screen, 8 MB at 1080p). */
  #budget = 0;
  readonly #budgetOption: number | undefined;

  constructor(options: { budgetBytes?: number } = {}) {
    this.#budgetOption = options.budgetBytes;
  }

  /** Bytes of tile payload held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Forget everything (a new grid). */
  reset(width: number, height: number, tileSize: number): void {
    this.#width = width;
    this.#height = height;
    this.#tileSize = tileSize;
    this.#cols = Math.ceil(width / tileSize);
    this.#rows = Math.ceil(height / tileSize);
    this.#owner = new Array<Entry | null>(this.#cols * this.#rows).fill(null);
    this.#entries.clear();
    this.#bytes = 0;
    this.#budget = this.#budgetOption ?? width * height * 4;
  }

  /** Tiles as drawn by the viewers, in order. */
  note(tiles: readonly TileMessage[]): void {
    for (const t of tiles) this.#noteOne(t);
    while (this.#bytes > this.#budget && this.#entries.size > 0) this.#drop(this.#entries.values().next().value!);
  }

  /** Cells of a rectangle go missing (drawn by something not kept, e.g. a video unit). */
  forget(x: number, y: number, w: number, h: number): void {
    const s = this.#span(x, y, w, h);
    if (!s) return;
    for (let r = s.r0; r <= s.r1; r++) for (let c = s.c0; c <= s.c1; c++) this.#set(r * this.#cols + c, null);
  }

  /** The tiles that draw the screen as the viewers have it, in order, and the cells they leave out. */
  snapshot(): { tiles: TileMessage[]; missing: number[] } {
    const missing: number[] = [];
    for (let i = 0; i < this.#owner.length; i++) if (!this.#owner[i]) missing.push(i);
    return { tiles: [...this.#entries].map((e) => e.tile), missing };
  }

  #noteOne(t: TileMessage): void {
    const s = this.#span(t.x, t.y, t.w, t.h);
    if (!s) return;
    const keep = t.encoding !== TileEncoding.Copy && t.encoding !== TileEncoding.Video && (t.flags & TILE_FLAG_ALT) === 0;
    const entry: Entry | null = keep ? { tile: t, alive: 0 } : null;
    const ts = this.#tileSize;
    for (let r = s.r0; r <= s.r1; r++) {
      for (let c = s.c0; c <= s.c1; c++) {
        const x0 = c * ts, y0 = r * ts;
        // Whole cell (clipped to the screen) under the tile, or the tile only drew part of it.
        const whole = t.x <= x0 && t.y <= y0 && t.x + t.w >= Math.min(x0 + ts, this.#width) && t.y + t.h >= Math.min(y0 + ts, this.#height);
        this.#set(r * this.#cols + c, whole ? entry : null);
      }
    }
    if (entry && entry.alive > 0) {
      this.#entries.add(entry);
      this.#bytes += t.data.length;
    }
  }

  #set(i: number, e: Entry | null): void {
    const old = this.#owner[i];
    if (old === e) return;
    if (old && --old.alive === 0) this.#remove(old);
    this.#owner[i] = e;
    if (e) e.alive++;
  }

  #remove(e: Entry): void {
    if (this.#entries.delete(e)) this.#bytes -= e.tile.data.length;
  }

  /** Over budget: the oldest tile's cells go missing. */
  #drop(e: Entry): void {
    for (let i = 0; i < this.#owner.length && e.alive > 0; i++) if (this.#owner[i] === e) this.#set(i, null);
    this.#remove(e);
  }

  #span(x: number, y: number, w: number, h: number): { c0: number; r0: number; c1: number; r1: number } | null {
    if (w <= 0 || h <= 0 || this.#cols === 0) return null;
    const ts = this.#tileSize;
    const c0 = Math.max(0, Math.floor(x / ts)), r0 = Math.max(0, Math.floor(y / ts));
    const c1 = Math.min(this.#cols - 1, Math.floor((x + w - 1) / ts)), r1 = Math.min(this.#rows - 1, Math.floor((y + h - 1) / ts));
    return c0 > c1 || r0 > r1 ? null : { c0, r0, c1, r1 };
  }
}

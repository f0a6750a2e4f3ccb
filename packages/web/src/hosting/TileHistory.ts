/**
 * Per-cell memory that picks a tile's treatment: a cell that changed in two processed frames in a row is
 * in motion (sent lossy, cheap and small); a cell whose viewers hold a lossy picture gets a lossless
 * refinement once it has stayed still for `refineAfterMs`, so still text always ends up exact.
 * Pure bookkeeping, no pixels.
 */
export class TileHistory {
  readonly refineAfterMs: number;
  #frame = 0;
  /** Processed-frame number of each cell's last change (0 = never). */
  #changedIn = new Uint32Array(0);
  /** When each cell was last sent lossy (ms); 0 when the viewers hold exact pixels. */
  #lossyAt = new Float64Array(0);
  #lossyCount = 0;

  constructor(refineAfterMs: number) {
    this.refineAfterMs = refineAfterMs;
  }

  get lossyCount(): number {
    return this.#lossyCount;
  }

  reset(cells: number): void {
    this.#frame = 0;
    this.#changedIn = new Uint32Array(cells);
    this.#lossyAt = new Float64Array(cells);
    this.#lossyCount = 0;
  }

  /** Start of a processed frame. */
  nextFrame(): void {
    this.#frame++;
  }

  /** Record that a cell changed in this frame; true if it also changed in the previous one (motion). */
  changed(index: number): boolean {
    const moving = this.#frame > 1 && this.#changedIn[index] === this.#frame - 1;
    this.#changedIn[index] = this.#frame;
    return moving;
  }

  /** The cell was sent lossy at `now` (or exact, with now = 0). */
  sent(index: number, lossy: boolean, now: number): void {
    const was = this.#lossyAt[index]! > 0;
    this.#lossyAt[index] = lossy ? now : 0;
    if (was && !lossy) this.#lossyCount--;
    else if (!was && lossy) this.#lossyCount++;
  }

  /** Cells whose lossy picture has been still long enough to refine, excluding `skip` (changed right now). */
  due(now: number, skip?: ReadonlySet<number>): number[] {
    if (this.#lossyCount === 0) return [];
    const out: number[] = [];
    const at = this.#lossyAt;
    for (let i = 0; i < at.length; i++) {
      if (at[i]! > 0 && now - at[i]! >= this.refineAfterMs && !skip?.has(i)) out.push(i);
    }
    return out;
  }

  /** When the earliest refinement falls due (ms), or null when every cell is exact. */
  nextDueAt(): number | null {
    if (this.#lossyCount === 0) return null;
    let min = Infinity;
    for (const t of this.#lossyAt) if (t > 0 && t < min) min = t;
    return min === Infinity ? null : min + this.refineAfterMs;
  }
}

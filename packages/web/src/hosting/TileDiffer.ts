/**
 * Finds the grid cells whose pixels changed since they were last sent, by comparing the new capture
 * with a reference copy 32 bits (one RGBA pixel) at a time.
 *
 * The reference is never copied: after a diff every cell of the new capture is either unchanged (so
 * equal to the reference) or about to be sent, so the new capture simply becomes the reference and the
 * old reference buffer is handed back to be captured into next. Pure JS: runs in a worker, and in Node
 * for the unit tests.
 */

export interface TileRect {
  index: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface TileSummary {
  /** Every pixel has the same colour. */
  uniform: boolean;
  /** The first pixel's colour (RGBA as a little-endian 32-bit word: 0xAABBGGRR). */
  first: number;
  /**
   * Share of pixels equal to their left neighbour (0..1). Text and UI sit on flat backgrounds (0.6-1 in
   * captures measured at 1080p), photos and video are noisy (0.04-0.2); colour counts do not separate
   * them once the browser's 4:2:0 capture has smeared the colours of antialiased text.
   */
  flat: number;
}

export class TileDiffer {
  readonly tileSize: number;
  #width = 0;
  #height = 0;
  #cols = 0;
  #rows = 0;
  /** What the viewers were last sent, as source pixels (RGBA words). Empty until the first frame. */
  #ref: Uint32Array = new Uint32Array(0);
  #spare: Uint32Array = new Uint32Array(0);
  #haveRef = false;

  constructor(tileSize: number) {
    this.tileSize = tileSize;
  }

  get width(): number {
    return this.#width;
  }
  get height(): number {
    return this.#height;
  }
  get cols(): number {
    return this.#cols;
  }
  get rows(): number {
    return this.#rows;
  }
  get cellCount(): number {
    return this.#cols * this.#rows;
  }
  /** The reference pixels (what was sent); valid after the first diff. */
  get reference(): Uint32Array {
    return this.#ref;
  }

  /** New geometry: forget the reference, so every cell counts as changed on the next diff. */
  reset(width: number, height: number): void {
    this.#width = width;
    this.#height = height;
    this.#cols = Math.ceil(width / this.tileSize);
    this.#rows = Math.ceil(height / this.tileSize);
    const n = width * height;
    if (this.#ref.length !== n) {
      this.#ref = new Uint32Array(n);
      this.#spare = new Uint32Array(n);
    }
    this.#haveRef = false;
  }

  /** A buffer of width*height words to capture the next frame into. */
  captureBuffer(): Uint32Array {
    return this.#spare;
  }

  /**
   * Compare `frame` (normally the buffer from captureBuffer()) with the reference and adopt it as the new
   * reference. Returns the indices of the changed cells in grid order.
   */
  diff(frame: Uint32Array): number[] {
    if (frame.length !== this.#width * this.#height) throw new RangeError(`frame has ${frame.length} pixels, expected ${this.#width * this.#height}`);
    if (frame !== this.#spare) this.#spare.set(frame);
    frame = this.#spare;
    const changed: number[] = [];
    const n = this.cellCount;
    if (!this.#haveRef) {
      for (let i = 0; i < n; i++) changed.push(i);
    } else {
      const ref = this.#ref;
      const width = this.#width;
      for (let i = 0; i < n; i++) {
        const { x, y, w, h } = this.rect(i);
        let differs = false;
        for (let row = y; row < y + h && !differs; row++) {
          const start = row * width + x;
          const end = start + w;
          for (let o = start; o < end; o++) {
            if (frame[o] !== ref[o]) {
              differs = true;
              break;
            }
          }
        }
        if (differs) changed.push(i);
      }
    }
    // The new frame is the reference now; the old reference becomes the next capture buffer.
    this.#spare = this.#ref;
    this.#ref = frame;
    this.#haveRef = true;
    return changed;
  }

  rect(index: number): TileRect {
    const ts = this.tileSize;
    const x = (index % this.#cols) * ts;
    const y = Math.floor(index / this.#cols) * ts;
    return { index, x, y, w: Math.min(ts, this.#width - x), h: Math.min(ts, this.#height - y) };
  }

  /**
   * How a reference cell looks: uniform (→ Fill), else how flat (text/UI) or noisy (photo/video) it is.
   * With `measureFlat` false it stops at the first pixel that breaks uniformity (`flat` is then 0).
   */
  summarize(index: number, measureFlat = true): TileSummary {
    const { x, y, w, h } = this.rect(index);
    const px = this.#ref;
    const width = this.#width;
    const first = px[y * width + x]!;
    let uniform = true;
    let same = 0;
    for (let row = y; row < y + h; row++) {
      const start = row * width + x;
      let prev = px[start]!;
      if (prev !== first) uniform = false;
      for (let o = start + 1; o < start + w; o++) {
        const c = px[o]!;
        if (c === prev) same++;
        else uniform = false;
        prev = c;
      }
      if (!uniform && !measureFlat) return { uniform, first, flat: 0 };
    }
    const pairs = (w - 1) * h;
    return { uniform, first, flat: pairs > 0 ? same / pairs : 1 };
  }
}

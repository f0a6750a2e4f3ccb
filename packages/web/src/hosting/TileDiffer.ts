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

export interface ColourSummary {
  /** Every pixel has the same colour (RGBA as a little-endian 32-bit word: 0xAABBGGRR). */
  uniform: boolean;
  /** Distinct colours seen, up to `limit + 1` (counting stops there). */
  colours: number;
  /** The first pixel's colour. */
  first: number;
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
  /** Open-addressing set used by countColours, reused across calls. */
  #seenBits = 10;
  #seen = new Uint32Array(1 << 10);
  #seenStamp = new Uint32Array(1 << 10);
  #stamp = 0;

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

  /** Colour summary of a reference cell, counting distinct colours up to `limit` (then it stops early). */
  summarize(index: number, limit: number): ColourSummary {
    const { x, y, w, h } = this.rect(index);
    const px = this.#ref;
    const width = this.#width;
    const first = px[y * width + x]!;
    let uniform = true;
    // Most cells of a still screen are uniform or close to it: scan for the first different pixel cheaply.
    outer: for (let row = y; row < y + h; row++) {
      const start = row * width + x;
      for (let o = start; o < start + w; o++) {
        if (px[o] !== first) {
          uniform = false;
          break outer;
        }
      }
    }
    if (uniform) return { uniform, colours: 1, first };
    return { uniform, colours: this.#countColours(x, y, w, h, limit), first };
  }

  /** Distinct colours in a rectangle of the reference, stopping once more than `limit` were seen. */
  #countColours(x: number, y: number, w: number, h: number, limit: number): number {
    if (limit * 2 > this.#seen.length) {
      // Keep the table at most half full so probing stays short.
      this.#seenBits = Math.ceil(Math.log2(limit * 4));
      this.#seen = new Uint32Array(1 << this.#seenBits);
      this.#seenStamp = new Uint32Array(1 << this.#seenBits);
    }
    const mask = this.#seen.length - 1;
    const shift = 32 - this.#seenBits;
    const seen = this.#seen;
    const stamps = this.#seenStamp;
    // A stamp per use instead of clearing the table each call.
    const stamp = (this.#stamp = (this.#stamp + 1) >>> 0 || 1);
    const px = this.#ref;
    const width = this.#width;
    let count = 0;
    let last = -1;
    for (let row = y; row < y + h; row++) {
      const start = row * width + x;
      for (let o = start; o < start + w; o++) {
        const c = px[o]!;
        if (c === last) continue; // runs of one colour are the common case
        last = c;
        let slot = (Math.imul(c, 0x9e3779b1) >>> shift) & mask;
        for (;;) {
          if (stamps[slot] !== stamp) {
            stamps[slot] = stamp;
            seen[slot] = c;
            if (++count > limit) return count;
            break;
          }
          if (seen[slot] === c) break;
          slot = (slot + 1) & mask;
        }
      }
    }
    return count;
  }
}

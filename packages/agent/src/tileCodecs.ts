/**
 * Pixel helpers and the tile encoders. Frames hold X's BGRX pixels; every encoder takes packed RGB.
 * ZRgb (zlib of raw RGB rows) is the lossless default: on text and UI it is several times faster
 * than PNG through sharp at a similar size (measured in test/tileEncoder.test.ts).
 */
import { createDeflate, deflateSync, constants as zc } from 'node:zlib';
import sharp from 'sharp';
import { paletteBits, paletteRowBytes } from '@baton/protocol';
import type { FrameBuffer } from './ScreenCapture.js';

// Keep sharp from spinning up more threads than the machine has for tiny images.
sharp.cache(false);

/** Copy a tile's BGRX pixels into packed RGB. */
export function extractRgb(frame: FrameBuffer, x: number, y: number, w: number, h: number): Buffer {
  const src = frame.data;
  const wd = frame.stride % 4 === 0 ? words(src) : null;
  if (wd && w % 4 === 0) {
    // Four pixels (0xXXRRGGBB words) make three output words: 3 loads and 3 stores where the byte loop
    // below does 12 stores (extractRgb was 28% of the agent's CPU on video, feeding sharp its JPEGs).
    // Its own ArrayBuffer (offset 0, so word-aligned) and not zeroed: every byte is written below.
    const out = Buffer.allocUnsafeSlow(w * h * 3);
    const ow = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
    const ws = frame.stride >> 2;
    let o = 0;
    for (let row = 0; row < h; row++) {
      for (let i = (y + row) * ws + x, end = i + w; i < end; i += 4) {
        const p0 = wd[i]!, p1 = wd[i + 1]!, p2 = wd[i + 2]!, p3 = wd[i + 3]!;
        // Output bytes R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3, as little-endian words.
        ow[o++] = ((p0 >>> 16) & 0xff) | (p0 & 0xff00) | ((p0 & 0xff) << 16) | (((p1 >>> 16) & 0xff) << 24);
        ow[o++] = ((p1 >>> 8) & 0xff) | ((p1 & 0xff) << 8) | (p2 & 0xff0000) | (((p2 >>> 8) & 0xff) << 24);
        ow[o++] = (p2 & 0xff) | ((p3 >>> 8) & 0xff00) | ((p3 & 0xff00) << 8) | ((p3 & 0xff) << 24);
      }
    }
    return out;
  }
  const out = Buffer.allocUnsafe(w * h * 3);
  let o = 0;
  if (wd) {
    // One 32-bit load a pixel (0xXXRRGGBB) instead of three byte loads.
    const ws = frame.stride >> 2;
    for (let row = 0; row < h; row++) {
      for (let i = (y + row) * ws + x, end = i + w; i < end; i++) {
        const px = wd[i]!;
        out[o++] = px >>> 16;
        out[o++] = px >>> 8;
        out[o++] = px;
      }
    }
    return out;
  }
  for (let row = 0; row < h; row++) {
    let i = (y + row) * frame.stride + x * 4;
    for (let col = 0; col < w; col++, i += 4) {
      out[o++] = src[i + 2]!;
      out[o++] = src[i + 1]!;
      out[o++] = src[i]!;
    }
  }
  return out;
}

/** 32-bit words over a buffer of whole pixels, or null when it is not 4-byte aligned (then bytes are used). */
const wordViews = new WeakMap<Buffer, Uint32Array | null>();
export function words(b: Buffer): Uint32Array | null {
  let v = wordViews.get(b);
  if (v === undefined) {
    v = b.byteOffset % 4 === 0 && b.length % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, b.length >> 2) : null;
    wordViews.set(b, v);
  }
  return v;
}

/**
 * Whether the tile's pixels are the same in both buffers (which share the frame's geometry). A loop over
 * 32-bit pixels: at 16 px a row is 64 bytes, for which a native Buffer.compare call costs ~5x more.
 */
export function tileEquals(a: Buffer, b: Buffer, stride: number, x: number, y: number, w: number, h: number): boolean {
  const wa = words(a), wb = words(b);
  if (!wa || !wb || stride % 4 !== 0) {
    const n = w * 4;
    for (let row = 0; row < h; row++) {
      const off = (y + row) * stride + x * 4;
      if (a.compare(b, off, off + n, off, off + n) !== 0) return false;
    }
    return true;
  }
  const ws = stride >> 2;
  for (let row = 0; row < h; row++) {
    let i = (y + row) * ws + x;
    const end = i + w;
    for (; i < end; i++) if (wa[i] !== wb[i]) return false;
  }
  return true;
}

/** Two frame-sized buffers of one geometry, with their 32-bit views (`ws` pixels a row). */
export type PixelPair = { a: Buffer; wa: Uint32Array; b: Buffer; wb: Uint32Array; stride: number; ws: number };

export function pixelPair(a: Buffer, b: Buffer, stride: number): PixelPair | null {
  const wa = words(a), wb = words(b);
  return wa && wb && stride % 4 === 0 ? { a, wa, b, wb, stride, ws: stride >> 2 } : null;
}

/**
 * Below this many pixels a row a loop over 32-bit pixels is cheaper than Buffer.compare/copy, whose call
 * costs ~0.2 µs (measured: 16 px rows 2 ns/px in the loop, 6 natively; 1920 px rows 1.1 vs 0.2 ns/px).
 */
const NATIVE_ROW_PX = 64;

/**
 * The first row, from `fromRow` on, where the w×h block at (x, y) of `p.a` differs from the one at
 * (sx, sy) of `p.b`; h when the blocks are equal.
 */
export function firstDifferentRow(p: PixelPair, x: number, y: number, w: number, h: number, sx: number, sy: number, fromRow = 0): number {
  if (w >= NATIVE_ROW_PX) {
    const n = w * 4, stride = p.stride, a = p.a, b = p.b;
    for (let row = fromRow; row < h; row++) {
      const o = (y + row) * stride + x * 4, s = (sy + row) * stride + sx * 4;
      if (a.compare(b, s, s + n, o, o + n) !== 0) return row;
    }
    return h;
  }
  const wa = p.wa, wb = p.wb, ws = p.ws;
  for (let row = fromRow; row < h; row++) {
    let i = (y + row) * ws + x, j = (sy + row) * ws + sx;
    for (const end = i + w; i < end; i++, j++) if (wa[i] !== wb[j]) return row;
  }
  return h;
}

/** Copy a w×h block from `p.a` to the same place in `p.b`. */
export function copyBlock(p: PixelPair, x: number, y: number, w: number, h: number): void {
  if (w >= NATIVE_ROW_PX) {
    const n = w * 4, stride = p.stride;
    for (let row = 0; row < h; row++) {
      const o = (y + row) * stride + x * 4;
      p.a.copy(p.b, o, o, o + n);
    }
    return;
  }
  const wa = p.wa, wb = p.wb, ws = p.ws;
  for (let row = 0; row < h; row++) {
    let i = (y + row) * ws + x;
    for (const end = i + w; i < end; i++) wb[i] = wa[i]!;
  }
}

/** Copy a tile from one frame-sized buffer to another. */
export function copyTile(src: Buffer, dst: Buffer, stride: number, x: number, y: number, w: number, h: number): void {
  const ws = words(src), wd = words(dst);
  if (!ws || !wd || stride % 4 !== 0 || w >= 64) {
    const n = w * 4;
    for (let row = 0; row < h; row++) {
      const off = (y + row) * stride + x * 4;
      src.copy(dst, off, off, off + n);
    }
    return;
  }
  const wstride = stride >> 2;
  for (let row = 0; row < h; row++) {
    let i = (y + row) * wstride + x;
    const end = i + w;
    for (; i < end; i++) wd[i] = ws[i]!;
  }
}

export type TileClass = { kind: 'fill'; rgb: [number, number, number] } | { kind: 'few' | 'many'; colours: number };

// Scratch hash tables for counting colours; twice the largest limit keeps probing short. A slot is in use
// only when its stamp is the current call's, so no call pays for clearing the whole table (at 16 px cells
// that clearing cost more than the counting).
const SLOTS = 8192;
const table = new Int32Array(SLOTS);
const stamps = new Uint32Array(SLOTS);
const palIdx = new Uint16Array(SLOTS);
let stamp = 0;

function nextStamp(): number {
  stamp = (stamp + 1) >>> 0;
  if (stamp === 0) {
    stamps.fill(0);
    stamp = 1;
  }
  return stamp;
}

/**
 * Uniform colour, few colours (text, UI, flat graphics) or many (photo, video, gradients).
 * Counting stops as soon as `maxColours` is exceeded, so photo tiles cost little to classify.
 */
export function classifyTile(frame: FrameBuffer, x: number, y: number, w: number, h: number, maxColours: number): TileClass {
  // Past SLOTS / 2 colours the table would clog: such a limit means "never photo-like".
  const limit = maxColours >= SLOTS / 2 ? Infinity : maxColours;
  const colours = countColours(frame, x, y, w, h, maxColours);
  if (colours > limit) return { kind: 'many', colours };
  if (colours === 1) {
    const first = frame.data.readUInt32LE(y * frame.stride + x * 4);
    return { kind: 'fill', rgb: [(first >> 16) & 0xff, (first >> 8) & 0xff, first & 0xff] };
  }
  return { kind: 'few', colours };
}

/**
 * classifyTile() without the object: the distinct colours of the block, counting stopped once past
 * `maxColours` (1: a fill; more than `maxColours`: photo-like). The encoder's per-cell loop calls it
 * for thousands of cells a pass, where an object a cell was garbage to collect.
 */
export function countColours(frame: FrameBuffer, x: number, y: number, w: number, h: number, maxColours: number): number {
  const limit = maxColours >= SLOTS / 2 ? Infinity : maxColours;
  const wd = frame.stride % 4 === 0 ? words(frame.data) : null;
  return wd ? countColoursWords(wd, frame.stride >> 2, x, y, w, h, limit) : countColoursBytes(frame.data, frame.stride, x, y, w, h, limit);
}

/**
 * Distinct colours (0xRRGGBB) in a block of 32-bit pixels, counting stopped once past `limit` (or at
 * SLOTS / 2). A loop of its own, so V8 optimizes it whole.
 */
function countColoursWords(wd: Uint32Array, ws: number, x: number, y: number, w: number, h: number, limit: number): number {
  const st = nextStamp();
  let colours = 0;
  let last = -1;
  for (let row = 0; row < h; row++) {
    for (let i = (y + row) * ws + x, end = i + w; i < end; i++) {
      const px = wd[i]! & 0xffffff;
      if (px === last) continue;
      last = px;
      let slot = (Math.imul(px, 0x9e3779b1) >>> 20) & (SLOTS - 1);
      for (;;) {
        if (stamps[slot] !== st) {
          colours++;
          if (colours > limit || colours >= SLOTS / 2) return colours;
          stamps[slot] = st;
          table[slot] = px;
          break;
        }
        if (table[slot] === px) break;
        slot = (slot + 1) & (SLOTS - 1);
      }
    }
  }
  return colours;
}

function countColoursBytes(d: Buffer, stride: number, x: number, y: number, w: number, h: number, limit: number): number {
  const st = nextStamp();
  let colours = 0;
  let last = -1;
  for (let row = 0; row < h; row++) {
    let i = (y + row) * stride + x * 4;
    for (let col = 0; col < w; col++, i += 4) {
      const px = d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16);
      if (px === last) continue;
      last = px;
      let slot = (Math.imul(px, 0x9e3779b1) >>> 20) & (SLOTS - 1);
      for (;;) {
        if (stamps[slot] !== st) {
          colours++;
          if (colours > limit || colours >= SLOTS / 2) return colours;
          stamps[slot] = st;
          table[slot] = px;
          break;
        }
        if (table[slot] === px) break;
        slot = (slot + 1) & (SLOTS - 1);
      }
    }
  }
  return colours;
}

/**
 * Palette of a rectangle (≤ 256 colours) and its pixels as indices, or null when it has more colours.
 * The palette is packed RGB; indices are one byte per pixel, row by row.
 */
export function paletteOf(frame: FrameBuffer, x: number, y: number, w: number, h: number): { palette: Buffer; indices: Uint8Array } | null {
  const wd = frame.stride % 4 === 0 ? words(frame.data) : null;
  if (wd) return paletteOfWords(wd, frame.stride >> 2, x, y, w, h);
  const d = frame.data;
  const st = nextStamp();
  const palette = Buffer.allocUnsafe(256 * 3);
  const indices = new Uint8Array(w * h);
  let n = 0;
  let o = 0;
  let last = -1, lastIdx = 0;
  for (let row = 0; row < h; row++) {
    let i = (y + row) * frame.stride + x * 4;
    for (let col = 0; col < w; col++, i += 4) {
      const px = d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16);
      // Runs of one colour are the common case in text and UI: skip the hash.
      if (px === last) {
        indices[o++] = lastIdx;
        continue;
      }
      let slot = (Math.imul(px, 0x9e3779b1) >>> 20) & (SLOTS - 1);
      let idx: number;
      for (;;) {
        if (stamps[slot] !== st) {
          if (n === 256) return null;
          stamps[slot] = st;
          table[slot] = px;
          palIdx[slot] = n;
          palette[n * 3] = d[i + 2]!;
          palette[n * 3 + 1] = d[i + 1]!;
          palette[n * 3 + 2] = d[i]!;
          idx = n++;
          break;
        }
        if (table[slot] === px) {
          idx = palIdx[slot]!;
          break;
        }
        slot = (slot + 1) & (SLOTS - 1);
      }
      last = px;
      lastIdx = idx;
      indices[o++] = idx;
    }
  }
  return { palette: palette.subarray(0, n * 3), indices };
}

/** paletteOf() over 32-bit pixels (0xXXRRGGBB): one load a pixel. */
function paletteOfWords(wd: Uint32Array, ws: number, x: number, y: number, w: number, h: number): { palette: Buffer; indices: Uint8Array } | null {
  const st = nextStamp();
  const palette = Buffer.allocUnsafe(256 * 3);
  const indices = new Uint8Array(w * h);
  let n = 0;
  let o = 0;
  let last = -1, lastIdx = 0;
  for (let row = 0; row < h; row++) {
    for (let i = (y + row) * ws + x, end = i + w; i < end; i++) {
      const px = wd[i]! & 0xffffff;
      // Runs of one colour are the common case in text and UI: skip the hash.
      if (px === last) {
        indices[o++] = lastIdx;
        continue;
      }
      let slot = (Math.imul(px, 0x9e3779b1) >>> 20) & (SLOTS - 1);
      let idx: number;
      for (;;) {
        if (stamps[slot] !== st) {
          if (n === 256) return null;
          stamps[slot] = st;
          table[slot] = px;
          palIdx[slot] = n;
          palette[n * 3] = px >>> 16;
          palette[n * 3 + 1] = px >>> 8;
          palette[n * 3 + 2] = px;
          idx = n++;
          break;
        }
        if (table[slot] === px) {
          idx = palIdx[slot]!;
          break;
        }
        slot = (slot + 1) & (SLOTS - 1);
      }
      last = px;
      lastIdx = idx;
      indices[o++] = idx;
    }
  }
  return { palette: palette.subarray(0, n * 3), indices };
}

/** A cell's count when it had more colours than the limit it was counted with. */
const INCOMPLETE = 0xffff;
/** Colours kept per cell: a job's palette holds at most 256, so a cell with more can never be part of one. */
const CELL_CAP = 256;
let remapScratch = new Uint8Array(64 * CELL_CAP);

/**
 * Each cell's own palette and its pixels as indices into it, built once a pass and shared by the
 * classification (how many colours: photo-like or not) and the Palette tiles of the rectangles the cells
 * are merged into. A rectangle's palette is then the union of its cells' palettes (a few dozen colours
 * each, merged through the hash table) and its indices a lookup of each pixel's cell index: its pixels
 * are hashed once, not once to classify and again to encode (and a third time in part when a merged
 * rectangle turned out to hold more than 256 colours, which the union now tells before any pixel is read).
 *
 * Valid for one picture: `next()` whenever the pixels it was built from may have changed.
 */
export class CellPalettes {
  #pass = 1;
  #stamp: Uint32Array;
  #count: Uint16Array;
  #limit: Uint16Array;
  #colours: Uint32Array;
  /** Each pixel's index into its cell's palette (frame geometry, one byte a pixel). */
  #idx: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly tileSize: number,
  ) {
    const cols = Math.ceil(width / tileSize), rows = Math.ceil(height / tileSize);
    this.cols = cols;
    this.#stamp = new Uint32Array(cols * rows);
    this.#count = new Uint16Array(cols * rows);
    this.#limit = new Uint16Array(cols * rows);
    this.#colours = new Uint32Array(cols * rows * CELL_CAP);
    this.#idx = new Uint8Array(width * height);
  }

  readonly cols: number;

  /** Forget every cell (the picture changed). */
  next(): void {
    this.#pass = (this.#pass + 1) >>> 0;
    if (this.#pass === 0) {
      this.#stamp.fill(0);
      this.#pass = 1;
    }
  }

  /**
   * The cell's distinct colours, counting stopped once past `limit` (then more than `limit`: not
   * necessarily the exact count), built from `frame` unless already known this pass. Null when the
   * frame is not made of aligned 32-bit pixels (then countColours/paletteOf do the work).
   */
  count(frame: FrameBuffer, cell: number, limit: number): number | null {
    limit = Math.min(limit, CELL_CAP);
    if (this.#stamp[cell] === this.#pass) {
      const n = this.#count[cell]!;
      if (n !== INCOMPLETE) return n;
      if (this.#limit[cell]! >= limit) return this.#limit[cell]! + 1;
    }
    const wd = frame.stride % 4 === 0 && frame.width === this.width && frame.height === this.height ? words(frame.data) : null;
    if (!wd) return null;
    const ts = this.tileSize;
    const x = (cell % this.cols) * ts, y = Math.floor(cell / this.cols) * ts;
    const w = Math.min(ts, this.width - x), h = Math.min(ts, this.height - y);
    const n = this.#build(wd, frame.stride >> 2, cell, x, y, w, h, limit);
    this.#stamp[cell] = this.#pass;
    this.#limit[cell] = limit;
    this.#count[cell] = n > limit ? INCOMPLETE : n;
    return n;
  }

  #build(wd: Uint32Array, ws: number, cell: number, x: number, y: number, w: number, h: number, limit: number): number {
    const st = nextStamp();
    const colours = this.#colours, base = cell * CELL_CAP, idx = this.#idx, iw = this.width;
    let n = 0;
    let last = -1, lastIdx = 0;
    for (let row = 0; row < h; row++) {
      let o = (y + row) * iw + x;
      for (let i = (y + row) * ws + x, end = i + w; i < end; i++, o++) {
        const px = wd[i]! & 0xffffff;
        // Runs of one colour are the common case in text and UI: skip the hash.
        if (px === last) {
          idx[o] = lastIdx;
          continue;
        }
        let slot = (Math.imul(px, 0x9e3779b1) >>> 20) & (SLOTS - 1);
        let k: number;
        for (;;) {
          if (stamps[slot] !== st) {
            if (n === limit) return n + 1;
            stamps[slot] = st;
            table[slot] = px;
            palIdx[slot] = n;
            colours[base + n] = px;
            k = n++;
            break;
          }
          if (table[slot] === px) {
            k = palIdx[slot]!;
            break;
          }
          slot = (slot + 1) & (SLOTS - 1);
        }
        last = px;
        lastIdx = k;
        idx[o] = k;
      }
    }
    return n;
  }

  /**
   * paletteOf() for a rectangle of whole cells (columns c0..c1, rows r0..r1; pixels x, y, w, h clipped to
   * the screen), from the cells' palettes (built from `frame` where not yet known this pass). Null when
   * it has more than 256 colours; undefined when this cannot tell (frame not of aligned 32-bit pixels).
   */
  of(frame: FrameBuffer, c0: number, r0: number, c1: number, r1: number, x: number, y: number, w: number, h: number): { palette: Buffer; indices: Uint8Array } | null | undefined {
    const ncells = (c1 - c0 + 1) * (r1 - r0 + 1);
    // Every cell's palette first (each call may use the hash table), then their union.
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const n = this.count(frame, r * this.cols + c, CELL_CAP);
        if (n === null) return undefined;
        if (n > CELL_CAP) return null;
      }
    }
    if (remapScratch.length < ncells * CELL_CAP) remapScratch = new Uint8Array(ncells * CELL_CAP);
    const remap = remapScratch, colours = this.#colours;
    const st = nextStamp();
    const palette = Buffer.allocUnsafe(256 * 3);
    let n = 0;
    for (let r = r0, k = 0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++, k++) {
        const cell = r * this.cols + c, base = cell * CELL_CAP, count = this.#count[cell]!;
        for (let j = 0; j < count; j++) {
          const px = colours[base + j]!;
          let slot = (Math.imul(px, 0x9e3779b1) >>> 20) & (SLOTS - 1);
          for (;;) {
            if (stamps[slot] !== st) {
              if (n === 256) return null;
              stamps[slot] = st;
              table[slot] = px;
              palIdx[slot] = n;
              palette[n * 3] = px >>> 16;
              palette[n * 3 + 1] = px >>> 8;
              palette[n * 3 + 2] = px;
              remap[k * CELL_CAP + j] = n++;
              break;
            }
            if (table[slot] === px) {
              remap[k * CELL_CAP + j] = palIdx[slot]!;
              break;
            }
            slot = (slot + 1) & (SLOTS - 1);
          }
        }
      }
    }
    const indices = new Uint8Array(w * h);
    const idx = this.#idx, iw = this.width, ts = this.tileSize, span = c1 - c0 + 1;
    let o = 0;
    for (let row = 0; row < h; row++) {
      const k0 = Math.floor(row / ts) * span;
      let p = (y + row) * iw + x;
      for (let k = k0, col = 0; col < w; k++) {
        const rb = k * CELL_CAP;
        for (const end = Math.min(w, col + ts); col < end; col++) indices[o++] = remap[rb + idx[p++]!]!;
      }
    }
    return { palette: palette.subarray(0, n * 3), indices };
  }
}

/** Pack one-byte indices into rows of `paletteBits(colours)` bits per pixel, most significant first, rows padded to a byte. */
export function packIndices(indices: Uint8Array, w: number, h: number, colours: number): Uint8Array {
  const bits = paletteBits(colours);
  if (bits === 8) return indices;
  const rowBytes = paletteRowBytes(w, colours);
  const out = new Uint8Array(rowBytes * h);
  const perByte = 8 / bits;
  for (let row = 0; row < h; row++) {
    let i = row * w;
    let o = row * rowBytes;
    for (let col = 0; col < w; o++) {
      let byte = 0;
      for (let k = perByte - 1; k >= 0; k--, col++) byte |= (col < w ? indices[i++]! : 0) << (k * bits);
      out[o] = byte;
    }
  }
  return out;
}

/** A Palette tile payload: u8 (colours - 1), palette RGB, zlib of the packed indices. */
export async function encodePalette(palette: Buffer, indices: Uint8Array, w: number, h: number): Promise<Buffer> {
  const colours = palette.length / 3;
  const packed = packIndices(indices, w, h, colours);
  // Small inputs (typing, a clock) deflate harder for little time; larger ones (a dragged window,
  // scrolling text) fast. Measured on the palette tiles of the drag, doc and drag-textured replays
  // (bench/encode-replay): level 6 up to 1 KiB and 1 above cost 10-35% less deflate time than 9 / 6 / 1
  // (up to 1 / 4 KiB / above) for 1.5-3% more bytes; 9 on the smallest gained nothing over 6.
  const level = packed.length <= 1024 ? 6 : zc.Z_BEST_SPEED;
  const z = deflateSized(packed, level);
  const out = Buffer.allocUnsafe(1 + palette.length + z.length);
  out[0] = colours - 1;
  palette.copy(out, 1);
  z.copy(out, 1 + palette.length);
  return out;
}

export function encodeZRgb(rgb: Buffer, level: number = zc.Z_BEST_SPEED): Promise<Buffer> {
  return Promise.resolve(deflateSized(rgb, level));
}

/**
 * zlib on the calling thread, with the window and hash memory sized to the input. Measured on the agent
 * (bench/, drag at 1080p): the async form cost more main-thread time in stream set-up and callbacks than
 * the compression itself (tiles are small: 1-400 KB at level 1 takes 0.02-2 ms), and the thread hop added
 * latency; a 32 KiB window and 128 KiB of hash tables, zeroed per call, are wasted on a 2 KiB tile.
 *
 * One zlib stream per (level, window) is kept and reset after each tile (deflateReset) instead of a new
 * one per call (deflateSync: a JS object, a native handle, deflateInit's allocations, an error
 * listener): the same bytes for 4-70 µs less a tile (bench/encode-replay). That drives the handle
 * directly (`_handle.writeSync`, as Node's own deflateSync does inside); where it is not there the
 * public deflateSync runs instead.
 */
export function deflateSized(data: Uint8Array, level: number): Buffer {
  // The smallest window holding the whole input (zlib's minimum usable is 2^9); memLevel scales the hash.
  let windowBits = 9;
  while (windowBits < 15 && 1 << windowBits < data.length) windowBits++;
  const memLevel = Math.max(2, Math.min(8, windowBits - 6));
  return reusedDeflate(data, level, windowBits, memLevel) ?? deflateSync(data, { level, windowBits, memLevel });
}

/** The parts of a zlib stream's internals that deflateSync itself drives. */
type ZlibInternals = { _handle?: { writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void; reset(): void }; _writeState?: Uint32Array };

const streams = new Map<number, ZlibInternals | null>();
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

function reusedDeflate(data: Uint8Array, level: number, windowBits: number, memLevel: number): Buffer | null {
  const key = (level * 16 + windowBits) * 16 + memLevel;
  let z = streams.get(key);
  if (z === undefined) {
    const d = createDeflate({ level, windowBits, memLevel }) as unknown as ZlibInternals;
    z = d._handle && d._writeState && typeof d._handle.writeSync === 'function' && typeof d._handle.reset === 'function' ? d : null;
    streams.set(key, z);
  }
  if (!z) return null;
  const handle = z._handle!, state = z._writeState!;
  // Room for any input: deflate's worst case (stored blocks) is a few bytes per 16 KiB over the input.
  const room = data.length + (data.length >> 3) + 64;
  if (scratch.length < room) scratch = Buffer.allocUnsafeSlow(room);
  handle.writeSync(zc.Z_FINISH, data, 0, data.length, scratch, 0, scratch.length);
  const inputLeft = state[1]!, outputLeft = state[0]!;
  handle.reset();
  // Not finished in one call (cannot happen with that room): the public path does it from the start.
  if (inputLeft !== 0 || outputLeft === 0) return null;
  return Buffer.from(scratch.subarray(0, scratch.length - outputLeft));
}

export function encodePng(rgb: Buffer, w: number, h: number, compressionLevel = 1): Promise<Buffer> {
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel, adaptiveFiltering: false }).toBuffer();
}

/**
 * Lossless WebP (effort 0: libwebp's fastest): on a grainy photo about half the bytes of ZRgb for about
 * twice its CPU, off this thread (a 512x256 slideshow block: 154 KB in 21 ms against 301 KB in 11 ms).
 */
export function encodeWebpLossless(rgb: Buffer, w: number, h: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).webp({ lossless: true, effort: 0 }).toBuffer();
}

export function encodeJpeg(rgb: Buffer, w: number, h: number, quality: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
}

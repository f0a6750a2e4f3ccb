/**
 * Motion search: finds content that moved between what the viewers have (`prev`) and the new capture
 * (`cur`), so it can be sent as a Copy tile (a few bytes) instead of re-encoded pixels. Scrolled text and
 * a dragged window move by whole pixels in X, so the search is for exact matches:
 *
 * - a few distinctive changed cells ("features") are looked up in `prev`, first near the last pass's
 *   motion (motion continues, and changes speed little), then at every offset of a vertical band
 *   (scrolling, up to `rangeY`) and of a square (dragging, up to `range2d` each way), looking up only one
 *   pixel of prev in 256 among the feature's colours (see latticeScan);
 * - the offset most features agree on wins, if at least two do;
 * - the caller then keeps the largest rectangle of cells that match at that offset.
 *
 * The convention: motion (dx, dy) means cur[x, y] = prev[x - dx, y - dy].
 */
import type { FrameBuffer } from './ScreenCapture.js';
import { words } from './tileCodecs.js';

export type Motion = { dx: number; dy: number };
export type Block = { x: number; y: number; w: number; h: number };

export type MotionSearchOptions = {
  /** Largest vertical offset tried with dx = 0 (scrolling). */
  rangeY?: number;
  /** Largest offset each way tried in both directions (a dragged window), when nothing near the last motion matched. */
  range2d?: number;
  /** Matches beyond this many for one feature make it ambiguous (repeated text): it does not vote. */
  maxMatchesPerFeature?: number;
  /** How far from the last motion the first, quick search looks (each way); more for longer motion. */
  nearHint?: number;
  /**
   * When nothing matched within range2d, the square is searched again this far each way (0: not). The
   * caller sets it while a drag is in progress (there was motion lately).
   */
  wideRange2d?: number;
};

/** Whether block `b` of `cur` equals the block `d` back in `prev` (false when that is off the screen). */
export function blockMatches(cur: FrameBuffer, prev: Buffer, b: Block, d: Motion): boolean {
  const sx = b.x - d.dx, sy = b.y - d.dy;
  if (sx < 0 || sy < 0 || sx + b.w > cur.width || sy + b.h > cur.height) return false;
  const wc = words(cur.data), wp = words(prev);
  const ws = cur.stride >> 2;
  if (!wc || !wp) {
    for (let row = 0; row < b.h; row++) {
      const a = (b.y + row) * cur.stride + b.x * 4, s = (sy + row) * cur.stride + sx * 4;
      if (cur.data.compare(prev, s, s + b.w * 4, a, a + b.w * 4) !== 0) return false;
    }
    return true;
  }
  return wordsEqual(wc, wp, ws, b, sx, sy);
}

/** Block `b` of `wc` against the same-sized block at (sx, sy) of `wp` (32-bit pixels, `ws` per row). */
function wordsEqual(wc: Uint32Array, wp: Uint32Array, ws: number, b: Block, sx: number, sy: number): boolean {
  for (let row = 0; row < b.h; row++) {
    let i = (b.y + row) * ws + b.x, j = (sy + row) * ws + sx;
    const end = i + b.w;
    for (; i < end; i++, j++) if (wc[i] !== wp[j]) return false;
  }
  return true;
}

/**
 * The offset most features agree on, or null. `features` are blocks of `cur` that changed; `hint` is
 * where motion is expected (the last pass's, and that scaled to the time since: a window dragged at a
 * steady speed moves further when the passes are further apart, as on a loaded machine).
 */
export function findMotion(cur: FrameBuffer, prev: Buffer, features: Block[], hint: Motion | readonly Motion[] | null, options: MotionSearchOptions = {}): Motion | null {
  const wc = words(cur.data), wp = words(prev);
  if (!wc || !wp || cur.stride % 4 !== 0 || features.length === 0) return null;
  const hints = (hint === null ? [] : Array.isArray(hint) ? hint : [hint as Motion]).filter((h) => h.dx !== 0 || h.dy !== 0);
  const first = hints[0] ?? null;
  const rangeY = options.rangeY ?? 384, range2d = options.range2d ?? 64;
  const maxMatches = options.maxMatchesPerFeature ?? 2;
  const ws = cur.stride >> 2;
  // Each feature's key: a pixel unlike its first, compared before the whole block. Uniform blocks have
  // none and cannot vote.
  const keys = features.map((f) => {
    const first = wc[f.y * ws + f.x]!;
    for (let r = 0; r < f.h; r++) for (let c = 0; c < f.w; c++) if (wc[(f.y + r) * ws + f.x + c] !== first) return { kx: c, ky: r, px: wc[(f.y + r) * ws + f.x + c]!, first };
    return null;
  });
  const matchAt = (fi: number, dx: number, dy: number): boolean => {
    const ft = features[fi]!, fk = keys[fi]!;
    const sx = ft.x - dx, sy = ft.y - dy;
    if (sx < 0 || sy < 0 || sx + ft.w > cur.width || sy + ft.h > cur.height) return false;
    if (wp[(sy + fk.ky) * ws + sx + fk.kx] !== fk.px || wp[sy * ws + sx] !== fk.first) return false;
    return wordsEqual(wc, wp, ws, ft, sx, sy);
  };
  // Each feature's pixels by colour (positions j * w + i), built when the square search first needs
  // them; `most`: how many pixels the feature's commonest colour has.
  type ColourMap = { mask: number; colour: Uint32Array; head: Int32Array; next: Int32Array; most: number };
  const byColour: (ColourMap | undefined)[] = [];
  const colourMap = (fi: number): ColourMap => {
    let m = byColour[fi];
    if (m) return m;
    const ft = features[fi]!;
    // An open-addressed table (at most half full) of colour -> its first position, the rest chained.
    let size = 2;
    while (size < 2 * ft.w * ft.h) size <<= 1;
    m = { mask: size - 1, colour: new Uint32Array(size), head: new Int32Array(size).fill(-1), next: new Int32Array(ft.w * ft.h), most: 0 };
    const count = new Int32Array(size);
    for (let j = 0; j < ft.h; j++) {
      for (let i = 0; i < ft.w; i++) {
        const v = wc[(ft.y + j) * ws + ft.x + i]!, p = j * ft.w + i;
        let slot = (Math.imul(v, 0x9e3779b1) >>> 16) & m.mask;
        while (m.head[slot] !== -1 && m.colour[slot] !== v) slot = (slot + 1) & m.mask;
        m.colour[slot] = v;
        m.next[p] = m.head[slot]!;
        m.head[slot] = p;
        m.most = Math.max(m.most, ++count[slot]!);
      }
    }
    byColour[fi] = m;
    return m;
  };
  /**
   * latticeScan() as a scan of the key pixel's row in `prev`: one load and compare an offset, the rest
   * only where the key matches (through closures this loop was a tenth of the agent's CPU on video).
   */
  const keyScan = (fi: number, dyLo: number, dyHi: number, dxLo: number, dxHi: number, found: Motion[], max: number, skipDx0: boolean): boolean => {
    const ft = features[fi]!, fk = keys[fi]!;
    dxLo = Math.max(dxLo, ft.x + ft.w - cur.width);
    dxHi = Math.min(dxHi, ft.x);
    dyLo = Math.max(dyLo, ft.y + ft.h - cur.height);
    dyHi = Math.min(dyHi, ft.y);
    for (let dy = dyLo; dy <= dyHi; dy++) {
      const sy = ft.y - dy;
      const keyAt = (sy + fk.ky) * ws + ft.x + fk.kx, firstAt = sy * ws + ft.x;
      for (let dx = dxLo; dx <= dxHi; dx++) {
        if (wp[keyAt - dx] !== fk.px || (dx === 0 && (skipDx0 || dy === 0)) || wp[firstAt - dx] !== fk.first || !wordsEqual(wc, wp, ws, ft, ft.x - dx, sy)) continue;
        found.push({ dx, dy });
        if (found.length > max) return true;
      }
    }
    return false;
  };
  /**
   * Feature fi's matches at offsets dy in [dyLo, dyHi] and dx in [dxLo, dxHi] (never (0, 0), and no dx = 0
   * with `skipDx0`), pushed onto `found` in order of dy, then dx; true (stopped) once past `max`.
   * A block of prev at any offset contains exactly one pixel of the lattice of multiples of the feature's
   * size, so only the lattice's pixels are looked up among the feature's colours, and each hit (a
   * feature pixel of that colour) names one offset to test. Comparing a key pixel at every offset instead
   * was, over 513x513 offsets of 8 features (a drag that went further than 64 px between passes, as on
   * a loaded machine), most of the pass's classification; this costs one lookup per 256 offsets plus one
   * test per hit: a tenth of that or less for a many-coloured feature, at worst (one colour nearly
   * everywhere, in the feature and in prev: text on a page) more: latticeScan() picks the cheaper.
   */
  const lattice = (fi: number, dyLo: number, dyHi: number, dxLo: number, dxHi: number, found: Motion[], max: number, skipDx0: boolean): boolean => {
    const ft = features[fi]!, fk = keys[fi]!;
    dxLo = Math.max(dxLo, ft.x + ft.w - cur.width);
    dxHi = Math.min(dxHi, ft.x);
    dyLo = Math.max(dyLo, ft.y + ft.h - cur.height);
    dyHi = Math.min(dyHi, ft.y);
    if (dxLo > dxHi || dyLo > dyHi) return false;
    // The block's top left in prev: (sx, sy) = (ft.x - dx, ft.y - dy).
    const sxLo = ft.x - dxHi, sxHi = ft.x - dxLo, syLo = ft.y - dyHi, syHi = ft.y - dyLo;
    const { mask, colour, head, next } = colourMap(fi);
    const hits: number[] = [];
    for (let ly = Math.ceil(syLo / ft.h) * ft.h; ly <= syHi + ft.h - 1; ly += ft.h) {
      for (let lx = Math.ceil(sxLo / ft.w) * ft.w; lx <= sxHi + ft.w - 1; lx += ft.w) {
        const v = wp[ly * ws + lx]!;
        let slot = (Math.imul(v, 0x9e3779b1) >>> 16) & mask;
        while (head[slot] !== -1 && colour[slot] !== v) slot = (slot + 1) & mask;
        for (let p = head[slot]!; p !== -1; p = next[p]!) {
          const j = (p / ft.w) | 0;
          const sx = lx - (p - j * ft.w), sy = ly - j;
          if (sx < sxLo || sx > sxHi || sy < syLo || sy > syHi) continue;
          const dx = ft.x - sx, dy = ft.y - sy;
          if (dx === 0 && (skipDx0 || dy === 0)) continue;
          if (wp[(sy + fk.ky) * ws + sx + fk.kx] !== fk.px || !wordsEqual(wc, wp, ws, ft, sx, sy)) continue;
          hits.push((dy + 4096) * 8192 + (dx + 4096));
        }
      }
    }
    // Dy, then dx ascending: the votes' ties go to the offset counted first.
    hits.sort((a, b) => a - b);
    for (const h of hits) {
      found.push({ dx: (h % 8192) - 4096, dy: Math.floor(h / 8192) - 4096 });
      if (found.length > max) return true;
    }
    return false;
  };
  /**
   * Feature fi's matches at offsets dy in [dyLo, dyHi] and dx in [dxLo, dxHi] (never (0, 0), and no dx = 0
   * with `skipDx0`), pushed onto `found` in order of dy, then dx; true (stopped) once past `max`. By the
   * lattice where that costs less than a compare an offset: a lookup per lattice pixel plus (at worst,
   * prev of the feature's commonest colour) that colour's pixels, each test about two compares' work.
   */
  const latticeScan = (fi: number, dyLo: number, dyHi: number, dxLo: number, dxHi: number, found: Motion[], max: number, skipDx0: boolean): boolean => {
    const ft = features[fi]!;
    const offsets = (dxHi - dxLo + 1) * (dyHi - dyLo + 1);
    // Small squares (the near search's usual 25x25) are not worth the colour map.
    if (offsets >= 64 * 64) {
      const points = Math.ceil((dxHi - dxLo + ft.w) / ft.w) * Math.ceil((dyHi - dyLo + ft.h) / ft.h);
      if (points * (16 + colourMap(fi).most) < offsets) return lattice(fi, dyLo, dyHi, dxLo, dxHi, found, max, skipDx0);
    }
    return keyScan(fi, dyLo, dyHi, dxLo, dxHi, found, max, skipDx0);
  };
  // Motion tends to continue, at a speed that changes little from one pass to the next (a window
  // dragged along a curve): offsets near the expected motion are tried first, and taken when most
  // features agree on one of them. Only otherwise does the whole search run.
  if (hints.length > 0) {
    const near = new Map<number, number>();
    for (const h of hints) {
      // Further motion, less certain: the window grows with the distance (12 px at least).
      const r = Math.max(options.nearHint ?? 12, Math.min(48, Math.round(Math.hypot(h.dx, h.dy) / 4)));
      for (let fi = 0; fi < features.length; fi++) {
        if (!keys[fi]) continue;
        const found: Motion[] = [];
        latticeScan(fi, h.dy - r, h.dy + r, h.dx - r, h.dx + r, found, 64, false);
        for (const d of found) {
          const k = (d.dy + 4096) * 8192 + (d.dx + 4096);
          near.set(k, (near.get(k) ?? 0) + 1);
        }
      }
      let bestNear = -1, bestN = 0;
      for (const [k, n] of near) if (n > bestN) (bestNear = k), (bestN = n);
      // Two 16x16 blocks of many colours matching exactly at one offset is no accident; features that
      // match nowhere near (newly exposed background, the shadow's edge) do not count against it.
      if (bestN >= 2) return { dx: (bestNear % 8192) - 4096, dy: Math.floor(bestNear / 8192) - 4096 };
    }
  }
  const key = (d: Motion): number => (d.dy + 4096) * 8192 + (d.dx + 4096);
  const vote = (range: number): Motion | null => {
    const votes = new Map<number, number>();
    let voters = 0;
    for (let fi = 0; fi < features.length; fi++) {
      if (!keys[fi]) continue;
      const found: Motion[] = [];
      const tryAt = (dx: number, dy: number): boolean => {
        if (!matchAt(fi, dx, dy)) return false;
        found.push({ dx, dy });
        return found.length > maxMatches;
      };
      let ambiguous = false;
      if (first && tryAt(first.dx, first.dy)) ambiguous = true;
      for (let dy = 1; dy <= rangeY && !ambiguous; dy++) if (tryAt(0, dy) || tryAt(0, -dy)) ambiguous = true;
      // The square, but for its column dx = 0, which the band above searched.
      if (!ambiguous) ambiguous = latticeScan(fi, -range, range, -range, range, found, maxMatches, true);
      if (ambiguous || found.length === 0) continue;
      voters++;
      const seen = new Set<number>();
      for (const d of found) {
        const k = key(d);
        if (seen.has(k)) continue;
        seen.add(k);
        votes.set(k, (votes.get(k) ?? 0) + 1);
      }
    }
    let best: number | null = null, bestVotes = 0;
    for (const [k, n] of votes) if (n > bestVotes || (n === bestVotes && first && k === key(first))) (best = k), (bestVotes = n);
    if (best === null || bestVotes < Math.min(2, voters)) return null;
    return { dx: (best % 8192) - 4096, dy: Math.floor(best / 8192) - 4096 };
  };
  const found = vote(range2d);
  // A drag in progress that went further than the square since the last pass (passes far apart on a
  // busy machine): once more over a wider square. Only then, so content that never moves (video) does
  // not pay for it on every pass.
  const wide = options.wideRange2d ?? 0;
  if (found || wide <= range2d) return found;
  return vote(wide);
}

/**
 * The largest rectangle of marked cells (cols × rows grid), as inclusive cell bounds, or null.
 * The classic histogram method: O(cells).
 */
export function largestRectangle(mark: Uint8Array, cols: number, rows: number): { c0: number; r0: number; c1: number; r1: number; area: number } | null {
  const heights = new Int32Array(cols);
  let best: { c0: number; r0: number; c1: number; r1: number; area: number } | null = null;
  const stack: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) heights[c] = mark[r * cols + c] ? heights[c]! + 1 : 0;
    stack.length = 0;
    for (let c = 0; c <= cols; c++) {
      const h = c < cols ? heights[c]! : 0;
      while (stack.length > 0 && heights[stack[stack.length - 1]!]! >= h) {
        const top = stack.pop()!;
        const height = heights[top]!;
        const left = stack.length > 0 ? stack[stack.length - 1]! + 1 : 0;
        const area = height * (c - left);
        if (height > 0 && (!best || area > best.area)) best = { c0: left, r0: r - height + 1, c1: c - 1, r1: r, area };
      }
      stack.push(c);
    }
  }
  return best;
}

/**
 * Turns captured pixels into `tile` messages on a grid of cells.
 *
 * It keeps a copy of what the viewers were last sent, so a damaged cell whose pixels did not really
 * change costs nothing. Each changed cell is classified: one colour or few colours (text, UI) →
 * lossless; many colours (photo, video) → JPEG flagged lossy, and once such a cell has stayed still
 * for `refineAfterMs` a lossless refinement replaces it, so text that was sent blurry during motion
 * always ends up crisp.
 *
 * With `merge` (the default) neighbouring changed cells of the same kind are sent as one tile covering
 * a rectangle of whole cells: one JPEG for a moving photo or video instead of hundreds (sharp costs about
 * 0.25 ms per call whatever the size, and so does each image the viewer decodes), and one Palette or ZRgb
 * block per band of text. Lossless blocks use Palette (indexed colour) when they have at most 256
 * colours, which is smaller than ZRgb and cheaper for the viewer to inflate.
 */
import { TILE_FLAG_ALT, TILE_FLAG_LOSSY, TileEncoding, SHARE_LIMITS, copyPayload, copySource, type ShareMessage } from '@baton/protocol';
import type { FrameBuffer } from './ScreenCapture.js';
import type { Rect } from './monitors.js';
import { blockMatches, findMotion, largestRectangle, type Block, type Motion } from './motion.js';
import { FrameHasher } from './FrameHasher.js';
import { TileCache } from './TileCache.js';
import type { CellRect, VideoLayer } from './VideoLayer.js';
import { CellPalettes, classifyTile, copyBlock, countColours, copyTile, encodeJpeg, encodePalette, encodePng, encodeWebpLossless, encodeZRgb, extractRgb, firstDifferentRow, paletteOf, pixelPair, tileEquals, type PixelPair } from './tileCodecs.js';

/**
 * The grid the agent announces by default. Measured in bench/ (2 cores, 1080p): 16 px sends a typed
 * character for ~40% fewer bytes than 32 px (a changed cell is a quarter of the size), and since the
 * row prefilter and synchronous deflate, costs no more than 32 px on a dragged window.
 */
export const DEFAULT_TILE_SIZE = 16;

export type TileMessage = Extract<ShareMessage, { type: 'tile' }>;

export type TileEncoderOptions = {
  /** Grid size in pixels (16..256). */
  tileSize?: number;
  /** JPEG quality for photo-like tiles. */
  jpegQuality?: number;
  /** More distinct colours than this in a cell means photo-like (JPEG). */
  maxLosslessColours?: number;
  /** Lossless codec for text/UI: 'palette' (Palette up to 256 colours, else ZRgb), 'zrgb' or 'png'. */
  lossless?: 'palette' | 'zrgb' | 'png';
  /** Merge neighbouring changed cells of one kind into rectangles (default true). */
  merge?: boolean;
  /** Largest merged lossless rectangle, in pixels. */
  maxLosslessPixels?: number;
  /** Largest merged JPEG rectangle, in pixels. */
  maxLossyPixels?: number;
  /** A lossy tile unchanged this long gets a lossless refinement. */
  refineAfterMs?: number;
  /** Photo-like rectangles of at most this many pixels are sent losslessly (default 4096). */
  maxSmallLossyPixels?: number;
  /** Send content that moved (scrolling, a dragged window) as a Copy tile (default true). */
  motion?: boolean;
  /** Tiles encoded at once (JPEG runs on sharp's threads; deflate on this one, yielding every few ms). */
  concurrency?: number;
  /** At most this many cells refined per call, so a burst of lossless tiles cannot hog the link. */
  maxRefinePerPass?: number;
  /**
   * A refinement stops taking rectangles once its tiles hold this many bytes (default 96 KiB): a still
   * photo's lossless top-off (1-2 bytes a pixel with grain) goes over several passes, each small enough
   * not to hold up the next frame's fresh tiles; the cells left wait for the next pass.
   */
  refineBytesPerPass?: number;
  /** Regions that move at video rates go as a video stream to viewers that decode it (see VideoLayer). */
  video?: VideoLayer | null;
};

export type EncodeStats = {
  /** Cells looked at (damaged). */
  tiles: number;
  /** Damaged cells whose pixels had not changed. */
  unchanged: number;
  /** Tiles sent by kind (a merged tile counts once). */
  fill: number;
  lossless: number;
  lossy: number;
  bytes: number;
  ms: number;
  /** Of `ms`, the time to find and classify the changed cells (the rest is encoding). */
  classifyMs: number;
  /** Rectangles encoded (before any split). */
  jobs: number;
  /** Cells sent as one Copy tile (content that moved). */
  copied: number;
  /** Bytes of the Video tile of this pass (0: none). */
  videoBytes: number;
  /** Of `ms`, the time spent waiting for the video encoder (0 when it runs beside the passes, see VideoLayer.sink). */
  videoWaitMs: number;
};

/** A rectangle of whole cells: columns c0..c1, rows r0..r1 (inclusive), clipped to the screen in pixels. */
type Job = { x: number; y: number; w: number; h: number; c0: number; r0: number; c1: number; r1: number };

/** ALT: lossy, an alternative to the video stream for viewers without video (TILE_FLAG_ALT). */
const NONE = 0, LOSSLESS = 1, LOSSY = 2, ALT = 3;
/** Fewer changed cells than this is not worth a motion search (typing, a clock). */
const MIN_MOTION_CELLS = 8;
/** Longest stretch of encoding without letting other events through (ms). */
const YIELD_EVERY_MS = 4;
/** Distinctive changed cells looked up in the previous picture. */
const MAX_FEATURES = 8;
/** How far (px each way) the motion search looks while a drag is under way and the usual square found nothing. */
const WIDE_MOTION_RANGE = 256;
/** Without a drag under way, the wide search runs at most this often (ms). */
const WIDE_PROBE_MS = 500;
/** Distinctive changed cells a pass needs for that probe (a drag has many; typing one or two). */
const MIN_PROBE_FEATURES = 4;
/** Distinctive changed cells a pass without motion under way needs for the square search (see #findCopy). */
const MIN_SQUARE_FEATURES = 3;
/** Largest rectangle of a refinement (px): small enough that the byte budget of a pass is not overshot by much. */
const REFINE_JOB_PIXELS = 32 * 1024;
/** Photo-like lossless rectangles from this size (px) go as lossless WebP instead of ZRgb. */
const WEBP_MIN_PIXELS = 8 * 1024;

export class TileEncoder {
  readonly tileSize: number;
  readonly jpegQuality: number;
  readonly maxLosslessColours: number;
  readonly lossless: 'palette' | 'zrgb' | 'png';
  readonly merge: boolean;
  readonly maxLosslessPixels: number;
  readonly maxLossyPixels: number;
  readonly refineAfterMs: number;
  readonly maxSmallLossyPixels: number;
  readonly motion: boolean;
  readonly concurrency: number;
  readonly maxRefinePerPass: number;
  readonly refineBytesPerPass: number;
  #width = 0;
  #height = 0;
  #cols = 0;
  #rows = 0;
  #stride = 0;
  /** What the viewers have, pixel for pixel (BGRX, frame geometry). */
  #sent = Buffer.alloc(0);
  /** 1 once `#sent` holds the cell's pixels as sent. */
  #known = new Uint8Array(0);
  /** When a cell was last sent lossy; 0 when what the viewers have is exact. */
  #lossyAt = new Float64Array(0);
  #lossyCount = 0;
  /** 1: encode from pixels next time, never copy (see invalidate()). */
  #noCopy = new Uint8Array(0);
  /** Cells marked in `#noCopy`: while any is, no Copy tile is sent at all (see invalidate()). */
  #noCopyCount = 0;
  /** The last motion found (tried first, since motion tends to continue), when, and how long after the pass before it. */
  #lastMotion: Motion | null = null;
  #lastMotionAt = 0;
  #motionInterval = 0;
  /** When the last pass ran (its `now`), and when the wide motion search last ran without a drag under way. */
  #lastPassAt = 0;
  #lastWideProbe = -Infinity;
  lastStats: EncodeStats = emptyStats();
  /** Frame verification (debug mode): hashes what the viewers should show. */
  readonly #hasher = new FrameHasher();
  /** More colours than this in one cell is photo-like (JPEG while it moves). */
  readonly #photoColours: number;
  readonly video: VideoLayer | null;
  /** Each cell's palette, built once a pass for the classification and the Palette tiles (see CellPalettes). */
  #cells: CellPalettes | null = null;
  /** Per cell, the newest self-contained tile sent: a new path's whole screen without encoding it again (see snapshot()). */
  readonly cache = new TileCache();
  /** Resets (every cell encoded again) and snapshots served from the cache, for stats and tests. */
  readonly counts = { resets: 0, snapshots: 0, snapshotTiles: 0, snapshotMissing: 0 };

  constructor(options: TileEncoderOptions = {}) {
    this.tileSize = options.tileSize ?? DEFAULT_TILE_SIZE;
    if (this.tileSize < SHARE_LIMITS.minTileSize || this.tileSize > SHARE_LIMITS.maxTileSize) {
      throw new RangeError(`tile size ${this.tileSize} outside ${SHARE_LIMITS.minTileSize}..${SHARE_LIMITS.maxTileSize}`);
    }
    this.jpegQuality = options.jpegQuality ?? 50;
    this.maxLosslessColours = options.maxLosslessColours ?? 256;
    this.lossless = options.lossless ?? 'palette';
    this.merge = options.merge ?? true;
    // 128 Ki pixels: even incompressible ZRgb (3 bytes a pixel) stays under the 512 KiB payload bound.
    this.maxLosslessPixels = Math.min(options.maxLosslessPixels ?? 128 * 1024, 160 * 1024);
    this.maxLossyPixels = Math.min(options.maxLossyPixels ?? 512 * 1024, SHARE_LIMITS.maxTilePixels);
    this.refineAfterMs = options.refineAfterMs ?? 300;
    this.maxSmallLossyPixels = options.maxSmallLossyPixels ?? 4096;
    this.motion = options.motion ?? true;
    // Scaled to the cell: a 64 px cell holds 256 colours of text easily, a 32 px one rarely more than 64
    // (a dithered gradient behind a dragged window has more, and is far cheaper as JPEG).
    // Anti-aliased text in a 32 px cell reaches a few hundred colours; a photo cell nearly one per pixel.
    this.#photoColours = Math.min(this.maxLosslessColours, Math.max(48, (this.tileSize * this.tileSize) >> 2));
    // sharp costs ~0.25 ms per call whatever the size; more than 4 in flight gains nothing on 2 cores.
    this.concurrency = options.concurrency ?? 4;
    this.maxRefinePerPass = options.maxRefinePerPass ?? 1024;
    this.refineBytesPerPass = options.refineBytesPerPass ?? 96 * 1024;
    this.video = options.video ?? null;
  }

  /**
   * What the audience can use (the relay's `caps`). Returns the rectangle of a running stream whose
   * cells must be sent again as ALT tiles (someone without video just arrived), to be captured again.
   */
  setAudience(caps: { video: boolean; tiles: boolean }): CellRect | null {
    const v = this.video;
    if (!v) return null;
    const before = v.audience;
    v.audience = { video: caps.video, tiles: caps.tiles };
    const r = v.rect;
    if (!r || before.tiles || !caps.tiles) return null;
    for (let row = r.r0; row <= r.r1; row++) for (let c = r.c0; c <= r.c1; c++) this.#known[row * this.#cols + c] = 0;
    return r;
  }

  /** Forget what was sent (new screen geometry or new viewers): every tile goes out again. */
  reset(width: number, height: number): void {
    this.#width = width;
    this.#height = height;
    this.#stride = width * 4;
    this.#cols = Math.ceil(width / this.tileSize);
    this.#rows = Math.ceil(height / this.tileSize);
    const n = this.#cols * this.#rows;
    if (this.#sent.length !== this.#stride * height) this.#sent = Buffer.alloc(this.#stride * height);
    this.#known = new Uint8Array(n);
    this.#lossyAt = new Float64Array(n);
    this.#lossyCount = 0;
    this.#noCopy = new Uint8Array(n);
    this.#noCopyCount = 0;
    this.#lastMotion = null;
    this.#lastPassAt = 0;
    this.#hasher.reset(width, height, this.tileSize);
    this.cache.reset(width, height, this.tileSize);
    this.counts.resets++;
    // 10 MB at 1080p: kept across resets of the same geometry (a reset for new viewers).
    if (this.#cells && this.#cells.width === width && this.#cells.height === height) this.#cells.next();
    else this.#cells = width > 0 && height > 0 ? new CellPalettes(width, height, this.tileSize) : null;
    this.video?.reset(width, height, this.tileSize);
  }

  /**
   * Frame verification: the hash of the picture a viewer shows once it has drawn every tile sent since
   * the last reset, the last of them `tiles` (one whole frame), over the cells left lossless.
   */
  frameHash(tiles: readonly TileMessage[]): number {
    return this.#hasher.frameHash(this.#sentFrame(), tiles);
  }

  /**
   * Encode the changed cells among those the rectangles touch. With `onTiles`, the tiles are also handed
   * over as they are ready, in their final order (each once; together the list returned): the session
   * sends them while the rest are encoded, so the viewers receive and decode during the encode.
   */
  async encode(frame: FrameBuffer, rects: Rect[], now = Date.now(), onTiles?: (tiles: TileMessage[]) => void): Promise<TileMessage[]> {
    const t0 = performance.now();
    if (frame.width !== this.#width || frame.height !== this.#height) this.reset(frame.width, frame.height);
    // What the viewers have changes in this pass: the cells' palettes are built again.
    this.#cells?.next();
    const stats = emptyStats();
    const kinds = new Uint8Array(this.#cols * this.#rows);
    const colours = new Uint16Array(kinds.length);
    let changed = 0;
    const rowChanged = this.#changedRows(frame, rects);
    const damaged = this.#cellsIn(rects);
    const pair = pixelPair(frame.data, this.#sent, this.#stride);
    const changedCells: number[] = [];
    const c: Block = { x: 0, y: 0, w: 0, h: 0 };
    // Known cells in rows that changed may still be unchanged: compared run by run (see #matchRuns).
    const same = new Uint8Array(kinds.length);
    const maybe = new Uint8Array(kinds.length);
    for (const index of damaged) {
      stats.tiles++;
      if (!this.#known[index]) continue;
      this.#cellInto(index, c);
      if (!anyRowChanged(rowChanged, c.y, c.h)) same[index] = 1;
      else if (pair) maybe[index] = 1;
      else if (tileEquals(frame.data, this.#sent, this.#stride, c.x, c.y, c.w, c.h)) same[index] = 1;
    }
    if (pair) this.#matchRuns(pair, maybe, 0, 0, same);
    for (const index of damaged) {
      if (same[index]) stats.unchanged++;
      else changedCells.push(index);
    }
    // Moved content first, while `#sent` still holds what the viewers have.
    // A refresh is pending (a viewer could not use a Copy): this pass carries none, so the relay can give
    // that viewer a whole frame of pixels; another Copy would leave it behind again (see invalidate()).
    // While a stream runs, motion is looked for only among the cells outside it: the stream carries the
    // cells inside, and searching their ever-new pixels for a match was the video pass's largest CPU cost.
    const movable = this.#outsideStream(changedCells);
    const copy = this.motion && this.#noCopyCount === 0 && movable.length >= MIN_MOTION_CELLS ? this.#findCopy(frame, pair, damaged, movable, now) : null;
    // A pass without motion forgets it: near a stale hint, repeated text (table rows) can match two
    // features at a wrong offset (doc-slow replay: fewer cells copied); the wide probe finds a drag again.
    if (!copy) this.#lastMotion = null;
    this.#lastPassAt = now;
    // What the viewers will have: runs of changed cells copied row by row (one memcpy per row of a wide run).
    const changedMark = maybe;
    changedMark.fill(0);
    for (const index of changedCells) changedMark[index] = 1;
    this.#forRuns(changedMark, (r, c0, c1) => {
      const j = this.#job(c0, r, c1, r);
      if (pair) copyBlock(pair, j.x, j.y, j.w, j.h);
      else copyTile(frame.data, this.#sent, this.#stride, j.x, j.y, j.w, j.h);
    });
    // Inside a running video stream a changed cell is the stream's (or an ALT JPEG): no need to count its colours.
    const streaming = this.video?.rect ?? null;
    for (const index of changedCells) {
      this.#cellInto(index, c);
      this.#known[index] = 1;
      if (this.#noCopy[index]) this.#noCopyCount--;
      this.#noCopy[index] = 0;
      if (copy?.covers(index)) continue;
      if (streaming && inCells(streaming, index % this.#cols, Math.floor(index / this.#cols))) {
        kinds[index] = LOSSY;
        colours[index] = 0xffff;
        changed++;
        continue;
      }
      // The cell's palette, kept for its Palette tile (frame's pixels here are `#sent`'s, copied above).
      const n = this.#cells?.count(frame, index, this.#photoColours) ?? countColours(frame, c.x, c.y, c.w, c.h, this.#photoColours);
      kinds[index] = n > this.#photoColours ? LOSSY : LOSSLESS;
      colours[index] = n;
      changed++;
    }
    // The grid passes below look only at the rows with changed cells (no other cell has a kind): a strip
    // or a typed character costs a few rows, not the 68 of a 1080p grid at 16 px, on every pass.
    let rLo = this.#rows, rHi = -1;
    for (const index of changedCells) {
      const r = Math.floor(index / this.#cols);
      if (r < rLo) rLo = r;
      if (r > rHi) rHi = r;
    }
    if (this.merge && changed > 1) this.#absorb(kinds, colours, rLo, rHi);
    if (this.merge && changed > 1) this.#bridge(kinds, rLo, rHi);
    // The video layer: the moving region's changed cells go in the stream (and as ALT tiles for viewers without video).
    const vrect = this.video ? this.#planVideo(kinds, changedMark, now, copy) : null;
    const videoDue = vrect !== null && this.#anyIn(changedMark, vrect);
    const jobs = changed === 0 ? [] : this.#rectangles(kinds, rLo, rHi);
    // A small photo-like rectangle (the edge of a shadow, an icon) costs a JPEG call (~0.3 ms in sharp)
    // and ~600 bytes of JPEG tables whatever its size: lossless is as small there, cheaper, and exact at once.
    for (const job of jobs) {
      if (kinds[job.r0 * this.#cols + job.c0] !== LOSSY || job.w * job.h > this.maxSmallLossyPixels) continue;
      for (let r = job.r0; r <= job.r1; r++) for (let c = job.c0; c <= job.c1; c++) kinds[r * this.#cols + c] = LOSSLESS;
    }
    for (let i = Math.max(0, rLo) * this.#cols, end = (rHi + 1) * this.#cols; i < end; i++) {
      const k = kinds[i];
      if (k !== NONE) this.#setLossy(i, k === LOSSY || k === ALT ? now : 0);
    }
    stats.classifyMs = performance.now() - t0;
    stats.jobs = jobs.length;
    const sentFrame = this.#sentFrame();
    // A stream that ended says so first, then the Copy tile: it reads the picture as it was before this frame.
    const head: TileMessage[] = [];
    const end = this.video?.takeEnd();
    if (end) head.push(end);
    if (copy) {
      head.push(copy.tile);
      stats.copied = copy.cells;
    }
    if (onTiles && head.length > 0) onTiles(head);
    const out = await this.#run(jobs, async (job) => {
      const kind = kinds[job.r0 * this.#cols + job.c0];
      if (kind === LOSSY || kind === ALT) {
        stats.lossy++;
        return this.#encodeJpeg(sentFrame, job, kind === ALT ? TILE_FLAG_LOSSY | TILE_FLAG_ALT : TILE_FLAG_LOSSY);
      }
      const ts = await this.#encodeLossless(sentFrame, job, colours);
      for (const t of ts) {
        if (t.encoding === TileEncoding.Fill) stats.fill++;
        else stats.lossless++;
      }
      return ts;
    }, undefined, onTiles && ((done) => {
      const ts = done.flat();
      if (ts.length > 0) onTiles(ts);
    }));
    const tiles = [...head, ...out.flat()];
    // The video unit comes last (it overdraws its whole rectangle).
    if (videoDue && this.video!.sink) {
      // Encoded beside the passes: the unit goes to the sink when done, and this pass does not wait for it.
      this.video!.submit(sentFrame, now);
      this.cache.note(tiles);
      this.cache.forget(vrect.c0 * this.tileSize, vrect.r0 * this.tileSize, (vrect.c1 - vrect.c0 + 1) * this.tileSize, (vrect.r1 - vrect.r0 + 1) * this.tileSize);
      for (let r = vrect.r0; r <= vrect.r1; r++) for (let c = vrect.c0; c <= vrect.c1; c++) this.#setLossy(r * this.#cols + c, now);
    } else if (videoDue) {
      const tv = performance.now();
      const unit = await this.video!.encode(sentFrame, now);
      stats.videoWaitMs = performance.now() - tv;
      if (unit) {
        tiles.push(unit);
        onTiles?.([unit]);
        stats.videoBytes = unit.data.length;
      }
      // The whole rectangle is the stream's approximation now: refined once the stream has ended. Without a
      // unit after all (the encoder failed and the layer is off, or the stream was reset meanwhile) the
      // viewers do not have this pass's changes there: the refinement sends them as lossless tiles.
      for (let r = vrect.r0; r <= vrect.r1; r++) for (let c = vrect.c0; c <= vrect.c1; c++) this.#setLossy(r * this.#cols + c, now);
    }
    // (With a unit encoded beside the passes, its rectangle was noted above, after this pass's tiles.)
    if (!(videoDue && this.video!.sink)) this.cache.note(tiles);
    stats.bytes = tiles.reduce((n, t) => n + t.data.length, 0);
    stats.ms = performance.now() - t0;
    this.lastStats = stats;
    return tiles;
  }

  /**
   * The viewers' copy of this rectangle is not to be trusted (the relay could not give a viewer a Copy
   * tile): its cells are encoded from pixels, not copied, the next time they are captured, and that pass
   * sends no Copy anywhere. The relay holds such a viewer's frames back until it can send it a whole
   * picture; during continuous motion every pass has a Copy, so without a Copy-free pass the viewer
   * would wait for the motion to stop.
   */
  invalidate(x: number, y: number, w: number, h: number): void {
    for (const i of this.#cellsUnder(x, y, w, h)) {
      this.#known[i] = 0;
      if (!this.#noCopy[i]) this.#noCopyCount++;
      this.#noCopy[i] = 1;
    }
  }

  /** Whether the viewers were sent every cell under a block's source (after a reset they have nothing to copy from). */
  #sourceKnown(b: Block, d: Motion): boolean {
    const sx = b.x - d.dx, sy = b.y - d.dy;
    if (sx < 0 || sy < 0 || sx + b.w > this.#width || sy + b.h > this.#height) return false;
    // Plain loops, not #cellsUnder(): this runs for every damaged cell of a pass with motion.
    const s = this.#span(sx, sy, b.w, b.h);
    for (let r = s.r0; r <= s.r1; r++) for (let c = s.c0; c <= s.c1; c++) if (!this.#known[r * this.#cols + c]) return false;
    return true;
  }

  /** Calls `fn` for each run of marked cells in a grid row (row, first and last column). */
  #forRuns(mark: Uint8Array, fn: (r: number, c0: number, c1: number) => void): void {
    const cols = this.#cols;
    for (let r = 0, base = 0; r < this.#rows; r++, base += cols) {
      for (let c = 0; c < cols; c++) {
        if (!mark[base + c]) continue;
        let c1 = c;
        while (c1 + 1 < cols && mark[base + c1 + 1]) c1++;
        fn(r, c, c1);
        c = c1;
      }
    }
  }

  /**
   * Sets out[i] for the candidate cells whose pixels in `pair.a` equal those (dx, dy) back in `pair.b`.
   * Each run of candidates in a grid row is compared whole, one pixel row at a time (a memcmp per row
   * when the run is wide), and only a run that differs is halved, its halves compared from the row where
   * the run first differed: a scrolled page or an unchanged margin costs a few native compares per band
   * of cells instead of a loop per cell (what it replaced cost 2 ns a pixel).
   */
  #matchRuns(pair: PixelPair, candidates: Uint8Array, dx: number, dy: number, out: Uint8Array): void {
    this.#forRuns(candidates, (r, c0, c1) => this.#matchRun(pair, r, c0, c1, dx, dy, 0, out));
  }

  #matchRun(pair: PixelPair, r: number, c0: number, c1: number, dx: number, dy: number, fromRow: number, out: Uint8Array): void {
    const ts = this.tileSize;
    const x = c0 * ts, y = r * ts;
    const w = Math.min((c1 + 1) * ts, this.#width) - x, h = Math.min(y + ts, this.#height) - y;
    const row = firstDifferentRow(pair, x, y, w, h, x - dx, y - dy, fromRow);
    if (row === h) {
      for (let i = r * this.#cols + c0, end = r * this.#cols + c1; i <= end; i++) out[i] = 1;
      return;
    }
    if (c0 === c1) return;
    const m = (c0 + c1) >> 1;
    this.#matchRun(pair, r, c0, m, dx, dy, row, out);
    this.#matchRun(pair, r, m + 1, c1, dx, dy, row, out);
  }

  /** The cells a pixel rectangle touches, as inclusive column and row bounds (clipped to the screen). */
  #span(x: number, y: number, w: number, h: number): { c0: number; r0: number; c1: number; r1: number } {
    const ts = this.tileSize;
    return {
      c0: Math.max(0, Math.floor(x / ts)),
      r0: Math.max(0, Math.floor(y / ts)),
      c1: Math.min(this.#cols - 1, Math.floor((x + w - 1) / ts)),
      r1: Math.min(this.#rows - 1, Math.floor((y + h - 1) / ts)),
    };
  }

  /** Grid indices of the cells a pixel rectangle touches. */
  *#cellsUnder(x: number, y: number, w: number, h: number): Generator<number> {
    const s = this.#span(x, y, w, h);
    for (let r = s.r0; r <= s.r1; r++) for (let c = s.c0; c <= s.c1; c++) yield r * this.#cols + c;
  }

  /**
   * One Copy tile for content that moved: the motion most changed cells agree on, then the largest
   * rectangle of damaged cells whose pixels are exactly the viewers' pixels that far back. Null when
   * nothing moved, or too little to be worth it.
   */
  #findCopy(frame: FrameBuffer, pair: PixelPair | null, damaged: Int32Array, changedCells: number[], now: number): { tile: TileMessage; cells: number; covers(index: number): boolean; overdraws(index: number): boolean } | null {
    const features: Block[] = [];
    const step = Math.max(1, Math.floor(changedCells.length / (4 * MAX_FEATURES)));
    for (let k = 0; k < changedCells.length && features.length < MAX_FEATURES; k += step) {
      const c = this.#cell(changedCells[k]!);
      if (c.w === this.tileSize && c.h === this.tileSize && countColours(frame, c.x, c.y, c.w, c.h, 8) > 8) features.push(c);
    }
    // The wide search runs while a drag is under way, and otherwise at most every WIDE_PROBE_MS (a drag that
    // starts with a big step on a busy machine is found then; content that never moves, such as video,
    // pays for it once in a while, not on every pass).
    // (Not on the first pass after a reset: the viewers have nothing to copy from.)
    // The probe without a drag under way wants a few distinctive cells: a dragged window has many, while a
    // typed character (one or two cells of text beside a repainted clock or caret) has one or two, and a
    // probe over 513x513 offsets for them was a fifth of the agent's CPU on the typing workload.
    const wide = this.#lastMotion !== null || (this.#lastPassAt > 0 && features.length >= MIN_PROBE_FEATURES && now - this.#lastWideProbe >= WIDE_PROBE_MS);
    if (wide && !this.#lastMotion) this.#lastWideProbe = now;
    const hints = this.#motionHints(now);
    // Likewise the square around each feature (a window starting to move): without motion under way it
    // wants a few distinctive cells too. A typed character's one or two searched 129x129 offsets each on
    // every pass (~9% of the agent's CPU on typing); the vertical band (scrolling, a line pushed down) stays.
    const square = hints.length > 0 || features.length >= MIN_SQUARE_FEATURES;
    const options = { ...(wide ? { wideRange2d: WIDE_MOTION_RANGE } : {}), ...(square ? {} : { range2d: 0 }) };
    let motion = findMotion(frame, this.#sent, features, hints, options);
    let found = motion && this.#copyRect(motion, pair, frame, damaged, changedCells);
    // Near a hint, repeated text (table rows, a list) can match two features at a wrong offset that then
    // copies almost nothing: the whole search, without hints, has the last word.
    if (!found && hints.length > 0) {
      const again = findMotion(frame, this.#sent, features, null, options);
      if (again && (again.dx !== motion?.dx || again.dy !== motion?.dy)) {
        motion = again;
        found = this.#copyRect(again, pair, frame, damaged, changedCells);
      }
    }
    if (!motion || !found) return null;
    const { rect, inRect, copied } = found;
    this.#motionInterval = this.#lastPassAt > 0 ? now - this.#lastPassAt : 0;
    this.#lastMotion = motion;
    this.#lastMotionAt = now;
    const job = this.#job(rect.c0, rect.r0, rect.c1, rect.r1);
    const src = { x: job.x - motion.dx, y: job.y - motion.dy };
    // Copied from pixels the viewers only have approximately (JPEG not yet refined): still approximate.
    // Only the cells the Copy really provides count: the others in its rectangle are overdrawn by this
    // frame's own tiles (see #copyRect).
    let lossy = false;
    const c: Block = { x: 0, y: 0, w: 0, h: 0 };
    for (let r = rect.r0; r <= rect.r1 && !lossy; r++) {
      for (let col = rect.c0; col <= rect.c1 && !lossy; col++) {
        const i = r * this.#cols + col;
        if (!inRect(i)) continue;
        this.#cellInto(i, c);
        const s = this.#span(c.x - motion.dx, c.y - motion.dy, c.w, c.h);
        for (let sr = s.r0; sr <= s.r1; sr++) for (let sc = s.c0; sc <= s.c1; sc++) if (this.#lossyAt[sr * this.#cols + sc]! > 0) lossy = true;
      }
    }
    for (const i of this.#cellsUnder(job.x, job.y, job.w, job.h)) if (inRect(i)) this.#setLossy(i, lossy ? now : 0);
    return {
      tile: tile(job, TileEncoding.Copy, lossy ? TILE_FLAG_LOSSY : 0, copyPayload(src.x, src.y)),
      cells: copied,
      covers: inRect,
      overdraws: (i) => {
        const col = i % this.#cols, r = Math.floor(i / this.#cols);
        return !inRect(i) && col >= rect.c0 && col <= rect.c1 && r >= rect.r0 && r <= rect.r1;
      },
    };
  }

  /**
   * The rectangle of the Copy tile for `motion`, and which of its cells it provides (`inRect`): damaged
   * cells that are exactly the viewers' pixels `motion` back. The rectangle may also span changed cells
   * that do not match (a gradient heading re-rendered at its new place, a caret): this frame's own tiles
   * overdraw them after the Copy, as they would have to anyway, so one band that changed does not cut a
   * scrolled page in two, with only the larger half copied and the other re-encoded. It is the largest
   * rectangle of matching cells, or the largest of matching-or-overdrawn cells when that copies clearly more.
   * Null when nothing moved, or too little to be worth a Copy tile.
   */
  #copyRect(motion: Motion, pair: PixelPair | null, frame: FrameBuffer, damaged: Int32Array, changedCells: number[]): { rect: { c0: number; r0: number; c1: number; r1: number; area: number }; inRect(i: number): boolean; copied: number } | null {
    const marks = new Uint8Array(this.#cols * this.#rows);
    const candidates = new Uint8Array(marks.length);
    const c: Block = { x: 0, y: 0, w: 0, h: 0 };
    for (const index of damaged) {
      if (this.#noCopy[index]) continue;
      this.#cellInto(index, c);
      if (!this.#sourceKnown(c, motion)) continue;
      if (pair) candidates[index] = 1;
      else if (blockMatches(frame, this.#sent, c, motion)) marks[index] = 1;
    }
    // A run of cells whose sources are all on the screen has its source on the screen too.
    if (pair) this.#matchRuns(pair, candidates, motion.dx, motion.dy, marks);
    const maxCells = Math.floor(SHARE_LIMITS.maxTileSide / this.tileSize);
    const clip = (rect: { c0: number; r0: number; c1: number; r1: number; area: number }): typeof rect => {
      rect.c1 = Math.min(rect.c1, rect.c0 + maxCells - 1);
      rect.r1 = Math.min(rect.r1, rect.r0 + maxCells - 1);
      rect.area = (rect.c1 - rect.c0 + 1) * (rect.r1 - rect.r0 + 1);
      return rect;
    };
    /** Changed cells the Copy provides inside `rect`. */
    const moved = (rect: { c0: number; r0: number; c1: number; r1: number }): number => {
      let n = 0;
      for (const i of changedCells) {
        const col = i % this.#cols, r = Math.floor(i / this.#cols);
        if (marks[i] && col >= rect.c0 && col <= rect.c1 && r >= rect.r0 && r <= rect.r1) n++;
      }
      return n;
    };
    let rect = largestRectangle(marks, this.#cols, this.#rows);
    if (!rect) return null;
    rect = clip(rect);
    let best = moved(rect);
    // Changed cells that do not match but have their source on the screen may lie inside the rectangle.
    const spanning = candidates;
    spanning.set(marks);
    let overdrawn = 0;
    for (const i of changedCells) {
      if (marks[i] || this.#noCopy[i]) continue;
      this.#cellInto(i, c);
      const sx = c.x - motion.dx, sy = c.y - motion.dy;
      if (sx < 0 || sy < 0 || sx + c.w > this.#width || sy + c.h > this.#height) continue;
      spanning[i] = 1;
      overdrawn++;
    }
    if (overdrawn > 0) {
      const wider = largestRectangle(spanning, this.#cols, this.#rows);
      if (wider) {
        const n = moved(clip(wider));
        // Only for a clear gain: a few more cells copied at a window's edge change which neighbours the
        // remaining cells have (see #absorb), and the drag replays sent more bytes for it.
        if (n - best >= Math.max(MIN_MOTION_CELLS, best >> 3)) (rect = wider), (best = n);
      }
    }
    if (rect.area < MIN_MOTION_CELLS || best < MIN_MOTION_CELLS / 2) return null;
    const r0 = rect;
    const inRect = (i: number): boolean => {
      const col = i % this.#cols, r = Math.floor(i / this.#cols);
      return marks[i] === 1 && col >= r0.c0 && col <= r0.c1 && r >= r0.r0 && r <= r0.r1;
    };
    let copied = 0;
    for (let r = rect.r0; r <= rect.r1; r++) for (let col = rect.c0; col <= rect.c1; col++) copied += marks[r * this.#cols + col]!;
    return { rect, inRect, copied };
  }

  /**
   * Where to look for motion first: the last motion found, and that scaled to the time since it (a
   * window dragged at a steady speed moves twice as far when the next pass comes twice as late, as it
   * does when the agent waits for a CPU).
   */
  #motionHints(now: number): Motion[] {
    const m = this.#lastMotion;
    if (!m) return [];
    const hints = [m];
    if (this.#motionInterval > 0) {
      const f = Math.min(8, (now - this.#lastMotionAt) / this.#motionInterval);
      const scaled = { dx: Math.round(m.dx * f), dy: Math.round(m.dy * f) };
      if (scaled.dx !== m.dx || scaled.dy !== m.dy) hints.push(scaled);
    }
    return hints;
  }

  /** Lossless versions of lossy cells that have not changed for `refineAfterMs`. */
  async refine(now = Date.now()): Promise<TileMessage[]> {
    if (this.#lossyCount === 0) return [];
    const kinds = new Uint8Array(this.#cols * this.#rows);
    let n = 0;
    const v = this.video?.rect;
    for (let i = 0; i < this.#lossyAt.length && n < this.maxRefinePerPass; i++) {
      const at = this.#lossyAt[i]!;
      // The stream overdraws its rectangle every frame: refined once the stream has ended (the top-off).
      if (v && at > 0 && inCells(v, i % this.#cols, Math.floor(i / this.#cols))) continue;
      if (at > 0 && now - at >= this.refineAfterMs) {
        this.#lossyAt[i] = 0;
        this.#lossyCount--;
        kinds[i] = LOSSLESS;
        n++;
      }
    }
    if (n === 0) return [];
    const frame = this.#sentFrame();
    // Rectangles of at most REFINE_JOB_PIXELS, taken until the pass's tiles reach the byte budget.
    const jobs = this.#rectangles(kinds, 0, this.#rows - 1, REFINE_JOB_PIXELS);
    let bytes = 0;
    const out = await this.#run(jobs, async (job) => {
      const ts = await this.#encodeLossless(frame, job);
      for (const t of ts) bytes += t.data.length;
      return ts;
    }, () => bytes >= this.refineBytesPerPass);
    // Rectangles not started: their cells stay lossy, due at once (the next pass refines them).
    jobs.forEach((job, k) => {
      if (out[k] !== undefined) return;
      for (let r = job.r0; r <= job.r1; r++) for (let c = job.c0; c <= job.c1; c++) this.#setLossy(r * this.#cols + c, now - this.refineAfterMs);
    });
    const tiles = out.flat().filter((t) => t !== undefined);
    this.cache.note(tiles);
    return tiles;
  }

  /**
   * The whole screen as the viewers have it, for a receiver that has nothing (a new path): the cached
   * tiles, in order, without encoding anything. The cells the cache cannot give (last drawn by a Copy or
   * a video unit) are marked like invalidate(): the next pass encodes them from pixels; `missing` are
   * their rectangles, to be captured. Lossy cells stay due for refinement, which the new receiver gets.
   */
  snapshot(): { tiles: TileMessage[]; missing: Rect[] } {
    const { tiles, missing } = this.cache.snapshot();
    const rects: Rect[] = [];
    const ts = this.tileSize;
    let run: Rect | null = null;
    for (const i of missing) {
      this.#known[i] = 0;
      if (!this.#noCopy[i]) this.#noCopyCount++;
      this.#noCopy[i] = 1;
      const x = (i % this.#cols) * ts, y = Math.floor(i / this.#cols) * ts;
      // Runs of missing cells along a row: one rectangle each.
      if (run && run.y === y && run.x + run.width === x) run.width += ts;
      else rects.push((run = { x, y, width: ts, height: ts }));
    }
    for (const r of rects) {
      r.width = Math.min(r.width, this.#width - r.x);
      r.height = Math.min(r.height, this.#height - r.y);
    }
    this.counts.snapshots++;
    this.counts.snapshotTiles += tiles.length;
    this.counts.snapshotMissing += missing.length;
    return { tiles, missing: rects };
  }

  /** When the earliest pending refinement is due (ms epoch), or null if nothing is lossy. */
  nextRefineAt(): number | null {
    if (this.#lossyCount === 0) return null;
    let min = Infinity;
    for (const at of this.#lossyAt) if (at > 0 && at < min) min = at;
    return min === Infinity ? null : min + this.refineAfterMs;
  }

  /**
   * The heat map sees the photo-like changed cells; inside the stream's rectangle the changed cells
   * leave the tile path (ALT tiles when someone needs tiles, else nothing: the stream carries them).
   */
  #planVideo(kinds: Uint8Array, changedMark: Uint8Array, now: number, copy: { tile: TileMessage; overdraws(index: number): boolean } | null): CellRect | null {
    const hot = new Uint8Array(kinds.length);
    for (let i = 0; i < kinds.length; i++) if (kinds[i] === LOSSY) hot[i] = 1;
    // Where the Copy took its pixels from: content moving out of a stream's rectangle ends the stream.
    const from = copy ? { ...copySource(copy.tile), w: copy.tile.w, h: copy.tile.h } : null;
    const rect = this.video!.plan(hot, changedMark, now, from);
    if (!rect) return null;
    const alt = this.video!.audience.tiles;
    for (let r = rect.r0; r <= rect.r1; r++) {
      for (let c = rect.c0; c <= rect.c1; c++) {
        const i = r * this.#cols + c;
        // A cell the Copy's rectangle spans but does not provide holds copied pixels until overdrawn: by a
        // tile every viewer gets (the stream's unit may come in a later frame).
        if (kinds[i] !== NONE) kinds[i] = copy?.overdraws(i) ? LOSSY : alt ? ALT : NONE;
        else if (changedMark[i]) this.#setLossy(i, now); // moved by the Copy: the stream overdraws it too
      }
    }
    return rect;
  }

  /** The cells outside the running stream's rectangle (all of them without a stream). */
  #outsideStream(cells: number[]): number[] {
    const r = this.video?.rect;
    if (!r) return cells;
    return cells.filter((i) => !inCells(r, i % this.#cols, Math.floor(i / this.#cols)));
  }

  #anyIn(mark: Uint8Array, r: CellRect): boolean {
    for (let row = r.r0; row <= r.r1; row++) for (let c = r.c0; c <= r.c1; c++) if (mark[row * this.#cols + c]) return true;
    return false;
  }

  #sentFrame(): FrameBuffer {
    return { width: this.#width, height: this.#height, stride: this.#stride, data: this.#sent };
  }

  /**
   * Which pixel rows differ from what was sent anywhere in the damaged rectangles: one memcmp per row of
   * each rectangle instead of one per row of each cell. Chromium damages a whole text area for a caret
   * blink or one typed character; almost all of it compares equal here and costs nothing more.
   */
  #changedRows(frame: FrameBuffer, rects: Rect[]): Uint8Array {
    const rows = new Uint8Array(this.#height);
    const a = frame.data, b = this.#sent, stride = this.#stride;
    for (const r of rects) {
      const x0 = Math.max(0, r.x), x1 = Math.min(this.#width, r.x + r.width);
      const y0 = Math.max(0, r.y), y1 = Math.min(this.#height, r.y + r.height);
      if (x1 <= x0) continue;
      for (let y = y0; y < y1; y++) {
        if (rows[y]) continue;
        const off = y * stride + x0 * 4, end = y * stride + x1 * 4;
        if (a.compare(b, off, end, off, end) !== 0) rows[y] = 1;
      }
    }
    return rows;
  }

  /** The cells the rectangles touch, each once, in grid order of first touch. */
  #cellsIn(rects: Rect[]): Int32Array {
    const mark = new Uint8Array(this.#cols * this.#rows);
    const out = new Int32Array(mark.length);
    let n = 0;
    for (const r of rects) {
      const s = this.#span(r.x, r.y, r.width, r.height);
      for (let row = s.r0; row <= s.r1; row++) {
        for (let i = row * this.#cols + s.c0, end = row * this.#cols + s.c1; i <= end; i++) {
          if (mark[i]) continue;
          mark[i] = 1;
          out[n++] = i;
        }
      }
    }
    return out.subarray(0, n);
  }

  /** A cell's pixel rectangle, written into `b` (no allocation: the hot loops visit thousands a pass). */
  #cellInto(index: number, b: Block): void {
    const ts = this.tileSize;
    b.x = (index % this.#cols) * ts;
    b.y = Math.floor(index / this.#cols) * ts;
    b.w = Math.min(ts, this.#width - b.x);
    b.h = Math.min(ts, this.#height - b.y);
  }

  #cell(index: number): Job {
    const c = index % this.#cols, r = Math.floor(index / this.#cols);
    return this.#job(c, r, c, r);
  }

  #job(c0: number, r0: number, c1: number, r1: number): Job {
    const ts = this.tileSize;
    const x = c0 * ts, y = r0 * ts;
    return { x, y, w: Math.min((c1 + 1) * ts, this.#width) - x, h: Math.min((r1 + 1) * ts, this.#height) - y, c0, r0, c1, r1 };
  }

  /**
   * Cover the marked cells with rectangles of one kind each: runs along each row, then runs with the
   * same columns in consecutive rows stacked, within the size limits. Without `merge`, one per cell.
   */
  #rectangles(kinds: Uint8Array, rLo = 0, rHi = this.#rows - 1, maxLosslessPixels = this.maxLosslessPixels): Job[] {
    const cols = this.#cols, ts = this.tileSize;
    const jobs: Job[] = [];
    if (!this.merge) {
      kinds.forEach((k, i) => k !== NONE && jobs.push(this.#cell(i)));
      return jobs;
    }
    const maxSide = Math.floor(SHARE_LIMITS.maxTileSide / ts);
    // Open rectangles by "c0,c1,kind" that ended on the previous row.
    let open = new Map<string, number>();
    for (let r = rLo; r <= rHi; r++) {
      const next = new Map<string, number>();
      let c = 0;
      while (c < cols) {
        const k = kinds[r * cols + c]!;
        if (k === NONE) {
          c++;
          continue;
        }
        const limit = Math.floor((k === LOSSLESS ? maxLosslessPixels : this.maxLossyPixels) / (ts * ts));
        const maxRun = Math.max(1, Math.min(maxSide, limit));
        let c1 = c;
        while (c1 + 1 < cols && kinds[r * cols + c1 + 1] === k && c1 + 1 - c < maxRun) c1++;
        const key = `${c},${c1},${k}`;
        const at = open.get(key);
        const above = at === undefined ? undefined : jobs[at]!;
        const run = c1 - c + 1;
        if (above && (above.r1 - above.r0 + 2) * run <= limit && above.r1 - above.r0 + 2 <= maxSide) {
          jobs[at!] = this.#job(c, above.r0, c1, r);
          next.set(key, at!);
        } else {
          jobs.push(this.#job(c, r, c1, r));
          next.set(key, jobs.length - 1);
        }
        c = c1 + 1;
      }
      open = next;
    }
    return jobs;
  }

  /**
   * Inside moving pictures (video, a dragged photo) some cells have few enough colours to pass for lossless
   * (flat or smooth patches). Sent losslessly they break the JPEG rectangle into pieces and cost more than
   * JPEG, so a changed non-flat cell with lossy cells on both sides (in its row or its column), or with more
   * than 48 colours next to a lossy cell, goes lossy too; text is refined to exact pixels when it stops.
   */
  #absorb(kinds: Uint8Array, colours: Uint16Array, rLo = 0, rHi = this.#rows - 1): void {
    const cols = this.#cols, rows = this.#rows;
    const many = Math.min(48, (this.tileSize * this.tileSize) / 6);
    const lossyAt = (c: number, r: number): boolean => c >= 0 && r >= 0 && c < cols && r < rows && kinds[r * cols + c] === LOSSY;
    for (let pass = 0; pass < 2; pass++) {
      for (let r = rLo; r <= rHi; r++) {
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          if (kinds[i] !== LOSSLESS || colours[i]! <= 2) continue;
          const left = lossyAt(c - 1, r), right = lossyAt(c + 1, r), up = lossyAt(c, r - 1), down = lossyAt(c, r + 1);
          if ((left && right) || (up && down) || (colours[i]! > many && (left || right || up || down))) kinds[i] = LOSSY;
        }
      }
    }
    // A row that is mostly photo-like (scrolling text near the threshold, a video band) goes lossy whole:
    // one JPEG per band instead of alternating small tiles of both kinds.
    for (let r = rLo; r <= rHi; r++) {
      let lossy = 0, mixed = 0;
      for (let c = 0; c < cols; c++) {
        const k = kinds[r * cols + c];
        if (k === LOSSY) lossy++;
        else if (k === LOSSLESS && colours[r * cols + c]! > 2) mixed++;
      }
      if (lossy > 0 && lossy >= mixed) for (let c = 0; c < cols; c++) if (kinds[r * cols + c] === LOSSLESS && colours[r * cols + c]! > 2) kinds[r * cols + c] = LOSSY;
    }
  }

  /**
   * Join lossless runs of a row across gaps of up to two unchanged cells (exact on the viewer's side, not
   * waiting for a refinement): scattered small changes (a clock, a caret and a character) then go as one
   * tile, one header and one deflate stream instead of several.
   */
  #bridge(kinds: Uint8Array, rLo = 0, rHi = this.#rows - 1): void {
    const cols = this.#cols;
    for (let r = rLo; r <= rHi; r++) {
      let lastLossless = -1;
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        if (kinds[i] === LOSSY) lastLossless = -1;
        if (kinds[i] !== LOSSLESS) continue;
        const gap = lastLossless < 0 ? 0 : c - lastLossless - 1;
        if (gap > 0 && gap <= 2) {
          let ok = true;
          for (let g = lastLossless + 1; g < c; g++) if (!this.#known[r * cols + g] || this.#lossyAt[r * cols + g]! > 0) ok = false;
          if (ok) for (let g = lastLossless + 1; g < c; g++) kinds[r * cols + g] = LOSSLESS;
        }
        lastLossless = c;
      }
    }
  }

  /** JPEG of a rectangle, split in halves if it would exceed the payload bound. */
  async #encodeJpeg(frame: FrameBuffer, job: Job, flags = TILE_FLAG_LOSSY): Promise<TileMessage[]> {
    const data = await encodeJpeg(extractRgb(frame, job.x, job.y, job.w, job.h), job.w, job.h, this.jpegQuality);
    if (data.length <= SHARE_LIMITS.maxTilePayload) return [tile(job, TileEncoding.Jpeg, flags, data)];
    const halves = this.#split(job);
    if (!halves) throw new Error(`a ${job.w}x${job.h} JPEG tile exceeds the payload bound`);
    return (await Promise.all(halves.map((h) => this.#encodeJpeg(frame, h, flags)))).flat();
  }

  #split(job: Job): [Job, Job] | null {
    if (job.r1 > job.r0) {
      const m = Math.floor((job.r0 + job.r1) / 2);
      return [this.#job(job.c0, job.r0, job.c1, m), this.#job(job.c0, m + 1, job.c1, job.r1)];
    }
    if (job.c1 > job.c0) {
      const m = Math.floor((job.c0 + job.c1) / 2);
      return [this.#job(job.c0, job.r0, m, job.r1), this.#job(m + 1, job.r0, job.c1, job.r1)];
    }
    return null;
  }

  /**
   * One lossless rectangle: Fill for one colour, Palette up to 256 colours; with a few hundred (text over a
   * gradient) the rectangle is halved until the parts fit a palette; photo-like content goes ZRgb.
   */
  async #encodeLossless(frame: FrameBuffer, job: Job, colours?: Uint16Array): Promise<TileMessage[]> {
    let photo = false;
    if (this.lossless === 'palette') {
      // `frame` is `#sent` (both callers): the cells' palettes built this pass are of these pixels.
      const fromCells = this.#cells?.of(frame, job.c0, job.r0, job.c1, job.r1, job.x, job.y, job.w, job.h);
      const p = fromCells === undefined ? paletteOf(frame, job.x, job.y, job.w, job.h) : fromCells;
      if (p && p.palette.length === 3) return [tile(job, TileEncoding.Fill, 0, Uint8Array.from(p.palette))];
      if (p) return [tile(job, TileEncoding.Palette, 0, await encodePalette(p.palette, p.indices, job.w, job.h))];
      // Too many colours together: cut into runs whose cells' counts add up to at most 256 (an upper
      // bound of their union, so each run fits a palette at the first try); a cell with more goes ZRgb.
      if (colours && (job.c1 > job.c0 || job.r1 > job.r0)) {
        const parts = this.#byColourBound(job, colours);
        return (await Promise.all(parts.map((part) => this.#encodeLossless(frame, part)))).flat();
      }
      // Thousands of colours is a photo: one ZRgb. A few hundred (text over a gradient): halve and retry.
      photo = classifyTile(frame, job.x, job.y, job.w, job.h, 2048).kind === 'many';
      const halves = photo ? null : this.#split(job);
      if (halves) return (await Promise.all(halves.map((h) => this.#encodeLossless(frame, h)))).flat();
    } else {
      const cls = classifyTile(frame, job.x, job.y, job.w, job.h, 1);
      if (cls.kind === 'fill') return [tile(job, TileEncoding.Fill, 0, Uint8Array.from(cls.rgb))];
    }
    const rgb = extractRgb(frame, job.x, job.y, job.w, job.h);
    // A photo (thousands of colours, grain): lossless WebP is about half the bytes of ZRgb (the slideshow's
    // refinement, bench/encode-replay), on sharp's threads; small ones stay ZRgb (a sharp call costs ~0.25 ms).
    if (this.lossless === 'palette' && job.w * job.h >= WEBP_MIN_PIXELS && photo) return [tile(job, TileEncoding.Webp, 0, await encodeWebpLossless(rgb, job.w, job.h))];
    if (this.lossless === 'png') return [tile(job, TileEncoding.Png, 0, await encodePng(rgb, job.w, job.h))];
    return [tile(job, TileEncoding.ZRgb, 0, await encodeZRgb(rgb))];
  }

  #byColourBound(job: Job, colours: Uint16Array): Job[] {
    const out: Job[] = [];
    for (let r = job.r0; r <= job.r1; r++) {
      let start = job.c0, sum = 0;
      for (let c = job.c0; c <= job.c1; c++) {
        const n = Math.max(1, colours[r * this.#cols + c]!);
        if (c > start && sum + n > 256) {
          out.push(this.#job(start, r, c - 1, r));
          start = c;
          sum = 0;
        }
        sum += n;
      }
      out.push(this.#job(start, r, job.c1, r));
    }
    return out;
  }

  #setLossy(index: number, at: number): void {
    const was = this.#lossyAt[index]! > 0;
    this.#lossyAt[index] = at;
    if (was && at === 0) this.#lossyCount--;
    else if (!was && at > 0) this.#lossyCount++;
  }

  /**
   * Run jobs with bounded concurrency, keeping their order in the output; once `stop()` says so, no job is
   * started (its slot stays undefined). `ready` gets the results in order as soon as all before them are done.
   */
  async #run<T>(jobs: Job[], fn: (job: Job) => Promise<T>, stop?: () => boolean, ready?: (done: T[]) => void): Promise<T[]> {
    const out = new Array<T>(jobs.length);
    const finished = new Uint8Array(jobs.length);
    let next = 0;
    let flushed = 0;
    let since = performance.now();
    const worker = async (): Promise<void> => {
      while (next < jobs.length && !stop?.()) {
        const i = next++;
        out[i] = await fn(jobs[i]!);
        finished[i] = 1;
        if (ready && i === flushed) {
          let to = flushed;
          while (to < jobs.length && finished[to]) to++;
          const done = out.slice(flushed, to);
          flushed = to;
          ready(done);
        }
        // Deflate runs on this thread: every few ms let the event loop through, so a controller's input,
        // acks and WebRTC signalling never wait for a whole full-screen pass.
        if (performance.now() - since > YIELD_EVERY_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          since = performance.now();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, jobs.length) }, worker));
    return out;
  }
}

function inCells(r: CellRect, c: number, row: number): boolean {
  return c >= r.c0 && c <= r.c1 && row >= r.r0 && row <= r.r1;
}

function anyRowChanged(rows: Uint8Array, y: number, h: number): boolean {
  for (let i = y; i < y + h; i++) if (rows[i]) return true;
  return false;
}

function tile(job: Job, encoding: TileEncoding, flags: number, data: Uint8Array): TileMessage {
  return { type: 'tile', x: job.x, y: job.y, w: job.w, h: job.h, encoding, flags, data };
}

function emptyStats(): EncodeStats {
  return { tiles: 0, unchanged: 0, fill: 0, lossless: 0, lossy: 0, bytes: 0, ms: 0, classifyMs: 0, jobs: 0, copied: 0, videoBytes: 0, videoWaitMs: 0 };
}

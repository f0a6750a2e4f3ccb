/**
 * Turns captured pixels into `tile` messages on a fixed grid.
 *
 * It keeps a copy of what the viewers were last sent, so a damaged tile whose pixels did not really
 * change costs nothing. Each changed tile is classified: one colour → Fill; few colours (text, UI)
 * → lossless (ZRgb by default); many colours (photo, video) → JPEG flagged lossy, and once such a
 * tile has stayed still for `refineAfterMs` a lossless refinement replaces it, so text that was
 * sent blurry during motion always ends up crisp.
 */
import { TILE_FLAG_LOSSY, TileEncoding, SHARE_LIMITS, type ShareMessage } from '@baton/protocol';
import type { FrameBuffer } from './ScreenCapture.js';
import type { Rect } from './monitors.js';
import { classifyTile, copyTile, encodeJpeg, encodePng, encodeZRgb, extractRgb, tileEquals } from './tileCodecs.js';

export type TileMessage = Extract<ShareMessage, { type: 'tile' }>;

export type TileEncoderOptions = {
  /** Grid size in pixels (16..256). */
  tileSize?: number;
  /** JPEG quality for photo-like tiles. */
  jpegQuality?: number;
  /** More distinct colours than this in a tile means photo-like (JPEG). */
  maxLosslessColours?: number;
  /** Lossless codec for text/UI tiles. */
  lossless?: 'zrgb' | 'png';
  /** A lossy tile unchanged this long gets a lossless refinement. */
  refineAfterMs?: number;
  /** Tiles encoded at once (the encoders run on libuv's thread pool). */
  concurrency?: number;
  /** At most this many refinements per call, so a burst of lossless tiles cannot hog the link. */
  maxRefinePerPass?: number;
};

export type EncodeStats = {
  /** Tiles looked at (damaged). */
  tiles: number;
  /** Damaged tiles whose pixels had not changed. */
  unchanged: number;
  fill: number;
  lossless: number;
  lossy: number;
  bytes: number;
  ms: number;
};

type Job = { index: number; x: number; y: number; w: number; h: number };

export class TileEncoder {
  readonly tileSize: number;
  readonly jpegQuality: number;
  readonly maxLosslessColours: number;
  readonly lossless: 'zrgb' | 'png';
  readonly refineAfterMs: number;
  readonly concurrency: number;
  readonly maxRefinePerPass: number;
  #width = 0;
  #height = 0;
  #cols = 0;
  #stride = 0;
  /** What the viewers have, pixel for pixel (BGRX, frame geometry). */
  #sent = Buffer.alloc(0);
  /** 1 once `#sent` holds the tile's pixels as sent. */
  #known = new Uint8Array(0);
  /** When a tile was last sent lossy; 0 when what the viewers have is exact. */
  #lossyAt = new Float64Array(0);
  #lossyCount = 0;
  lastStats: EncodeStats = emptyStats();

  constructor(options: TileEncoderOptions = {}) {
    this.tileSize = options.tileSize ?? 64;
    if (this.tileSize < SHARE_LIMITS.minTileSize || this.tileSize > SHARE_LIMITS.maxTileSize) {
      throw new RangeError(`tile size ${this.tileSize} outside ${SHARE_LIMITS.minTileSize}..${SHARE_LIMITS.maxTileSize}`);
    }
    this.jpegQuality = options.jpegQuality ?? 70;
    this.maxLosslessColours = options.maxLosslessColours ?? 256;
    this.lossless = options.lossless ?? 'zrgb';
    this.refineAfterMs = options.refineAfterMs ?? 300;
    // sharp costs ~0.25 ms per call whatever the size; more than 4 in flight gains nothing on 2 cores.
    this.concurrency = options.concurrency ?? 4;
    this.maxRefinePerPass = options.maxRefinePerPass ?? 128;
  }

  /** Forget what was sent (new screen geometry or new viewers): every tile goes out again. */
  reset(width: number, height: number): void {
    this.#width = width;
    this.#height = height;
    this.#stride = width * 4;
    this.#cols = Math.ceil(width / this.tileSize);
    const n = this.#cols * Math.ceil(height / this.tileSize);
    if (this.#sent.length !== this.#stride * height) this.#sent = Buffer.alloc(this.#stride * height);
    this.#known = new Uint8Array(n);
    this.#lossyAt = new Float64Array(n);
    this.#lossyCount = 0;
  }

  /** Encode the changed tiles among those the rectangles touch. */
  async encode(frame: FrameBuffer, rects: Rect[], now = Date.now()): Promise<TileMessage[]> {
    const t0 = performance.now();
    if (frame.width !== this.#width || frame.height !== this.#height) this.reset(frame.width, frame.height);
    const stats = emptyStats();
    const jobs: Job[] = [];
    for (const index of this.#tilesIn(rects)) {
      stats.tiles++;
      const job = this.#job(index);
      if (this.#known[index] && tileEquals(frame.data, this.#sent, this.#stride, job.x, job.y, job.w, job.h)) {
        stats.unchanged++;
        continue;
      }
      copyTile(frame.data, this.#sent, this.#stride, job.x, job.y, job.w, job.h);
      this.#known[index] = 1;
      jobs.push(job);
    }
    const sentFrame: FrameBuffer = { width: this.#width, height: this.#height, stride: this.#stride, data: this.#sent };
    const out = await this.#run(jobs, (job) => this.#encodeTile(sentFrame, job, now, stats));
    stats.bytes = out.reduce((n, t) => n + t.data.length, 0);
    stats.ms = performance.now() - t0;
    this.lastStats = stats;
    return out;
  }

  /** Lossless versions of lossy tiles that have not changed for `refineAfterMs`. */
  async refine(now = Date.now()): Promise<TileMessage[]> {
    if (this.#lossyCount === 0) return [];
    const jobs: Job[] = [];
    for (let i = 0; i < this.#lossyAt.length && jobs.length < this.maxRefinePerPass; i++) {
      const at = this.#lossyAt[i]!;
      if (at > 0 && now - at >= this.refineAfterMs) {
        this.#lossyAt[i] = 0;
        this.#lossyCount--;
        jobs.push(this.#job(i));
      }
    }
    const frame: FrameBuffer = { width: this.#width, height: this.#height, stride: this.#stride, data: this.#sent };
    return this.#run(jobs, async (job) => this.#encodeLossless(frame, job));
  }

  /** When the earliest pending refinement is due (ms epoch), or null if nothing is lossy. */
  nextRefineAt(): number | null {
    if (this.#lossyCount === 0) return null;
    let min = Infinity;
    for (const at of this.#lossyAt) if (at > 0 && at < min) min = at;
    return min === Infinity ? null : min + this.refineAfterMs;
  }

  #tilesIn(rects: Rect[]): Set<number> {
    const ts = this.tileSize;
    const set = new Set<number>();
    const rows = Math.ceil(this.#height / ts);
    for (const r of rects) {
      const c0 = Math.max(0, Math.floor(r.x / ts)), c1 = Math.min(this.#cols - 1, Math.floor((r.x + r.width - 1) / ts));
      const r0 = Math.max(0, Math.floor(r.y / ts)), r1 = Math.min(rows - 1, Math.floor((r.y + r.height - 1) / ts));
      for (let row = r0; row <= r1; row++) for (let col = c0; col <= c1; col++) set.add(row * this.#cols + col);
    }
    return set;
  }

  #job(index: number): Job {
    const ts = this.tileSize;
    const x = (index % this.#cols) * ts;
    const y = Math.floor(index / this.#cols) * ts;
    return { index, x, y, w: Math.min(ts, this.#width - x), h: Math.min(ts, this.#height - y) };
  }

  async #encodeTile(frame: FrameBuffer, job: Job, now: number, stats: EncodeStats): Promise<TileMessage> {
    const cls = classifyTile(frame, job.x, job.y, job.w, job.h, this.maxLosslessColours);
    this.#setLossy(job.index, 0);
    if (cls.kind === 'fill') {
      stats.fill++;
      return tile(job, TileEncoding.Fill, 0, Uint8Array.from(cls.rgb));
    }
    if (cls.kind === 'few') {
      stats.lossless++;
      return this.#encodeLossless(frame, job);
    }
    stats.lossy++;
    const data = await encodeJpeg(extractRgb(frame, job.x, job.y, job.w, job.h), job.w, job.h, this.jpegQuality);
    this.#setLossy(job.index, now);
    return tile(job, TileEncoding.Jpeg, TILE_FLAG_LOSSY, data);
  }

  async #encodeLossless(frame: FrameBuffer, job: Job): Promise<TileMessage> {
    const rgb = extractRgb(frame, job.x, job.y, job.w, job.h);
    if (this.lossless === 'png') return tile(job, TileEncoding.Png, 0, await encodePng(rgb, job.w, job.h));
    return tile(job, TileEncoding.ZRgb, 0, await encodeZRgb(rgb));
  }

  #setLossy(index: number, at: number): void {
    const was = this.#lossyAt[index]! > 0;
    this.#lossyAt[index] = at;
    if (was && at === 0) this.#lossyCount--;
    else if (!was && at > 0) this.#lossyCount++;
  }

  /** Run jobs with bounded concurrency, keeping their order in the output. */
  async #run(jobs: Job[], fn: (job: Job) => Promise<TileMessage>): Promise<TileMessage[]> {
    const out = new Array<TileMessage>(jobs.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await fn(jobs[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, jobs.length) }, worker));
    return out;
  }
}

function tile(job: Job, encoding: TileEncoding, flags: number, data: Uint8Array): TileMessage {
  return { type: 'tile', x: job.x, y: job.y, w: job.w, h: job.h, encoding, flags, data };
}

function emptyStats(): EncodeStats {
  return { tiles: 0, unchanged: 0, fill: 0, lossless: 0, lossy: 0, bytes: 0, ms: 0 };
}

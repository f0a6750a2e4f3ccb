/**
 * The video layer: a region of the screen that changes at video rates goes as an H.264 stream
 * (Video tiles) instead of a JPEG per frame, for viewers that decode it (WebCodecs), while text and UI
 * around it stay lossless tiles. Anchors: Guacamole's per-region heat map (a region updating at a few
 * frames a second turns lossy), Chrome Remote Desktop's "top-off" (once the motion stops the region
 * is refined to exact pixels: TileEncoder's lossless refinement does that, the cells being marked lossy).
 *
 * The heat map keeps, per cell, a count of its photo-like changes decaying with a 500 ms time constant:
 * about 13 for a cell changing at 25 fps, 3 at 5 fps. The stream's rectangle is the bounding box of the
 * hot cells (about 3 changes a second or more, as in Guacamole), once it is large and dense enough; hot cells outside
 * it start a new stream over the new box. The stream ends when nothing in it changed for `idleMs`, when
 * nobody decodes video any more, or on reset; a new stream starts with a keyframe, and so does a
 * keyframe request (the relay's `refresh` over the rectangle: a late joiner or a viewer far behind).
 *
 * Encoding is node-av (FFmpeg with libx264 in an npm package, in-process): measured against Debian's
 * ffmpeg as a child process in bench/video-encoders.mjs (docs/decisions/0006-video-layer.md).
 */
import { TILE_FLAG_LOSSY, TileEncoding, videoPayload, SHARE_LIMITS, type ShareMessage } from '@baton/protocol';
import type { FrameBuffer } from './ScreenCapture.js';
import { EncodeLane, type LaneStats } from './EncodeLane.js';

export type TileMessage = Extract<ShareMessage, { type: 'tile' }>;

/** A rectangle of whole cells (columns c0..c1, rows r0..r1, inclusive) and its pixels. */
export type CellRect = { c0: number; r0: number; c1: number; r1: number; x: number; y: number; w: number; h: number };

/**
 * One picture of a stream, taken out of the screen's buffer during the pass: the encoder's own input
 * (node-av: a YUV 4:2:0 frame), or the BGRX pixels for an encoder without `take`.
 */
export type StreamPicture = object;

/** What encodes one stream: node-av by default, a fake in unit tests. */
export interface StreamEncoder {
  /**
   * Takes the stream's pixels at (x, y) out of `frame` into a picture of the encoder's input format, in
   * the pass (`frame` changes once this returns). Optional: without it the layer copies the BGRX pixels.
   */
  take?(frame: FrameBuffer, x: number, y: number): StreamPicture;
  /** Encodes one picture of the stream's size; returns the access unit (Annex B) and whether it is a keyframe. */
  encode(picture: StreamPicture, ptsMs: number): Promise<{ data: Uint8Array; key: boolean }>;
  /** A picture from `take` was encoded or dropped: its memory may be used again. */
  recycle?(picture: StreamPicture): void;
  close(): void;
}
export type StreamEncoderFactory = (width: number, height: number) => Promise<StreamEncoder>;

/** What the sink is told with each unit. */
export type VideoUnitInfo = { /** Capture time of its picture (ms epoch). */ time: number; /** The encoder's call alone (ms). */ encodeMs: number; /** From the picture's submit to the unit (ms), waiting in the lane included. */ latencyMs: number; key: boolean; /** VideoLayer.generation when it was made. */ generation: number };

type Stream = {
  id: number;
  rect: CellRect;
  seq: number;
  startedAt: number;
  lastChange: number;
  encoder: Promise<StreamEncoder>;
  /** The encoder once open (its `take` runs in the pass, which cannot wait for it). */
  ready: StreamEncoder | null;
  /** Settles when the picture being encoded is done. */
  busy: Promise<void> | null;
};
/** `taken`: from the encoder's `take`; else `bgrx` holds the rectangle's BGRX pixels (tightly packed). */
type Picture = { s: Stream; taken: StreamPicture | null; bgrx: Buffer | null; now: number; at: number };

export type VideoLayerOptions = {
  /** Opens an encoder for a stream; default node-av's libx264 (null: node-av did not load). */
  encoder?: StreamEncoderFactory | null;
  /** Heat above which a cell is hot (default 2: about 3 photo-like changes a second or more, as Guacamole). */
  hotHeat?: number;
  /** Smallest stream, in cells (default 64: 128x128 px on the 16 px grid). */
  minCells?: number;
  /** A stream with no change this long ends (default 250 ms). */
  idleMs?: number;
  /** Bits per second the encoder aims at (default 6 Mbit/s, 0.75 MB/s: the target is 1.1 MB/s at 720p). */
  bitrate?: number;
  log?: (line: string) => void;
};

const TAU_MS = 500;
/** The slowest change that is hot (3 a second: heat 2 with TAU_MS), and the most one seen change may stand for. */
const HOT_PERIOD_MS = 333;
const MAX_CHANGE_WEIGHT = 3;

/** The video layer's state for one TileEncoder grid. */
export class VideoLayer {
  readonly hotHeat: number;
  readonly minCells: number;
  readonly idleMs: number;
  readonly bitrate: number;
  #factory: StreamEncoderFactory | null;
  #log: ((line: string) => void) | undefined;
  #cols = 0;
  #rows = 0;
  #tileSize = 16;
  #width = 0;
  #height = 0;
  #heat = new Float32Array(0);
  #heatAt = 0;
  /** The stream under way. */
  #stream: Stream | null = null;
  /** Encodes beside the passes when a sink is set: one picture at a time, the newest waiting. */
  #lane = new EncodeLane<Picture>((pic) => this.#encodeOne(pic), (pic) => this.#recycle(pic));
  /**
   * BGRX buffers to use again, for encoders without `take` and a stream's first picture taken before its
   * encoder opened (at most one encoding, one waiting and one being filled): a new 3.6 MB buffer for
   * every 720p picture made the garbage collector the agent's largest item on the video workload (2.4 s
   * of 10.4 s busy in a profile). node-av's encoder pools its own YUV frames the same way.
   */
  #pool: Buffer[] = [];
  #nextId = 1;
  /** A stream ended since the last encode: its end tile goes out with the next frame. */
  #ended: { id: number; seq: number; rect: CellRect } | null = null;
  #keyframeWanted = false;
  /** Does anyone decode video / need the ALT tiles (from the relay's `caps`)? A host never told sends tiles only. */
  audience = { video: false, tiles: true };
  /** Counts resets: a unit encoded before one belongs to a screen the viewers no longer have. */
  generation = 0;
  /**
   * The capture loop is behind the screen: changes were already waiting when this pass started (it did
   * not wait for damage; the session sets it before each pass). A cell seen changed then changed at least
   * once in the whole time since the previous pass, probably more: it counts as dt / 333 ms changes (1 to 3),
   * so a region changing in every pass is hot however slowly a loaded machine lets the passes come. Without
   * it, passes 400 ms apart (a tile path at 100 ms of CPU a pass, on a loaded host) never heat a video past
   * the threshold, and the region stays on the tile path that made the passes slow.
   */
  behind = false;
  /** Video units sent, for stats. */
  units = 0;
  bytes = 0;

  constructor(options: VideoLayerOptions = {}) {
    this.#factory = options.encoder === undefined ? nodeAvEncoder(options.bitrate ?? 6_000_000, options.log) : options.encoder;
    this.hotHeat = options.hotHeat ?? 2;
    this.minCells = options.minCells ?? 64;
    this.idleMs = options.idleMs ?? 250;
    this.bitrate = options.bitrate ?? 6_000_000;
    this.#log = options.log;
  }

  get available(): boolean {
    return this.#factory !== null;
  }

  /** The stream's rectangle, while one runs. */
  get rect(): CellRect | null {
    return this.#stream?.rect ?? null;
  }

  /** A picture is being encoded beside the passes (its unit is still to come). */
  get encoding(): boolean {
    return this.#lane.busy;
  }

  /** A new grid (screen size, new viewers' path): the stream ends, the heat is forgotten. */
  reset(width: number, height: number, tileSize: number): void {
    this.generation++;
    this.#end();
    this.#ended = null; // a new screen: nothing of the old stream remains to end
    this.#width = width;
    this.#height = height;
    this.#tileSize = tileSize;
    this.#cols = Math.ceil(width / tileSize);
    this.#rows = Math.ceil(height / tileSize);
    this.#heat = new Float32Array(this.#cols * this.#rows);
    this.#heatAt = 0;
  }

  /** The next unit is a keyframe (a new stream over the same rectangle). */
  requestKeyframe(x: number, y: number, w: number, h: number): void {
    const r = this.#stream?.rect;
    if (r && x < r.x + r.w && r.x < x + w && y < r.y + r.h && r.y < y + h) this.#keyframeWanted = true;
  }

  /**
   * One pass: `hot` marks the cells that changed photo-like, `changed` every changed cell, `movedFrom`
   * the source of this pass's Copy (content that moved, found among the cells outside the stream).
   * Returns the stream's rectangle for this pass (null: no video now).
   */
  plan(hot: Uint8Array, changed: Uint8Array, now: number, movedFrom: { x: number; y: number; w: number; h: number } | null = null): CellRect | null {
    if (this.#heat.length !== hot.length) return null;
    const dt = this.#heatAt === 0 ? 0 : now - this.#heatAt;
    const decay = this.#heatAt === 0 ? 0 : Math.exp(-dt / TAU_MS);
    const weight = this.behind ? Math.min(MAX_CHANGE_WEIGHT, Math.max(1, dt / HOT_PERIOD_MS)) : 1;
    this.#heatAt = now;
    const heat = this.#heat;
    const s = this.#stream;
    let c0 = Infinity, r0 = Infinity, c1 = -1, r1 = -1, hotCells = 0, outside = 0;
    let inStream = false;
    for (let i = 0; i < heat.length; i++) {
      const c = i % this.#cols, r = (i - c) / this.#cols;
      const inside = s !== null && c >= s.rect.c0 && c <= s.rect.c1 && r >= s.rect.r0 && r <= s.rect.r1;
      if (inside && changed[i]) inStream = true;
      heat[i] = heat[i]! * decay + (hot[i] || (inside && changed[i]) ? weight : 0);
      if (heat[i]! < this.hotHeat) continue;
      hotCells++;
      if (!inside) outside++;
      if (c < c0) c0 = c;
      if (c > c1) c1 = c;
      if (r < r0) r0 = r;
      if (r > r1) r1 = r;
    }
    if (!this.#factory || !this.audience.video) {
      this.#end();
      return null;
    }
    if (s) {
      if (inStream) s.lastChange = now;
      if (now - s.lastChange >= this.idleMs) {
        this.#end();
        return null;
      }
      // Motion grew or moved out of the rectangle: mostly a window dragged or a page scrolled with a picture in it,
      // not a video. The stream ends, without a successor, and the heat is forgotten: the tile path's
      // motion search (which skips a stream's cells, so never saw the move) sends the moved content as a
      // Copy and the uncovered cells. A new stream over each new box cost a keyframe a pass (drag-textured:
      // 51 keyframes of ~100 KB in 68 units) and the Copy. Real video heats up again within a few passes.
      const grown = outside >= Math.max(8, this.minCells / 4) && hotCells >= this.minCells;
      // Content moved out of the rectangle (a Copy reads from inside it): the picture is being dragged or scrolled.
      const left = movedFrom !== null && overlap(movedFrom, s.rect) >= Math.max(8, this.minCells / 4) * this.#tileSize * this.#tileSize;
      if (grown || left) {
        this.#end();
        this.#keyframeWanted = false;
        heat.fill(0);
        return null;
      }
      if (!this.#keyframeWanted) return s.rect;
      this.#end();
      this.#keyframeWanted = false;
      return this.#start(s.rect, now);
    }
    if (hotCells < this.minCells) return null;
    const area = (c1 - c0 + 1) * (r1 - r0 + 1);
    if (hotCells * 2 < area) return null; // scattered changes are not one moving picture
    const rect = this.#rectOf(c0, r0, c1, r1);
    return rect ? this.#start(rect, now) : null;
  }

  /**
   * Where units go when they are encoded beside the passes (the session sets it): the tile and the
   * capture time of its picture. Without a sink, encode() returns the unit to the pass that waits for it.
   */
  sink: ((tile: TileMessage, info: VideoUnitInfo) => void) | null = null;

  /** Pictures given to the lane, encoded and dropped (the encoder was busy and a newer one came). */
  get laneStats(): LaneStats {
    return this.#lane.stats;
  }

  /** The Video tile of this pass over `rect` (from what the viewers are sent, `frame`), or null if the encoder failed. */
  async encode(frame: FrameBuffer, now: number): Promise<TileMessage | null> {
    const pic = this.#picture(frame, now);
    return pic ? this.#unitOf(pic) : null;
  }

  /**
   * This pass's picture of the stream, encoded beside the passes and handed to `sink` when done. While
   * the encoder is busy, the newest picture waits and an older waiting one is dropped (EncodeLane).
   */
  submit(frame: FrameBuffer, now: number): void {
    const pic = this.#picture(frame, now);
    if (pic) this.#lane.offer(pic);
  }

  /** Resolves once no picture is being encoded or waiting. */
  idle(): Promise<void> {
    return this.#lane.idle();
  }

  /**
   * The stream's pixels now: `frame` changes with the next pass while this one is encoded. The encoder
   * takes them in its own format (node-av: converted straight from the screen's buffer to YUV, no BGRX
   * copy between); before it has opened, or without `take`, they are copied as BGRX.
   */
  #picture(frame: FrameBuffer, now: number): Picture | null {
    const s = this.#stream;
    if (!s) return null;
    const { x, y, w, h } = s.rect;
    if (s.ready?.take) return { s, taken: s.ready.take(frame, x, y), bgrx: null, now, at: performance.now() };
    const size = w * h * 4;
    let bgrx = this.#pool.pop();
    if (bgrx?.length !== size) {
      this.#pool = []; // another stream's size
      bgrx = Buffer.allocUnsafe(size);
    }
    for (let row = 0; row < h; row++) {
      const off = (y + row) * frame.stride + x * 4;
      frame.data.copy(bgrx, row * w * 4, off, off + w * 4);
    }
    return { s, taken: null, bgrx, now, at: performance.now() };
  }

  /** A picture encoded or dropped: its memory goes back to whoever made it. */
  #recycle(pic: Picture): void {
    if (pic.taken) pic.s.ready?.recycle?.(pic.taken);
    pic.taken = null;
    if (pic.bgrx && this.#pool.length < 3) this.#pool.push(pic.bgrx);
    pic.bgrx = null;
  }

  async #encodeOne(pic: Picture): Promise<void> {
    await this.#unitOf(pic);
  }

  /**
   * Encodes one picture. The unit's place in its stream (seq) is taken, and the sink called, in the same
   * synchronous step as the check that the stream still runs: a stream that ended (its end tile due)
   * never gets a unit after it, and the units reach the sink in stream order.
   */
  async #unitOf(pic: Picture): Promise<TileMessage | null> {
    const s = pic.s;
    if (this.#stream !== s) {
      this.#recycle(pic);
      return null; // the stream ended while this picture waited
    }
    const { x, y, w, h } = s.rect;
    let release!: () => void;
    s.busy = new Promise<void>((r) => (release = r));
    try {
      const enc = await s.encoder;
      const t0 = performance.now();
      // Taken as BGRX before the encoder opened: into its own format now (the copy does not change).
      if (!pic.taken && enc.take) pic.taken = enc.take({ width: s.rect.w, height: s.rect.h, stride: s.rect.w * 4, data: pic.bgrx! }, 0, 0);
      const unit = await enc.encode(pic.taken ?? pic.bgrx!, pic.now - s.startedAt);
      const encodeMs = performance.now() - t0;
      if (this.#stream !== s) return null;
      if (unit.data.length === 0) return null; // the encoder holds this one back (never with zerolatency)
      if (s.seq === 0 && !unit.key) throw new Error('the first unit of a stream is not a keyframe');
      if (unit.data.length + 8 > SHARE_LIMITS.maxTilePayload) throw new Error(`a ${unit.data.length}-byte video unit exceeds the payload bound`);
      const data = videoPayload({ key: unit.key, end: false, stream: s.id, seq: s.seq++ }, unit.data);
      this.units++;
      this.bytes += data.length;
      const tile: TileMessage = { type: 'tile', x, y, w, h, encoding: TileEncoding.Video, flags: TILE_FLAG_LOSSY, data };
      this.sink?.(tile, { time: pic.now, encodeMs, latencyMs: performance.now() - pic.at, key: unit.key, generation: this.generation });
      return tile;
    } catch (err) {
      this.#log?.(`Video layer off: ${(err as Error).message}`);
      this.#factory = null; // tiles from now on; the stream's end tile tells the viewers
      this.#end();
      return null;
    } finally {
      s.busy = null;
      release();
      this.#recycle(pic);
    }
  }

  /** The end tile of a stream that ended since the last call (viewers close its decoder), or null. */
  takeEnd(): TileMessage | null {
    const e = this.#ended;
    this.#ended = null;
    if (!e) return null;
    const { x, y, w, h } = e.rect;
    return { type: 'tile', x, y, w, h, encoding: TileEncoding.Video, flags: TILE_FLAG_LOSSY, data: videoPayload({ key: false, end: true, stream: e.id, seq: e.seq }, new Uint8Array(0)) };
  }

  close(): void {
    this.#end();
  }

  #start(rect: CellRect, now: number): CellRect {
    const factory = this.#factory!;
    const encoder = factory(rect.w, rect.h);
    const stream: Stream = { id: this.#nextId, rect, seq: 0, startedAt: now, lastChange: now, encoder, ready: null, busy: null };
    encoder.then((e) => (stream.ready = e), () => undefined);
    this.#stream = stream;
    this.#nextId = (this.#nextId % 0xffff) + 1;
    return rect;
  }

  #end(): void {
    const s = this.#stream;
    if (!s) return;
    this.#stream = null;
    if (s.seq > 0) this.#ended = { id: s.id, seq: s.seq, rect: s.rect };
    this.#lane.clearWaiting();
    // Not under a picture being encoded: the encoder is closed once that one is done (its unit is dropped).
    void (s.busy ?? Promise.resolve()).then(() => s.encoder).then((e) => e.close()).catch(() => undefined);
  }

  /** Cells c0..c1 × r0..r1 as a rectangle whose sides are even (H.264 4:2:0), or null if it cannot be. */
  #rectOf(c0: number, r0: number, c1: number, r1: number): CellRect | null {
    const ts = this.#tileSize;
    const make = (a: number, b: number, c: number, d: number): CellRect => {
      const x = a * ts, y = b * ts;
      return { c0: a, r0: b, c1: c, r1: d, x, y, w: Math.min((c + 1) * ts, this.#width) - x, h: Math.min((d + 1) * ts, this.#height) - y };
    };
    let r = make(c0, r0, c1, r1);
    // An odd remainder at the screen's right or bottom edge: leave that column or row to tiles.
    if (r.w % 2 !== 0) r = make(c0, r0, c1 - 1, r1);
    if (r.h % 2 !== 0) r = make(r.c0, r0, r.c1, r1 - 1);
    if (r.c1 < r.c0 || r.r1 < r.r0 || r.w > SHARE_LIMITS.maxTileSide || r.h > SHARE_LIMITS.maxTileSide) return null;
    return r;
  }
}

/**
 * libx264 through node-av: ultrafast, zerolatency (no lookahead, no B-frames: one unit out per picture
 * in), baseline profile (every WebCodecs H.264 decoder takes it), a keyframe every 50 pictures, the
 * bitrate capped with a quarter-second buffer so one unit never bursts. Annex B with SPS and PPS in
 * every keyframe (no global header), which is what a viewer configures its decoder from.
 *
 * The picture goes to libx264 as YUV 4:2:0 converted by libswscale straight from the screen's buffer
 * (its rows at their own stride: no BGRX copy of the rectangle first), into frames kept for reuse; the
 * chroma is subsampled by point sampling (SWS_POINT), about a third cheaper than bilinear and no
 * visible difference in moving pictures, which are refined to exact pixels once they stop.
 * Null when node-av does not load (an optional dependency): the agent then sends tiles only.
 */
export function nodeAvEncoder(bitrate: number, log?: (line: string) => void): StreamEncoderFactory | null {
  let lib: Promise<typeof import('node-av/api') & { lib: typeof import('node-av/lib'); C: typeof import('node-av/constants') }> | null = null;
  const load = () =>
    (lib ??= (async () => {
      const [api, l, C] = await Promise.all([import('node-av/api'), import('node-av/lib'), import('node-av/constants')]);
      l.Log.setLevel(C.AV_LOG_ERROR); // not x264's per-stream statistics on the host's terminal
      return { ...api, lib: l, C };
    })());
  if (process.env.BATON_VIDEO === '0') return null;
  return async (width, height) => {
    const m = await load().catch((err: Error) => {
      log?.(`Video layer off: node-av did not load (${err.message}).`);
      throw err;
    });
    const { C } = m;
    const encoder = await m.Encoder.create(C.FF_ENCODER_LIBX264, {
      context: { pixelFormat: C.AV_PIX_FMT_YUV420P, bitRate: bitrate, rcMaxRate: bitrate, rcBufferSize: Math.round(bitrate / 4), gopSize: 50, maxBFrames: 0, timeBase: new m.lib.Rational(1, 1000), framerate: new m.lib.Rational(25, 1) },
      options: { preset: 'ultrafast', tune: 'zerolatency', profile: 'baseline', 'x264-params': 'scenecut=0:log=-1' },
    });
    const sws = new m.lib.SoftwareScaleContext();
    sws.getContext(width, height, C.AV_PIX_FMT_BGR0, width, height, C.AV_PIX_FMT_YUV420P, C.SWS_POINT);
    if (sws.initContext() < 0) {
      encoder.close();
      throw new Error('libswscale cannot convert BGR0 to YUV 4:2:0');
    }
    type Yuv = { frame: InstanceType<typeof m.lib.Frame>; planes: Buffer[]; strides: number[] };
    const timeBase = new m.lib.Rational(1, 1000);
    const pool: Yuv[] = [];
    let closed = false;
    const free = (p: Yuv) => p.frame.free();
    const alloc = (): Yuv => {
      const frame = new m.lib.Frame();
      frame.alloc();
      frame.format = C.AV_PIX_FMT_YUV420P;
      frame.width = width;
      frame.height = height;
      if (frame.allocBuffer() < 0) throw new Error('cannot allocate a YUV frame');
      frame.timeBase = timeBase;
      // Views on the frame's own planes (node-av maps AVFrame->data without copying).
      return { frame, planes: frame.data!.slice(0, 3), strides: frame.linesize.slice(0, 3) };
    };
    return {
      take(screen, x, y) {
        const p = pool.pop() ?? alloc();
        const h = sws.scaleSync([screen.data.subarray(y * screen.stride + x * 4)], [screen.stride], 0, height, p.planes, p.strides);
        if (h !== height) {
          free(p);
          throw new Error(`libswscale converted ${h} of ${height} rows`);
        }
        return p;
      },
      async encode(picture, ptsMs) {
        const { frame } = picture as Yuv;
        frame.pts = BigInt(Math.max(0, Math.round(ptsMs)));
        await encoder.encode(frame);
        const parts: Uint8Array[] = [];
        let key = false;
        for (let p = await encoder.receive(); p instanceof m.lib.Packet; p = await encoder.receive()) {
          if (p.data) parts.push(Uint8Array.from(p.data));
          if (p.isKeyframe) key = true;
          p.free();
        }
        return { data: parts.length === 1 ? parts[0]! : concat(parts), key };
      },
      recycle(picture) {
        // libx264 copied the picture into its own frame during encode (zerolatency: nothing held back).
        if (closed || pool.length >= 3) free(picture as Yuv);
        else pool.push(picture as Yuv);
      },
      close() {
        closed = true;
        encoder.close();
        sws.freeContext();
        for (const p of pool.splice(0)) free(p);
      },
    };
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Pixels two rectangles share. */
function overlap(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x), h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

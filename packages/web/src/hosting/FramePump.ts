/**
 * The host's side of a browser share: captured VideoFrames in, `screen`/`tile`/`frame` messages out.
 *
 * Flow control: at most `maxUnacked` frames may be waiting for the relay's ack. While blocked (or busy
 * encoding) only the newest captured frame is kept, older ones are closed unseen, so a slow path never
 * queues stale pictures: when the window opens the viewers get the screen as it is now.
 *
 * Per frame: read the pixels (VideoFrame.copyTo as RGBA, ~2 ms at 1080p), find the changed cells
 * (TileDiffer), and encode each one: uniform → Fill; changing in consecutive frames (scrolling, video) →
 * JPEG flagged lossy; a one-off change that is flat (text, UI) → lossless; noisy (a photo) → JPEG. Lossy
 * cells that stay still for `refineAfterMs` are re-sent lossless (TileHistory), so still text is exact.
 */
import { encodeShareMessage, SHARE_LIMITS, type ShareMessage } from '@baton/protocol';
import { Emitter } from '../conference/Emitter';
import { CanvasTileEncoder, type LosslessCodec, type PixelSource, type TileMessage } from './CanvasTileEncoder';
import { TileDiffer } from './TileDiffer';
import { TileHistory } from './TileHistory';

export interface FramePumpOptions {
  /** Grid cell size in pixels (16..256). */
  tileSize?: number;
  jpegQuality?: number;
  lossless?: LosslessCodec;
  /**
   * A one-off change flatter than this (share of pixels equal to their left neighbour) is text or UI and
   * goes lossless at once; a noisier one is photo-like: JPEG first (small, quick), refined later.
   */
  minFlatForLossless?: number;
  refineAfterMs?: number;
  /** Frames sent and not yet acked by the relay before the pump waits. */
  maxUnacked?: number;
  /** Refinement work per frame is cut off after this long, the rest goes with the next frames (ms). */
  refineBudgetMs?: number;
  /** Pause while the socket holds more than this many unsent bytes. */
  maxBuffered?: number;
}

export interface FramePumpSink {
  send(bytes: Uint8Array): void;
  /** Bytes queued on the transport and not yet sent. */
  buffered(): number;
}

export interface HostStats {
  width: number;
  height: number;
  tileSize: number;
  /** Frames the capture delivered. */
  framesCaptured: number;
  /** Captured frames closed unseen because a newer one arrived while busy or blocked. */
  framesDropped: number;
  /** Captured frames processed (diffed). */
  framesProcessed: number;
  /** `frame` messages sent (processed frames with at least one tile). */
  framesSent: number;
  framesAcked: number;
  tilesFill: number;
  tilesLossless: number;
  tilesLossy: number;
  tilesRefined: number;
  /** Cells currently held lossy by the viewers. */
  lossyCells: number;
  bytesSent: number;
  /** Processing time of the last frame that sent something (read + diff + encode, ms). */
  lastEncodeMs: number;
  /** Moving average of that (ms). */
  avgEncodeMs: number;
  /** Time spent reading pixels and diffing, last processed frame (ms). */
  lastDiffMs: number;
  unacked: number;
  /** Wall time of the last `frame` sent (ms since the epoch). */
  lastSentAt: number;
}

export type FramePumpEvents = {
  /** After every frame sent (and on acks). */
  stats: HostStats;
  /** The capture stream ended (the user stopped it, or the track died). */
  ended: undefined;
  error: Error;
};

const now = (): number => performance.timeOrigin + performance.now();

export class FramePump extends Emitter<FramePumpEvents> {
  readonly tileSize: number;
  readonly lossless: LosslessCodec;
  readonly minFlatForLossless: number;
  readonly maxUnacked: number;
  readonly refineBudgetMs: number;
  readonly maxBuffered: number;
  readonly stats: HostStats;
  readonly #sink: FramePumpSink;
  readonly #encoder: CanvasTileEncoder;
  readonly #differ: TileDiffer;
  readonly #history: TileHistory;
  #reader: ReadableStreamDefaultReader<VideoFrame> | null = null;
  #latest: VideoFrame | null = null;
  #busy = false;
  #closed = false;
  #seq = 0;
  #acked = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #fallback: OffscreenCanvasRenderingContext2D | null = null;

  constructor(sink: FramePumpSink, options: FramePumpOptions = {}) {
    super();
    this.tileSize = options.tileSize ?? 256;
    if (this.tileSize < SHARE_LIMITS.minTileSize || this.tileSize > SHARE_LIMITS.maxTileSize) throw new RangeError(`tile size ${this.tileSize} out of range`);
    this.lossless = options.lossless ?? 'zrgb';
    this.minFlatForLossless = options.minFlatForLossless ?? 0.3;
    this.maxUnacked = options.maxUnacked ?? 2;
    this.refineBudgetMs = options.refineBudgetMs ?? 40;
    this.maxBuffered = options.maxBuffered ?? 4 * 1024 * 1024;
    this.#sink = sink;
    this.#encoder = new CanvasTileEncoder(options.jpegQuality === undefined ? {} : { jpegQuality: options.jpegQuality });
    this.#differ = new TileDiffer(this.tileSize);
    this.#history = new TileHistory(options.refineAfterMs ?? 300);
    this.stats = {
      width: 0, height: 0, tileSize: this.tileSize,
      framesCaptured: 0, framesDropped: 0, framesProcessed: 0, framesSent: 0, framesAcked: 0,
      tilesFill: 0, tilesLossless: 0, tilesLossy: 0, tilesRefined: 0, lossyCells: 0,
      bytesSent: 0, lastEncodeMs: 0, avgEncodeMs: 0, lastDiffMs: 0, unacked: 0, lastSentAt: 0,
    };
  }

  /** Start pulling frames; resolves when the stream ends or the pump is closed. */
  async run(frames: ReadableStream<VideoFrame>): Promise<void> {
    const reader = frames.getReader();
    this.#reader = reader;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.#closed) {
          value?.close();
          break;
        }
        this.stats.framesCaptured++;
        if (this.#latest) {
          this.#latest.close();
          this.stats.framesDropped++;
        }
        this.#latest = value;
        this.#kick();
      }
    } catch (err) {
      if (!this.#closed) this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
    if (!this.#closed) this.emit('ended', undefined);
  }

  /** The relay took frame `seq`: one more frame may go. */
  ack(seq: number): void {
    if (seq <= this.#acked || seq > this.#seq) return;
    this.stats.framesAcked += seq - this.#acked;
    this.#acked = seq;
    this.stats.unacked = this.#seq - this.#acked;
    this.#kick();
  }

  /** A copy of the source pixels the viewers have (or are being sent): RGBA rows. */
  snapshot(): { width: number; height: number; pixels: Uint8Array } {
    const ref = this.#differ.reference;
    return { width: this.#differ.width, height: this.#differ.height, pixels: new Uint8Array(ref.buffer.slice(ref.byteOffset, ref.byteOffset + ref.byteLength) as ArrayBuffer) };
  }

  /** Stop: release the held frame and the capture stream. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#latest?.close();
    this.#latest = null;
    this.#reader?.cancel().catch(() => {});
    this.removeAllListeners();
  }

  #kick(): void {
    if (this.#busy || this.#closed) return;
    if (this.#seq - this.#acked >= this.maxUnacked) return; // an ack will kick again
    if (this.#sink.buffered() > this.maxBuffered) {
      this.#schedule(20); // the socket drains without telling us: look again shortly
      return;
    }
    const frame = this.#latest;
    this.#latest = null;
    const due = this.#history.nextDueAt();
    if (!frame && (due === null || due > now())) {
      if (due !== null) this.#schedule(due - now());
      return;
    }
    this.#busy = true;
    this.#process(frame)
      .catch((err: unknown) => {
        if (!this.#closed) this.emit('error', err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        this.#busy = false;
        this.#kick();
      });
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#kick();
    }, Math.max(1, ms));
  }

  async #process(frame: VideoFrame | null): Promise<void> {
    const t0 = performance.now();
    const time = now();
    const out: TileMessage[] = [];
    const differ = this.#differ;
    const history = this.#history;
    const src: PixelSource = { data: differ.reference, width: differ.width, height: differ.height };
    const pending: Promise<TileMessage>[] = [];
    const changedSet = new Set<number>();

    if (frame) {
      const width = frame.visibleRect?.width ?? frame.displayWidth;
      const height = frame.visibleRect?.height ?? frame.displayHeight;
      try {
        if (width !== differ.width || height !== differ.height) this.#newScreen(width, height);
        await this.#readPixels(frame, differ.captureBuffer());
      } finally {
        frame.close();
      }
      const changed = differ.diff(differ.captureBuffer());
      src.data = differ.reference;
      src.width = width;
      src.height = height;
      this.stats.framesProcessed++;
      this.stats.lastDiffMs = performance.now() - t0;
      history.nextFrame();
      for (const index of changed) {
        changedSet.add(index);
        const rect = differ.rect(index);
        const moving = history.changed(index);
        const summary = differ.summarize(index, !moving);
        if (summary.uniform) {
          out.push(this.#encoder.fill(rect, summary.first));
          history.sent(index, false, 0);
          this.stats.tilesFill++;
        } else if (!moving && summary.flat >= this.minFlatForLossless) {
          pending.push(this.#encoder.lossless(src, rect, this.lossless));
          history.sent(index, false, 0);
          this.stats.tilesLossless++;
        } else {
          pending.push(this.#encoder.jpeg(src, rect));
          history.sent(index, true, time);
          this.stats.tilesLossy++;
        }
      }
      out.push(...(await Promise.all(pending)));
    }

    // Cells that have been still long enough get their exact pixels, within a time budget per frame.
    if (differ.width > 0) {
      const due = history.due(time, changedSet);
      const started = performance.now();
      for (let i = 0; i < due.length && performance.now() - started < this.refineBudgetMs; i += 8) {
        const batch = due.slice(i, i + 8);
        out.push(...(await Promise.all(batch.map((index) => this.#encoder.lossless(src, differ.rect(index), this.lossless)))));
        for (const index of batch) history.sent(index, false, 0);
        this.stats.tilesRefined += batch.length;
      }
    }
    this.stats.lossyCells = history.lossyCount;
    if (out.length === 0 || this.#closed) return;

    for (const t of out) this.#send(t);
    this.#send({ type: 'frame', seq: ++this.#seq, time });
    const s = this.stats;
    s.framesSent++;
    s.unacked = this.#seq - this.#acked;
    s.lastEncodeMs = performance.now() - t0;
    s.avgEncodeMs = s.avgEncodeMs === 0 ? s.lastEncodeMs : s.avgEncodeMs * 0.9 + s.lastEncodeMs * 0.1;
    s.lastSentAt = now();
    this.emit('stats', s);
  }

  #newScreen(width: number, height: number): void {
    this.#differ.reset(width, height);
    this.#history.reset(this.#differ.cellCount);
    this.stats.width = width;
    this.stats.height = height;
    this.#send({ type: 'screen', width, height, tileSize: this.tileSize });
  }

  #send(msg: ShareMessage): void {
    const bytes = encodeShareMessage(msg);
    this.stats.bytesSent += bytes.byteLength;
    this.#sink.send(bytes);
  }

  /** RGBA pixels of the frame's visible rectangle, tightly packed. */
  async #readPixels(frame: VideoFrame, dest: Uint32Array): Promise<void> {
    const bytes = new Uint8Array(dest.buffer, dest.byteOffset, dest.byteLength);
    if (!this.#fallback) {
      try {
        await frame.copyTo(bytes, { format: 'RGBA' } as VideoFrameCopyToOptions);
        return;
      } catch {
        // Browsers without format conversion in copyTo: draw the frame instead (slower, ~20 ms at 1080p).
      }
    }
    const { width, height } = this.stats;
    if (!this.#fallback || this.#fallback.canvas.width !== width || this.#fallback.canvas.height !== height) {
      const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true, alpha: false });
      if (!ctx) throw new Error('no 2D context on OffscreenCanvas');
      this.#fallback = ctx;
    }
    this.#fallback.drawImage(frame, 0, 0);
    bytes.set(new Uint8Array(this.#fallback.getImageData(0, 0, width, height).data.buffer));
  }
}

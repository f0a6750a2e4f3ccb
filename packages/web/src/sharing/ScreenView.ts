/**
 * Owns the canvas a shared screen is drawn on (and an optional overlay canvas for the remote cursor).
 * Tiles are decoded as soon as they arrive, in parallel, but a frame's tiles are drawn together, in
 * order, once all are decoded; frames and screen changes are applied strictly in arrival order.
 * After a frame is on the canvas, `frameDrawn` fires: that is when the viewer acks it.
 */
import type { ShareMessage } from '@baton/protocol';
import { Emitter } from '../conference/Emitter';
import { CursorOverlay } from './CursorOverlay';
import { createBatchDecoder, createDecoders, prewarmDecoders, type BatchDecoder, type DecodedTile, type DecoderTable } from './decoders';
import { TileEncoding, videoHeader } from '@baton/protocol';
import { FrameVerifier, type TileRect } from './FrameVerifier';
import { overdrawnVideo, type VideoRect } from './VideoTileDecoder';

export interface ViewerStats {
  framesDrawn: number;
  /** Host seq of the latest frame drawn. */
  lastSeq: number;
  /** Host capture time of that frame (the host's clock, ms). */
  lastCaptureTime: number;
  /** When it was drawn (ms since the epoch, sub-millisecond). */
  lastDrawnAt: number;
  /** From the first tile of the latest frame arriving to the frame being drawn (ms): mostly decode time. */
  lastFrameMs: number;
  /** The part of lastFrameMs spent receiving: from the first tile arriving to the `frame` message arriving. */
  lastReceiveMs: number;
  tilesDrawn: number;
  decodeErrors: number;
  width: number;
  height: number;
  /**
   * Frame verification (the `verifyFrames` debug mode, with a host that sends hashes): frames whose
   * canvas was hashed after drawing, those whose hash differed from the host's (a picture the host
   * never showed), and the seq of the latest such frame (-1: none).
   */
  framesVerified: number;
  framesMismatched: number;
  lastMismatchSeq: number;
  /** Video units (the host's video layer) received, and the bytes of them. */
  videoUnits: number;
  videoBytes: number;
  /**
   * Video units decoded but not drawn: the next frame, already received, starts with a unit of the
   * stream that overdraws the whole rectangle (see overdrawnVideo). Not while verifying frames.
   */
  videoSkipped: number;
  /** `tiles` messages received (a snapshot in batches), the tiles in them, and the batches a decode worker drew. */
  tileBatches: number;
  batchedTiles: number;
  workerBatches: number;
}

export type ScreenViewEvents = {
  resize: { width: number; height: number };
  frameDrawn: { seq: number; time: number };
  /** The remote cursor's image as a data URL, for a page that shows it as the local CSS cursor. */
  cursorShape: { url: string; hotX: number; hotY: number };
  error: Error;
};

export interface ScreenViewOptions {
  /**
   * The canvas to draw on. Without one the view draws on a canvas of its own, not in the page, until
   * attach() gives it the page's (a late joiner's share starts before the page has rendered its stage).
   */
  canvas?: HTMLCanvasElement;
  /** A canvas for the remote cursor, absolutely positioned in a box over the screen canvas: CursorOverlay sizes and places it. */
  cursorCanvas?: HTMLCanvasElement;
  decoders?: DecoderTable;
  /** How `tiles` batches are decoded (default: in the decode workers, else through `decoders` one by one). */
  batchDecoder?: BatchDecoder;
  /** Publish the stats object as `window.__batonViewer` (tests and benchmarks read it). Default true. */
  publishStats?: boolean;
  /**
   * Frame verification (a debug mode): after each whole frame is drawn, hash the canvas where it is
   * lossless and count frames whose hash differs from the one the host put in the frame. Default:
   * `window.__batonVerifyFrames === true`, or `verifyFrames` in the page's query string.
   */
  verifyFrames?: boolean;
}

declare global {
  interface Window {
    __batonViewer?: ViewerStats;
    __batonVerifyFrames?: boolean;
  }
}

/** `video`: the rectangles of its video units (not end tiles) by tile index; `first`: its first tile's, if a video unit. */
type Batch = { tiles: Promise<DecodedTile>[]; rects: TileRect[]; startedAt: number; receivedAt?: number; video: Map<number, VideoRect> | null; first: VideoRect | null };
function newBatch(): Batch {
  return { tiles: [], rects: [], startedAt: performance.now(), video: null, first: null };
}

function verifyByDefault(): boolean {
  if (typeof window === 'undefined') return false;
  return window.__batonVerifyFrames === true || new URLSearchParams(window.location?.search ?? '').has('verifyFrames');
}

const now = (): number => performance.timeOrigin + performance.now();

export class ScreenView extends Emitter<ScreenViewEvents> {
  #canvas: HTMLCanvasElement;
  readonly stats: ViewerStats = {
    framesDrawn: 0,
    lastSeq: -1,
    lastCaptureTime: 0,
    lastDrawnAt: 0,
    lastFrameMs: 0,
    lastReceiveMs: 0,
    tilesDrawn: 0,
    decodeErrors: 0,
    width: 0,
    height: 0,
    framesVerified: 0,
    framesMismatched: 0,
    lastMismatchSeq: -1,
    videoUnits: 0,
    videoBytes: 0,
    videoSkipped: 0,
    tileBatches: 0,
    batchedTiles: 0,
    workerBatches: 0,
  };
  #ctx: CanvasRenderingContext2D;
  readonly #decoders: DecoderTable;
  readonly #decodeBatch: BatchDecoder;
  #cursor: CursorOverlay | null;
  /** The latest cursor messages while there is no overlay yet (attach() shows them). */
  #cursorShape: Extract<ShareMessage, { type: 'cursorShape' }> | null = null;
  #cursorPos: Extract<ShareMessage, { type: 'cursorPos' }> | null = null;
  #batch: Batch | null = null;
  /** Frames received whose turn to be drawn has not come (oldest first). */
  #received: Batch[] = [];
  /** A `screen` waiting for its first frame (see handle()). */
  #pendingScreen: { width: number; height: number; tileSize: number } | null = null;
  #chain: Promise<void> = Promise.resolve();
  #destroyed = false;
  readonly #verifier: FrameVerifier | null;

  constructor(options: ScreenViewOptions) {
    super();
    this.#canvas = options.canvas ?? document.createElement('canvas');
    this.#verifier = (options.verifyFrames ?? verifyByDefault()) ? new FrameVerifier() : null;
    this.#ctx = this.#context(this.#canvas);
    // A table of its own: its video decoder holds the state of the stream this view is being sent.
    this.#decoders = options.decoders ?? createDecoders();
    this.#decodeBatch = options.batchDecoder ?? createBatchDecoder(this.#decoders);
    // The default decoders inflate in workers: start them now, not when the first tile arrives.
    if (!options.decoders) prewarmDecoders();
    this.#cursor = options.cursorCanvas ? new CursorOverlay(options.cursorCanvas) : null;
    if (options.publishStats !== false && typeof window !== 'undefined') window.__batonViewer = this.stats;
  }

  /** The canvas it draws on (its own until attach() gives it the page's). */
  get canvas(): HTMLCanvasElement {
    return this.#canvas;
  }

  get width(): number {
    return this.stats.width;
  }

  /**
   * Draw on `canvas` from now on (and the remote cursor on `cursorCanvas`): what is on the current
   * canvas is copied over, pixel for pixel, so a view that started before the page had a place for it
   * (a late joiner's share, opened as its welcome came) shows what it has drawn so far, and the
   * cursor it was last told of.
   */
  attach(canvas: HTMLCanvasElement, cursorCanvas?: HTMLCanvasElement): void {
    if (this.#destroyed) return;
    if (canvas !== this.#canvas) {
      const old = this.#canvas;
      const ctx = this.#context(canvas);
      canvas.width = old.width;
      canvas.height = old.height;
      if (this.stats.width > 0) ctx.drawImage(old, 0, 0);
      else {
        ctx.fillStyle = '#000';
        ctx.fillRect(0, 0, canvas.width, canvas.height);
      }
      this.#canvas = canvas;
      this.#ctx = ctx;
      // The canvas of its own is let go (its backing store is freed with it).
      old.width = old.height = 0;
    }
    if (cursorCanvas && !this.#cursor) {
      this.#cursor = new CursorOverlay(cursorCanvas);
      if (this.stats.width > 0) this.#cursor.resize(this.stats.width, this.stats.height);
      const shape = this.#cursorShape, pos = this.#cursorPos;
      this.#cursorShape = this.#cursorPos = null;
      if (shape) this.handle(shape);
      if (pos) this.handle(pos);
    }
  }
  get height(): number {
    return this.stats.height;
  }

  /** Draw the remote cursor on the overlay (true), or leave it to the page (false: e.g. while controlling, as the local cursor). */
  set drawCursor(on: boolean) {
    if (this.#cursor) this.#cursor.enabled = on;
  }

  /** Feed one message from the host (screen, tile, frame, cursor). */
  handle(msg: ShareMessage): void {
    if (this.#destroyed) return;
    switch (msg.type) {
      case 'screen': {
        this.#dropBatch();
        const { width, height, tileSize } = msg;
        // A new screen while a picture is shown (the host switched source, a window was resized): the old
        // picture stays until the new screen's first frame is decoded, then both happen in one go, so the
        // canvas is never blank in between. The first screen is set up at once.
        this.#enqueue(() => {
          if (this.stats.width === 0) this.#resize(width, height, tileSize);
          else this.#pendingScreen = { width, height, tileSize };
        });
        return;
      }
      case 'tile': {
        const batch = (this.#batch ??= newBatch());
        if (msg.encoding === TileEncoding.Video) {
          this.stats.videoUnits++;
          this.stats.videoBytes += msg.data.length;
          if (!videoHeader(msg.data).end) {
            const rect = { x: msg.x, y: msg.y, w: msg.w, h: msg.h };
            (batch.video ??= new Map()).set(batch.tiles.length, rect);
            if (batch.tiles.length === 0) batch.first = rect;
          }
        }
        const decode = this.#decoders[msg.encoding](msg);
        decode.catch(() => {}); // handled when the frame is drawn; avoids an unhandled-rejection warning meanwhile
        this.#batch.tiles.push(decode);
        if (this.#verifier) this.#batch.rects.push({ x: msg.x, y: msg.y, w: msg.w, h: msg.h, flags: msg.flags });
        return;
      }
      case 'tiles': {
        this.#batch ??= newBatch();
        this.stats.tileBatches++;
        this.stats.batchedTiles += msg.tiles.length;
        // The rectangles first: the batch decoder may transfer the message's buffer to a worker.
        if (this.#verifier) for (const t of msg.tiles) this.#batch.rects.push({ x: t.x, y: t.y, w: t.w, h: t.h, flags: t.flags });
        const decode = this.#decodeBatch(msg.tiles);
        decode.catch(() => {});
        this.#batch.tiles.push(decode);
        return;
      }
      case 'frame': {
        const batch = this.#batch ?? newBatch();
        batch.receivedAt = performance.now();
        this.#batch = null;
        this.#received.push(batch);
        const hash = msg.hash;
        this.#enqueue(() => this.#drawFrame(batch, msg.seq, msg.time, hash));
        return;
      }
      case 'cursorShape':
        if (!this.#cursor) this.#cursorShape = msg;
        this.#cursor?.setShape(msg.w, msg.h, msg.hotX, msg.hotY, msg.rgba);
        if (this.#cursor && msg.w > 0 && msg.h > 0) this.emit('cursorShape', { url: this.#cursor.dataUrl(), hotX: msg.hotX, hotY: msg.hotY });
        return;
      case 'cursorPos':
        if (!this.#cursor) this.#cursorPos = msg;
        this.#cursor?.move(msg.x, msg.y, msg.visible);
        return;
      default:
        return;
    }
  }

  /** Resolves once everything received so far is on the canvas. */
  idle(): Promise<void> {
    return this.#chain;
  }

  destroy(): void {
    this.#destroyed = true;
    this.#dropBatch();
    this.#received = [];
    this.removeAllListeners();
    if (typeof window !== 'undefined' && window.__batonViewer === this.stats) delete window.__batonViewer;
  }

  #context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
    const ctx = canvas.getContext('2d', { alpha: false, willReadFrequently: this.#verifier !== null });
    if (!ctx) throw new Error('no 2D canvas context');
    return ctx;
  }

  #enqueue(step: () => void | Promise<void>): void {
    this.#chain = this.#chain.then(step).catch((err: unknown) => {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    });
  }

  #resize(width: number, height: number, tileSize: number): void {
    if (this.#destroyed) return;
    this.#verifier?.reset(width, height, tileSize);
    this.canvas.width = width;
    this.canvas.height = height;
    this.#ctx.fillStyle = '#000';
    this.#ctx.fillRect(0, 0, width, height);
    this.#cursor?.resize(width, height);
    this.stats.width = width;
    this.stats.height = height;
    this.emit('resize', { width, height });
  }

  async #drawFrame(batch: Batch, seq: number, time: number, hash: number | undefined): Promise<void> {
    const results = await Promise.allSettled(batch.tiles);
    if (this.#received[0] === batch) this.#received.shift();
    if (this.#destroyed) return releaseAll(results);
    // Frame verification hashes the canvas after every frame: then every frame is drawn whole.
    const skipVideo = !this.#verifier && batch.video !== null && overdrawnVideo(batch.video.values(), this.#received[0]?.first ?? null);
    const next = this.#pendingScreen;
    this.#pendingScreen = null;
    if (next) this.#resize(next.width, next.height, next.tileSize);
    for (const [i, r] of results.entries()) {
      if (skipVideo && r.status === 'fulfilled' && batch.video!.has(i)) {
        r.value.release();
        this.stats.videoSkipped++;
        continue;
      }
      // A tile that cannot be decoded or drawn is skipped (the host's next change of that cell repairs it);
      // the frame itself must still complete, or it would never be acked and the server would stop sending.
      try {
        if (r.status === 'rejected') throw r.reason;
        try {
          r.value.draw(this.#ctx);
          this.stats.tilesDrawn += r.value.count ?? 1;
          if (r.value.inWorker) this.stats.workerBatches++;
        } finally {
          r.value.release();
        }
      } catch (err) {
        this.stats.decodeErrors++;
        this.emit('error', err instanceof Error ? err : new Error(String(err)));
      }
    }
    const s = this.stats;
    // Every tile of the frame is on the canvas now (drawn above in one go, after all of them decoded).
    if (this.#verifier && s.width > 0) {
      const mine = this.#verifier.hash(this.#ctx, batch.rects);
      if (hash !== undefined) {
        s.framesVerified++;
        if (mine !== hash) {
          s.framesMismatched++;
          s.lastMismatchSeq = seq;
        }
      }
    }
    s.framesDrawn++;
    s.lastSeq = seq;
    s.lastCaptureTime = time;
    s.lastDrawnAt = now();
    s.lastFrameMs = performance.now() - batch.startedAt;
    s.lastReceiveMs = (batch.receivedAt ?? batch.startedAt) - batch.startedAt;
    this.emit('frameDrawn', { seq, time });
  }

  #dropBatch(): void {
    const batch = this.#batch;
    this.#batch = null;
    if (batch) void Promise.allSettled(batch.tiles).then(releaseAll);
  }
}

function releaseAll(results: PromiseSettledResult<DecodedTile>[]): void {
  for (const r of results) if (r.status === 'fulfilled') r.value.release();
}

/**
 * The sharing logic over one ShareTransport: auth, `screen`, then capture passes (tiles + one
 * `frame` each) paced by acks, cursor shape and position as they change, and the controller's input
 * injected while `controlEnabled` is set. It knows nothing about WebSockets or the conference.
 */
import { SHARE_PROTOCOL_VERSION, ShareDecodeError, decodeShareMessage, encodeShareMessage, isInputMessage, type ShareMessage } from '@baton/protocol';
import { TypedEmitter } from './TypedEmitter.js';
import { FlowControl, type FlowControlOptions } from './FlowControl.js';
import { FrameRateGovernor } from './FrameRateGovernor.js';
import { alignToPaint, restAfterPass, routeVideoUnit } from './pacing.js';
import { LoopWaits, type WaitTotals } from './LoopWaits.js';
import type { FrameRateReason } from './FrameRateGovernor.js';
import type { ScreenCapture } from './ScreenCapture.js';
import type { TileEncoder, EncodeStats } from './TileEncoder.js';
import type { CursorWatcher, CursorPos, CursorShape } from './CursorWatcher.js';
import type { InputInjector } from './InputInjector.js';
import type { ShareTransport } from './ShareTransport.js';
import type { TileMessage, VideoUnitInfo } from './VideoLayer.js';

export type ShareSessionOptions = {
  transport: ShareTransport;
  /** Single-use ticket for the `auth` frame. */
  ticket: string;
  capture: ScreenCapture;
  encoder: TileEncoder;
  cursor?: CursorWatcher;
  injector?: InputInjector;
  flow?: FlowControlOptions;
  /**
   * Upper bound on capture passes per second (default 60). Below it the rate adapts to the content, the
   * agent's CPU per pass and the viewers' acknowledgements (FrameRateGovernor).
   */
  maxFps?: number;
  /**
   * Frame verification (a debug mode): each `frame` carries the hash of the picture after it, which a
   * viewer in the same mode checks against its canvas. Default: BATON_VERIFY_FRAMES=1 in the environment.
   */
  verifyFrames?: boolean;
  /**
   * A new path gets the whole screen from the encoder's tile cache (see resync()); false encodes every cell
   * again, as before the cache (for A/B benches). Default: on unless BATON_TILE_CACHE=0.
   */
  tileCache?: boolean;
};

/**
 * `time`: when the capture started (ms epoch); `paintAgeMs`: how long before that the screen was last
 * drawn on. The pass's stats are emitted right after its last send.
 */
export type PassStats = EncodeStats & {
  seq: number;
  time: number;
  paintAgeMs: number;
  captureMs: number;
  refined: number;
  wireBytes: number;
  fps: number;
  /** Process CPU time (all threads: sharp's, libx264's) from the pass's start to its frame (ms). */
  cpuMs: number;
  /** Process CPU time since the previous pass ended (ms): the frame's whole cost (the rate and the rest use it). */
  frameCpuMs: number;
  /** Wall time of the pass up to its frame (ms). */
  passMs: number;
  /** Wall time between the previous pass's end and this one's start (ms): the loop resting or waiting. */
  idleMs: number;
  /** Of idleMs, what the loop waited for (see LoopWaits). */
  waits: WaitTotals;
  /** Which bound set the capture rate, and the smoothed ack round trip (ms). */
  rateReason: FrameRateReason;
  ackRttMs: number | null;
  /** Tiles of this frame replayed from the encoder's cache for a new path (see resync()); 0 for a normal pass. */
  snapshotTiles: number;
};

export type ShareSessionEvents = {
  /** A batch (tiles + frame) went out. */
  frame: [PassStats];
  /** An input message from the controller (after injection, or dropped when control is off). */
  input: [Extract<ShareMessage, { type: 'pointer' | 'wheel' | 'key' }>, boolean];
  /** Clipboard text from the controller (`allowed`: someone holds control, so it may be used). */
  clipboard: [text: string, allowed: boolean];
  /** A video unit went out (encoded beside the passes), with its encoder's figures. */
  video: [VideoUnitInfo & { seq: number | null; bytes: number; dropped: number }];
  /**
   * A new path was given the whole screen (resync()): from the cache (`tiles` replayed, `missingCells`
   * left to the next pass's encode), or null when every cell is encoded again (a video stream under way).
   */
  resynced: [{ tiles: number; missingCells: number; bytes: number; ms: number } | null];
  /** The channel is gone. */
  closed: [code: number, reason: string];
  error: [Error];
};

/** A gap between passes longer than this is a pause, whose CPU is not a frame's (ms). */
const FRAME_GAP_MS = 250;

export class ShareSession extends TypedEmitter<ShareSessionEvents> {
  readonly flow: FlowControl;
  #t: ShareTransport;
  #ticket: string;
  #capture: ScreenCapture;
  #encoder: TileEncoder;
  #cursor: CursorWatcher | undefined;
  #injector: InputInjector | undefined;
  /** The capture rate: follows the content, the CPU per pass and the viewers' acks. */
  readonly rate: FrameRateGovernor;
  /** When each frame in flight was sent (for the ack round trip), and the latest round trip not yet noted. */
  #sentAt = new Map<number, number>();
  #ackRtt: number | undefined;
  readonly #verify: boolean;
  readonly #tileCache: boolean;
  #controlEnabled = false;
  #paused = false;
  /** A source switch is under way: no pass starts meanwhile. */
  #switching = false;
  /** Resolves when the pass under way (if any) has ended. */
  #passDone: Promise<void> = Promise.resolve();
  #screen: { width: number; height: number } | null = null;
  #running = false;
  #scheduled: NodeJS.Timeout | null = null;
  #bufferPoll: NodeJS.Timeout | null = null;
  #refineTimer: NodeJS.Timeout | null = null;
  #lastPassAt = 0;
  /** When the last pass ended and the CPU it took (ms), for the duty-cycle limit. */
  #lastPassEnd = 0;
  #lastPassCpuMs = 0;
  /** Bytes of the last frame: how many frames like it the flow window lets be in flight (the rate's viewers bound). */
  #lastFrameBytes = 0;
  /** Process CPU when the last pass ended: what the process spends between passes counts for the next. */
  #cpuAtLastEnd: NodeJS.CpuUsage | null = null;
  readonly #waits = new LoopWaits();
  #closed = false;
  #started = false;
  /** A new path wants the whole screen: served from the cache when the pass under way ends. */
  #resyncPending = false;
  /** Tiles replayed from the cache that still wait for their `frame` (the next pass sends it). */
  #replayed: { tiles: TileMessage[]; bytes: number } | null = null;
  /** Cancels a pass waiting for the next repaint. */
  #unalign: (() => void) | null = null;
  #onDamage = (): void => this.#kick();
  // Cursor news goes out as it happens, but only after `screen` (the first pass sends the latest).
  // While paused the cursor stays where it was too: the latest goes out on resume.
  #onShape = (s: CursorShape): void => void (this.#screen && !this.#paused && this.#send(s));
  #onPos = (p: CursorPos): void => void (this.#screen && !this.#paused && this.#send(p));
  #onUnblocked = (): void => this.#kick();
  /** Video units encoded while a pass was under way (or the flow was blocked): they go out first in the next batch. */
  #videoOut: Array<{ tile: TileMessage; info: VideoUnitInfo }> = [];
  #onVideoUnit = (tile: TileMessage, info: VideoUnitInfo): void => this.#videoUnit(tile, info);

  constructor(options: ShareSessionOptions) {
    super();
    this.#t = options.transport;
    this.#ticket = options.ticket;
    this.#capture = options.capture;
    this.#encoder = options.encoder;
    this.#cursor = options.cursor;
    this.#injector = options.injector;
    this.flow = new FlowControl(options.flow);
    this.rate = new FrameRateGovernor({ maxFps: options.maxFps ?? 60, maxInFlight: this.flow.maxInFlight });
    this.#verify = options.verifyFrames ?? process.env.BATON_VERIFY_FRAMES === '1';
    this.#tileCache = options.tileCache ?? process.env.BATON_TILE_CACHE !== '0';
  }

  /** Authenticate and start streaming. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#t.onMessage = (b) => this.#onMessage(b);
    this.#t.onClose = (code, reason) => void this.#shutdown(code, reason);
    this.#send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: this.#ticket });
    this.#capture.on('damage', this.#onDamage);
    this.flow.on('unblocked', this.#onUnblocked);
    // The video layer encodes beside the passes and hands its units here (see #videoUnit).
    if (this.#encoder.video) this.#encoder.video.sink = this.#onVideoUnit;
    if (this.#cursor) {
      this.#cursor.on('shape', this.#onShape);
      this.#cursor.on('position', this.#onPos);
    }
    this.#capture.requestFull();
    this.#kick();
  }

  /** Inject the controller's input only while someone holds control. Turning it off releases everything. */
  get controlEnabled(): boolean {
    return this.#controlEnabled;
  }
  set controlEnabled(on: boolean) {
    if (this.#controlEnabled === on) return;
    this.#controlEnabled = on;
    if (!on) void this.#injector?.releaseAll().catch((err) => this.emit('error', err as Error));
  }

  /** Clipboard news for the controller (the relay passes it to the controller alone). */
  sendClipboard(msg: Extract<ShareMessage, { type: 'clipboard' | 'clipboardRefused' }>): void {
    if (this.#started) this.#send(msg);
  }

  /**
   * Paused: no capture passes (viewers keep the last picture; damage accumulates in the X server) and
   * the controller's input is dropped. Resuming reads the whole area again, so the next frame brings
   * viewers everything that changed meanwhile.
   */
  get paused(): boolean {
    return this.#paused;
  }
  set paused(on: boolean) {
    if (this.#paused === on) return;
    this.#paused = on;
    if (on) {
      this.#cancelScheduled();
      if (this.#controlEnabled) void this.#injector?.releaseAll().catch((err) => this.emit('error', err as Error));
    } else {
      if (this.#screen && this.#cursor?.shape) this.#send(this.#cursor.shape);
      if (this.#screen && this.#cursor?.position) this.#send(this.#cursor.position);
      this.#capture.requestFull();
      this.#kick();
    }
  }

  /**
   * Switch what is shared (`change` does it, e.g. ScreenCapture.switchTo) between two passes: the pass
   * under way ends first, none starts until `change` is done, and the next one sends a new `screen` and
   * every tile of the new source, whatever its size, so viewers swap pictures in one frame.
   */
  async switchSource<T>(change: () => Promise<T>): Promise<T> {
    if (this.#switching) throw new Error('a source switch is already under way');
    this.#switching = true;
    try {
      this.#cancelScheduled();
      await this.#passDone;
      const out = await change();
      this.#screen = null;
      this.#capture.requestFull();
      return out;
    } finally {
      this.#switching = false;
      this.#kick();
    }
  }

  /**
   * The stream moved to a new path, which has nothing yet (flow control was reset): send it the whole
   * screen from the encoder's cache at once (no capture, no encoding), the picture the other paths have.
   * Cells the cache cannot give are captured and encoded by the next pass, whose `frame` then closes the
   * snapshot; without such cells the snapshot is a frame of its own. With a video stream under way (the
   * new path would need a keyframe first) or before the first pass, every cell is encoded again instead.
   */
  resync(): void {
    if (this.#closed || !this.#started) return;
    // A source switch sends a new `screen` and every tile anyway.
    if (this.#switching) return;
    if (this.#running) {
      this.#resyncPending = true;
      return;
    }
    this.#resync();
    this.#kick();
  }

  #resync(): void {
    this.#resyncPending = false;
    const screen = this.#screen;
    if (!screen) return; // the first pass sends everything
    const video = this.#encoder.video;
    if (!this.#tileCache || (video && (video.rect !== null || video.encoding || this.#videoOut.length > 0))) {
      this.#encoder.reset(screen.width, screen.height);
      this.#videoOut = [];
      this.#replayed = null;
      this.#capture.requestFull();
      this.emit('resynced', null);
      return;
    }
    const missingBefore = this.#encoder.counts.snapshotMissing;
    const t0 = performance.now();
    const snap = this.#encoder.snapshot();
    let bytes = 0;
    for (const t of snap.tiles) bytes += this.#send(t);
    const ms = performance.now() - t0;
    for (const r of snap.missing) this.#capture.requestRegion(r);
    this.emit('resynced', { tiles: snap.tiles.length, missingCells: this.#encoder.counts.snapshotMissing - missingBefore, bytes, ms });
    if (snap.missing.length > 0 || snap.tiles.length === 0) {
      this.#replayed = { tiles: snap.tiles, bytes };
      return;
    }
    this.#replayed = null;
    const seq = this.flow.nextSeq(bytes);
    this.#sentAt.set(seq, performance.now());
    const hash = this.#verify ? this.#encoder.frameHash([]) : undefined;
    const time = Date.now();
    bytes += this.#send({ type: 'frame', seq, time, ...(hash === undefined ? {} : { hash }) });
    this.emit('frame', { ...emptyEncodeStats(), seq, time, paintAgeMs: 0, captureMs: 0, refined: 0, wireBytes: bytes, fps: this.rate.fps, cpuMs: 0, frameCpuMs: 0, passMs: 0, idleMs: 0, waits: new LoopWaits().take(0), rateReason: this.rate.reason, ackRttMs: this.rate.averages.ackRttMs, snapshotTiles: snap.tiles.length });
  }

  #cancelScheduled(): void {
    if (this.#scheduled) clearTimeout(this.#scheduled);
    this.#scheduled = null;
    this.#unalign?.();
    this.#unalign = null;
  }

  async close(code = 1000, reason = 'sharing stopped'): Promise<void> {
    this.#t.close(code, reason);
    await this.#shutdown(code, reason);
  }

  async #shutdown(code: number, reason: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [this.#scheduled, this.#bufferPoll, this.#refineTimer]) if (t) clearTimeout(t);
    this.#unalign?.();
    this.#capture.off('damage', this.#onDamage);
    this.flow.off('unblocked', this.#onUnblocked);
    if (this.#encoder.video?.sink === this.#onVideoUnit) this.#encoder.video.sink = null;
    this.#videoOut = [];
    this.#cursor?.off('shape', this.#onShape);
    this.#cursor?.off('position', this.#onPos);
    if (this.#controlEnabled) {
      this.#controlEnabled = false;
      await this.#injector?.releaseAll().catch(() => undefined);
    }
    this.emit('closed', code, reason);
  }

  #send(msg: ShareMessage): number {
    if (this.#closed) return 0;
    const bytes = encodeShareMessage(msg);
    this.#t.send(bytes);
    return bytes.length;
  }

  #onMessage(bytes: Uint8Array): void {
    let msg: ShareMessage;
    try {
      msg = decodeShareMessage(bytes);
    } catch (err) {
      if (err instanceof ShareDecodeError) return void this.emit('error', err);
      throw err;
    }
    if (msg.type === 'ack') {
      const sent = this.#sentAt.get(msg.seq);
      if (sent !== undefined) this.#ackRtt = performance.now() - sent;
      for (const seq of this.#sentAt.keys()) {
        this.#sentAt.delete(seq);
        if (seq === msg.seq) break;
      }
      this.flow.ack(msg.seq);
      return;
    }
    if (msg.type === 'caps') {
      // Who decodes video and who needs tiles: a stream's cells go again as tiles for a newcomer without video.
      const r = this.#encoder.setAudience(msg);
      if (r) this.#capture.requestRegion({ x: r.x, y: r.y, width: r.w, height: r.h });
      this.#kick();
      return;
    }
    if (msg.type === 'refresh') {
      // Over the video stream's rectangle: a keyframe (a late joiner, a viewer far behind).
      this.#encoder.video?.requestKeyframe(msg.x, msg.y, msg.w, msg.h);
      // A viewer could not be given a Copy tile: send those cells as pixels at the next pass.
      this.#encoder.invalidate(msg.x, msg.y, msg.w, msg.h);
      this.#capture.requestRegion({ x: msg.x, y: msg.y, width: msg.w, height: msg.h });
      return;
    }
    if (msg.type === 'clipboard') {
      this.emit('clipboard', msg.text, this.#controlEnabled && !this.#paused);
      return;
    }
    if (!isInputMessage(msg)) return;
    // While paused the host is not watching what a controller would do: nothing is injected.
    const inject = this.#controlEnabled && !this.#paused && !!this.#injector;
    this.emit('input', msg, inject);
    if (!inject) return;
    const inj = this.#injector!;
    const done = msg.type === 'pointer' ? inj.pointer(msg.x, msg.y, msg.buttons) : msg.type === 'wheel' ? inj.wheel(msg.x, msg.y, msg.dx, msg.dy) : inj.key(msg.down, msg.key, msg.code);
    done.catch((err) => this.emit('error', err as Error));
  }

  /** Run a capture pass as soon as there is something to send and the flow allows it. */
  #kick(): void {
    if (this.#closed || this.#running || this.#scheduled || this.#paused || this.#switching) return;
    const refineAt = this.#encoder.nextRefineAt();
    const refineDue = refineAt !== null && refineAt <= Date.now();
    if (!this.#capture.pending && !refineDue && this.#videoOut.length === 0 && !this.#replayed) {
      this.#waits.enter('damage', performance.now());
      this.#armRefine(refineAt);
      return;
    }
    if (!this.flow.canSend(this.#t.bufferedAmount)) {
      this.#waits.enter(this.flow.windowFull ? 'acks' : 'buffer', performance.now());
      // Blocked by acks: 'unblocked' kicks again. Blocked by the socket buffer: poll until it drains.
      if (!this.flow.windowFull && !this.#bufferPoll) {
        this.#bufferPoll = setTimeout(() => {
          this.#bufferPoll = null;
          this.#kick();
        }, 20);
      }
      return;
    }
    // At most half a core: after a pass of N ms of CPU, rest N ms. On a busy machine the viewer and the
    // shared applications need the CPU too, and an encoder running flat out only makes every frame later.
    const now = Date.now();
    const rateWait = this.#lastPassAt + this.rate.intervalMs - now;
    const restWait = this.#lastPassEnd + restAfterPass(this.#lastPassCpuMs) - now;
    const wait = Math.max(0, rateWait, restWait);
    this.#waits.enter(wait <= 0 ? 'timer' : restWait > rateWait ? 'rest' : 'rate', performance.now());
    this.#scheduled = setTimeout(() => this.#alignedPass(), wait);
  }

  /**
   * Run the pass now, or, while something repaints at a steady pace (an animation, video, scrolling,
   * a dragged window), just after its next repaint: a capture taken midway between two repaints shows the
   * viewers a picture that is already up to one repaint old. Waits at most one repaint period.
   * Runs with `#scheduled` set, so no other pass is scheduled meanwhile.
   */
  #alignedPass(): void {
    const cap = this.#capture;
    const period = cap.paintPeriod;
    const since = performance.now() - cap.lastPaintAt;
    if (this.#closed || !cap.pending || cap.fullPending || alignToPaint(since, period) === 'now') {
      this.#scheduled = null;
      void this.#pass();
      return;
    }
    let settle: NodeJS.Timeout | null = null;
    const go = (): void => {
      cap.off('paint', onPaint);
      clearTimeout(deadline);
      if (settle) clearTimeout(settle);
      this.#unalign = null;
      this.#scheduled = null;
      void this.#pass();
    };
    // A repaint is a few drawing requests in a row: let the rest of them land before reading.
    const onPaint = (): void => {
      cap.off('paint', onPaint);
      settle = setTimeout(go, 1);
      this.#scheduled = settle;
    };
    const deadline = setTimeout(go, period - since + 3);
    this.#waits.enter('paint', performance.now());
    this.#scheduled = deadline;
    cap.on('paint', onPaint);
    this.#unalign = () => {
      cap.off('paint', onPaint);
      clearTimeout(deadline);
      if (settle) clearTimeout(settle);
    };
  }

  /**
   * A video unit from the encoder beside the passes. Between passes, with room in the flow window, it
   * goes out at once as a frame of its own (the stream's picture reaches the viewers as soon as it is
   * encoded); during a pass, or with the window full, it waits for the next batch, ahead of its tiles.
   * Nothing is dropped here: a stream cannot skip a unit (the lane drops pictures before encoding).
   */
  #videoUnit(tile: TileMessage, info: VideoUnitInfo): void {
    if (this.#closed || !this.#screen) return;
    const dropped = this.#encoder.video?.laneStats.dropped ?? 0;
    if (routeVideoUnit({ passRunning: this.#running, queued: this.#videoOut.length, canSend: this.flow.canSend(this.#t.bufferedAmount) }) === 'queue') {
      this.#videoOut.push({ tile, info });
      this.emit('video', { ...info, seq: null, bytes: tile.data.length, dropped });
      this.#kick();
      return;
    }
    const seq = this.flow.nextSeq(tile.data.length);
    this.#send(tile);
    this.#sentAt.set(seq, performance.now());
    if (this.#sentAt.size > 64) this.#sentAt.delete(this.#sentAt.keys().next().value!);
    const hash = this.#verify ? this.#encoder.frameHash([tile]) : undefined;
    this.#send({ type: 'frame', seq, time: info.time, ...(hash === undefined ? {} : { hash }) });
    this.emit('video', { ...info, seq, bytes: tile.data.length, dropped });
  }

  /** The queued units still of the current screen (a reset since made them the old screen's). */
  #takeVideoOut(): TileMessage[] {
    const gen = this.#encoder.video?.generation;
    const out = this.#videoOut.filter((u) => u.info.generation === gen).map((u) => u.tile);
    this.#videoOut = [];
    return out;
  }

  #armRefine(at: number | null): void {
    if (this.#refineTimer) clearTimeout(this.#refineTimer);
    this.#refineTimer = null;
    if (at === null) return;
    this.#refineTimer = setTimeout(() => {
      this.#refineTimer = null;
      this.#kick();
    }, Math.max(1, at - Date.now()));
  }

  #pass(): Promise<void> {
    const p = this.#runPass();
    this.#passDone = p;
    return p;
  }

  async #runPass(): Promise<void> {
    if (this.#closed) return;
    this.#running = true;
    this.#lastPassAt = Date.now();
    const waits = this.#waits.take(performance.now());
    const cpu0 = process.cpuUsage();
    // After a pause (nothing changed for a while) the CPU in between is the idle process's, not a frame's.
    const from = this.#cpuAtLastEnd !== null && this.#lastPassAt - this.#lastPassEnd <= FRAME_GAP_MS ? this.#cpuAtLastEnd : cpu0;
    // Read once at the frame and reused for the pass's end (process.cpuUsage() is a getrusage() call).
    let cpuAtFrame: NodeJS.CpuUsage | null = null;
    // A full pass (the first, a new screen, a path switch) reads and encodes everything once: its CPU says
    // nothing about the passes after it. Counted, it took the rate from 30 down to 10 at the start of a
    // share, which then took 3-4 s to climb back to 60 (typing trace).
    let fullPass = false;
    try {
      const t0 = performance.now();
      const paintAgeMs = t0 - this.#capture.lastPaintAt;
      const cap = await this.#capture.capture();
      fullPass = cap.full;
      const captureMs = performance.now() - t0;
      if (this.#closed) return;
      const frame = this.#capture.frame;
      let wireBytes = 0;
      if (!this.#screen || this.#screen.width !== frame.width || this.#screen.height !== frame.height) {
        this.#replayed = null;
        this.#screen = { width: frame.width, height: frame.height };
        this.#encoder.reset(frame.width, frame.height);
        this.#videoOut = [];
        wireBytes += this.#send({ type: 'screen', width: frame.width, height: frame.height, tileSize: this.#encoder.tileSize });
        if (this.#cursor?.shape) wireBytes += this.#send(this.#cursor.shape);
        if (this.#cursor?.position) wireBytes += this.#send(this.#cursor.position);
      }
      // Damage was waiting when this pass began: the video layer's heat counts a change as several (VideoLayer.behind).
      if (this.#encoder.video) this.#encoder.video.behind = waits.damage === 0;
      // Without a video stream (none running, no unit on its way or queued), tiles go out as they are
      // encoded: the viewers receive and decode the first while the rest are encoded, and draw the frame
      // (all of it, at the `frame` below) sooner. With one, its units must precede this pass's tiles.
      const video = this.#encoder.video;
      const early = !video || (video.rect === null && !video.encoding && this.#videoOut.length === 0);
      const tiles = await this.#encoder.encode(frame, cap.rects, cap.time, early ? (ts) => {
        for (const t of ts) wireBytes += this.#send(t);
      } : undefined);
      const stats = this.#encoder.lastStats;
      const refined = await this.#encoder.refine();
      if (this.#closed) return;
      // Units encoded meanwhile go first: they precede this pass's tiles in their stream's order, and an
      // end tile or a refinement of the stream's rectangle among the tiles comes after its last unit.
      // (Sent early, the tiles had no stream before them: a unit now is of this pass's picture.)
      const units = this.#takeVideoOut();
      // Tiles replayed from the cache before this pass: this frame closes them.
      const replayed = this.#replayed;
      this.#replayed = null;
      if (replayed) wireBytes += replayed.bytes;
      if (tiles.length + refined.length + units.length === 0 && !replayed) return; // damage without a real change: nothing to say
      for (const t of units) wireBytes += this.#send(t);
      if (!early) for (const t of tiles) wireBytes += this.#send(t);
      for (const t of refined) wireBytes += this.#send(t);
      const seq = this.flow.nextSeq(wireBytes);
      this.#lastFrameBytes = wireBytes;
      this.#sentAt.set(seq, performance.now());
      if (this.#sentAt.size > 64) this.#sentAt.delete(this.#sentAt.keys().next().value!); // acks that never came
      const hash = this.#verify ? this.#encoder.frameHash(early ? [...tiles, ...units, ...refined] : [...units, ...tiles, ...refined]) : undefined;
      wireBytes += this.#send({ type: 'frame', seq, time: cap.time, ...(hash === undefined ? {} : { hash }) });
      const cpu = (cpuAtFrame = process.cpuUsage());
      const idleMs = this.#lastPassEnd === 0 ? 0 : this.#lastPassAt - this.#lastPassEnd;
      this.emit('frame', { ...stats, seq, time: cap.time, paintAgeMs, captureMs, refined: refined.length, wireBytes, fps: this.rate.fps, cpuMs: cpuMsBetween(cpu0, cpu), frameCpuMs: cpuMsBetween(from, cpu), passMs: performance.now() - t0, idleMs, waits, rateReason: this.rate.reason, ackRttMs: this.rate.averages.ackRttMs, snapshotTiles: replayed?.tiles.length ?? 0 });
    } catch (err) {
      if (!this.#closed) this.emit('error', err as Error);
    } finally {
      this.#running = false;
      this.#lastPassEnd = Date.now();
      // The CPU a frame costs, for the rate and the duty cycle: everything the process spent since the last
      // pass ended, not only this pass. libx264 encodes the previous picture on its own threads meanwhile
      // (and acks, cursor and socket work happen between passes): counting only the pass would let the
      // rate rise past the share of a core the agent may take.
      const end = cpuAtFrame ?? process.cpuUsage();
      this.#cpuAtLastEnd = end;
      this.#lastPassCpuMs = cpuMsBetween(from, end);
      this.rate.note({ cpuMs: fullPass ? Number.NaN : this.#lastPassCpuMs, paintPeriodMs: this.#capture.paintPeriod, ackRttMs: this.#ackRtt, window: this.flow.windowFor(this.#lastFrameBytes) });
      this.#ackRtt = undefined;
      if (this.#resyncPending && !this.#closed) this.#resync();
      this.#kick();
    }
  }
}

function emptyEncodeStats(): EncodeStats {
  return { tiles: 0, unchanged: 0, fill: 0, lossless: 0, lossy: 0, bytes: 0, ms: 0, classifyMs: 0, jobs: 0, copied: 0, videoBytes: 0, videoWaitMs: 0 };
}

function cpuMsBetween(from: NodeJS.CpuUsage, to: NodeJS.CpuUsage): number {
  return (to.user - from.user + to.system - from.system) / 1000;
}

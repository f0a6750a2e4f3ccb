/**
 * Plays a recording's screen file onto a canvas through the live viewer's own ScreenView (the same
 * tile decoders): the recorded messages are fed to it exactly as the sharing socket would feed them.
 *
 * The file is read one seek point's span at a time (GET /api/recordings/:id/screen). Seeking to t:
 * the last seek point at or before t; a keyframe's messages rebuild the picture, then the live
 * records up to t are applied. Playing on crosses into the next span: a periodic keyframe is skipped
 * (the picture is already that), the first picture of a share is applied, a "share ended" blanks it.
 */
import { RecordKind, decodeShareMessage, readRecords, type RecordingSeekPoint, type ScreenRecord } from '@baton/protocol';
import { Emitter } from '../conference/Emitter';
import { ScreenView } from '../sharing/ScreenView';

export interface ReplayPlayerOptions {
  canvas: HTMLCanvasElement;
  cursorCanvas?: HTMLCanvasElement;
  seekPoints: RecordingSeekPoint[];
  screenBytes: number;
  durationMs: number;
  /** Bytes [from, to) of the screen file. */
  fetchRange(from: number, to: number): Promise<Uint8Array>;
}

export type ReplayPlayerEvents = {
  /** The position moved (ms); `blank`: nobody was sharing then. */
  time: { t: number; blank: boolean };
  playing: boolean;
  /** A seek finished: the canvas shows the picture at `t`. */
  seeked: { t: number };
  error: Error;
};

export class ReplayPlayer extends Emitter<ReplayPlayerEvents> {
  readonly view: ScreenView;
  readonly #opts: ReplayPlayerOptions;
  readonly #segments = new Map<number, Promise<ScreenRecord[]>>();
  #t = 0;
  #blank = true;
  /** The span being played and the next record in it to apply. */
  #seg = -1;
  #next = 0;
  #records: ScreenRecord[] = [];
  #playing = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #clock = { wall: 0, t: 0 };
  /** Bumped by every seek and pause: a stale async step stops. */
  #gen = 0;
  #destroyed = false;

  constructor(opts: ReplayPlayerOptions) {
    super();
    this.#opts = opts;
    this.view = new ScreenView({ canvas: opts.canvas, cursorCanvas: opts.cursorCanvas, publishStats: false, verifyFrames: false });
    this.view.on('error', (err) => this.emit('error', err));
  }

  get time(): number {
    return this.#t;
  }
  get blank(): boolean {
    return this.#blank;
  }
  get playing(): boolean {
    return this.#playing;
  }
  get duration(): number {
    return this.#opts.durationMs;
  }

  /** Show the picture at `t` (ms); resolves once it is on the canvas. Playing goes on from there. */
  async seek(t: number): Promise<void> {
    const gen = ++this.#gen;
    const target = Math.max(0, Math.min(t, this.#opts.durationMs));
    const points = this.#opts.seekPoints;
    let k = -1;
    for (let i = 0; i < points.length; i++) if (points[i]!.t <= target) k = i;
    this.#seg = k;
    this.#records = k >= 0 ? await this.#segment(k) : [];
    if (gen !== this.#gen || this.#destroyed) return;
    this.#next = 0;
    this.#blank = true;
    // From the keyframe (all of it: it is one picture), then live records up to the target.
    if (k >= 0 && !points[k]!.blank) this.#applyKeyframe();
    this.#applyUpTo(target, false);
    this.#t = target;
    this.#clock = { wall: performance.now(), t: target };
    this.emit('time', { t: target, blank: this.#blank });
    await this.view.idle();
    if (gen !== this.#gen || this.#destroyed) return;
    this.emit('seeked', { t: target });
    if (this.#playing) this.#schedule();
    void this.#prefetch();
  }

  play(): void {
    if (this.#playing || this.#destroyed) return;
    if (this.#t >= this.#opts.durationMs) void this.seek(0);
    this.#playing = true;
    this.#clock = { wall: performance.now(), t: this.#t };
    this.emit('playing', true);
    this.#schedule();
  }

  pause(): void {
    if (!this.#playing) return;
    this.#playing = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.emit('playing', false);
  }

  destroy(): void {
    this.#destroyed = true;
    this.pause();
    this.view.destroy();
    this.removeAllListeners();
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), 40);
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    if (!this.#playing || this.#destroyed) return;
    const gen = this.#gen;
    const t = Math.min(this.#opts.durationMs, this.#clock.t + (performance.now() - this.#clock.wall));
    await this.#advanceTo(t, gen);
    if (gen !== this.#gen || this.#destroyed) return;
    this.#t = t;
    this.emit('time', { t, blank: this.#blank });
    if (t >= this.#opts.durationMs) return this.pause();
    this.#schedule();
  }

  /** Play on to `t`, crossing into the following spans as needed. */
  async #advanceTo(t: number, gen: number): Promise<void> {
    const points = this.#opts.seekPoints;
    for (;;) {
      this.#applyUpTo(t, false);
      if (this.#next < this.#records.length) return; // the rest of this span is later than t
      const k = this.#seg + 1;
      if (k >= points.length || points[k]!.t > t) return;
      const records = await this.#segment(k);
      if (gen !== this.#gen) return;
      this.#seg = k;
      this.#records = records;
      this.#next = 0;
      if (points[k]!.fresh) this.#applyKeyframe();
      void this.#prefetch();
    }
  }

  /** Apply the records from #next whose time is at most `t` (keyframe records only when `keyframe`). */
  #applyUpTo(t: number, keyframe: boolean): void {
    while (this.#next < this.#records.length) {
      const r = this.#records[this.#next]!;
      if (r.kind === RecordKind.Keyframe) {
        if (keyframe) this.#feed(r);
        this.#next++;
        continue;
      }
      if (r.t > t) return;
      this.#feed(r);
      this.#next++;
    }
  }

  /** The keyframe run at the start of the current span. */
  #applyKeyframe(): void {
    while (this.#next < this.#records.length && this.#records[this.#next]!.kind === RecordKind.Keyframe) this.#feed(this.#records[this.#next++]!);
  }

  #feed(r: ScreenRecord): void {
    if (r.kind === RecordKind.ShareEnded) {
      this.#blank = true;
      return;
    }
    let msg;
    try {
      msg = decodeShareMessage(r.bytes);
    } catch (err) {
      this.emit('error', err as Error);
      return;
    }
    if (msg.type === 'screen') this.#blank = false;
    this.view.handle(msg);
  }

  #segment(k: number): Promise<ScreenRecord[]> {
    let p = this.#segments.get(k);
    if (!p) {
      const points = this.#opts.seekPoints;
      const from = points[k]!.offset;
      const to = points[k + 1]?.offset ?? this.#opts.screenBytes;
      p = this.#opts.fetchRange(from, to).then((bytes) => readRecords(bytes).records);
      p.catch(() => this.#segments.delete(k));
      this.#segments.set(k, p);
      // Keep a few spans: a long recording must not pile up in memory.
      if (this.#segments.size > 6) {
        for (const key of this.#segments.keys()) {
          if (Math.abs(key - k) > 2) this.#segments.delete(key);
          if (this.#segments.size <= 6) break;
        }
      }
    }
    return p;
  }

  async #prefetch(): Promise<void> {
    const k = this.#seg + 1;
    if (k < this.#opts.seekPoints.length) await this.#segment(k).catch(() => {});
  }
}

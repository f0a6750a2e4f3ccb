/**
 * One recording being written: the shared screen as the relay's host stream (screen.bin, records of
 * @baton/protocol's recording.ts), periodic keyframes from the relay's tile store, and the meeting's
 * events (events.jsonl: chat, roster, shares). Nothing is decoded or re-encoded here.
 *
 * Keyframes: at the start of a share (or of a new screen size), then whenever replaying the frames
 * since the last one would cost more bytes than a keyframe does (at least `keyframeMinMs` apart), and
 * at least every `keyframeMaxMs` while the picture changes. A video share so gets one every few
 * seconds, typing one a minute.
 *
 * A write error (disk full…), the size cap, or a disk that cannot keep up ends the recording with
 * `failed` and the reason; the meeting goes on.
 */
import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RecordKind, encodeRecordHeader, RECORD_HEADER, type RecordingEvent, type RecordingSeekPoint, type ShareMessage } from '@baton/protocol';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { AppShareServerLike, MixSink } from '../conferencing/types.js';

export interface RecorderOptions {
  /** The recording's own directory (created). */
  dir: string;
  /** Most bytes the recording may take (screen and events together). */
  maxBytes: number;
  keyframeMinMs?: number;
  keyframeMaxMs?: number;
  /** Bytes waiting for the disk past which the recording stops rather than hold more memory. */
  maxBacklog?: number;
  /** ms clock (tests). */
  now?: () => number;
  /** How often the audio mixer's WAV segments are measured against the size cap (ms). */
  audioPollMs?: number;
}

export type RecorderEvents = {
  /** The recording cannot go on (written up to there); `reason` is for people. */
  failed: [reason: string];
};

export interface RecorderSummary {
  durationMs: number;
  bytes: number;
}

export const SCREEN_FILE = 'screen.bin';
export const EVENTS_FILE = 'events.jsonl';
export const INDEX_FILE = 'index.json';

/** What index.json holds: where a player can start, and how long the screen file is. */
export interface StoredIndex {
  seekPoints: RecordingSeekPoint[];
  screenBytes: number;
  durationMs: number;
}

type NewEvent = RecordingEvent extends infer E ? (E extends RecordingEvent ? Omit<E, 't'> : never) : never;

export class Recorder extends TypedEmitter<RecorderEvents> {
  readonly dir: string;
  readonly #opts: Required<Omit<RecorderOptions, 'dir'>>;
  readonly #started: number;
  #screen: WriteStream | null = null;
  #events: WriteStream | null = null;
  #screenBytes = 0;
  #eventBytes = 0;
  readonly #seek: RecordingSeekPoint[] = [];
  #share: AppShareServerLike | null = null;
  #untap: (() => void) | null = null;
  /** No picture in the file yet for the current share/screen: live records wait for a keyframe. */
  #needKeyframe = true;
  #lastKeyframeAt = -Infinity;
  #lastKeyframeBytes = 0;
  #bytesSinceKeyframe = 0;
  #changedSinceKeyframe = false;
  #failed: string | null = null;
  #closing: Promise<RecorderSummary> | null = null;
  /** The mixer's WAV segments (Janus writes them, so their size is measured, not counted). */
  readonly #audioFiles = new Set<string>();
  #audioBytes = 0;
  #audioPoll: NodeJS.Timeout | null = null;

  private constructor(dir: string, opts: RecorderOptions) {
    super();
    this.dir = dir;
    this.#opts = {
      maxBytes: opts.maxBytes,
      keyframeMinMs: opts.keyframeMinMs ?? 5000,
      keyframeMaxMs: opts.keyframeMaxMs ?? 60_000,
      maxBacklog: opts.maxBacklog ?? 64 * 1024 * 1024,
      now: opts.now ?? (() => performance.now()),
      audioPollMs: opts.audioPollMs ?? 2000,
    };
    this.#started = this.#opts.now();
  }

  static async open(opts: RecorderOptions): Promise<Recorder> {
    await mkdir(opts.dir, { recursive: true });
    const r = new Recorder(opts.dir, opts);
    r.#screen = r.#stream(SCREEN_FILE);
    r.#events = r.#stream(EVENTS_FILE);
    return r;
  }

  /** ms since the recording started. */
  get elapsed(): number {
    return this.#opts.now() - this.#started;
  }
  /** Bytes on disk so far: screen, events, and the audio mixer's WAV segments (what the cap covers). */
  get bytes(): number {
    return this.#screenBytes + this.#eventBytes + this.#audioBytes;
  }
  get failed(): string | null {
    return this.#failed;
  }

  /** A share is running (or started): record its stream from its next whole picture on. */
  attachShare(share: AppShareServerLike): void {
    if (this.#closing || this.#failed) return;
    if (this.#share === share) return;
    if (this.#share) this.detachShare();
    this.#share = share;
    this.#needKeyframe = true;
    this.#untap = share.tap({ message: (msg, bytes) => this.#onShare(msg, bytes) });
    this.#tryKeyframe();
  }

  /** The share ended: from here the replay shows nobody sharing. */
  detachShare(): void {
    if (!this.#share) return;
    this.#untap?.();
    this.#untap = null;
    this.#share = null;
    if (this.#closing || this.#failed) return;
    const t = this.elapsed;
    this.#seek.push({ t, offset: this.#screenBytes, blank: true });
    this.#write(RecordKind.ShareEnded, new Uint8Array(0), t);
    this.#needKeyframe = true;
  }

  /**
   * Where the audio mixer writes the meeting's mix for this recording: WAV segments in this
   * directory, each logged as an `audio` event at the moment it started (its place on the timeline).
   */
  mixSink(log?: { warn(obj: unknown, msg?: string): void }): MixSink {
    let n = 0;
    return {
      dir: path.resolve(this.dir),
      nextFile: () => `audio-${++n}.wav`,
      started: (file, leadMs = 0) => {
        this.event({ type: 'audio', file, started: true, ...(leadMs >= 1 ? { lead: Math.round(leadMs) } : {}) });
        this.#watchAudio(file);
      },
      ended: (file) => this.event({ type: 'audio', file, started: false }),
      unavailable: (reason) => {
        log?.warn({ dir: this.dir, reason }, 'recording: the audio mix is not recorded');
        this.event({ type: 'audio.unavailable', reason });
      },
    };
  }

  /** The WAV segments grow on Janus's side: measure them now and then, so the size cap covers them. */
  #watchAudio(file: string): void {
    if (this.#closing || this.#failed) return;
    this.#audioFiles.add(path.join(this.dir, file));
    this.#audioPoll ??= setInterval(() => {
      let n = 0;
      for (const f of this.#audioFiles) {
        try {
          n += statSync(f).size;
        } catch {
          /* not opened yet */
        }
      }
      this.#audioBytes = n;
      this.#room(0);
    }, this.#opts.audioPollMs);
    this.#audioPoll.unref();
  }

  event(e: NewEvent): void {
    if (this.#closing || this.#failed || !this.#events) return;
    const line = `${JSON.stringify({ t: Math.round(this.elapsed), ...e })}\n`;
    const size = Buffer.byteLength(line);
    if (!this.#room(size)) return;
    this.#eventBytes += size;
    this.#events.write(line);
  }

  /** Stop writing; resolves once everything is on disk (index.json included). Safe to call twice. */
  close(): Promise<RecorderSummary> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<RecorderSummary> {
    const durationMs = Math.round(this.elapsed);
    if (this.#audioPoll) clearInterval(this.#audioPoll);
    this.#audioPoll = null;
    this.#untap?.();
    this.#untap = null;
    this.#share = null;
    await Promise.all([end(this.#screen), end(this.#events)]);
    const index: StoredIndex = { seekPoints: this.#seek, screenBytes: this.#screenBytes, durationMs };
    try {
      await writeFile(path.join(this.dir, INDEX_FILE), JSON.stringify(index));
    } catch (err) {
      this.#fail(describeWriteError(err));
    }
    this.removeAllListeners();
    // The WAV segments become the audio track: the service adds its size instead.
    return { durationMs, bytes: this.#screenBytes + this.#eventBytes };
  }

  #onShare(msg: ShareMessage, bytes: Uint8Array): void {
    if (this.#closing || this.#failed) return;
    switch (msg.type) {
      case 'screen':
        // A new screen (size): its first whole picture comes as a keyframe.
        this.#needKeyframe = true;
        return;
      case 'tile':
      case 'cursorPos':
      case 'cursorShape':
        if (!this.#needKeyframe) this.#live(bytes);
        return;
      case 'frame':
        if (!this.#needKeyframe) {
          this.#live(bytes);
          this.#changedSinceKeyframe = true;
        }
        this.#maybeKeyframe();
        return;
      default:
        return;
    }
  }

  #live(bytes: Uint8Array): void {
    this.#bytesSinceKeyframe += bytes.byteLength + RECORD_HEADER;
    this.#write(RecordKind.Live, bytes, this.elapsed);
  }

  #maybeKeyframe(): void {
    if (this.#needKeyframe) return this.#tryKeyframe();
    if (!this.#changedSinceKeyframe) return;
    const since = this.elapsed - this.#lastKeyframeAt;
    if (since >= this.#opts.keyframeMaxMs || (since >= this.#opts.keyframeMinMs && this.#bytesSinceKeyframe >= this.#lastKeyframeBytes)) this.#tryKeyframe();
  }

  #tryKeyframe(): void {
    const snap = this.#share?.snapshot();
    if (!snap) return;
    const t = this.elapsed;
    const offset = this.#screenBytes;
    let size = 0;
    for (const b of snap) size += b.byteLength + RECORD_HEADER;
    if (!this.#room(size)) return;
    this.#seek.push({ t, offset, ...(this.#needKeyframe ? { fresh: true } : {}) });
    for (const b of snap) this.#write(RecordKind.Keyframe, b, t);
    this.#needKeyframe = false;
    this.#lastKeyframeAt = t;
    this.#lastKeyframeBytes = size;
    this.#bytesSinceKeyframe = 0;
    this.#changedSinceKeyframe = false;
  }

  #write(kind: RecordKind, bytes: Uint8Array, t: number): void {
    const s = this.#screen;
    if (!s || this.#failed) return;
    const size = RECORD_HEADER + bytes.byteLength;
    if (!this.#room(size)) return;
    if (s.writableLength > this.#opts.maxBacklog) {
      this.#fail('the disk cannot keep up with the recording');
      return;
    }
    s.write(encodeRecordHeader(kind, bytes.byteLength, t));
    if (bytes.byteLength > 0) s.write(bytes);
    this.#screenBytes += size;
  }

  /** Is there room for `size` more bytes under the cap? If not, the recording fails. */
  #room(size: number): boolean {
    if (this.#failed) return false;
    if (this.bytes + size <= this.#opts.maxBytes) return true;
    this.#fail(`the recording reached its size limit (${formatBytes(this.#opts.maxBytes)})`);
    return false;
  }

  #stream(name: string): WriteStream {
    const s = createWriteStream(path.join(this.dir, name));
    s.on('error', (err) => this.#fail(describeWriteError(err)));
    return s;
  }

  #fail(reason: string): void {
    if (this.#failed) return;
    this.#failed = reason;
    if (this.#audioPoll) clearInterval(this.#audioPoll);
    this.#audioPoll = null;
    this.#untap?.();
    this.#untap = null;
    this.emit('failed', reason);
  }
}

function end(s: WriteStream | null): Promise<void> {
  if (!s || s.destroyed || s.closed) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('close', () => resolve());
    s.end();
  });
}

export function describeWriteError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'EDQUOT') return 'the disk quota is used up';
  if (code === 'EACCES' || code === 'EPERM') return 'the server may not write the recording';
  return `the recording could not be written (${code ?? (err as Error)?.message ?? 'error'})`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.ceil(n / 1024)} KiB`;
}

/**
 * Exports a recording to a video file in the background: the screen file is read in order and decoded
 * (FrameBuffer), and the picture at each tick of a fixed frame rate is piped as raw RGB into Debian's
 * ffmpeg. WebM (VP9) for people, MKV (FFV1, lossless) for an exact copy. Written to a `.part` file and
 * renamed when ffmpeg succeeds. Progress is the recording time covered so far.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { RECORD_HEADER, RecordKind, ShareType, decodeShareMessage, type ExportFormat, type ExportState } from '@baton/protocol';
import { FrameBuffer } from './FrameBuffer.js';

export interface ExportJobOptions {
  screenFile: string;
  /** The recording's audio track on the same timeline (Opus in WebM), muxed as it is. */
  audioFile?: string | undefined;
  screenBytes: number;
  durationMs: number;
  /** Offsets of the keyframes a player going on from before must apply (the first picture of a share). */
  freshOffsets: Set<number>;
  out: string;
  format: ExportFormat;
  fps?: number;
  ffmpeg?: string;
  /** Runs on the finished file before the export counts as done (cluster mode: copies it to the shared store). */
  finalize?: (file: string) => Promise<void>;
  log?: { warn(obj: unknown, msg?: string): void };
}

export function exportFileName(format: ExportFormat): string {
  return `export.${format}`;
}

const CODEC_ARGS: Record<ExportFormat, string[]> = {
  // Realtime VP9 at constant quality: a screen is mostly still, so this stays small and quick on 2 cores.
  webm: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-b:v', '0', '-crf', '33', '-pix_fmt', 'yuv420p', '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-f', 'webm'],
  // Lossless RGB.
  mkv: ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', 'gbrp', '-f', 'matroska'],
};

export class ExportJob {
  readonly #opts: ExportJobOptions;
  readonly #fps: number;
  #state: ExportState;
  #proc: ChildProcess | null = null;
  #cancelled = false;

  constructor(opts: ExportJobOptions) {
    this.#opts = opts;
    this.#fps = opts.fps ?? 10;
    this.#state = { format: opts.format, status: 'running', progress: 0 };
  }

  get state(): ExportState {
    return { ...this.#state };
  }

  start(): void {
    this.#run().catch(async (err: unknown) => {
      this.#proc?.kill('SIGKILL');
      await rm(`${this.#opts.out}.part`, { force: true }).catch(() => {});
      this.#state = { ...this.#state, status: 'failed', error: this.#cancelled ? 'cancelled' : (err as Error).message };
      if (!this.#cancelled) this.#opts.log?.warn({ err }, 'recording export failed');
    });
  }

  cancel(): void {
    this.#cancelled = true;
    this.#proc?.kill('SIGKILL');
  }

  async #run(): Promise<void> {
    const o = this.#opts;
    const size = await largestScreenSize(o.screenFile, o.screenBytes);
    const W = size?.width ?? 1280;
    const H = size?.height ?? 720;
    const part = `${o.out}.part`;
    // Both inputs start at the recording's time 0; the Opus track is copied, not re-encoded.
    const audio = o.audioFile ? ['-i', o.audioFile, '-map', '0:v', '-map', '1:a', '-c:a', 'copy'] : [];
    const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-r', String(this.#fps), '-i', 'pipe:0', ...audio, ...CODEC_ARGS[o.format], part];
    const proc = spawn(o.ffmpeg ?? 'ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#proc = proc;
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    const exited = new Promise<number | null>((resolve, reject) => {
      proc.once('error', (err) => reject(new Error(`cannot run ffmpeg (${(err as Error).message}); install Debian's ffmpeg`)));
      proc.once('close', (code) => resolve(code));
    });
    exited.catch(() => {});
    const stdin = proc.stdin!;
    stdin.on('error', () => {}); // ffmpeg died: its exit code says why
    const out = Buffer.alloc(W * H * 3);
    const fb = new FrameBuffer();
    let frameNo = 0;
    const frameMs = 1000 / this.#fps;
    const emitUpTo = async (t: number) => {
      while (frameNo * frameMs <= t) {
        if (this.#cancelled) throw new Error('cancelled');
        if (fb.width > 0) fb.copyInto(out, W, H);
        else out.fill(0);
        if (!stdin.write(out)) await Promise.race([new Promise((r) => stdin.once('drain', r)), exited]);
        if (proc.exitCode !== null) throw new Error(`ffmpeg stopped: ${stderr.trim() || `exit ${proc.exitCode}`}`);
        frameNo++;
        this.#state.progress = Math.min(0.99, (frameNo * frameMs) / Math.max(1, o.durationMs));
      }
    };

    let inKeyframe = false;
    let applyKeyframe = false;
    for await (const rec of records(o.screenFile, o.screenBytes)) {
      if (this.#cancelled) throw new Error('cancelled');
      // The picture up to (not including) this record's time is final: emit the frames before it.
      await emitUpTo(rec.t - 1e-6);
      if (rec.kind === RecordKind.Keyframe) {
        if (!inKeyframe) applyKeyframe = o.freshOffsets.has(rec.offset);
        inKeyframe = true;
        if (applyKeyframe) await fb.handle(rec.bytes);
      } else {
        inKeyframe = false;
        if (rec.kind === RecordKind.ShareEnded) fb.clear();
        else await fb.handle(rec.bytes);
      }
    }
    await emitUpTo(o.durationMs);
    stdin.end();
    const code = await exited;
    if (code !== 0) throw new Error(`ffmpeg failed: ${stderr.trim() || `exit ${code}`}`);
    await rename(part, o.out);
    await o.finalize?.(o.out);
    this.#state = { ...this.#state, status: 'done', progress: 1, bytes: statSync(o.out).size };
  }
}

interface Rec {
  kind: number;
  t: number;
  bytes: Uint8Array;
  offset: number;
}

/** The screen file's records in order, read in chunks (a record may span chunks). */
export async function* records(file: string, limit: number): AsyncGenerator<Rec> {
  let carry = Buffer.alloc(0);
  let base = 0;
  for await (const chunk of createReadStream(file, { end: Math.max(0, limit - 1), highWaterMark: 1024 * 1024 })) {
    const buf = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let o = 0;
    while (o + RECORD_HEADER <= buf.length) {
      const len = buf.readUInt32BE(o + 1);
      if (o + RECORD_HEADER + len > buf.length) break;
      yield { kind: buf.readUInt8(o), t: buf.readDoubleBE(o + 5), bytes: buf.subarray(o + RECORD_HEADER, o + RECORD_HEADER + len), offset: base + o };
      o += RECORD_HEADER + len;
    }
    carry = Buffer.from(buf.subarray(o));
    base += o;
  }
}

/**
 * The video's size: the widest and the tallest screen shared during the recording (a share that
 * grows, or a second share on a larger screen, is padded, never clipped), or null if nobody shared.
 * Only the message type byte and the screen header are read.
 */
export async function largestScreenSize(file: string, limit: number): Promise<{ width: number; height: number } | null> {
  let width = 0;
  let height = 0;
  for await (const rec of records(file, limit)) {
    if (rec.kind === RecordKind.ShareEnded || rec.bytes[0] !== ShareType.Screen) continue;
    const msg = decodeShareMessage(rec.bytes);
    if (msg.type !== 'screen') continue;
    width = Math.max(width, msg.width);
    height = Math.max(height, msg.height);
  }
  return width > 0 ? { width, height } : null;
}

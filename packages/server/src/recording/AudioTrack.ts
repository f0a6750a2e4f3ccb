/**
 * Joins the audio mixer's WAV segments of a recording into one Opus track on the recording's own
 * timeline (audio.webm: silence where nobody was in the audio or Janus was restarting), so the
 * replay page plays it with currentTime = replay time and the export muxes it as it is.
 *
 * Each segment starts where its `audio` event says; its samples follow at the mixer's rate (AudioBridge
 * writes one 20 ms frame per tick of its real-time clock while anyone is in the room), so a segment is
 * cut where the next one begins and the whole is padded or cut to the recording's length. The PCM goes
 * to Debian's ffmpeg on stdin; the WAV segments are deleted once the track is written (an hour of mix
 * is 330 MiB of WAV, ~15 MiB of Opus).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { RecordingEvent } from '@baton/protocol';

export const AUDIO_FILE = 'audio.webm';
const WAV_HEADER = 44; // AudioBridge writes the plain 44-byte RIFF header

export interface AudioTrackOptions {
  dir: string;
  events: RecordingEvent[];
  durationMs: number;
  ffmpeg?: string;
  /** Opus bit rate (voice). */
  bitrate?: string;
}

export interface Segment {
  file: string;
  /** ms on the recording's timeline. */
  t: number;
}

/** The segments the recording logged, in order of their start. */
export function audioSegments(events: RecordingEvent[]): Segment[] {
  const out: Segment[] = [];
  for (const e of events) if (e.type === 'audio' && e.started && /^audio-\d+\.wav$/.test(e.file)) out.push({ file: e.file, t: Math.max(0, e.t - (e.lead ?? 0)) });
  return out.sort((a, b) => a.t - b.t);
}

/** Writes audio.webm from the segments; resolves with its size, or null when there was no audio. */
export async function buildAudioTrack(o: AudioTrackOptions): Promise<number | null> {
  const segs = [];
  let format: { rate: number; channels: number } | null = null;
  for (const s of audioSegments(o.events)) {
    const file = path.join(o.dir, s.file);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      continue; // never written (the mixer was gone before its first tick)
    }
    if (size <= WAV_HEADER) continue;
    format ??= await wavFormat(file);
    segs.push({ ...s, path: file, size });
  }
  if (!format || segs.length === 0) {
    await removeSegments(o);
    return null;
  }
  const { rate, channels } = format;
  const frame = 2 * channels; // bytes per sample frame, s16le
  const total = Math.round((o.durationMs * rate) / 1000) * frame;
  const out = path.join(o.dir, AUDIO_FILE);
  const part = `${out}.part`;
  const proc = spawn(o.ffmpeg ?? 'ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 's16le', '-ar', String(rate), '-ac', String(channels), '-i', 'pipe:0', '-c:a', 'libopus', '-b:a', o.bitrate ?? '32k', '-application', 'voip', '-f', 'webm', part], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.once('error', (err) => reject(new Error(`cannot run ffmpeg (${err.message}); install Debian's ffmpeg`)));
    proc.once('close', resolve);
  });
  exited.catch(() => {});
  const stdin = proc.stdin!;
  stdin.on('error', () => {});
  try {
    let pos = 0; // bytes written so far
    for (let i = 0; i < segs.length && pos < total; i++) {
      const s = segs[i]!;
      const start = Math.min(total, Math.round((s.t * rate) / 1000) * frame);
      if (start > pos) pos += await writeSilence(stdin, start - pos, exited);
      const end = Math.min(total, segs[i + 1] ? Math.round((segs[i + 1]!.t * rate) / 1000) * frame : total);
      // A segment that began before the last one ended (clock jitter) loses its overlapping start.
      const skip = Math.max(0, pos - start);
      const len = Math.floor((s.size - WAV_HEADER) / frame) * frame - skip;
      const take = Math.max(0, Math.min(len, end - pos));
      if (take > 0) pos += await writeFile(stdin, s.path, WAV_HEADER + skip, take, exited);
    }
    if (pos < total) await writeSilence(stdin, total - pos, exited);
    stdin.end();
    const code = await exited;
    if (code !== 0) throw new Error(`ffmpeg failed: ${stderr.trim() || `exit ${code}`}`);
    await rename(part, out);
  } catch (err) {
    proc.kill('SIGKILL');
    await rm(part, { force: true });
    throw err;
  }
  await removeSegments(o);
  return (await stat(out)).size;
}

async function wavFormat(file: string): Promise<{ rate: number; channels: number }> {
  const fh = await open(file, 'r');
  try {
    const h = Buffer.alloc(WAV_HEADER);
    await fh.read(h, 0, WAV_HEADER, 0);
    if (h.toString('ascii', 0, 4) !== 'RIFF' || h.readUInt16LE(34) !== 16) throw new Error(`${path.basename(file)} is not 16-bit PCM WAV`);
    return { channels: h.readUInt16LE(22), rate: h.readUInt32LE(24) };
  } finally {
    await fh.close();
  }
}

async function removeSegments(o: AudioTrackOptions): Promise<void> {
  for (const s of audioSegments(o.events)) await rm(path.join(o.dir, s.file), { force: true });
}

async function put(w: Writable, chunk: Buffer, exited: Promise<unknown>): Promise<void> {
  if (!w.write(chunk)) await Promise.race([new Promise((r) => w.once('drain', r)), exited]);
  if (w.destroyed) throw new Error('ffmpeg stopped reading');
}

async function writeSilence(w: Writable, bytes: number, exited: Promise<unknown>): Promise<number> {
  const zero = Buffer.alloc(64 * 1024);
  for (let left = bytes; left > 0; left -= zero.length) await put(w, left >= zero.length ? zero : zero.subarray(0, left), exited);
  return bytes;
}

async function writeFile(w: Writable, file: string, from: number, bytes: number, exited: Promise<unknown>): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file, { start: from, end: from + bytes - 1, highWaterMark: 256 * 1024 })) {
    await put(w, chunk as Buffer, exited);
    n += (chunk as Buffer).length;
  }
  return n;
}

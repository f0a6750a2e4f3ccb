#!/usr/bin/env node
// The cost of a recording's audio (issue 15): what AudioBridge leaves while recording (48 kHz mono
// 16-bit WAV segments, so 96,000 bytes a second of audio), and what joining them into the Opus track
// at the end costs (Node reading and padding the PCM, Debian's ffmpeg encoding it) and weighs.
// The mix is synthetic: talk-like bursts of a tone (0.4 s on, 0.1 s off) for `--talk` of the time
// and silence for the rest, in segments of ten minutes with a second's gap between.
// Needs `npm run build` (it imports packages/server/dist). Prints one JSON line, extrapolated to an hour.
// Usage: node bench/recording-audio.mjs [--minutes 10] [--talk 0.6]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAudioTrack } from '../packages/server/dist/recording/AudioTrack.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, talk: { type: 'string', default: '0.6' } } });
const MINUTES = Number(values.minutes);
const TALK = Number(values.talk);
const RATE = 48_000;
const dir = mkdtempSync(join(tmpdir(), 'baton-bench-recaudio-'));

function wav(seconds, seed) {
  const n = Math.round(seconds * RATE);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const sec = Math.floor(i / RATE);
    // Whole seconds talk or stay silent, in a fixed pseudo-random pattern.
    const talking = ((sec * 2654435761 + seed) >>> 0) % 1000 < TALK * 1000;
    const v = talking && i % (RATE / 2) < RATE * 0.4 ? Math.sin((2 * Math.PI * (300 + (sec % 7) * 60) * i) / RATE) * 0.3 : 0;
    data.writeInt16LE(Math.round(v * 32767), i * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

try {
  const events = [];
  let t = 0;
  let wavBytes = 0;
  for (let i = 1; t < MINUTES * 60_000; i++) {
    const seconds = Math.min(600, (MINUTES * 60_000 - t) / 1000);
    const w = wav(seconds, i);
    writeFileSync(join(dir, `audio-${i}.wav`), w);
    wavBytes += w.length;
    events.push({ t, type: 'audio', file: `audio-${i}.wav`, started: true });
    t += seconds * 1000 + 1000;
  }
  const durationMs = t;
  // ffmpeg's own CPU, through /usr/bin/time (the server runs it as a child).
  const timeFile = join(dir, 'ffmpeg.time');
  const wrapper = join(dir, 'ffmpeg.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/time -f '%U %S' -o ${timeFile} ffmpeg "$@"\n`);
  chmodSync(wrapper, 0o755);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const bytes = await buildAudioTrack({ dir, events, durationMs, ffmpeg: wrapper });
  const wallMs = performance.now() - wall0;
  const c = process.cpuUsage(cpu0);
  const [u, s] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
  const hour = 3_600_000 / durationMs;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  execFileSync('true');
  console.log(
    JSON.stringify({
      minutes: +(durationMs / 60_000).toFixed(1),
      talk: TALK,
      wavMiBPerHour: +((wavBytes * hour) / 2 ** 20).toFixed(1),
      opusMiBPerHour: +((bytes * hour) / 2 ** 20).toFixed(1),
      nodeCpuSecondsPerHour: +(((c.user + c.system) / 1e6) * hour).toFixed(1),
      ffmpegCpuSecondsPerHour: +((u + s) * hour).toFixed(1),
      wallSecondsPerHour: +((wallMs / 1000) * hour).toFixed(1),
      loadavg: Number(load),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

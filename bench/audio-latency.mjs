#!/usr/bin/env node
/**
 * Audio benchmark (not a test): mouth-to-ear latency browser -> Janus AudioBridge -> browser on
 * loopback, and Janus CPU per participant. Two Debian Chromium instances with fake microphones: the
 * talker's WAV is a click (10 ms of 2 kHz at full scale) once a second, the other's is silence.
 * Both join the meeting's audio through the real web client. Clicks are timed with WebAudio on the
 * talker's own microphone track (after capture, echo cancellation and noise suppression) and on the
 * listener's remote track (after the jitter buffer and decoding), on the shared wall clock:
 * latency = listener onset - talker onset. It leaves out the sound card's capture and playout buffers
 * (a few ms to tens of ms on real hardware), so it is a lower bound of mouth-to-ear.
 *
 *   node bench/audio-latency.mjs [--seconds 20] [--no-build]
 * Needs a built tree (npm run build), janus and chromium.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const seconds = Number(values.seconds);
const { startServer } = await import(path.join(ROOT, 'packages/server/dist/index.js'));
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function wav(samples, rate = 48000) {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, v)) * 32767), i * 2));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8); h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
const rate = 48000;
const clicks = Array.from({ length: rate * 4 }, (_, i) => ((i % rate) < rate * 0.01 ? Math.sin((2 * Math.PI * 2000 * i) / rate) : 0));
const silence = new Array(rate * 4).fill(0);

/** In the page: remember every RTCPeerConnection, so the bench can tap the tracks the web client made. */
function probe() {
  window.__pcs = [];
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(c) { super(c); window.__pcs.push(this); }
  };
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

const dir = mkdtempSync(path.join(tmpdir(), 'baton-audio-bench-'));
const talkWav = path.join(dir, 'clicks.wav');
const quietWav = path.join(dir, 'silence.wav');
writeFileSync(talkWav, wav(clicks));
writeFileSync(quietWav, wav(silence));
const srv = await startServer({ port: 0, dataDir: dir, webDir: path.join(ROOT, 'packages/web/dist'), logLevel: 'warn', audio: { mode: 'auto', janusUrl: null, janusSecret: null } });
await new Promise((r) => (srv.conferencing.audioStatus === 'ready' ? r() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && r())));
const launch = (file) => chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${file}`, '--autoplay-policy=no-user-gesture-required'] });
const [bt, bl] = [await launch(talkWav), await launch(quietWav)];
try {
  const talker = await bt.newPage();
  const listener = await bl.newPage();
  for (const p of [talker, listener]) await p.addInitScript(probe);
  await talker.goto(`${srv.url}/`);
  const id = await talker.evaluate(async () => {
    const post = (u, b) => fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
    await post('/api/auth/signup', { username: 'bench', password: 'correct horse battery staple 42', displayName: 'Bench' });
    return (await (await post('/api/conferences', { subject: 'Audio bench', policy: { guests: 'allow' } })).json()).id;
  });
  await talker.goto(`${srv.url}/m/${id}`);
  await listener.goto(`${srv.url}/m/${id}`);
  await listener.getByTestId('guest-name').fill('Listener');
  await listener.getByTestId('guest-join').click();
  const janusPid = srv.conferencing.janus.pid;
  const idleStart = cpuTicks(janusPid);
  await new Promise((r) => setTimeout(r, 3000));
  const idleTicks = cpuTicks(janusPid) - idleStart;
  const t0 = Date.now();
  await talker.getByTestId('audio-join').click();
  await listener.getByTestId('audio-join').click();
  await talker.waitForFunction(() => document.querySelectorAll('[data-testid="audio-participant"][data-connected="true"]').length === 2, null, { timeout: 30000 });
  await listener.waitForFunction(() => document.querySelectorAll('[data-testid="audio-participant"][data-connected="true"]').length === 2, null, { timeout: 30000 });
  const joinMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2000)); // let the jitter buffer settle
  /** Onsets of loud sound on a track, on the wall clock (ScriptProcessor, 256-frame blocks = 5.3 ms). */
  const collect = (p, which) => p.evaluate(async ([w, ms]) => {
    const pc = [...window.__pcs].reverse().find((x) => x.connectionState === 'connected');
    const track = w === 'local' ? pc.getSenders()[0].track : pc.getReceivers().map((r) => r.track).find((t) => t?.kind === 'audio');
    const ctx = new AudioContext();
    const sp = ctx.createScriptProcessor(256, 1, 1);
    const out = [];
    let lastLoud = 0;
    sp.onaudioprocess = (e) => {
      const now = performance.timeOrigin + performance.now();
      const x = e.inputBuffer.getChannelData(0);
      let i = 0;
      while (i < x.length && Math.abs(x[i]) < 0.05) i++;
      if (i < x.length) {
        const t = now - ((x.length - i) / ctx.sampleRate) * 1000;
        if (t - lastLoud > 300) out.push(t);
        lastLoud = now;
      }
    };
    ctx.createMediaStreamSource(new MediaStream([track])).connect(sp);
    sp.connect(ctx.destination);
    await new Promise((r) => setTimeout(r, ms));
    await ctx.close();
    return out;
  }, [which, seconds * 1000]);
  const cpuStart = cpuTicks(janusPid);
  const cpuT0 = Date.now();
  const [sent, heard] = await Promise.all([collect(talker, 'local'), collect(listener, 'remote')]);
  const callTicks = cpuTicks(janusPid) - cpuStart;
  const callSecs = (Date.now() - cpuT0) / 1000;
  const lat = [];
  for (const s of sent) {
    const r = heard.find((h) => h > s && h - s < 900);
    if (r !== undefined) lat.push(r - s);
  }
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(0) : 'n/a');
  const hz = 100; // USER_HZ
  console.log(JSON.stringify({ clicksSent: sent.length, clicksHeard: heard.length, matched: lat.length, latencyMs: { min: q(0), p50: q(0.5), p90: q(0.9), max: q(0.999) }, joinMs, janusCpuPercentIdle: ((idleTicks / hz / 3) * 100).toFixed(1), janusCpuPercentTwoParty: ((callTicks / hz / callSecs) * 100).toFixed(1), janusCpuPercentPerParticipant: ((callTicks / hz / callSecs / 2) * 100).toFixed(1) }, null, 2));
} finally {
  await bt.close();
  await bl.close();
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
}

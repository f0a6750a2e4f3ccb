#!/usr/bin/env node
// Which H.264 encoder the agent's video layer uses, by measurement: Debian's ffmpeg as a child process
// (raw BGRA on stdin, FLV on stdout) against node-av (FFmpeg in-process, from npm), on 720p frames like
// the bench's video workload (moving gradients and shapes under 30% random grain, every frame new).
// Per frame: latency (frame written → its access unit whole), bytes; CPU as process CPU time per frame
// (this process + the child), which does not depend on how busy the machine is.
// Usage: node bench/video-encoders.mjs [--frames 150] [--bitrate 6000000] [--node-av /path/to/node_modules/node-av]
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { values: opt } = parseArgs({ options: { frames: { type: 'string', default: '150' }, 'node-av': { type: 'string' }, bitrate: { type: 'string', default: '6000000' }, x264: { type: 'string' } } });
const W = 1280, H = 720, N = Number(opt.frames), FPS = 25, BITRATE = Number(opt.bitrate);

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
/** 30 distinct frames (cycled): gradient, six moving discs, fresh grain each. */
const frames = Array.from({ length: 30 }, (_, f) => {
  const b = Buffer.alloc(W * H * 4);
  const t = f / FPS;
  const discs = Array.from({ length: 6 }, (_, k) => ({ x: 640 + 500 * Math.sin(t * (0.5 + k * 0.13) + k), y: 360 + 280 * Math.cos(t * (0.7 + k * 0.11) + k * 2), r: 60 + 20 * k, c: k * 40 }));
  for (let y = 0, o = 0; y < H; y++) {
    for (let x = 0; x < W; x++, o += 4) {
      let r = (x / W) * 255, g = (y / H) * 200 + 30 * Math.sin(t), bl = 128 + 100 * Math.cos(t + x / 300);
      for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r * d.r) { r = 200; g = d.c; bl = 255 - d.c; }
      const n = rand() * 255;
      b[o] = bl * 0.7 + n * 0.3; b[o + 1] = g * 0.7 + n * 0.3; b[o + 2] = r * 0.7 + n * 0.3; b[o + 3] = 255;
    }
  }
  return b;
});

function cpuOf(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // ms (USER_HZ 100)
}
const selfCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];
const report = (name, lat, bytes, cpuMs) => console.log(`${name.padEnd(28)} latency median ${pct(lat, 0.5).toFixed(1)} ms, p95 ${pct(lat, 0.95).toFixed(1)} ms; ${(bytes.reduce((a, b) => a + b, 0) / N / 1024).toFixed(1)} KiB/frame = ${((bytes.reduce((a, b) => a + b, 0) / N) * FPS / 1e6).toFixed(2)} MB/s at ${FPS} fps; CPU ${(cpuMs / N).toFixed(1)} ms/frame`);

async function ffmpegChild() {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'bgra', '-s', `${W}x${H}`, '-r', String(FPS), '-i', '-',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
    '-b:v', String(BITRATE), '-maxrate', String(BITRATE), '-bufsize', String(BITRATE / 4), '-g', '50', '-x264-params', 'scenecut=0',
    '-flush_packets', '1', '-f', 'flv', '-'];
  const p = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = Buffer.alloc(0), headerDone = false;
  const waiting = [];
  p.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (!headerDone) { if (buf.length < 13) return; buf = buf.subarray(13); headerDone = true; }
    for (;;) {
      if (buf.length < 11) return;
      const size = buf.readUIntBE(1, 3);
      if (buf.length < 11 + size + 4) return;
      const type = buf[0], body = buf.subarray(11, 11 + size);
      buf = buf.subarray(15 + size);
      if (type === 9 && body[1] === 1) waiting.shift()?.(body.length);
    }
  });
  const lat = [], bytes = [];
  const c0 = selfCpu(), k0 = cpuOf(p.pid);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const got = new Promise((r) => waiting.push(r));
    p.stdin.write(frames[i % frames.length]);
    bytes.push(await got);
    lat.push(performance.now() - t0);
  }
  const cpu = selfCpu() - c0 + cpuOf(p.pid) - k0;
  p.stdin.end();
  report('ffmpeg child (Debian 5.1)', lat, bytes, cpu);
}

async function nodeAv(path) {
  // The agent's optional dependency, or another copy with --node-av <dir>.
  const from = (sub) => (path ? import(`${path}/dist/${sub}/index.js`) : import(`node-av/${sub}`));
  const { Encoder } = await from('api');
  const { Frame } = await from('lib');
  const C = await from('constants');
  const enc = await Encoder.create(C.FF_ENCODER_LIBX264, {
    context: { pixelFormat: C.AV_PIX_FMT_YUV420P, bitRate: BITRATE, rcMaxRate: BITRATE, rcBufferSize: BITRATE / 4, gopSize: 50, maxBFrames: 0 },
    autoFormat: true,
    options: { preset: 'ultrafast', tune: 'zerolatency', profile: 'baseline', 'x264-params': `scenecut=0${opt.x264 ? ':' + opt.x264 : ''}` },
  });
  const lat = [], bytes = [];
  const c0 = selfCpu();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const frame = Frame.fromVideoBuffer(frames[i % frames.length], { width: W, height: H, format: C.AV_PIX_FMT_BGRA, timeBase: { num: 1, den: FPS } });
    frame.pts = BigInt(i);
    await enc.encode(frame);
    let n = 0, pkt;
    while ((pkt = await enc.receive())) { n += pkt.size; pkt.free?.(); }
    frame.free?.();
    bytes.push(n);
    lat.push(performance.now() - t0);
  }
  report('node-av 6.1 (in-process)', lat, bytes, selfCpu() - c0);
  enc.close?.();
}

console.log(`${N} frames of ${W}x${H}, ${BITRATE / 1e6} Mbit/s cap, load ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
await ffmpegChild();
await nodeAv(opt['node-av']).catch((err) => console.log(`node-av: ${err.message}`));

#!/usr/bin/env node
// The agent's encoder on recorded captures, without browsers, network or viewer: CPU per pass that does
// not move with the machine's load, to compare encoder changes (and to profile them with --cpu-prof).
//
//   node bench/encode-replay.mjs record [--workloads scroll,drag,...] [--passes 90] [--fps 30] [--dir D]
//       Xvfb + the host Chromium showing each workload; the agent's ScreenCapture (built dist/) reads
//       the damage at --fps, and every pass's rectangles and their pixels go to D/<workload>.rec.
//   node bench/encode-replay.mjs replay [--workloads ...] [--loops 3] [--dir D] [--no-hash] [--paths tiles,video]
//       Each recording through a fresh TileEncoder: encode, refine and (unless --no-hash) the frame hash,
//       as the agent does with frame verification on (the bench's default). Prints ms of CPU per pass.
//       --paths: `tiles` (the video layer off) and/or `video` (on, every viewer decoding video: the
//       moving region as H.264 through node-av; its CPU, libx264's threads too, counts in the pass).
//   node bench/encode-replay.mjs compare --base <dir> [--runs 5] [--workloads ...]
//       This build against another build's dist (e.g. main's, copied aside), alternating runs in one
//       process: median CPU ms a pass of each, and whether every tile sent is byte for byte the same.
//   --stride N (replay, compare): every N-th pass with the damage in between, as an agent slowed down
//       by a loaded machine sees it (content moves N times further between passes).
//
// Recordings are large (the pixels of every damaged band) and stay out of git: D defaults to
// bench/.replay/. Build first: npx tsc -b packages/protocol packages/agent.
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProcessSet } from './lib/procs.mjs';
import { startXvfb } from './lib/xvfb.mjs';
import { startPageServer } from './lib/pageServer.mjs';
import { launchHostBrowser } from './lib/browsers.mjs';
import { sleep } from './lib/net.mjs';
import { loadRec } from './lib/replayFile.mjs';

const WIDTH = 1920, HEIGHT = 1080;
const ZRGB = 4, PALETTE = 5; // TileEncoding (packages/protocol/src/share.ts)
const ALL = ['typing', 'scroll', 'drag', 'video', 'doc-slow', 'doc-fast', 'drag-textured', 'code', 'sheet', 'slideshow'];
const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workloads: { type: 'string', default: ALL.join(',') },
    passes: { type: 'string', default: '90' },
    fps: { type: 'string', default: '30' },
    loops: { type: 'string', default: '3' },
    dir: { type: 'string', default: fileURLToPath(new URL('./.replay/', import.meta.url)) },
    'no-hash': { type: 'boolean', default: false },
    paths: { type: 'string', default: 'tiles' },
    stride: { type: 'string', default: '1' },
    runs: { type: 'string', default: '5' },
    base: { type: 'string' },
  },
});
const mode = positionals[0];
const workloads = opt.workloads.split(',').filter(Boolean);
const dir = opt.dir.replace(/\/$/, '');
// AGENT_DIST=<dir>: another build of the agent (e.g. a baseline's packages/agent/dist) to compare with.
const agentDist = process.env.AGENT_DIST ? `file://${process.env.AGENT_DIST.replace(/\/?$/, '/')}` : new URL('../packages/agent/dist/', import.meta.url).href;
const agent = (f) => import(agentDist + f);

if (mode === 'record') await record();
else if (mode === 'replay') await replay();
else if (mode === 'compare') await compare();
else {
  console.error('usage: node bench/encode-replay.mjs record|replay|compare [--workloads a,b] [--passes N] [--fps N] [--loops N] [--dir D] [--no-hash] [--stride N] [--base DIR --runs N]');
  process.exit(2);
}

// File: per pass a header of u32 words [time lo, time hi (ms as float64), nrects], then per rect
// [x, y, w, h] and its pixels (w*h*4 bytes of BGRX, row by row).
async function record() {
  const { ScreenCapture } = await agent('ScreenCapture.js');
  const procs = new ProcessSet();
  mkdirSync(dir, { recursive: true });
  try {
    const xvfb = await startXvfb(procs, { width: WIDTH, height: HEIGHT });
    const pages = await startPageServer([fileURLToPath(new URL('./pages/', import.meta.url))]);
    const host = await launchHostBrowser(xvfb.display, WIDTH, HEIGHT);
    try {
      for (const w of workloads) {
        await host.show(pages.url, w);
        await sleep(1500);
        const cap = await ScreenCapture.open({ display: xvfb.display, tileSize: 16 });
        const fd = openSync(`${dir}/${w}.rec`, 'w');
        let bytes = 0;
        try {
          const period = 1000 / Number(opt.fps);
          for (let i = 0; i < Number(opt.passes); i++) {
            const t0 = performance.now();
            const r = await cap.capture({ full: i === 0 });
            const head = new Float64Array([r.time]);
            const n = new Uint32Array([r.rects.length]);
            writeSync(fd, new Uint8Array(head.buffer));
            writeSync(fd, new Uint8Array(n.buffer));
            const f = cap.frame;
            for (const rc of r.rects) {
              writeSync(fd, new Uint8Array(new Uint32Array([rc.x, rc.y, rc.width, rc.height]).buffer));
              const px = Buffer.allocUnsafe(rc.width * rc.height * 4);
              for (let row = 0; row < rc.height; row++) f.data.copy(px, row * rc.width * 4, (rc.y + row) * f.stride + rc.x * 4, (rc.y + row) * f.stride + (rc.x + rc.width) * 4);
              writeSync(fd, px);
              bytes += px.length;
            }
            await sleep(Math.max(0, period - (performance.now() - t0)));
          }
        } finally {
          closeSync(fd);
          await cap.close();
        }
        console.error(`${w}: ${opt.passes} passes, ${(bytes / 1e6).toFixed(0)} MB of pixels`);
      }
    } finally {
      await host.close();
      await pages.close();
    }
  } finally {
    await procs.close();
  }
}

/**
 * The passes as a slower agent would have taken them: every `stride`-th pass, with the damage of the
 * ones skipped (their pixels are applied in order; the later ones overwrite). Content moves further
 * between two such passes, as when the agent waits for a CPU on a loaded machine.
 */
function strided(passes, stride) {
  if (stride <= 1) return passes;
  const out = [];
  for (let i = 0; i < passes.length; i += stride) {
    const group = passes.slice(i, i + stride);
    out.push({ time: group[group.length - 1].time, rects: group.flatMap((p) => p.rects) });
  }
  return out;
}

/** One run of a recording through a fresh TileEncoder of the given build: CPU, bytes, tiles per pass, and a digest of the output. */
async function runOnce(TileEncoder, passes, VideoLayer = null) {
  const stride = WIDTH * 4;
  let cpu = 0, wall = 0, bytes = 0, tiles = 0, classify = 0, n = 0;
  const kinds = { tiles: 0, unchanged: 0, fill: 0, lossless: 0, lossy: 0, copied: 0, videoBytes: 0 };
  // A digest of every tile sent (place, encoding, flags, payload; deflated payloads inflated, since zlib
  // may pick other matches for the same input): equal digests, the same pictures and images sent.
  const digest = createHash('sha1');
  let rawBytes = 0;
  const frame = { width: WIDTH, height: HEIGHT, stride, data: Buffer.alloc(stride * HEIGHT) };
  // The video path: the video layer on, every viewer decoding video (its CPU, libx264's threads too, counts).
  const video = VideoLayer ? new VideoLayer() : null;
  const enc = new TileEncoder({ tileSize: 16, video });
  enc.setAudience?.({ video: video !== null, tiles: video === null });
  for (const [i, p] of passes.entries()) {
    for (const r of p.rects) for (let row = 0; row < r.height; row++) r.px.copy(frame.data, (r.y + row) * stride + r.x * 4, row * r.width * 4, (row + 1) * r.width * 4);
    const c0 = process.cpuUsage(), t0 = performance.now();
    const t = await enc.encode(frame, p.rects, p.time);
    const refined = await enc.refine(p.time);
    if (!opt['no-hash']) enc.frameHash([...t, ...refined]);
    const c = process.cpuUsage(c0);
    const w = performance.now() - t0;
    for (const x of [...t, ...refined]) {
      digest.update(`${x.x},${x.y},${x.w},${x.h},${x.encoding},${x.flags};`).update(inflated(x));
      rawBytes += x.data.length;
    }
    // The first pass is the full screen: the same for every change, left out.
    if (i === 0) continue;
    cpu += (c.user + c.system) / 1000;
    wall += w;
    n++;
    bytes += t.reduce((s, x) => s + x.data.length, 0) + refined.reduce((s, x) => s + x.data.length, 0);
    tiles += t.length + refined.length;
    classify += enc.lastStats.classifyMs;
    for (const k of Object.keys(kinds)) kinds[k] += enc.lastStats[k] ?? 0;
  }
  video?.close();
  return { n, cpu, wall, bytes, tiles, classify, kinds, digest: digest.digest('hex').slice(0, 12), rawBytes };
}

async function replay() {
  const { TileEncoder } = await agent('TileEncoder.js');
  const { VideoLayer } = await agent('VideoLayer.js');
  for (const path of opt.paths.split(',').filter(Boolean))
  for (const w of workloads) {
    const passes = strided(loadRec(`${dir}/${w}.rec`), Number(opt.stride));
    const runs = [];
    for (let loop = 0; loop < Number(opt.loops); loop++) runs.push(await runOnce(TileEncoder, passes, path === 'video' ? VideoLayer : null));
    const n = runs.reduce((s, r) => s + r.n, 0);
    const sum = (k) => runs.reduce((s, r) => s + r[k], 0);
    const kinds = Object.keys(runs[0].kinds).map((k) => [k, +(runs.reduce((s, r) => s + r.kinds[k], 0) / n).toFixed(1)]);
    const row = { workload: w, path, passes: n, cpuMsPerPass: +(sum('cpu') / n).toFixed(2), medianCpuMsPerPass: +median(runs.map((r) => r.cpu / r.n)).toFixed(2), wallMsPerPass: +(sum('wall') / n).toFixed(2), classifyMsPerPass: +(sum('classify') / n).toFixed(2), kBPerPass: +(sum('bytes') / n / 1000).toFixed(1), tilesPerPass: +(sum('tiles') / n).toFixed(1), ...Object.fromEntries(kinds), digest: runs[0].digest };
    console.log(JSON.stringify(row));
  }
}

/**
 * This build against another (--base <agent dist dir>), runs alternating on the same recording in one
 * process, so drifting load hits both alike: median CPU ms a pass of each, and whether the output
 * (every tile's place, encoding and bytes) is identical.
 */
async function compare() {
  if (!opt.base) throw new Error('compare needs --base <dir of another build of packages/agent/dist>');
  const { TileEncoder: Base } = await import(`file://${opt.base.replace(/\/?$/, '/')}TileEncoder.js`);
  const { TileEncoder: Mine } = await agent('TileEncoder.js');
  const table = [];
  for (const w of workloads) {
    const passes = strided(loadRec(`${dir}/${w}.rec`), Number(opt.stride));
    const base = [], mine = [];
    for (let k = 0; k < Number(opt.runs); k++) {
      // Alternate which goes first, so neither always runs on a warmer cache.
      if (k % 2 === 0) base.push(await runOnce(Base, passes)), mine.push(await runOnce(Mine, passes));
      else mine.push(await runOnce(Mine, passes)), base.push(await runOnce(Base, passes));
    }
    const ms = (runs) => +median(runs.map((r) => r.cpu / r.n)).toFixed(2);
    const kB = (r) => +(r.bytes / r.n / 1000).toFixed(1);
    const row = { workload: w, passes: base[0].n, baseCpuMs: ms(base), cpuMs: ms(mine), ratio: +(ms(mine) / ms(base)).toFixed(2), baseKB: kB(base[0]), kB: kB(mine[0]), baseCopied: +(base[0].kinds.copied / base[0].n).toFixed(0), copied: +(mine[0].kinds.copied / mine[0].n).toFixed(0), identical: base[0].digest === mine[0].digest, sameBytes: base[0].rawBytes === mine[0].rawBytes, baseRawBytes: base[0].rawBytes, rawBytes: mine[0].rawBytes };
    table.push(row);
    console.log(JSON.stringify(row));
  }
  console.log('\nworkload | base CPU ms/pass | this CPU ms/pass | ratio | base kB/pass | this kB/pass | base Copy cells | this Copy cells | same tiles (inflated) | bytes base → this');
  console.log('---|---|---|---|---|---|---|---|---|---');
  for (const r of table) console.log(`${r.workload} | ${r.baseCpuMs} | ${r.cpuMs} | ${r.ratio} | ${r.baseKB} | ${r.kB} | ${r.baseCopied} | ${r.copied} | ${r.identical ? 'yes' : 'no'} | ${r.sameBytes ? 'same' : `${r.baseRawBytes} → ${r.rawBytes}`}`);
}

/** A tile's payload with its zlib stream inflated (ZRgb: RGB; Palette: its header, then the indices). */
function inflated(t) {
  if (t.encoding === ZRGB) return inflateSync(t.data);
  if (t.encoding === PALETTE) {
    const head = 1 + (t.data[0] + 1) * 3;
    return Buffer.concat([t.data.subarray(0, head), inflateSync(t.data.subarray(head))]);
  }
  return t.data;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

#!/usr/bin/env node
// Baton's screen-sharing benchmark: glass-to-glass latency, viewer frame rate, bytes on the wire and
// CPU for ten workloads on a private 1920x1080 Xvfb: the floor, x11vnc+noVNC and Baton side by side.
// Usage: node bench/run.mjs [--seconds 10] [--warmup 2] [--workloads typing,scroll,drag,video,doc-slow,doc-fast,drag-textured,code,sheet,slideshow]
//                           [--systems floor,x11vnc,baton] [--rounds 1] [--extras late,input | --extras none]
// See bench/README.md.
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { ProcessSet, CpuMeter } from './lib/procs.mjs';
import { startXvfb } from './lib/xvfb.mjs';
import { startPageServer } from './lib/pageServer.mjs';
import { launchHostBrowser, launchViewerBrowser } from './lib/browsers.mjs';
import { openX } from './lib/xclient.mjs';
import { sleep } from './lib/net.mjs';
import { median, percentile, round } from './lib/stats.mjs';
import { printReport } from './lib/report.mjs';

const WORKLOADS = ['typing', 'scroll', 'drag', 'video', 'doc-slow', 'doc-fast', 'drag-textured', 'code', 'sheet', 'slideshow'];
const SYSTEMS = {
  floor: () => import('./systems/floor.mjs'),
  x11vnc: () => import('./systems/x11vnc.mjs'),
  baton: () => import('./systems/baton.mjs'),
  // The video layer off (tiles only): runs on the video workload only, beside `baton`.
  'baton-tiles': () => import('./systems/baton-tiles.mjs'),
  // Not in the default run: `--systems baton,baton-window` compares window and screen sharing.
  'baton-window': () => import('./systems/baton-window.mjs'),
};
const WIDTH = 1920, HEIGHT = 1080;

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    // A busy machine: `stress-ng --cpu N` runs for the whole run (0: none).
    hog: { type: 'string', default: '0' },
    warmup: { type: 'string', default: '2' },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    systems: { type: 'string', default: Object.keys(SYSTEMS).filter((s) => s !== 'baton-window').join(',') },
    extras: { type: 'string', default: 'late,input' },
    rounds: { type: 'string', default: '1' },
    'late-tries': { type: 'string', default: '3' },
    inputs: { type: 'string', default: '20' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/', import.meta.url)) },
    build: { type: 'boolean', default: true },
    'no-build': { type: 'boolean', default: false },
    'agent-args': { type: 'string', default: '' },
    // Frame verification (Baton, a debug mode): the agent hashes each frame's lossless picture, the viewer
    // checks its canvas. Off by default: users don't run it, and it costs both sides CPU a frame.
    verify: { type: 'boolean', default: false },
    'no-verify': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log('node bench/run.mjs [--seconds N] [--warmup N] [--rounds N] [--workloads typing,scroll,drag,video] [--systems x11vnc,baton] [--extras late,input|none] [--late-tries N] [--inputs N] [--hog N] [--verify] [--out DIR]');
  process.exit(0);
}
if (opt['no-build']) opt.build = false;
if (opt['no-verify']) opt.verify = false;
const seconds = Number(opt.seconds), warmup = Number(opt.warmup), rounds = Math.max(1, Number(opt.rounds));
const hog = Math.max(0, Number(opt.hog) || 0);
const workloads = opt.workloads.split(',').filter(Boolean);
const systems = opt.systems.split(',').filter(Boolean);
const extras = new Set(opt.extras === 'none' ? [] : opt.extras.split(','));
for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload '${w}' (${WORKLOADS.join(', ')})`);
for (const s of systems) if (!SYSTEMS[s]) throw new Error(`unknown system '${s}' (${Object.keys(SYSTEMS).join(', ')})`);

const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

const procs = new ProcessSet();
const closers = [];
let exiting = false;
async function cleanup() {
  for (const c of closers.reverse()) await Promise.resolve().then(c).catch(() => {});
  await procs.close();
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (exiting) return;
    exiting = true;
    log(`${sig}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

const result = {
  startedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, load: os.loadavg() },
  options: { seconds, warmup, rounds, hog, workloads, systems, extras: [...extras], width: WIDTH, height: HEIGHT },
  systems: {},
  rows: [],
  summary: [],
  extras: [],
};

try {
  if (hog) {
    // The busy machine: N CPU hogs for the whole run, killed with the other children.
    const stress = procs.spawn('stress-ng', 'stress-ng', ['--cpu', String(hog), '--quiet']);
    await sleep(500);
    if (stress.exitCode !== null) throw new Error(`stress-ng --cpu ${hog} exited at once: ${stress.log.slice(-3).join(' | ')}`);
    result.hog = { tool: 'stress-ng', args: ['--cpu', String(hog)], pid: stress.pid };
    log(`busy machine: stress-ng --cpu ${hog}`);
  }
  const xvfb = await startXvfb(procs, { width: WIDTH, height: HEIGHT });
  const env = { ...process.env, DISPLAY: xvfb.display };
  log(`Xvfb on ${xvfb.display}`);
  const pages = await startPageServer([fileURLToPath(new URL('./pages/', import.meta.url))]);
  closers.push(() => pages.close());
  const host = await launchHostBrowser(xvfb.display, WIDTH, HEIGHT);
  closers.push(() => host.close());
  const viewers = await launchViewerBrowser();
  closers.push(() => viewers.close());
  const xc = await openX(xvfb.display);
  closers.push(() => xc.close());
  // Park the X pointer in a corner so it never sits on the workloads.
  execFileSync('xdotool', ['mousemove', String(WIDTH - 1), String(HEIGHT - 1)], { env });
  await host.show(pages.url, 'still');

  const ctx = { host, viewers, pages, xc };
  const startArgs = { procs, xc, display: xvfb.display, env, log, width: WIDTH, height: HEIGHT, agentArgs: opt['agent-args'].split(' ').filter(Boolean), verify: opt.verify };
  const ready = new Map();
  for (const sysName of systems) {
    const mod = await SYSTEMS[sysName]();
    const why = await mod.availability({ display: xvfb.display, build: opt.build });
    if (why) {
      log(`${sysName}: not available (${why})`);
      result.systems[sysName] = { available: false, reason: why };
    } else {
      ready.set(sysName, mod);
    }
  }

  /** Start a system, run fn with it, stop it. A system that cannot start is dropped from the run. */
  async function withSystem(sysName, what, fn) {
    const mod = ready.get(sysName);
    if (!mod) return;
    let sys;
    try {
      sys = await mod.start(startArgs);
    } catch (err) {
      log(`${sysName}: not available (${err.message})`);
      result.systems[sysName] = { available: false, reason: `failed to start: ${err.message}` };
      ready.delete(sysName);
      return;
    }
    closers.push(() => sys.stop());
    result.systems[sysName] ??= { available: true, label: sys.label, errors: [] };
    try {
      await fn(sys);
    } catch (err) {
      log(`${sysName} ${what}: failed: ${err.stack ?? err}`);
      result.systems[sysName].errors.push(`${what}: ${String(err.message ?? err).split('\n')[0]}`);
    } finally {
      await sys.stop();
    }
  }

  // Systems take turns on each workload (in an order that alternates), each started afresh, so that
  // other load on the machine drifting during the run hits every system alike.
  for (let r = 0; r < rounds; r++) {
    for (const [i, workload] of workloads.entries()) {
      const order = [...ready.keys()];
      const turn = (r + i) % Math.max(1, order.length);
      for (const sysName of [...order.slice(turn), ...order.slice(0, turn)]) {
        if (ready.get(sysName).workloads && !ready.get(sysName).workloads.includes(workload)) continue;
        await withSystem(sysName, workload, (sys) => measureWorkload(sysName, sys, workload, r, ctx));
      }
    }
  }
  for (const sysName of [...ready.keys()]) {
    if (ready.get(sysName).direct || ready.get(sysName).workloads || !(extras.has('late') || extras.has('input'))) continue;
    await withSystem(sysName, 'extras', async (sys) => {
      if (extras.has('late')) await lateJoiner(sysName, sys, ctx);
      if (extras.has('input')) await inputLatency(sysName, sys, ctx);
    });
  }
  result.summary = summarize(result.rows);
} catch (err) {
  log(`bench failed: ${err.stack ?? err}`);
  result.error = String(err.message ?? err);
  process.exitCode = 1;
} finally {
  await cleanup();
}

result.machine.loadAtEnd = os.loadavg();
mkdirSync(opt.out, { recursive: true });
const file = `${opt.out.replace(/\/$/, '')}/${result.startedAt.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
printReport(result);
console.log(`\nresults: ${file}`);
process.exit();

async function measureWorkload(sysName, sys, workload, roundNo, { host, viewers, pages }) {
  await host.show(pages.url, workload);
  // The probe samples what the viewer shows: a viewer page, or the X framebuffer itself for the floor.
  let page = null, probe;
  if (sys.direct) {
    probe = sys.probe();
  } else {
    page = await viewers.newPage(...(sys.viewerSize?.(WIDTH, HEIGHT) ?? [WIDTH, HEIGHT]));
    await sys.preparePage?.(page);
    await sys.openViewer(page, WIDTH, HEIGHT);
    await page.evaluate((sel) => BenchSampler.start(sel), sys.canvasSelector ?? null);
    probe = { reset: () => page.evaluate(() => BenchSampler.reset()), collect: () => page.evaluate(() => BenchSampler.collect()), close: () => page.context().close() };
  }
  try {
    await sleep(warmup * 1000);
    const server = new CpuMeter(sys.serverPids);
    const agent = new CpuMeter(sys.agentPids);
    const viewer = new CpuMeter(page ? [viewers.pid] : []);
    const hostCpu = new CpuMeter([host.pid]);
    for (const m of [server, agent, viewer, hostCpu]) m.start();
    await probe.reset();
    const profiler = page ? await startViewerProfile(page, viewers) : null;
    const verified = () => (page ? page.evaluate(() => (window.__batonViewer?.framesVerified === undefined ? null : { v: window.__batonViewer.framesVerified, m: window.__batonViewer.framesMismatched })) : null);
    const verify0 = await verified();
    const videoBytes = () => (page ? page.evaluate(() => window.__batonViewer?.videoBytes ?? null) : null);
    // Video units received and of them left undrawn (the next frame's unit overdrew them: ScreenView).
    const videoUnits = () => (page ? page.evaluate(() => (window.__batonViewer ? [window.__batonViewer.videoUnits, window.__batonViewer.videoSkipped ?? 0] : null)) : null);
    const units0 = await videoUnits();
    const video0 = await videoBytes();
    const hostFrames0 = await host.page.evaluate(() => globalThis.benchFrames);
    const hostT0 = Date.now();
    await sleep(seconds * 1000);
    const c = await probe.collect();
    await profiler?.stop(`${sysName}-${workload}-r${roundNo}`);
    const verify1 = await verified();
    const video1 = await videoBytes();
    const units1 = await videoUnits();
    const hostFps = ((await host.page.evaluate(() => globalThis.benchFrames)) - hostFrames0) / ((Date.now() - hostT0) / 1000);
    const row = {
      workload,
      system: sysName,
      round: roundNo,
      medianMs: median(c.latencies),
      p95Ms: percentile(c.latencies, 95),
      viewerFps: round(c.latencies.length / (c.ms / 1000), 1),
      hostFps: round(hostFps, 1),
      kBps: page ? round(c.bytesIn / c.ms, 1) : null,
      upKBps: page ? round(c.bytesOut / c.ms, 2) : null,
      serverCpu: sys.serverPids.length ? round(server.stop(), 1) : null,
      agentCpu: sys.agentPids.length ? round(agent.stop(), 1) : null,
      viewerCpu: page ? round(viewer.stop(), 1) : null,
      tornPct: c.samples ? round((100 * c.bad) / c.samples, 1) : null,
      // CSS px shown per host px on the viewer's screen (Fit < 1); the strip is read at the backing store's (host) resolution.
      viewerScale: c.scale ?? null,
      // Baton: the path the picture took ('server' relay, or 'peer' DataChannel, which the Focus picks
      // for a host and one viewer); its DataChannel payload is included in kBps.
      path: c.path ?? null,
      dataChannelKBps: c.dataChannelBytesIn ? round(c.dataChannelBytesIn / c.ms, 1) : null,
      // Frame verification (Baton, when on): frames whose canvas was checked against the host's hash, and
      // those that showed a picture the host never had (must be 0).
      framesVerified: verify0 && verify1 && verify1.v > 0 ? verify1.v - verify0.v : null,
      framesMismatched: verify0 && verify1 && verify1.v > 0 ? verify1.m - verify0.m : null,
      hostCpu: round(hostCpu.stop(), 1),
      // Baton's video layer: kB/s of it in the stream (H.264 units; the rest is tiles).
      videoKBps: video0 !== null && video1 !== null ? round((video1 - video0) / c.ms, 1) : null,
      videoUnits: units0 && units1 ? units1[0] - units0[0] : null,
      videoSkipped: units0 && units1 ? units1[1] - units0[1] : null,
      load1: round(os.loadavg()[0], 1),
      frames: c.latencies.length,
      undecodedSamples: c.bad,
      samples: c.samples,
      seconds: round(c.ms / 1000, 2),
      latencies: c.latencies,
      // Baton only: host capture → drawn on the viewer's canvas, and first tile received → drawn (median ms).
      captureToDrawnMs: c.stages.length ? round(median(c.stages.map((x) => x[0])), 1) : null,
      viewerFrameMs: c.stages.length ? round(median(c.stages.map((x) => x[1])), 1) : null,
      // Of viewerFrameMs, first tile received → the frame's last message received (the rest is decoding and drawing).
      viewerReceiveMs: c.stages.some((x) => x[2] !== null && x[2] !== undefined) ? round(median(c.stages.map((x) => x[2] ?? 0)), 1) : null,
    };
    // CPU time of server and agent per frame the viewer showed (ms): CPU time, unlike latency or fps, is
    // not stretched by other load on the machine (a busy core takes turns, it does not bill the waiting).
    row.cpuMsPerFrame = row.frames && (row.serverCpu !== null || row.agentCpu !== null) ? round((((row.serverCpu ?? 0) + (row.agentCpu ?? 0)) / 100) * row.seconds * 1000 / row.frames, 1) : null;
    result.rows.push(row);
    log(`${sysName} ${workload}: median ${row.medianMs} ms, p95 ${row.p95Ms} ms, ${row.viewerFps} fps, ${row.kBps ?? '-'} kB/s, server ${row.serverCpu ?? '-'}%${row.agentCpu !== null ? `, agent ${row.agentCpu}%` : ''}, viewer ${row.viewerCpu ?? '-'}%, host page ${row.hostFps} fps, host browser ${row.hostCpu}%, torn ${row.tornPct}%, shown at ${row.viewerScale ?? '-'}x${row.path ? ` via ${row.path}` : ''}${row.framesVerified !== null ? `, mismatched frames ${row.framesMismatched}/${row.framesVerified}` : ''}, load ${row.load1}, CPU ${row.cpuMsPerFrame ?? '-'} ms/frame${row.videoKBps ? `, video ${row.videoKBps} kB/s (${row.videoUnits} units, ${row.videoSkipped} not drawn)` : ''}${row.captureToDrawnMs !== null ? `, capture→drawn ${row.captureToDrawnMs} ms (first tile→drawn ${row.viewerFrameMs} ms, of which receiving ${row.viewerReceiveMs ?? '-'} ms)` : ''}`);
    if (page?.benchErrors.length) log(`${sysName}: viewer page errors: ${page.benchErrors.slice(0, 3).join(' | ')}`);
  } finally {
    await probe.close();
  }
}

/**
 * Viewer profiling (off unless asked): BENCH_VIEWER_PROFILE=<dir> records a V8 CPU profile of the viewer
 * page's main thread over the measured seconds (<dir>/<system>-<workload>-r<round>.cpuprofile, open in
 * Chromium's DevTools), BENCH_VIEWER_TRACE=<dir> a Chromium trace of the whole viewer browser (main
 * thread, workers, compositor, GPU process: <dir>/….trace.json, for chrome://tracing or Perfetto).
 */
async function startViewerProfile(page, viewers) {
  const profDir = process.env.BENCH_VIEWER_PROFILE, traceDir = process.env.BENCH_VIEWER_TRACE;
  if (!profDir && !traceDir) return null;
  let cdp = null;
  if (profDir) {
    mkdirSync(profDir, { recursive: true });
    cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
    await cdp.send('Profiler.start');
  }
  if (traceDir) {
    mkdirSync(traceDir, { recursive: true });
    await viewers.browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', 'toplevel', 'v8.execute', 'blink', 'cc', 'gpu', 'viz', 'disabled-by-default-v8.cpu_profiler', 'media'] });
  }
  return {
    async stop(name) {
      if (cdp) {
        const { profile } = await cdp.send('Profiler.stop');
        writeFileSync(`${profDir}/${name}.cpuprofile`, JSON.stringify(profile));
        await cdp.detach().catch(() => {});
      }
      if (traceDir) writeFileSync(`${traceDir}/${name}.trace.json`, await viewers.browser.stopTracing());
    },
  };
}

/** One row per (workload, system): latencies pooled over rounds, the rest averaged. */
function summarize(rows) {
  const groups = new Map();
  for (const r of rows) {
    const k = `${r.workload}\u0000${r.system}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  const mean = (list, key) => {
    const v = list.map((r) => r[key]).filter((x) => x !== null && x !== undefined);
    return v.length ? round(v.reduce((a, b) => a + b, 0) / v.length, 1) : null;
  };
  const order = (r) => workloads.indexOf(r.workload) * 100 + systems.indexOf(r.system);
  return [...groups.values()].sort((a, b) => order(a[0]) - order(b[0])).map((list) => {
    const lat = list.flatMap((r) => r.latencies);
    const out = { workload: list[0].workload, system: list[0].system, path: [...new Set(list.map((r) => r.path).filter(Boolean))].join('+') || null, rounds: list.length, medianMs: median(lat), p95Ms: percentile(lat, 95) };
    for (const key of ['viewerFps', 'hostFps', 'kBps', 'upKBps', 'serverCpu', 'agentCpu', 'viewerCpu', 'tornPct', 'hostCpu', 'load1', 'viewerScale', 'cpuMsPerFrame', 'videoKBps']) out[key] = mean(list, key);
    for (const key of ['framesVerified', 'framesMismatched']) {
      const v = list.map((r) => r[key]).filter((x) => x !== null && x !== undefined);
      out[key] = v.length ? v.reduce((a, b) => a + b, 0) : null;
    }
    return out;
  });
}

/** Time for a viewer that joins a still screen to show all of it (every 64 px tile within tolerance). */
async function lateJoiner(sysName, sys, { host, viewers, pages, xc }) {
  await host.show(pages.url, 'still');
  await sleep(1500);
  const step = 16;
  const ref = Array.from(await xc.screenSamples(step));
  const times = [];
  let failure = null;
  for (let i = 0; i < Number(opt['late-tries']); i++) {
    const page = await viewers.newPage(...(sys.viewerSize?.(WIDTH, HEIGHT) ?? [WIDTH, HEIGHT]));
    await page.addInitScript(
      ([r, w, h, s, sel]) => {
        BenchSampler.expectScreen(r, w, h, s, 24);
        BenchSampler.start(sel);
      },
      [ref, WIDTH, HEIGHT, step, sys.canvasSelector ?? null],
    );
    await sys.preparePage?.(page);
    const t0 = Date.now();
    try {
      await sys.openViewer(page, WIDTH, HEIGHT);
      await page.waitForFunction(() => BenchSampler.completeState()?.done, null, { timeout: 20_000, polling: 100 });
      const st = await page.evaluate(() => BenchSampler.completeState());
      times.push(st.at - t0);
    } catch (err) {
      const st = await page.evaluate(() => BenchSampler.completeState()).catch(() => null);
      failure = `${err.message.split('\n')[0]} (worst tile error ${round(st?.worst, 1)})`;
    }
    await page.context().close();
    await sleep(500);
  }
  const row = { system: sysName, metric: 'late joiner to complete screen', unit: 'ms', median: median(times), values: times, error: failure };
  result.extras.push(row);
  log(`${sysName}: late joiner ${times.join(', ')} ms${failure ? ` (failure: ${failure})` : ''}`);
}

/**
 * Viewer input to X server: the viewer page presses a key / clicks; a window of our own X client
 * covers the screen with the keyboard focus and records when the X server delivers the event.
 */
async function inputLatency(sysName, sys, { viewers, xc }) {
  const page = await viewers.newPage(...(sys.viewerSize?.(WIDTH, HEIGHT) ?? [WIDTH, HEIGHT]));
  try {
    await sys.preparePage?.(page);
    await sys.openViewer(page, WIDTH, HEIGHT);
    await xc.coverScreen();
    await sleep(500);
    await sys.prepareInput(page);
    await sleep(500);
    await page.evaluate(() => {
      globalThis.benchInput = [];
      for (const t of ['keydown', 'pointerdown']) addEventListener(t, () => benchInput.push({ t, at: Date.now() }), true);
    });
    const n = Number(opt.inputs);
    const out = { key: [], click: [] };
    for (let i = 0; i < 2 * n; i++) {
      const kind = i % 2 ? 'click' : 'key';
      const xName = kind === 'key' ? 'KeyPress' : 'ButtonPress';
      xc.events.length = 0;
      if (kind === 'key') await page.keyboard.press('a');
      else await page.mouse.click(300 + (i % 7) * 100, 300 + (i % 5) * 80);
      const end = Date.now() + 2000;
      while (!xc.events.some((e) => e.name === xName) && Date.now() < end) await sleep(5);
      const sent = await page.evaluate((t) => benchInput.filter((e) => e.t === t).pop()?.at, kind === 'key' ? 'keydown' : 'pointerdown');
      const got = xc.events.find((e) => e.name === xName);
      if (got && sent) out[kind].push(got.at - sent);
      await sleep(100);
    }
    for (const kind of ['key', 'click']) {
      const v = out[kind];
      const row = { system: sysName, metric: `input to X server (${kind})`, unit: 'ms', median: median(v), p95: percentile(v, 95), values: v, error: v.length < n ? `${n - v.length} of ${n} never reached the X server` : null };
      result.extras.push(row);
      log(`${sysName}: ${kind} to X server median ${row.median} ms, p95 ${row.p95} ms (${v.length}/${n})`);
    }
  } catch (err) {
    result.extras.push({ system: sysName, metric: 'input to X server', unit: 'ms', median: null, error: err.message.split('\n')[0] });
    log(`${sysName}: input test failed: ${err.message}`);
  } finally {
    xc.uncover();
    await page.context().close();
  }
}

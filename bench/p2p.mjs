#!/usr/bin/env node
// Peer-to-peer against the server path, in the same run: glass-to-glass latency, capture-to-draw,
// viewer frame rate, bytes received by the viewer and bytes through the relay, and CPU, for the
// bench's workloads on a private 1920x1080 Xvfb.
//
//   node bench/p2p.mjs [--seconds 8] [--warmup 2] [--workloads typing,scroll,drag,video] [--rounds 1] [--out DIR]
//
// Each turn starts a fresh meeting, a fresh baton-agent (child process) and a fresh viewer page: the
// page of packages/web/src/p2p/testing (the real SharedScreen with its p2p wiring and a real
// ConferenceClient), built with vite and served by the Baton server (in this process, so that the
// relay's own counters can be read). Path 'p2p': host and viewer alone, the Focus makes the share
// peer-to-peer. Path 'server': the same pair, escalated by a third participant who joined and left
// before the measurement (the share stays on the server for good), so one viewer is served either way.
// The two paths take turns on each workload in alternating order. Glass-to-glass comes from the
// bench's timestamp strip (pages/strip.js, pages/sampler.js, as in run.mjs); capture-to-draw from the
// viewer's window.__batonViewer (agent capture time → frame drawn); bytes received on the DataChannel
// from the viewer's RTCPeerConnection stats (payload), on WebSockets from the sampler (payload).
import { parseArgs } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { ProcessSet, CpuMeter } from './lib/procs.mjs';
import { startXvfb } from './lib/xvfb.mjs';
import { startPageServer } from './lib/pageServer.mjs';
import { launchHostBrowser, launchViewerBrowser } from './lib/browsers.mjs';
import { sleep } from './lib/net.mjs';
import { median, percentile, round } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WORKLOADS = ['typing', 'scroll', 'drag', 'video'];
const WIDTH = 1920, HEIGHT = 1080;
const PASSWORD = 'bench-password-1';

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    rounds: { type: 'string', default: '1' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/', import.meta.url)) },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log('node bench/p2p.mjs [--seconds N] [--warmup N] [--workloads typing,scroll,drag,video] [--rounds N] [--out DIR]');
  process.exit(0);
}
const seconds = Number(opt.seconds), warmup = Number(opt.warmup), rounds = Math.max(1, Number(opt.rounds));
const workloads = opt.workloads.split(',').filter(Boolean);
for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload '${w}' (${WORKLOADS.join(', ')})`);

const log = (...a) => console.error(`[p2p ${new Date().toISOString().slice(11, 19)}]`, ...a);

// In the viewer page, before its scripts: keep every RTCPeerConnection (for DataChannel byte counts)
// and record capture-to-draw of each frame the view draws (window.__batonViewer, polled every frame).
const PAGE_PROBE = `(() => {
  const Native = globalThis.RTCPeerConnection;
  const pcs = [];
  if (Native) globalThis.RTCPeerConnection = class extends Native { constructor(c) { super(c); pcs.push(this); } };
  const D = { draws: [], lastSeq: -1, running: false };
  const tick = () => {
    requestAnimationFrame(tick);
    const v = globalThis.__batonViewer;
    if (!v || v.lastSeq === D.lastSeq) return;
    D.lastSeq = v.lastSeq;
    if (D.running) D.draws.push(v.lastDrawnAt - v.lastCaptureTime);
  };
  requestAnimationFrame(tick);
  globalThis.BenchP2P = {
    reset() { D.draws = []; D.running = true; },
    draws: () => D.draws.slice(),
    async dcBytes() {
      let rx = 0, tx = 0;
      for (const pc of pcs) {
        const st = await pc.getStats().catch(() => null);
        st?.forEach((r) => { if (r.type === 'data-channel') { rx += r.bytesReceived ?? 0; tx += r.bytesSent ?? 0; } });
      }
      return { rx, tx };
    },
  };
})();`;

async function buildViewerPage(outDir) {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: path.join(ROOT, 'packages/web'),
    mode: 'production',
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      lib: { entry: path.join(ROOT, 'packages/web/src/p2p/testing/p2pViewerPage.tsx'), formats: ['es'], fileName: () => 'p2p-viewer.js' },
      outDir,
      emptyOutDir: true,
      minify: false,
      reportCompressedSize: false,
    },
  });
  const html = '<!doctype html><html><body style="margin:0"><div id="root"></div><script type="module" src="/p2p-viewer.js"></script></body></html>';
  writeFileSync(path.join(outDir, 'index.html'), html);
}

async function api(base, method, url, body, cookie) {
  const res = await fetch(base + url, {
    method,
    headers: { 'content-type': 'application/json', origin: base, ...(cookie ? { cookie } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const set = res.headers.getSetCookie?.() ?? [];
  return { body: text ? JSON.parse(text) : null, cookie: set.map((c) => c.split(';')[0]).join('; ') };
}

/** A third participant that joins (announcing p2p) and leaves: the Focus escalates the share for good. */
async function thirdJoinsAndLeaves(srvUrl, conf) {
  const ws = new WebSocket(`${srvUrl.replace('http', 'ws')}/ws/conference/${conf}`);
  await new Promise((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', v: 1, name: 'Third', caps: { p2p: true } })));
    ws.on('message', (d) => JSON.parse(String(d)).type === 'welcome' && resolve());
    ws.once('error', reject);
  });
  ws.close(1000);
}

const result = {
  startedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, load: os.loadavg() },
  options: { seconds, warmup, rounds, workloads, width: WIDTH, height: HEIGHT },
  rows: [],
  summary: [],
  events: [],
};

const procs = new ProcessSet();
const closers = [];
async function cleanup() {
  for (const c of closers.reverse()) await Promise.resolve().then(c).catch(() => {});
  await procs.close();
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    log(`${sig}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

try {
  log('building protocol, server, agent and the p2p viewer page');
  execFileSync('npx', ['tsc', '-b', 'packages/protocol', 'packages/server', 'packages/agent'], { cwd: ROOT, stdio: 'inherit' });
  const webDir = mkdtempSync(path.join(tmpdir(), 'baton-p2p-bench-web-'));
  closers.push(() => rmSync(webDir, { recursive: true, force: true }));
  await buildViewerPage(webDir);

  const xvfb = await startXvfb(procs, { width: WIDTH, height: HEIGHT });
  const env = { ...process.env, DISPLAY: xvfb.display };
  log(`Xvfb on ${xvfb.display}`);
  const pages = await startPageServer([fileURLToPath(new URL('./pages/', import.meta.url))]);
  closers.push(() => pages.close());
  const host = await launchHostBrowser(xvfb.display, WIDTH, HEIGHT);
  closers.push(() => host.close());
  const viewers = await launchViewerBrowser();
  closers.push(() => viewers.close());
  execFileSync('xdotool', ['mousemove', String(WIDTH - 1), String(HEIGHT - 1)], { env });
  await host.show(pages.url, 'still');

  const { startServer } = await import('../packages/server/dist/index.js');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'baton-p2p-bench-data-'));
  const srv = await startServer({ port: 0, dataDir, webDir });
  closers.push(async () => {
    await srv.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const owner = (await api(srv.url, 'POST', '/api/auth/signup', { username: 'bench-host', password: PASSWORD })).cookie;

  for (let r = 0; r < rounds; r++) {
    for (const [i, workload] of workloads.entries()) {
      const order = (r + i) % 2 ? ['server', 'p2p'] : ['p2p', 'server'];
      for (const p of order) {
        try {
          await turn(p, workload, r);
        } catch (err) {
          log(`${p} ${workload}: failed: ${err.stack ?? err}`);
          result.rows.push({ workload, path: p, round: r, error: String(err.message ?? err).split('\n')[0] });
        }
      }
    }
  }
  result.summary = summarize(result.rows.filter((x) => !x.error));

  async function turn(p, workload, roundNo) {
    const conf = (await api(srv.url, 'POST', '/api/conferences', { subject: `p2p bench ${p} ${workload}`, policy: { guests: 'allow', control: 'signed-in' } }, owner)).body;
    const { token } = (await api(srv.url, 'POST', `/api/conferences/${conf.id}/agent-tokens`, {}, owner)).body;
    const agent = procs.spawn('baton-agent', process.execPath, [path.join(ROOT, 'packages/agent/dist/cli.js'), 'share', conf.url, '--token', token, '--allow-control', 'signed-in', '--display', xvfb.display], { env });
    const page = await viewers.newPage(WIDTH, HEIGHT);
    await page.addInitScript({ content: PAGE_PROBE });
    try {
      const focus = async () => srv.registry.get(conf.id);
      for (let k = 0; k < 100 && (await focus())?.snapshot().share?.kind !== 'agent'; k++) await sleep(100);
      if ((await focus())?.snapshot().share?.kind !== 'agent') throw new Error(`the agent did not start: ${agent.log.slice(-4).join(' | ')}`);
      await host.show(pages.url, workload);
      await page.goto(`${srv.url}/`);
      const t0 = Date.now();
      await page.evaluate(([c, w, h]) => window.batonP2P.join({ conferenceId: c, name: 'Viewer', p2p: true, width: w, height: h }), [conf.id, WIDTH, HEIGHT]);
      const want = p === 'p2p' ? 'peer' : 'server';
      const waitFor = async (fn, arg, what) => {
        try {
          await page.waitForFunction(fn, arg, { timeout: 20_000, polling: 20 });
        } catch (err) {
          const seen = await page.evaluate(() => window.batonP2P.info()).catch(() => null);
          throw new Error(`${what}: ${err.message.split('\n')[0]}; viewer ${JSON.stringify(seen)}; agent: ${agent.log.slice(-5).join(' | ')}`);
        }
      };
      if (p === 'server') {
        // Wait for the direct path (or its failure), then escalate it: the share moves to the server for good.
        await waitFor(() => window.batonP2P.info().path === 'peer' || window.batonP2P.info().share?.transport === 'server', null, 'the direct path');
        await thirdJoinsAndLeaves(srv.url, conf.id);
      }
      await waitFor((w) => window.batonP2P.info().path === w && window.__batonViewer?.framesDrawn > 0, want, `the ${want} path`);
      const transport = (await focus()).snapshot().share?.transport;
      if ((p === 'p2p') !== (transport === 'p2p')) throw new Error(`the share is '${transport}', expected ${p}`);
      result.events.push({ workload, path: p, round: roundNo, readyMs: Date.now() - t0, agent: agent.log.filter((l) => /Direct|Streaming|Closed/.test(l)) });
      await page.evaluate(() => BenchSampler.start('[data-testid=share-canvas]'));
      await sleep(warmup * 1000);

      const agentCpu = new CpuMeter([agent.pid]);
      // This process only (its children are the browsers, Xvfb and the agent).
      const own0 = process.cpuUsage();
      const ownT0 = performance.now();
      const viewerCpu = new CpuMeter([viewers.pid]);
      for (const m of [agentCpu, viewerCpu]) m.start();
      await page.evaluate(() => (BenchSampler.reset(), BenchP2P.reset()));
      const dc0 = await page.evaluate(() => BenchP2P.dcBytes());
      const relay0 = (await focus()).shareStats();
      const hostFrames0 = await host.page.evaluate(() => globalThis.benchFrames);
      const hostT0 = Date.now();
      await sleep(seconds * 1000);
      const c = await page.evaluate(() => BenchSampler.collect());
      const draws = await page.evaluate(() => BenchP2P.draws());
      const dc1 = await page.evaluate(() => BenchP2P.dcBytes());
      const relay1 = (await focus()).shareStats();
      const hostFps = ((await host.page.evaluate(() => globalThis.benchFrames)) - hostFrames0) / ((Date.now() - hostT0) / 1000);
      const ms = c.ms;
      const row = {
        workload,
        path: p,
        round: roundNo,
        medianMs: median(c.latencies),
        p95Ms: percentile(c.latencies, 95),
        drawMedianMs: round(median(draws), 1),
        drawP95Ms: round(percentile(draws, 95), 1),
        viewerFps: round(c.latencies.length / (ms / 1000), 1),
        framesDrawnPerS: round(draws.length / (ms / 1000), 1),
        viewerKBps: round((c.bytesIn + (dc1.rx - dc0.rx)) / ms, 1),
        dataChannelKBps: round((dc1.rx - dc0.rx) / ms, 1),
        webSocketKBps: round(c.bytesIn / ms, 1),
        relayInKBps: round((relay1.bytesIn - relay0.bytesIn) / ms, 1),
        relayOutKBps: round((relay1.bytesOut - relay0.bytesOut) / ms, 1),
        agentCpu: round(agentCpu.stop(), 1),
        serverCpu: round(cpuPercent(own0, ownT0), 1),
        viewerCpu: round(viewerCpu.stop(), 1),
        hostFps: round(hostFps, 1),
        tornPct: c.samples ? round((100 * c.bad) / c.samples, 1) : null,
        load1: round(os.loadavg()[0], 1),
        seconds: round(ms / 1000, 2),
        latencies: c.latencies,
        draws,
      };
      result.rows.push(row);
      log(`${p} ${workload}: glass-to-glass median ${row.medianMs} ms p95 ${row.p95Ms} ms, capture-to-draw ${row.drawMedianMs}/${row.drawP95Ms} ms, ${row.viewerFps} fps, viewer ${row.viewerKBps} kB/s (DataChannel ${row.dataChannelKBps}), relay in/out ${row.relayInKBps}/${row.relayOutKBps} kB/s, agent ${row.agentCpu}%, server ${row.serverCpu}%, viewer ${row.viewerCpu}%, host ${row.hostFps} fps, load ${row.load1}`);
      if (page.benchErrors.length) log(`viewer page errors: ${page.benchErrors.slice(0, 3).join(' | ')}`);
    } finally {
      await page.context().close().catch(() => {});
      await procs.stop(agent);
    }
  }
} catch (err) {
  log(`bench failed: ${err.stack ?? err}`);
  result.error = String(err.message ?? err);
  process.exitCode = 1;
} finally {
  await cleanup();
}

result.machine.loadAtEnd = os.loadavg();
mkdirSync(opt.out, { recursive: true });
const file = `${opt.out.replace(/\/$/, '')}/p2p-${result.startedAt.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
report(result);
console.log(`\nresults: ${file}`);
process.exit();

/** CPU of this process since `start` (process.cpuUsage), as % of one core. */
function cpuPercent(start, t0) {
  const d = process.cpuUsage(start);
  return ((d.user + d.system) / 1000 / (performance.now() - t0)) * 100;
}

/** One row per (workload, path): latencies pooled over rounds, the rest averaged. */
function summarize(rows) {
  const groups = new Map();
  for (const r of rows) {
    const k = `${r.workload}\u0000${r.path}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  const mean = (list, key) => {
    const v = list.map((r) => r[key]).filter((x) => x !== null && x !== undefined);
    return v.length ? round(v.reduce((a, b) => a + b, 0) / v.length, 1) : null;
  };
  return [...groups.values()]
    .sort((a, b) => workloads.indexOf(a[0].workload) - workloads.indexOf(b[0].workload) || (a[0].path === 'p2p' ? -1 : 1))
    .map((list) => {
      const lat = list.flatMap((r) => r.latencies);
      const draws = list.flatMap((r) => r.draws);
      const out = { workload: list[0].workload, path: list[0].path, rounds: list.length, medianMs: median(lat), p95Ms: percentile(lat, 95), drawMedianMs: round(median(draws), 1), drawP95Ms: round(percentile(draws, 95), 1) };
      for (const key of ['viewerFps', 'viewerKBps', 'dataChannelKBps', 'relayInKBps', 'relayOutKBps', 'agentCpu', 'serverCpu', 'viewerCpu', 'hostFps', 'tornPct', 'load1']) out[key] = mean(list, key);
      return out;
    });
}

function report(res) {
  const m = res.machine;
  console.log(`\nBaton p2p vs server path, ${res.startedAt}, ${m.cpus} CPUs, ${res.options.seconds} s per workload and path, ${WIDTH}x${HEIGHT}`);
  console.log(`load average (1 min) at start / end: ${m.load[0].toFixed(1)} / ${m.loadAtEnd[0].toFixed(1)}${Math.max(m.load[0], m.loadAtEnd[0]) > m.cpus ? '  (busy machine: every number is slowed by other work)' : ''}`);
  const headers = ['workload', 'path', 'g2g median ms', 'g2g p95 ms', 'capture→draw median ms', 'p95 ms', 'viewer fps', 'viewer kB/s', 'relay in kB/s', 'relay out kB/s', 'agent CPU %', 'server CPU %', 'viewer CPU %', 'host fps'];
  const rows = res.summary.map((r) => [r.workload, r.path, r.medianMs, r.p95Ms, r.drawMedianMs, r.drawP95Ms, r.viewerFps, r.viewerKBps, r.relayInKBps, r.relayOutKBps, r.agentCpu, r.serverCpu, r.viewerCpu, r.hostFps]);
  const fmt = (v) => (v === null || v === undefined ? '-' : String(v));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => fmt(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? fmt(c).padEnd(widths[i]) : fmt(c).padStart(widths[i]))).join(' | ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
  for (const r of res.rows.filter((x) => x.error)) console.log(`${r.workload} ${r.path}: FAILED: ${r.error}`);
  if (res.error) console.log(`bench failed: ${res.error}`);
  console.log('server CPU % is this process: the in-process Baton server plus the bench\'s own driver (playwright client).');
}

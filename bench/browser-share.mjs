#!/usr/bin/env node
/**
 * Browser-hosted sharing benchmark at 1080p, with real parts only: an Xvfb screen (1920x1080) showing a
 * workload page in a full-screen Chromium window, the Baton server in-process, a second Chromium
 * (non-headless, same Xvfb) sharing the entire screen with BrowserSharer, and a headless Chromium
 * watching with the real viewer, which acks what it has drawn (so the sharer runs at the pace the whole
 * path allows).
 *
 * Workloads: static text, typing (12 characters a second into a text box), scrolling text (the whole
 * screen moves), a window dragged around, and
 * video-like motion (a 1280x720 picture that changes completely every frame). For each tile size it
 * prints sharer fps, viewer fps, encode ms per frame and bytes/s; then, as the reference for the
 * encoding decision (docs/decisions/0001-browser-sharing-encoding.md), what WebCodecs video encoders
 * achieve on the same screens (encode only, nothing sent).
 *
 *   node bench/browser-share.mjs [--seconds 6] [--tiles 64,128,256] [--workloads typing,video-like,...]
 *                                [--quality 0.7] [--lossless png|zrgb]
 *                                [--no-video-ref] [--out browser-share.json] [--wait-quiet]
 *
 * Needs: npx tsc -b packages/server (dist), chromium, Xvfb, xsetroot. Writes bench/results/browser-share.json.
 */
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../packages/server/dist/index.js';
import { CHROMIUM, CHROMIUM_ARGS, buildHarness, missingTools, startXvfb } from '../packages/web/src/hosting/testing/rig.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const SECONDS = Number(arg('seconds', '6'));
const WARMUP_S = 2;
const TILE_SIZES = arg('tiles', '64,128,256').split(',').map(Number);
const VIDEO_REF = !process.argv.includes('--no-video-ref');
const QUALITY = arg('quality', undefined);
const LOSSLESS = arg('lossless', undefined);
const OUT = arg('out', 'browser-share.json');
const WORKLOADS = arg('workloads', 'static-text,typing,scrolling-text,moving-window,video-like').split(',');

const missing = missingTools();
if (missing.length) {
  console.error(`browser-share bench needs: ${missing.join(', ')}`);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}

/** The workload page: one mode at a time, driven by requestAnimationFrame (60 Hz). */
const WORKLOAD_HTML = String.raw`<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;width:1920px;height:1080px;overflow:hidden;background:#f7f7f2;font:15px/20px "DejaVu Sans Mono",monospace;color:#222}
#text{position:absolute;left:0;top:0;width:1920px;white-space:pre;padding:8px 16px}
.k{color:#0033b3}.s{color:#067d17}.c{color:#8c8c8c;font-style:italic}.n{color:#1750eb}
#desk{position:absolute;inset:0;background:linear-gradient(135deg,#3a6ea5,#1d3b5c);display:none}
#win{position:absolute;left:0;top:0;width:800px;height:500px;background:#fff;box-shadow:0 8px 30px #0008;border:1px solid #555;display:none}
#win .bar{height:28px;background:#2d2d30;color:#eee;padding:4px 10px;box-sizing:border-box}
#win pre{margin:0;padding:8px;font-size:14px;line-height:18px;overflow:hidden;height:460px}
#video{position:absolute;left:320px;top:180px;display:none}
#typed{position:absolute;left:16px;top:700px;width:1880px;height:300px;background:#fff;border:1px solid #ccc;white-space:pre-wrap;padding:8px;display:none}
</style></head><body>
<div id="text"></div><div id="desk"></div><div id="win"><div class="bar">report.txt — editor</div><pre></pre></div><canvas id="video" width="1280" height="720"></canvas><div id="typed"></div>
<script>
const words = ['const','return','function','await','import','export','if','else','for','let'];
let lines = [];
for (let i = 0; i < 400; i++) {
  const w = words[i % words.length];
  lines.push('<span class="n">' + String(i + 1).padStart(4) + '</span>  <span class="k">' + w + '</span> value' + i + ' = compute(<span class="s">"row ' + i + ' of the shared document"</span>, ' + (i * 37 % 1000) + '); <span class="c">// keep text crisp</span>');
}
const text = document.getElementById('text');
text.innerHTML = lines.join('\n');
document.querySelector('#win pre').textContent = lines.slice(0, 40).map((l) => l.replace(/<[^>]+>/g, '')).join('\n');
const win = document.getElementById('win'), desk = document.getElementById('desk'), video = document.getElementById('video');
const vctx = video.getContext('2d');
const typed = document.getElementById('typed');
const prose = 'Browser sharing keeps still text exact and moving pictures smooth. ';
// A colourful picture larger than the canvas, panned and tinted every frame: every pixel changes, many colours.
const big = new OffscreenCanvas(1600, 1000); const bctx = big.getContext('2d');
for (let i = 0; i < 400; i++) { bctx.fillStyle = 'hsl(' + (i * 37 % 360) + ',70%,' + (30 + i % 40) + '%)'; bctx.beginPath(); bctx.arc((i * 131) % 1600, (i * 71) % 1000, 20 + (i * 13) % 90, 0, 7); bctx.fill(); }
const noise = bctx.getImageData(0, 0, 1600, 1000); let s = 1;
for (let i = 0; i < noise.data.length; i += 4) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; const d = (s & 31) - 16; noise.data[i] += d; noise.data[i + 1] += d; noise.data[i + 2] += d; }
bctx.putImageData(noise, 0, 0);
let mode = 'static-text', frame = 0;
window.setMode = (m) => {
  mode = m; frame = 0;
  text.style.display = m === 'static-text' || m === 'scrolling-text' || m === 'typing' ? 'block' : 'none';
  typed.style.display = m === 'typing' ? 'block' : 'none';
  typed.textContent = '';
  text.style.transform = '';
  desk.style.display = m === 'moving-window' || m === 'video-like' ? 'block' : 'none';
  win.style.display = m === 'moving-window' ? 'block' : 'none';
  video.style.display = m === 'video-like' ? 'block' : 'none';
};
function tick() {
  frame++;
  // Typing: one character every 5th animation frame (12 per second at 60 Hz).
  if (mode === 'typing' && frame % 5 === 0) typed.textContent += prose[(frame / 5) % prose.length];
  if (mode === 'scrolling-text') text.style.transform = 'translateY(' + -((frame * 3) % 4000) + 'px)';
  else if (mode === 'moving-window') win.style.transform = 'translate(' + (560 + 520 * Math.sin(frame / 50)) + 'px,' + (290 + 250 * Math.sin(frame / 37)) + 'px)';
  else if (mode === 'video-like') { vctx.drawImage(big, (frame * 5) % 320, (frame * 3) % 280, 1280, 720, 0, 0, 1280, 720); vctx.fillStyle = 'hsla(' + (frame * 4 % 360) + ',80%,50%,0.15)'; vctx.fillRect(0, 0, 1280, 720); }
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);
window.setMode('static-text');
</script></body></html>`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** With --wait-quiet, wait (up to 10 minutes) for the 1-minute load average to drop under the core count. */
async function waitQuiet() {
  if (!process.argv.includes('--wait-quiet')) return;
  const deadline = Date.now() + 10 * 60_000;
  while (loadavg()[0] > cpus().length * 0.75 && Date.now() < deadline) {
    console.log(`waiting for a quieter machine (load ${loadavg()[0].toFixed(2)})`);
    await sleep(15_000);
  }
}

async function main() {
  await waitQuiet();
  const work = mkdtempSync(path.join(tmpdir(), 'baton-bench-bshare-'));
  const webDir = path.join(work, 'web');
  await buildHarness(webDir);
  const x = await startXvfb();
  x.run('xsetroot', ['-solid', '#202020']);
  const workloadSrv = http.createServer((_, res) => res.setHeader('content-type', 'text/html').end(WORKLOAD_HTML)).listen(0, '127.0.0.1');
  await new Promise((r) => workloadSrv.once('listening', r));
  const srv = await startServer({ port: 0, dataDir: work, webDir });
  const browsers = [];
  const results = { date: new Date().toISOString(), machine: { cores: cpus().length, cpu: cpus()[0]?.model }, screen: '1920x1080', seconds: SECONDS, runs: [], videoReference: [] };
  try {
    // The sharer first (its small window ends up under the full-screen workload window).
    const sharerBrowser = await chromium.launch({
      executablePath: CHROMIUM, headless: false, env: x.env,
      args: [...CHROMIUM_ARGS, '--auto-select-desktop-capture-source=Entire screen', '--window-position=1500,800', '--window-size=400,260'],
    });
    browsers.push(sharerBrowser);
    const host = await (await sharerBrowser.newContext({ viewport: null })).newPage();
    await host.goto(`${srv.url}/harness.html`);
    await host.evaluate(() => window.batonHarness.signup('bench-host', 'correct horse battery'));
    const conferenceId = await host.evaluate(async () => {
      const res = await fetch('/api/conferences', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: 'bench', policy: { guests: 'allow', present: 'anyone' } }) });
      return (await res.json()).id;
    });
    await host.evaluate((id) => window.batonHarness.join(id), conferenceId);

    const workloadBrowser = await chromium.launchPersistentContext(path.join(work, 'workload-profile'), {
      executablePath: CHROMIUM, headless: false, env: x.env, viewport: null,
      args: [...CHROMIUM_ARGS, '--kiosk', '--window-position=0,0', '--window-size=1920,1080'],
    });
    browsers.push(workloadBrowser);
    const workload = workloadBrowser.pages()[0] ?? (await workloadBrowser.newPage());
    await workload.goto(`http://127.0.0.1:${workloadSrv.address().port}/`);

    const viewerBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    browsers.push(viewerBrowser);
    const viewer = await (await viewerBrowser.newContext({ viewport: { width: 1000, height: 700 } })).newPage();
    await viewer.goto(`${srv.url}/harness.html`);
    await viewer.evaluate(() => window.batonHarness.signup('bench-viewer', 'correct horse battery'));
    await viewer.evaluate((id) => window.batonHarness.join(id), conferenceId);

    const sample = async () => ({
      t: Date.now(),
      s: await host.evaluate(() => window.__batonSharer),
      v: await viewer.evaluate(() => window.__batonViewer),
    });

    for (const tileSize of TILE_SIZES) {
      await workload.evaluate(() => window.setMode('static-text'));
      const pump = { tileSize, ...(QUALITY ? { jpegQuality: Number(QUALITY) } : {}), ...(LOSSLESS ? { lossless: LOSSLESS } : {}) };
      const started = await host.evaluate((p) => window.batonHarness.share(p), pump);
      if (started.state !== 'streaming') throw new Error(`share did not start: ${JSON.stringify(started)}`);
      await viewer.evaluate(() => window.batonHarness.view());
      for (const name of WORKLOADS) {
        await workload.evaluate((m) => window.setMode(m), name);
        // The first workload also waits out the share's start (the first full frame, Chromium's sharing bar).
        await sleep((name === 'static-text' ? WARMUP_S + 3 : WARMUP_S) * 1000);
        const a = await sample();
        await sleep(SECONDS * 1000);
        const b = await sample();
        const secs = (b.t - a.t) / 1000;
        const run = {
          workload: name,
          tileSize,
          width: b.s.width,
          height: b.s.height,
          /** 1-minute load average when the sample ended: above the core count, other work competed. */
          load: Number(loadavg()[0].toFixed(2)),
          jpegQuality: QUALITY ? Number(QUALITY) : 0.7,
          lossless: LOSSLESS ?? 'zrgb',
          sharerFps: (b.s.framesSent - a.s.framesSent) / secs,
          viewerFps: (b.v.framesDrawn - a.v.framesDrawn) / secs,
          captureFps: (b.s.framesCaptured - a.s.framesCaptured) / secs,
          encodeMs: b.s.avgEncodeMs,
          kBps: (b.s.bytesSent - a.s.bytesSent) / secs / 1024,
          tilesLossyPerS: (b.s.tilesLossy - a.s.tilesLossy) / secs,
          tilesLosslessPerS: (b.s.tilesLossless + b.s.tilesRefined - a.s.tilesLossless - a.s.tilesRefined) / secs,
          droppedPerS: (b.s.framesDropped - a.s.framesDropped) / secs,
        };
        results.runs.push(run);
        console.log(`tile ${tileSize} ${name}: ${run.sharerFps.toFixed(1)} fps sent, ${run.viewerFps.toFixed(1)} drawn, ${run.encodeMs.toFixed(1)} ms, ${run.kBps.toFixed(0)} kB/s`);
      }
      // Settle on a still screen, then measure how long until every cell is exact after motion stops.
      await workload.evaluate(() => window.setMode('static-text'));
      const t0 = Date.now();
      await sleep(200);
      for (let i = 0; i < 100; i++) {
        const s = await host.evaluate(() => window.__batonSharer);
        if (s.lossyCells === 0 && s.unacked === 0) break;
        await sleep(100);
      }
      results.runs.push({ workload: 'exact-after-motion', tileSize, ms: Date.now() - t0 });
      await host.evaluate(() => window.batonHarness.stopShare());
      await sleep(500);
    }

    if (VIDEO_REF) {
      for (const name of ['scrolling-text', 'moving-window', 'video-like']) {
        await workload.evaluate((m) => window.setMode(m), name);
        await sleep(1000);
        for (const codec of ['vp8', 'vp09.00.10.08', 'avc1.42e028']) {
          const r = await host.evaluate(([c, s]) => window.batonHarness.encodeVideo(c, s, 2_500_000), [codec, Math.min(SECONDS, 5)]);
          results.videoReference.push({ workload: name, ...r });
          console.log(`webcodecs ${codec} ${name}: ${JSON.stringify(r)}`);
        }
      }
    }
  } finally {
    for (const b of browsers.reverse()) await b.close().catch(() => {});
    await srv.close();
    workloadSrv.close();
    x.close();
    rmSync(work, { recursive: true, force: true });
  }

  console.log('\nBrowser-hosted sharing at 1920x1080 (Xvfb, Chromium capture → BrowserSharer → Baton relay → headless viewer)');
  const head = ['workload', 'size', 'load', 'tile', 'sent fps', 'drawn fps', 'capture fps', 'encode ms', 'kB/s', 'lossy tiles/s', 'exact tiles/s'];
  const rows = results.runs.filter((r) => r.workload !== 'exact-after-motion').map((r) => [r.workload, `${r.width}x${r.height}`, r.load, r.tileSize, r.sharerFps.toFixed(1), r.viewerFps.toFixed(1), r.captureFps.toFixed(1), r.encodeMs.toFixed(1), r.kBps.toFixed(0), r.tilesLossyPerS.toFixed(0), r.tilesLosslessPerS.toFixed(0)]);
  printTable(head, rows);
  if (results.runs.some((r) => r.load > cpus().length)) console.log(`(load above ${cpus().length}: other processes competed for the CPU during some samples; rerun on a quiet machine)`);
  const exact = results.runs.filter((r) => r.workload === 'exact-after-motion');
  console.log(`\nAll cells exact after motion stops: ${exact.map((r) => `tile ${r.tileSize}: ${r.ms} ms`).join(', ')}`);
  if (results.videoReference.length) {
    console.log('\nReference, WebCodecs on the same screens (encode only, 2.5 Mbit/s, realtime):');
    printTable(['workload', 'codec', 'fps', 'kB/s', 'ms/frame', 'dropped'], results.videoReference.map((r) => [r.workload, r.codec, r.error ?? r.fps.toFixed(1), r.kBps?.toFixed(0) ?? '', r.msPerFrame?.toFixed(1) ?? '', r.dropped ?? '']));
  }
  const outDir = path.join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, OUT), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote bench/results/${OUT}`);
}

function printTable(head, rows) {
  const widths = head.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

await main();

#!/usr/bin/env node
// Late joiner: how long a viewer that opens a running share takes to show the whole screen, and where
// that time goes, for Baton and for x11vnc + noVNC in the same run on the same still screen.
//
//   node bench/late-joiner.mjs [--tries 5] [--systems x11vnc,baton] [--no-build] [--out DIR]
//
// The host shows a rich still screen (the workload page's `still`: text, tables, gradients, pictures).
// Baton is measured in two cases: `relay`, a meeting with one viewer already watching, so the joiner is
// served by the server's tile store (what a late joiner usually meets); `peer`, the joiner alone with
// the host, so the Focus makes the share peer-to-peer and the agent sends the screen over a new
// DataChannel. Per try (a fresh viewer page each time) it records, from the viewer page's clock:
//
//   total  page.goto → every 64 px tile of the canvas matches the X screen (mean error ≤ 24 a channel)
//   stream the screen stream opened (Baton's sharing socket or the peer connection, noVNC's websockify
//          socket) → complete: the share itself, without loading and joining the page
//   first  the stream opened → its first message (ticket, auth, or ICE and DTLS for the peer path)
//
// It prints a table of medians and writes every try to bench/results/late-joiner-<time>.json.
// A benchmark, not a test: it asserts nothing.
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { ProcessSet } from './lib/procs.mjs';
import { startXvfb } from './lib/xvfb.mjs';
import { startPageServer } from './lib/pageServer.mjs';
import { launchHostBrowser, launchViewerBrowser } from './lib/browsers.mjs';
import { openX } from './lib/xclient.mjs';
import { sleep } from './lib/net.mjs';
import { median, round } from './lib/stats.mjs';

const WIDTH = 1920, HEIGHT = 1080, STEP = 16, TOLERANCE = 24;
const { values: opt } = parseArgs({
  options: {
    tries: { type: 'string', default: '5' },
    systems: { type: 'string', default: 'x11vnc,baton' },
    build: { type: 'boolean', default: true },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./results/', import.meta.url)) },
  },
});
const tries = Number(opt.tries);
const log = (...a) => console.error(`[late ${new Date().toISOString().slice(11, 19)}]`, ...a);
const procs = new ProcessSet();
const closers = [];
const cleanup = async () => {
  for (const c of closers.reverse()) await Promise.resolve().then(c).catch(() => {});
  await procs.close();
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => void cleanup().then(() => process.exit(130)));

const result = { startedAt: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version, load: os.loadavg() }, options: { tries }, rows: [] };

try {
  const xvfb = await startXvfb(procs, { width: WIDTH, height: HEIGHT });
  const env = { ...process.env, DISPLAY: xvfb.display };
  const pages = await startPageServer([fileURLToPath(new URL('./pages/', import.meta.url))]);
  closers.push(() => pages.close());
  const host = await launchHostBrowser(xvfb.display, WIDTH, HEIGHT);
  closers.push(() => host.close());
  const viewers = await launchViewerBrowser();
  closers.push(() => viewers.close());
  const xc = await openX(xvfb.display);
  closers.push(() => xc.close());
  execFileSync('xdotool', ['mousemove', String(WIDTH - 1), String(HEIGHT - 1)], { env });
  await host.show(pages.url, 'still');
  await sleep(1500);
  const ref = Array.from(await xc.screenSamples(STEP));

  for (const sysName of opt.systems.split(',').filter(Boolean)) {
    const mod = await import(`./systems/${sysName}.mjs`);
    const why = await mod.availability({ display: xvfb.display, build: opt.build && !opt['no-build'] });
    if (why) {
      log(`${sysName}: not available (${why})`);
      result.rows.push({ system: sysName, error: why });
      continue;
    }
    const sys = await mod.start({ procs, xc, display: xvfb.display, env, log, width: WIDTH, height: HEIGHT, agentArgs: [], verify: false });
    try {
      const cases = sysName === 'baton' ? ['relay', 'peer'] : ['direct'];
      for (const path of cases) {
        // The relay case: someone already watches (the meeting page of another signed-in tab), so the
        // Focus keeps the share on the server and the joiner gets the relay's tiles.
        let watcher = null;
        if (path === 'relay') {
          watcher = await viewers.newPage(...(sys.viewerSize?.(WIDTH, HEIGHT) ?? [WIDTH, HEIGHT]));
          await sys.preparePage?.(watcher);
          await sys.openViewer(watcher, WIDTH, HEIGHT);
        }
        const runs = [];
        for (let i = 0; i < tries; i++) {
          const r = await joinOnce(sys, viewers, ref);
          runs.push(r);
          log(`${sysName} ${path}: ${r.error ?? `total ${r.totalMs} ms, stream ${r.streamMs} ms, first message ${r.firstMs} ms, first frame drawn ${r.firstDrawnMs ?? '-'} ms (receiving ${r.firstFrameReceiveMs ?? '-'}, decoding ${r.firstFrameDecodeMs ?? '-'}), via ${r.via ?? '-'}`}`);
          await sleep(700);
        }
        if (watcher) await watcher.context().close();
        const ok = runs.filter((r) => !r.error);
        const med = (k) => (ok.length ? median(ok.map((r) => r[k]).filter((x) => x !== null)) : null);
        result.rows.push({ system: sysName, path, tries: runs.length, failed: runs.length - ok.length, totalMs: med('totalMs'), streamMs: med('streamMs'), firstMs: med('firstMs'), firstDrawnMs: med('firstDrawnMs'), firstFrameReceiveMs: med('firstFrameReceiveMs'), firstFrameDecodeMs: med('firstFrameDecodeMs'), runs });
      }
    } finally {
      await sys.stop();
    }
  }
} catch (err) {
  log(`failed: ${err.stack ?? err}`);
  result.error = String(err.message ?? err);
  process.exitCode = 1;
} finally {
  await cleanup();
}

mkdirSync(opt.out, { recursive: true });
const file = `${opt.out.replace(/\/$/, '')}/late-joiner-${result.startedAt.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(`\nLate joiner to a complete 1920x1080 screen, median of ${tries} (load ${result.machine.load.map((x) => x.toFixed(1)).join(' ')})\n`);
console.log('system | path | page.goto → complete ms | stream opened → complete ms | stream opened → first message ms | stream opened → first frame drawn ms | first frame: receiving / decoding+drawing ms | failed');
console.log('---|---|---|---|---|---|---|---');
for (const r of result.rows) {
  if (r.error) console.log(`${r.system} | - | not available: ${r.error} | | |`);
  else console.log(`${r.system} | ${r.path} | ${round(r.totalMs)} | ${round(r.streamMs)} | ${round(r.firstMs)} | ${r.firstDrawnMs ?? '-'} | ${r.firstFrameReceiveMs ?? '-'} / ${r.firstFrameDecodeMs ?? '-'} | ${r.failed}/${r.tries}`);
}
console.log(`\nresults: ${file}`);
process.exit();

/** One fresh viewer page: open it, wait for the complete screen, read the sampler's marks. */
async function joinOnce(sys, viewers, ref) {
  const page = await viewers.newPage(...(sys.viewerSize?.(WIDTH, HEIGHT) ?? [WIDTH, HEIGHT]));
  try {
    await page.addInitScript(
      ([r, w, h, s, tol, sel]) => {
        BenchSampler.expectScreen(r, w, h, s, tol);
        BenchSampler.start(sel);
      },
      [ref, WIDTH, HEIGHT, STEP, TOLERANCE, sys.canvasSelector ?? null],
    );
    await sys.preparePage?.(page);
    const t0 = Date.now();
    await sys.openViewer(page, WIDTH, HEIGHT);
    await page.waitForFunction(() => BenchSampler.completeState()?.done, null, { timeout: 30_000, polling: 50 });
    const st = await page.evaluate(() => BenchSampler.completeState());
    const via = await page.evaluate(() => document.querySelector('[data-testid=share-viewport]')?.dataset.path ?? null);
    return {
      totalMs: st.at - t0,
      streamMs: st.streamAt ? st.at - st.streamAt : null,
      firstMs: st.streamAt && st.firstMessageAt ? st.firstMessageAt - st.streamAt : null,
      // Baton: the first frame (the whole screen) drawn, from the stream's opening; its first tile →
      // all received → decoded and drawn.
      firstDrawnMs: st.streamAt && st.firstDrawnAt ? st.firstDrawnAt - st.streamAt : null,
      firstFrameReceiveMs: st.firstReceiveMs === null ? null : round(st.firstReceiveMs),
      firstFrameDecodeMs: st.firstFrameMs === null ? null : round(st.firstFrameMs - st.firstReceiveMs),
      via,
    };
  } catch (err) {
    const st = await page.evaluate(() => BenchSampler.completeState()).catch(() => null);
    return { error: `${String(err.message).split('\n')[0]} (worst tile error ${round(st?.worst, 1)})` };
  } finally {
    await page.context().close();
  }
}

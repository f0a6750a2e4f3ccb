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
      // `peer` first: once a third participant (the relay case's watcher) has joined, the Focus moves the
      // share to the server for good, and a peer case after it would measure the relay again.
      const cases = sysName === 'baton' ? ['peer', 'relay'] : ['direct'];
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
          // The agent's word on how the new path got its screen (from its tile cache, or encoded again).
          const said = (sys.logs?.().agent ?? []).filter((l) => /tile cache|encoded again/.test(l)).at(-1);
          if (said) log(`  agent: ${said}`);
          // Peer: the previous joiner's seat must be gone (the server's grace, 2 s here) or the next
          // joiner is a third participant and the share moves to the server.
          await sleep(path === 'peer' ? 3000 : 700);
        }
        if (watcher) await watcher.context().close();
        const ok = runs.filter((r) => !r.error);
        const med = (k) => (ok.length ? median(ok.map((r) => r[k]).filter((x) => x !== null)) : null);
        const medOf = (f) => { const v = ok.map(f).filter((x) => x !== null && x !== undefined); return v.length ? median(v) : null; };
        const stages = {};
        for (const k of Object.keys(ok[0]?.stages ?? {})) stages[k] = medOf((r) => r.stages[k]);
        const cpu = {};
        for (const k of Object.keys(ok[0]?.cpu ?? {})) cpu[k] = medOf((r) => r.cpu[k]);
        result.rows.push({ system: sysName, path, via: ok.map((r) => r.via ?? '-').join(','), tries: runs.length, failed: runs.length - ok.length, totalMs: med('totalMs'), streamMs: med('streamMs'), firstMs: med('firstMs'), firstDrawnMs: med('firstDrawnMs'), firstFrameReceiveMs: med('firstFrameReceiveMs'), firstFrameDecodeMs: med('firstFrameDecodeMs'), stages, cpu, bytesBeforeComplete: med('bytesBeforeComplete'), messagesBeforeComplete: med('messagesBeforeComplete'), jsBytes: med('jsBytes'), jsTransferBytes: med('jsTransferBytes'), requests: medOf((r) => r.requests.length), samplerChecks: medOf((r) => r.sampler.checks), samplerMs: medOf((r) => r.sampler.ms), runs });
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
  else console.log(`${r.system} | ${r.path}${r.system === 'baton' ? ` (via ${r.via})` : ''} | ${round(r.totalMs)} | ${round(r.streamMs)} | ${round(r.firstMs)} | ${r.firstDrawnMs ?? '-'} | ${r.firstFrameReceiveMs ?? '-'} / ${r.firstFrameDecodeMs ?? '-'} | ${r.failed}/${r.tries}`);
}
const rows = result.rows.filter((r) => !r.error);
if (rows.length) {
  console.log('\nStages, median ms from page.goto (each stage\'s own median, so they need not add up)\n');
  console.log(`stage | ${rows.map((r) => `${r.system} ${r.path}`).join(' | ')}`);
  console.log(`---|${rows.map(() => '---').join('|')}`);
  for (const k of Object.keys(rows.find((r) => r.stages)?.stages ?? {})) console.log(`${k} | ${rows.map((r) => r.stages?.[k] ?? '-').join(' | ')}`);
  console.log('\nLoad-independent, median per join\n');
  console.log(`figure | ${rows.map((r) => `${r.system} ${r.path}`).join(' | ')}`);
  console.log(`---|${rows.map(() => '---').join('|')}`);
  const kb = (x) => (x === null || x === undefined ? '-' : round(x / 1024, 1));
  console.log(`kB received on sockets before complete | ${rows.map((r) => kb(r.bytesBeforeComplete)).join(' | ')}`);
  console.log(`socket messages before complete | ${rows.map((r) => r.messagesBeforeComplete ?? '-').join(' | ')}`);
  console.log(`JS kB loaded (decoded) | ${rows.map((r) => kb(r.jsBytes)).join(' | ')}`);
  console.log(`JS kB transferred | ${rows.map((r) => kb(r.jsTransferBytes)).join(' | ')}`);
  console.log(`HTTP requests after the document | ${rows.map((r) => r.requests ?? '-').join(' | ')}`);
  console.log(`the bench's own completeness checks: count / main-thread ms | ${rows.map((r) => `${r.samplerChecks} / ${r.samplerMs}`).join(' | ')}`);
  for (const k of ['task', 'script', 'style', 'layout']) console.log(`main-thread CPU ms: ${k} | ${rows.map((r) => r.cpu?.[k] ?? '-').join(' | ')}`);
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
    // The page's main-thread CPU time (Chromium's Performance domain), read once the screen is complete.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    // The sampler calls this binding the moment the canvas is complete: the counters are read then, not
    // after the next poll (the page goes on working, e.g. loading code it deferred until the first picture).
    await cdp.send('Runtime.enable');
    await cdp.send('Runtime.addBinding', { name: '__benchComplete' });
    const atComplete = new Promise((resolve) =>
      cdp.on('Runtime.bindingCalled', (e) => {
        if (e.name === '__benchComplete') resolve(cdp.send('Performance.getMetrics'));
      }),
    );
    // BENCH_VIEWER_PROFILE=<dir>: a V8 CPU profile of the page's main thread from page.goto to complete.
    const profDir = process.env.BENCH_VIEWER_PROFILE;
    if (profDir) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    // BENCH_VIEWER_TRACE=<dir>: a Chromium trace of the page (main thread and workers, thread times) to complete.
    const traceDir = process.env.BENCH_VIEWER_TRACE;
    const traceEvents = [];
    if (traceDir) {
      cdp.on('Tracing.dataCollected', (e) => traceEvents.push(...e.value));
      await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'blink', 'loading', 'toplevel'] }, transferMode: 'ReportEvents' });
    }
    const t0 = Date.now();
    await sys.openViewer(page, WIDTH, HEIGHT);
    await page.waitForFunction(() => BenchSampler.completeState()?.done, null, { timeout: 30_000, polling: 50 });
    const { metrics } = await atComplete;
    if (traceDir) {
      const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      await done;
      mkdirSync(traceDir, { recursive: true });
      writeFileSync(`${traceDir}/late-${sys.canvasSelector ? 'baton' : 'other'}-${t0}.trace.json`, JSON.stringify({ traceEvents }));
    }
    if (profDir) {
      const { profile } = await cdp.send('Profiler.stop');
      mkdirSync(profDir, { recursive: true });
      writeFileSync(`${profDir}/late-${sys.canvasSelector ? 'baton' : 'other'}-${t0}.cpuprofile`, JSON.stringify(profile));
    }
    const metric = (n) => round((metrics.find((m) => m.name === n)?.value ?? 0) * 1000);
    const st = await page.evaluate(() => BenchSampler.completeState());
    const ld = await page.evaluate(() => BenchSampler.loading());
    const via = await page.evaluate(() => document.querySelector('[data-testid=share-viewport]')?.dataset.path ?? null);
    const at = (x) => (x ? Math.round(x - t0) : null);
    return {
      // Stages, each ms from page.goto (null where the system has no such step).
      stages: {
        html: at(ld.htmlAt),
        scripts: at(ld.scriptsAt),
        domContentLoaded: at(ld.domContentLoadedAt),
        firstRender: at(st.appAt),
        meetingSocket: at(st.conferenceAt),
        meetingOpen: at(st.conferenceOpenAt),
        welcome: at(st.welcomeAt),
        ticketAsked: at(st.ticketAskedAt),
        ticket: at(st.ticketAt),
        shareSocket: at(st.streamAt),
        shareOpen: at(st.streamOpenAt),
        firstMessage: at(st.firstMessageAt),
        firstFrameTile: st.firstDrawnAt && st.firstFrameMs !== null ? at(st.firstDrawnAt - st.firstFrameMs) : null,
        firstFrameReceived: st.firstDrawnAt && st.firstFrameMs !== null ? at(st.firstDrawnAt - st.firstFrameMs + st.firstReceiveMs) : null,
        firstFrameDrawn: at(st.firstDrawnAt),
        complete: at(st.at),
      },
      // Independent of the machine's load: what the page fetched and received before the screen was whole.
      // The sampler's own main-thread time: how often it compared the canvas with the screen, and how long that took.
      sampler: { checks: st.checks, ms: round(st.checkMs, 1) },
      bytesBeforeComplete: st.bytesIn,
      messagesBeforeComplete: st.messagesIn,
      jsBytes: ld.jsBytes,
      jsTransferBytes: ld.jsTransferBytes,
      jsFiles: ld.jsFiles,
      requests: ld.requests,
      // Main-thread CPU ms (thread time) of the page until complete: all tasks, of them script (parse,
      // compile, run), style and layout.
      cpu: { task: metric('TaskDuration'), script: metric('ScriptDuration'), style: metric('RecalcStyleDuration'), layout: metric('LayoutDuration') },
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

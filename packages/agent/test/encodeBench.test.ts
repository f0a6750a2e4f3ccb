/**
 * Measurements on a 1920x1080 Xvfb: GetImage with and without MIT-SHM, and full-frame encode time
 * and size for xterm text and a photo-like picture, with ZRgb and with PNG as the lossless codec.
 * Prints a table; asserts only what the design relies on (text stays lossless, photo goes JPEG).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenCapture, type FrameBuffer } from '../src/ScreenCapture.js';
import { TileEncoder, type TileEncoderOptions } from '../src/TileEncoder.js';
import { Canvas } from './helpers/canvas.js';
import { Painter, photoLike } from './helpers/painter.js';
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const HAVE_X = xvfbAvailable('encode measurements');
const W = 1920, H = 1080;
const FULL = [{ x: 0, y: 0, width: W, height: H }];

async function timeEncode(frame: FrameBuffer, opts: TileEncoderOptions, runs = 3) {
  // Per-cell figures on the first version's 64 px grid, every photo-like cell JPEG; merging and the current grid are measured in the bench.
  const enc = new TileEncoder({ merge: false, tileSize: 64, maxSmallLossyPixels: 0, ...opts });
  let best = Infinity;
  let tiles = await enc.encode(frame, FULL);
  for (let i = 0; i < runs; i++) {
    enc.reset(W, H);
    const t0 = performance.now();
    tiles = await enc.encode(frame, FULL);
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, bytes: tiles.reduce((n, t) => n + t.data.length + 11, 0), stats: enc.lastStats, tiles, enc };
}

async function timeCapture(cap: ScreenCapture, runs: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < runs; i++) total += (await cap.capture({ full: true })).readMs;
  return total / runs;
}

describe.skipIf(!HAVE_X)('encode measurements at 1920x1080', () => {
  let desktop: XDesktop;
  let painter: Painter;
  let xterm: ChildProcess | undefined;
  const rows: string[] = [];

  beforeAll(async () => {
    desktop = await XDesktop.start(W, H);
    painter = desktop.painter;
  });
  afterAll(async () => {
    xterm?.kill();
    await desktop?.stop();
    console.log(['', 'content | lossless codec | encode ms | bytes | fill/lossless/lossy tiles', ...rows].join('\n'));
  });

  it('GetImage of the full screen: MIT-SHM vs plain', async () => {
    const shm = await ScreenCapture.open({ display: desktop.display });
    const plain = await ScreenCapture.open({ display: desktop.display, useShm: false });
    try {
      expect(shm.shm).toBe(true);
      const shmMs = await timeCapture(shm, 10);
      const plainMs = await timeCapture(plain, 10);
      rows.push(`GetImage 1920x1080 (17 bands): MIT-SHM ${shmMs.toFixed(1)} ms, plain ${plainMs.toFixed(1)} ms`);
      expect(shmMs).toBeGreaterThan(0);
    } finally {
      await shm.close();
      await plain.close();
    }
  });

  it('xterm text stays lossless and small', async () => {
    // Xft DejaVu (fonts-dejavu-core): antialiased text, like a modern terminal or editor.
    xterm = spawn('xterm', ['-fa', 'DejaVu Sans Mono', '-fs', '10', '-geometry', '240x70+0+0', '-e', 'sh', '-c', 'ls -l --color=never /usr/lib/x86_64-linux-gnu /usr/share/doc | head -2000; cat /usr/share/common-licenses/GPL-3; sleep 600'], {
      env: desktop.env(),
      stdio: 'ignore',
    });
    await sleep(2500);
    const cap = await ScreenCapture.open({ display: desktop.display });
    try {
      await cap.capture({ full: true });
      for (const lossless of ['zrgb', 'png'] as const) {
        const r = await timeEncode(cap.frame, { lossless });
        rows.push(`xterm text (antialiased) | ${lossless} | ${r.ms.toFixed(1)} | ${r.bytes} | ${r.stats.fill}/${r.stats.lossless}/${r.stats.lossy}`);
        expect(r.stats.lossy).toBe(0);
        expect(r.stats.lossless).toBeGreaterThan(100);
        expect(r.bytes).toBeLessThan(W * H * 3 / 5);
        const canvas = new Canvas(W, H);
        for (const t of r.tiles) await canvas.apply(t);
        expect(canvas.diff(cap.frame)).toBe(0);
      }
    } finally {
      await cap.close();
      xterm.kill();
      xterm = undefined;
    }
  });

  it('a photo-like picture goes JPEG, then refines to lossless', async () => {
    const win = await painter.window(0, 0, W, H, [0, 0, 0]);
    await painter.putRgb(win, 0, 0, W, H, photoLike(W, H, 3));
    const cap = await ScreenCapture.open({ display: desktop.display });
    try {
      await cap.capture({ full: true });
      const r = await timeEncode(cap.frame, { maxRefinePerPass: Infinity });
      rows.push(`photo-like | jpeg q70 (lossy) | ${r.ms.toFixed(1)} | ${r.bytes} | ${r.stats.fill}/${r.stats.lossless}/${r.stats.lossy}`);
      expect(r.stats.lossy).toBeGreaterThan(r.stats.tiles * 0.9);
      // Refinement goes in rectangles under a byte budget a pass (96 KiB by default), so it takes
      // several passes; together they make the screen exact.
      const canvas = new Canvas(W, H);
      for (const t of r.tiles) await canvas.apply(t);
      expect(canvas.diff(cap.frame)).toBeGreaterThan(0);
      const t0 = performance.now();
      let passes = 0, bytes = 0, count = 0;
      for (let later = Date.now() + 1000; passes < 200; passes++, later += 1000) {
        const refined = await r.enc.refine(later);
        if (refined.length === 0) break;
        for (const t of refined) await canvas.apply(t);
        bytes += refined.reduce((n, t) => n + t.data.length + 11, 0);
        count += refined.length;
      }
      const refineMs = performance.now() - t0;
      rows.push(`photo-like | lossless refinement (${passes} passes) | ${refineMs.toFixed(1)} | ${bytes} | 0/${count}/0`);
      for (const lossless of ['zrgb', 'png'] as const) {
        const forced = await timeEncode(cap.frame, { maxLosslessColours: 1 << 30, lossless }, 1);
        rows.push(`photo-like | ${lossless} (forced lossless) | ${forced.ms.toFixed(1)} | ${forced.bytes} | ${forced.stats.fill}/${forced.stats.lossless}/${forced.stats.lossy}`);
      }
      expect(passes).toBeGreaterThan(0);
      expect(passes).toBeLessThan(200);
      expect(canvas.diff(cap.frame)).toBe(0);
    } finally {
      await cap.close();
      await painter.destroy(win);
    }
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenCapture, tileBands } from '../src/ScreenCapture.js';
import { listMonitors } from '../src/monitors.js';
import { Painter, px } from './helpers/painter.js';
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const run = promisify(execFile);
const HAVE_X = xvfbAvailable('ScreenCapture tests');

function waitFor<T>(fn: (resolve: (v: T) => void) => void, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    fn((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

describe('tileBands', () => {
  it('covers damaged rectangles with one tile-aligned band per tile row', () => {
    const bands = tileBands([{ x: 70, y: 10, width: 10, height: 100 }, { x: 300, y: 20, width: 5, height: 5 }], 1280, 720, 64);
    expect(bands).toEqual([
      { x: 64, y: 0, width: 256, height: 64 },
      { x: 64, y: 64, width: 64, height: 64 },
    ]);
    expect(tileBands([{ x: 1270, y: 710, width: 10, height: 10 }], 1280, 720, 64)).toEqual([{ x: 1216, y: 704, width: 64, height: 16 }]);
  });
});

describe.skipIf(!HAVE_X)('ScreenCapture under Xvfb', () => {
  let desktop: XDesktop;
  let painter: Painter;

  beforeAll(async () => {
    desktop = await XDesktop.start(1280, 720);
    painter = desktop.painter;
  });
  afterAll(() => desktop?.stop());

  it('reads the whole screen first, then only the tiles DAMAGE reports, with MIT-SHM', async () => {
    const cap = await ScreenCapture.open({ display: desktop.display });
    try {
      expect(cap.shm).toBe(true);
      expect(cap.area).toMatchObject({ x: 0, y: 0, width: 1280, height: 720, monitor: null });
      const win = await painter.window(100, 100, 200, 150, [255, 0, 0]);
      const first = await cap.capture();
      expect(first.full).toBe(true);
      expect(px(cap.frame, 150, 150)).toEqual([255, 0, 0]);
      expect(px(cap.frame, 50, 50)).toEqual([0, 0, 0]);

      const damaged = waitFor<void>((r) => cap.once('damage', () => r()));
      await painter.fill(win, 10, 10, 20, 20, [0, 0, 255]); // root (110..130, 110..130)
      await damaged;
      const second = await cap.capture();
      expect(second.full).toBe(false);
      // 110..130 crosses the tile boundary at 128 both ways: 2x2 tiles in two bands.
      expect(second.rects).toEqual([
        { x: 64, y: 64, width: 128, height: 64 },
        { x: 64, y: 128, width: 128, height: 64 },
      ]);
      expect(px(cap.frame, 115, 115)).toEqual([0, 0, 255]);
      expect(px(cap.frame, 150, 150)).toEqual([255, 0, 0]);
      await painter.destroy(win);
    } finally {
      await cap.close();
      await cap.close(); // safe twice
    }
  });

  it('reads the same pixels with plain GetImage', async () => {
    const win = await painter.window(500, 300, 64, 64, [10, 200, 30]);
    const cap = await ScreenCapture.open({ display: desktop.display, useShm: false });
    try {
      expect(cap.shm).toBe(false);
      await cap.capture();
      expect(px(cap.frame, 520, 320)).toEqual([10, 200, 30]);
    } finally {
      await cap.close();
      await painter.destroy(win);
    }
  });

  it('shares one RandR monitor and follows a resolution change', async () => {
    await run('xrandr', ['--setmonitor', 'left', '640/170x720/190+0+0', 'none'], { env: desktop.env() });
    await run('xrandr', ['--setmonitor', 'right', '640/170x720/190+640+0', 'none'], { env: desktop.env() });
    const monitors = await listMonitors(painter.conn);
    expect(monitors.map((m) => m.name)).toEqual(expect.arrayContaining(['left', 'right']));

    const win = await painter.window(700, 10, 50, 50, [0, 255, 0]);
    const cap = await ScreenCapture.open({ display: desktop.display, monitor: 'right' });
    try {
      expect(cap.area).toMatchObject({ x: 640, y: 0, width: 640, height: 720, monitor: 'right' });
      await cap.capture();
      expect(px(cap.frame, 60 + 10, 20)).toEqual([0, 255, 0]);
      expect(px(cap.frame, 5, 5)).toEqual([0, 0, 0]);
    } finally {
      await cap.close();
      await painter.destroy(win);
      await run('xrandr', ['--delmonitor', 'left'], { env: desktop.env() });
      await run('xrandr', ['--delmonitor', 'right'], { env: desktop.env() });
    }

    const whole = await ScreenCapture.open({ display: desktop.display });
    try {
      await whole.capture();
      const resized = waitFor<{ width: number; height: number }>((r) => whole.once('resize', (a) => r(a)), 5000);
      await run('xrandr', ['--newmode', '800x600_t', '40', '800', '840', '968', '1056', '600', '601', '605', '628'], { env: desktop.env() });
      await run('xrandr', ['--addmode', 'screen', '800x600_t'], { env: desktop.env() });
      await run('xrandr', ['--output', 'screen', '--mode', '800x600_t'], { env: desktop.env() });
      const area = await resized;
      expect(area).toMatchObject({ width: 800, height: 600 });
      const after = await whole.capture();
      expect(after.full).toBe(true);
      expect(whole.frame.width).toBe(800);
      expect(after.rects.reduce((n, r) => n + r.width * r.height, 0)).toBe(800 * 600);
    } finally {
      await run('xrandr', ['--output', 'screen', '--mode', '1280x720'], { env: desktop.env() }).catch(() => undefined);
      await whole.close();
    }
  });
});

/**
 * Issue 17: a capture is one picture. The capture reads the damaged tile rows as several GetImage
 * requests; another client drawing between two of them would give a frame whose top and bottom come
 * from two different pictures (a window torn across a horizontal line). Here a client floods the
 * screen with whole-screen fills of alternating colours while captures run: every capture must be one
 * colour, top to bottom.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenCapture } from '../src/ScreenCapture.js';
import { Painter, pixel, type Rgb } from './helpers/painter.js';
import { startXvfb, xvfbAvailable, type Xvfb } from './helpers/xvfb.js';

const HAVE_X = xvfbAvailable('ScreenCapture atomicity test');
const W = 1280, H = 720;
const COLOURS: Rgb[] = [[255, 0, 0], [0, 0, 255]];

describe.skipIf(!HAVE_X)('ScreenCapture reads one picture per capture', () => {
  let xvfb: Xvfb;
  let painter: Painter;

  beforeAll(async () => {
    xvfb = await startXvfb(W, H);
    painter = await Painter.open(xvfb.display);
  });
  afterAll(async () => {
    await painter?.close();
    await xvfb?.stop();
  });

  it('never mixes two pictures while another client repaints the whole screen', async () => {
    const win = await painter.window(0, 0, W, H, COLOURS[0]!);
    const X = painter.conn.client;
    const gcs = COLOURS.map((c) => {
      const gc = X.AllocID();
      X.CreateGC(gc, win, { foreground: pixel(c) });
      return gc;
    });
    let stop = false;
    // The other client: whole-window fills, alternating colours, as fast as the server takes them.
    const flood = (async () => {
      for (let n = 0; !stop; n++) {
        for (let k = 0; k < 8; k++) X.PolyFillRectangle(win, gcs[(n * 8 + k) % 2]!, [0, 0, W, H]);
        await painter.conn.sync();
      }
    })();
    const cap = await ScreenCapture.open({ display: xvfb.display, tileSize: 16 });
    let torn = 0, captures = 0;
    try {
      for (; captures < 300; captures++) {
        await cap.capture({ full: captures % 2 === 0 }); // the whole screen, or what DAMAGE reports
        const f = cap.frame;
        // One sample per row of tiles (each is read by its own request unless the capture is atomic).
        const seen = new Set<number>();
        for (let y = 0; y < H; y += 16) seen.add(f.data.readUInt32LE(y * f.stride) & 0xffffff);
        if (seen.size > 1) torn++;
      }
    } finally {
      stop = true;
      await flood;
      await cap.close();
      await painter.destroy(win);
    }
    console.log(`captures while another client repaints: ${torn} of ${captures} torn`);
    expect(torn).toBe(0);
  }, 60_000);
});

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
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const HAVE_X = xvfbAvailable('ScreenCapture atomicity test');
const W = 1280, H = 720;
const COLOURS: Rgb[] = [[255, 0, 0], [0, 0, 255]];

describe.skipIf(!HAVE_X)('ScreenCapture reads one picture per capture', () => {
  let desktop: XDesktop;
  let painter: Painter;

  beforeAll(async () => {
    desktop = await XDesktop.start(W, H);
    painter = desktop.painter;
  });
  afterAll(() => desktop?.stop());

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
    const cap = await ScreenCapture.open({ display: desktop.display, tileSize: 16 });
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

  it('reads late damage in one tile row from two rounds without mixing their pixels (shared-memory slices)', async () => {
    // Damage that arrives between taking the damage and grabbing the server is read in a second round,
    // together with the damage taken inside that grab. When both touch the same tile row with different
    // columns, two reads of that row must not share one slice of the shared-memory segment: the second
    // overwrites the first before its reply is copied, and the frame gets the other band's pixels.
    const win = await painter.window(0, 0, W, H, [128, 128, 128]);
    const cap = await ScreenCapture.open({ display: desktop.display, tileSize: 16 });
    try {
      expect(cap.shm).toBe(true);
      await cap.capture({ full: true });
      // Draw on the capture's own connection just before each of its grabs: the requests reach the
      // server in that order, so the damage lands exactly in the window between two damage takes.
      const X = cap.conn.client;
      const grab = X.GrabServer.bind(X);
      const draws: Array<[number, number, number, number, Rgb]> = [
        [0, 0, 48, 16, [255, 0, 0]], // before round 0's grab: taken there as late, read in round 1
        [160, 0, 320, 16, [0, 200, 0]], // before round 1's grab: taken and read inside it, same tile row
      ];
      let grabs = 0;
      X.GrabServer = () => {
        const d = draws[grabs++];
        if (d) {
          const gc = X.AllocID();
          X.CreateGC(gc, win, { foreground: pixel(d[4]) });
          X.PolyFillRectangle(win, gc, [d[0], d[1], d[2], d[3]]);
          X.FreeGC(gc);
        }
        grab();
      };
      const res = await cap.capture();
      X.GrabServer = grab;
      expect(grabs).toBe(2);
      const read = res.rects.map((r) => `${r.x},${r.y} ${r.width}x${r.height}`);
      const screen = await new Promise<Buffer>((resolve, reject) =>
        painter.conn.client.GetImage(2, painter.conn.root, 0, 0, W, 16, 0xffffffff, (err: unknown, img: { data: Buffer }) => (err ? reject(err) : resolve(img.data))),
      );
      const at = (b: Buffer, x: number, y: number): number => b.readUInt32LE((y * W + x) * 4) & 0xffffff;
      let bad = 0;
      for (let y = 0; y < 16; y++) for (let x = 0; x < W; x++) if (at(screen, x, y) !== at(cap.frame.data, x, y)) bad++;
      // Both drawings were read (the frame shows them), and the tile row is the screen's, pixel for pixel.
      expect({ read, red: at(cap.frame.data, 10, 5), green: at(cap.frame.data, 200, 5), bad }).toEqual({ read, red: pixel([255, 0, 0]), green: pixel([0, 200, 0]), bad: 0 });
    } finally {
      await cap.close();
      await painter.destroy(win);
    }
  }, 30_000);
});

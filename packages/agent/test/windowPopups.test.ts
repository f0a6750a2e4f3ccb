/**
 * A shared window's popups (issue 12 item 1): the application's override-redirect windows over the
 * window are in the captured frame, from their own pixmaps; another application's are not, even where
 * they lie on top; they follow being drawn, moved and unmapped; raising the window for input keeps
 * them above it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenCapture } from '../src/ScreenCapture.js';
import { xcall } from '../src/x11.js';
import { captureShows } from './helpers/captureShows.js';
import { Painter, pixel, px, type Rgb } from './helpers/painter.js';
import { startXvfb, xvfbAvailable, type Xvfb } from './helpers/xvfb.js';
import { XClientProcess } from './helpers/xclientProcess.js';

const HAVE_X = xvfbAvailable('window popup tests');
const WIN = { x: 100, y: 100, w: 320, h: 240 };
const BLUE: Rgb = [40, 120, 200], GREEN: Rgb = [10, 200, 30], MAGENTA: Rgb = [230, 0, 230], YELLOW: Rgb = [250, 220, 0], GREY: Rgb = [90, 90, 90];

describe.skipIf(!HAVE_X)('a shared window with popups (Composite, Xvfb)', () => {
  let xvfb: Xvfb;
  let app: Painter;
  /** Another program: its own process (X-Resource would count a second connection of this process as the same program). */
  let other: XClientProcess;
  let cap: ScreenCapture;
  let target = 0;
  let popup = 0;

  /** Capture until the frame has `rgb` at (x, y) in window coordinates. */
  const shows = (x: number, y: number, rgb: Rgb) => captureShows(cap, x, y, rgb);

  beforeAll(async () => {
    xvfb = await startXvfb(1024, 768);
    app = await Painter.open(xvfb.display);
    other = await XClientProcess.open(xvfb.display);
    await other.window(0, 0, 1024, 768, GREY); // a desktop, another client's
    const X = app.conn.client;
    // An override-redirect window of the application below its main window: not seen on the host, not shared.
    await app.window(WIN.x, WIN.y, 50, 50, YELLOW);
    target = X.AllocID();
    X.CreateWindow(target, app.conn.root, WIN.x, WIN.y, WIN.w, WIN.h, 0, 0, 1, 0, { backgroundPixel: pixel(BLUE) });
    X.ChangeProperty(0, target, 39, 31, 8, 'Popup test app');
    X.MapWindow(target);
    await app.conn.sync();
  }, 60_000);

  afterAll(async () => {
    await cap?.close();
    await app?.close();
    await other?.close();
    await xvfb?.stop();
  });

  it('shows the window alone, without a lower window of its own client', async () => {
    cap = await ScreenCapture.open({ display: xvfb.display, window: String(target), tileSize: 16 });
    await cap.capture({ full: true });
    expect(cap.area).toMatchObject({ x: WIN.x, y: WIN.y, width: WIN.w, height: WIN.h });
    expect(px(cap.frame, 10, 10)).toEqual(BLUE);
  });

  it("composites the application's popup, and not another client's window over both", async () => {
    // A menu reaching out of the window at the bottom right (clipped to the window), then another client's window over part of it.
    popup = await app.window(WIN.x + 200, WIN.y + 150, 200, 150, GREEN);
    await shows(250, 200, GREEN);
    const cover = await other.window(WIN.x + 150, WIN.y + 100, 100, 100, MAGENTA);
    await cap.capture();
    expect(px(cap.frame, 210, 160)).toEqual(GREEN); // under the other window: the popup's own pixels
    expect(px(cap.frame, 160, 110)).toEqual(BLUE); // the window's own pixels under the other window
    expect(px(cap.frame, WIN.w - 1, WIN.h - 1)).toEqual(GREEN);
    expect(cap.area.width).toBe(WIN.w); // the share does not grow
    await other.destroy(cover);
  });

  it('follows the popup being drawn and moved', async () => {
    await app.fill(popup, 0, 0, 20, 20, YELLOW);
    await shows(205, 155, YELLOW);
    await app.move(popup, WIN.x + 20, WIN.y + 20);
    await shows(25, 25, YELLOW);
    await shows(250, 200, BLUE);
  });

  it('raising the window for input keeps its popup above it', async () => {
    await cap.window!.raise();
    const tree = await xcall<{ children: number[] }>((cb) => app.conn.client.QueryTree(app.conn.root, cb));
    expect(tree.children.indexOf(popup)).toBeGreaterThan(tree.children.indexOf(target));
  });

  it('another client\'s override-redirect window shows when it names the window in WM_TRANSIENT_FOR', async () => {
    const w = await other.window(WIN.x + 250, WIN.y + 10, 40, 40, MAGENTA, { overrideRedirect: true, transientFor: target });
    await shows(260, 20, MAGENTA);
    await other.destroy(w);
    await shows(260, 20, BLUE);
  });

  it('a 32-bit (ARGB) window is shared too', async () => {
    const X = app.conn.client;
    const visuals = app.conn.screen.depths[32] ?? {};
    const visual = Number(Object.keys(visuals)[0]);
    expect(visual).toBeGreaterThan(0);
    const cmap = X.AllocID();
    X.CreateColormap(cmap, app.conn.root, visual, 0);
    const argb = X.AllocID();
    X.CreateWindow(argb, app.conn.root, 600, 400, 200, 150, 0, 32, 1, visual, { backgroundPixel: 0xff000000 | pixel(YELLOW), borderPixel: 0, colormap: cmap });
    X.ChangeProperty(0, argb, 39, 31, 8, 'ARGB app');
    X.MapWindow(argb);
    await app.conn.sync();
    const c2 = await ScreenCapture.open({ display: xvfb.display, window: String(argb), tileSize: 16 });
    try {
      await c2.capture({ full: true });
      expect(c2.area).toMatchObject({ x: 600, y: 400, width: 200, height: 150 });
      expect(px(c2.frame, 100, 75)).toEqual(YELLOW);
    } finally {
      await c2.close();
      await app.destroy(argb);
    }
  });

  it('an unmapped popup leaves the window showing', async () => {
    app.conn.client.UnmapWindow(popup);
    await app.conn.sync();
    await shows(25, 25, BLUE);
  });
});

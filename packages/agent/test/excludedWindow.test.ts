/**
 * The indicator left out of screen captures (issue 12 item 5's limitation): with Composite, what is
 * under it now, not what was there when it appeared — drawn while covered, moved under it, gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenCapture } from '../src/ScreenCapture.js';
import { Indicator } from '../src/Indicator.js';
import { captureShows } from './helpers/captureShows.js';
import { Painter, px, type Rgb } from './helpers/painter.js';
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const HAVE_X = xvfbAvailable('excluded window tests');
const W = 1024, H = 768;
const GREY: Rgb = [90, 90, 90], GREEN: Rgb = [10, 200, 30], YELLOW: Rgb = [250, 220, 0], MAGENTA: Rgb = [230, 0, 230];

describe.skipIf(!HAVE_X)('the indicator left out of screen captures (Composite, Xvfb)', () => {
  let desktop: XDesktop;
  let painter: Painter;
  let cap: ScreenCapture;
  let ind: Indicator;
  let desk = 0;
  let app = 0;

  /** Capture until the frame has `rgb` at (x, y) in root coordinates. */
  const shows = (x: number, y: number, rgb: Rgb) => captureShows(cap, x, y, rgb);

  beforeAll(async () => {
    desktop = await XDesktop.start(W, H);
    painter = desktop.painter;
    desk = await painter.window(0, 0, W, H, GREY);
    app = await painter.window(W - 400, 0, 400, 200, GREEN);
    cap = await ScreenCapture.open({ display: desktop.display, tileSize: 16 });
    await cap.prepareExclusion();
    ind = await Indicator.open({ display: desktop.display });
    await cap.exclude({ window: ind.windowId, rect: ind.rect, base: ind.under });
  }, 60_000);

  afterAll(async () => {
    await ind?.close();
    await cap?.close();
    await desktop?.stop();
  });

  it('shows the window under the indicator, not the indicator', async () => {
    const { x, y } = ind.rect;
    await cap.capture({ full: true });
    expect(px(cap.frame, x + 2, y + 2)).toEqual(GREEN);
    expect(px(cap.frame, x - 2, y + 2)).toEqual(GREEN);
  });

  it('what is drawn under the indicator now shows, though the root never changed there', async () => {
    const { x, y } = ind.rect;
    await cap.capture();
    await painter.fill(app, x + 10 - (W - 400), y + 4, 40, 10, YELLOW);
    await shows(x + 20, y + 8, YELLOW);
    expect(px(cap.frame, x + 2, y + 2)).toEqual(GREEN);
  });

  it('a window moved under it shows; moved away, the one below shows again', async () => {
    const { x, y } = ind.rect;
    const w = await painter.window(100, 400, 120, 60, MAGENTA);
    await shows(110, 410, MAGENTA);
    await painter.move(w, x + 100, y - 10);
    await shows(x + 150, y + 5, MAGENTA);
    await painter.move(w, 100, 400);
    await shows(x + 150, y + 5, GREEN);
    await painter.destroy(app);
    await shows(x + 150, y + 5, GREY);
    expect(desk).toBeGreaterThan(0);
  });
});

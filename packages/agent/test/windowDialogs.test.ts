/**
 * A shared window's dialogs (issue 12, part 2 of item 1): the application's managed windows that name
 * the window in WM_TRANSIENT_FOR, or are its own and typed _NET_WM_WINDOW_TYPE_DIALOG, are in the
 * captured frame from their own pixmaps, clipped to the window; another program's windows are not,
 * even dialog-typed ones or ones lying on top. A click on a dialog raises it and gives it the focus.
 * With X-Resource, a second X connection of the application's process counts as the application.
 *
 * The application is a child process (XClientProcess): X-Resource reports one PID for all of a
 * process's connections, so the test's own Painter is "another program".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenCapture } from '../src/ScreenCapture.js';
import { xcall } from '../src/x11.js';
import { captureShows } from './helpers/captureShows.js';
import { Painter, pixel, px, type Rgb } from './helpers/painter.js';
import { XClientProcess } from './helpers/xclientProcess.js';
import { startXvfb, xvfbAvailable, type Xvfb } from './helpers/xvfb.js';

const HAVE_X = xvfbAvailable('window dialog tests');
const WIN = { x: 100, y: 100, w: 320, h: 240 };
const BLUE: Rgb = [40, 120, 200], GREEN: Rgb = [10, 200, 30], MAGENTA: Rgb = [230, 0, 230], YELLOW: Rgb = [250, 220, 0], GREY: Rgb = [90, 90, 90], RED: Rgb = [200, 20, 20], TEAL: Rgb = [0, 128, 128];

describe.skipIf(!HAVE_X)('a shared window with dialogs (Composite, X-Resource, Xvfb)', () => {
  let xvfb: Xvfb;
  let app: XClientProcess;
  /** Another program (this test's own process), and the desktop under everything. */
  let other: Painter;
  let cap: ScreenCapture;
  let target = 0;
  let dialog = 0;

  const shows = (x: number, y: number, rgb: Rgb) => captureShows(cap, x, y, rgb);
  const stacking = async () => (await xcall<{ children: number[] }>((cb) => other.conn.client.QueryTree(other.conn.root, cb))).children;
  const focus = () => xcall<{ focus: number }>((cb) => (other.conn.client as unknown as { GetInputFocus(cb: unknown): void }).GetInputFocus(cb)).then((r) => r.focus);
  /** A managed (not override-redirect) window of the other program, optionally typed. */
  const otherManaged = async (x: number, y: number, w: number, h: number, colour: Rgb, type?: string) => {
    const X = other.conn.client;
    const wid = X.AllocID();
    X.CreateWindow(wid, other.conn.root, x, y, w, h, 0, 0, 1, 0, { backgroundPixel: pixel(colour) });
    if (type) {
      const t = Buffer.alloc(4);
      t.writeUInt32LE(await xcall<number>((cb) => X.InternAtom(false, type, cb)));
      X.ChangeProperty(0, wid, await xcall<number>((cb) => X.InternAtom(false, '_NET_WM_WINDOW_TYPE', cb)), 4, 32, t);
    }
    X.MapWindow(wid);
    await other.conn.sync();
    return wid;
  };

  beforeAll(async () => {
    xvfb = await startXvfb(1024, 768);
    other = await Painter.open(xvfb.display);
    await other.window(0, 0, 1024, 768, GREY);
    app = await XClientProcess.open(xvfb.display);
    target = await app.window(WIN.x, WIN.y, WIN.w, WIN.h, BLUE, { title: 'Dialog test app' });
    cap = await ScreenCapture.open({ display: xvfb.display, window: String(target), tileSize: 16 });
    await cap.capture({ full: true });
  }, 60_000);

  afterAll(async () => {
    await cap?.close();
    await app?.close();
    await other?.close();
    await xvfb?.stop();
  });

  it("knows the window's client's PID through X-Resource", () => {
    expect(cap.window!.pid).toBe(app.pid);
  });

  it('shows a transient dialog from its own pixmap, clipped to the window, under another program\'s window', async () => {
    // A "Save as" reaching out of the window's right edge, then another program's window over part of it.
    dialog = await app.window(WIN.x + 200, WIN.y + 60, 200, 150, GREEN, { title: 'Save as', transientFor: target });
    await shows(250, 100, GREEN);
    const cover = await other.window(WIN.x + 180, WIN.y + 40, 80, 80, MAGENTA);
    await app.putRgb(dialog, 10, 10, 20, 20, new Uint8Array(20 * 20 * 3).fill(250).map((v, i) => YELLOW[i % 3]!));
    await shows(215, 75, YELLOW); // drawn while covered: only the dialog's own storage has it
    expect(px(cap.frame, 190, 50)).toEqual(BLUE); // the window under the cover, outside the dialog
    expect(px(cap.frame, WIN.w - 1, 100)).toEqual(GREEN); // cut at the window's edge
    expect(cap.area).toMatchObject({ width: WIN.w, height: WIN.h }); // the share does not grow
    await other.destroy(cover);
  });

  it('a click on the dialog raises it and focuses it; a key goes there too; a click on the window focuses the window', async () => {
    await other.window(WIN.x + 150, WIN.y + 50, 100, 100, MAGENTA); // another program on top of both
    await cap.window!.raise({ x: 250, y: 100 });
    const order = await stacking();
    expect(order.indexOf(dialog)).toBeGreaterThan(order.indexOf(target));
    expect(order.indexOf(dialog)).toBe(order.length - 1);
    expect(await focus()).toBe(dialog);
    await cap.window!.raise(); // a key
    expect(await focus()).toBe(dialog);
    await cap.window!.raise({ x: 10, y: 10 });
    expect(await focus()).toBe(target);
    const after = await stacking();
    expect(after.indexOf(dialog)).toBeGreaterThan(after.indexOf(target)); // still over the window
  });

  it("another program's dialog-typed window is not shown; the application's own dialog-typed one is, and not its other windows", async () => {
    const foreign = await otherManaged(WIN.x + 10, WIN.y + 150, 60, 60, RED, '_NET_WM_WINDOW_TYPE_DIALOG');
    const second = await app.window(WIN.x + 80, WIN.y + 150, 60, 60, YELLOW, { title: 'Second main window' });
    const alert = await app.window(WIN.x + 150, WIN.y + 150, 40, 40, TEAL, { title: 'Alert', type: '_NET_WM_WINDOW_TYPE_DIALOG' });
    await shows(160, 160, TEAL);
    await cap.window!.raise(); // a key: a dialog that opened takes it, as a window manager focuses a new dialog
    expect(await focus()).toBe(alert);
    expect(px(cap.frame, 20, 160)).toEqual(BLUE);
    expect(px(cap.frame, 90, 160)).toEqual(BLUE);
    // A question of the dialog's own (transient for the dialog, not the window) counts too.
    const question = await app.window(WIN.x + 20, WIN.y + 20, 30, 30, RED, { transientFor: dialog });
    await shows(25, 25, RED);
    await app.destroy(question);
    await app.destroy(alert);
    await shows(160, 160, BLUE);
    await other.destroy(foreign);
    await app.destroy(second);
  });

  it('a popup from a second X connection of the same process shows (X-Resource PID), without WM_TRANSIENT_FOR', async () => {
    const conn = await app.openConnection();
    const menu = await app.window(WIN.x + 30, WIN.y + 200, 50, 30, YELLOW, { overrideRedirect: true, conn });
    await shows(40, 210, YELLOW);
    await app.destroy(menu, conn);
    await shows(40, 210, BLUE);
  });

  it('a dialog inside a window manager\'s frame is found, placed and followed', async () => {
    // The test plays the window manager: a frame of its own, the dialog reparented into it at (5, 20).
    const X = other.conn.client;
    const frame = X.AllocID();
    X.CreateWindow(frame, other.conn.root, WIN.x + 40, WIN.y + 40, 110, 100, 0, 0, 1, 0, { backgroundPixel: pixel(MAGENTA) });
    await other.conn.sync();
    const framed = await app.window(0, 0, 100, 75, TEAL, { title: 'Open file', transientFor: target });
    (X as unknown as { ReparentWindow(w: number, p: number, x: number, y: number): void }).ReparentWindow(framed, frame, 5, 20);
    X.MapWindow(frame);
    await other.conn.sync();
    await shows(40 + 5 + 10, 40 + 20 + 10, TEAL);
    expect(px(cap.frame, 40 + 2, 40 + 2)).toEqual(BLUE); // the frame (the window manager's) is not the application's
    await other.move(frame, WIN.x + 150, WIN.y + 100);
    await shows(150 + 5 + 10, 100 + 20 + 10, TEAL);
    await shows(40 + 5 + 10, 40 + 20 + 10, BLUE);
    const order = await stacking();
    await cap.window!.raise({ x: 150 + 5 + 10, y: 100 + 20 + 10 });
    expect((await stacking()).at(-1)).toBe(frame);
    expect(order).toContain(frame);
    expect(await focus()).toBe(framed);
    await other.destroy(frame);
    await shows(150 + 5 + 10, 100 + 20 + 10, BLUE);
  });
});

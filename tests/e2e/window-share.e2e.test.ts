/**
 * End to end, issue 12 item 1 "share one window": an Xvfb desktop, the real agent CLI with
 * `--window <title>`, the real server and a Chromium viewer on the meeting page.
 *
 * - `baton-agent windows` lists the test window by its title;
 * - the viewer sees only that window (the share is the window's size), and while another window
 *   covers half of it, the window's own pixels, exactly — drawn while covered;
 * - a click from the controller on the covered half raises the window and lands at the window's
 *   coordinates; a resize gives a new screen of the new size;
 * - the application's popup menu (an override-redirect window of the same X client) shows in the share
 *   with its exact pixels, clipped to the window, while another application's override-redirect window
 *   lying over both does not; the controller's click on the popup lands on the popup;
 * - moving, unmapping and mapping it again are followed; a resize gives a new screen;
 * - closing the window ends the share, with the reason on the agent's terminal;
 * - `--window pick` shares the window the host clicks.
 */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { BatonServer } from '../../packages/server/dist/index.js';
import { XDesktop } from '../../packages/agent/test/helpers/xDesktop.js';
import { pixel, type Painter, type Rgb } from '../../packages/agent/test/helpers/painter.js';
import { XClientProcess } from '../../packages/agent/test/helpers/xclientProcess.js';
import { loadX11 } from '../../packages/agent/src/x11.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { canvasMismatches, texture } from '../support/hostDesktop.js';
import { BrowserMeeting } from '../support/meeting.js';
import { ROOT, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/window-share.e2e.test.ts');
const TITLE = 'Baton window-share target';
const WIN = { x: 200, y: 150, w: 400, h: 300, c: [40, 120, 200] as Rgb };
const COVER = { x: 400, y: 100, w: 500, h: 400, c: [230, 0, 230] as Rgb };
/** The application's popup menu, in window coordinates; it reaches out of the window's bottom edge. */
const POPUP = { x: 180, y: 200, w: 150, h: 140 };
/** Another application's override-redirect window over the window and the popup. */
const INTRUDER = { x: 150, y: 150, w: 120, h: 120, c: [255, 128, 0] as Rgb };

describe.skipIf(!OK)('sharing one window (agent --window + a browser viewer)', () => {
  let desktop: XDesktop;
  /** The application (the shared window, its popup) and another application (desktop, cover, intruder): two X clients. */
  let painter: Painter;
  /** Its own process: the agent counts X connections of one process (X-Resource PID) as one program. */
  let desk: XClientProcess;
  let meeting: BrowserMeeting;
  let srv: BatonServer;
  let agent: AgentRun | undefined;
  let bob: Page;
  let conf = '';
  let aliceCookie = '';
  let target = 0;
  const presses: Array<{ x: number; y: number }> = [];

  const canvasSize = (page: Page) =>
    page.evaluate(() => {
      const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement | null;
      return c ? `${c.width}x${c.height}` : null;
    });

  beforeAll(async () => {
    desktop = await XDesktop.start(1280, 720);
    painter = desktop.painter;
    desk = await XClientProcess.open(desktop.display);
    await desk.window(0, 0, 1280, 720, [20, 20, 20]); // a desktop background
    // An ordinary (managed-style) top-level window with a title and class, as an application makes.
    const X = painter.conn.client;
    const em = loadX11().eventMask;
    target = X.AllocID();
    X.CreateWindow(target, painter.conn.root, WIN.x, WIN.y, WIN.w, WIN.h, 0, 0, 1, 0, { backgroundPixel: pixel(WIN.c), eventMask: em.ButtonPress! });
    X.ChangeProperty(0, target, 39 /* WM_NAME */, 31 /* STRING */, 8, TITLE);
    X.ChangeProperty(0, target, 67 /* WM_CLASS */, 31, 8, 'batontest\0BatonTest\0');
    X.MapWindow(target);
    await painter.conn.sync();
    painter.conn.on('event', (ev: { name?: string; wid?: number; x?: number; y?: number }) => {
      if (ev.name === 'ButtonPress' && ev.wid === target) presses.push({ x: ev.x ?? -1, y: ev.y ?? -1 });
    });
    await painter.putRgb(target, 0, 0, WIN.w, WIN.h, texture(WIN.w, WIN.h, 1));

    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-window-e2e-', timeout: 15_000 });
    srv = meeting.srv;
    aliceCookie = await signUp(srv.url, 'alice');
    const bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, aliceCookie, { guests: 'allow', control: 'signed-in' }, 'Window demo');
    agent = await startAgentShare(srv, conf, aliceCookie, desktop.display, 'signed-in', srv.url, ['--window', TITLE]);
    bob = await meeting.open(bobCookie);
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await meeting?.close();
    await desk?.close();
    await desktop?.stop();
  });

  it('baton-agent windows lists the window by its title, class and size', () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, 'packages/agent/dist/cli.js'), 'windows'], { env: desktop.env(), encoding: 'utf8' });
    const line = out.split('\n').find((l) => l.includes(TITLE));
    expect(line).toBe(`0x${target.toString(16)}\t${TITLE}\tBatonTest\t${WIN.w}x${WIN.h}+${WIN.x}+${WIN.y}`);
    expect(agent!.output()).toContain(`Sharing the window '${TITLE}' (${WIN.w}x${WIN.h})`);
  });

  it("the viewer sees only the window, and its own pixels exactly while another window covers half of it", async () => {
    await bob.goto(`${srv.url}/m/${conf}`);
    await expect.poll(() => canvasMismatches(bob, texture(WIN.w, WIN.h, 1), WIN.w, WIN.h), { timeout: 20_000 }).toBe(0);
    // Cover the right half, then draw something new into the window while it is covered: only the
    // window's own storage (Composite) has those pixels; the screen shows the cover.
    await desk.window(COVER.x, COVER.y, COVER.w, COVER.h, COVER.c);
    const next = texture(WIN.w, WIN.h, 2);
    await painter.putRgb(target, 0, 0, WIN.w, WIN.h, next);
    await expect.poll(() => canvasMismatches(bob, next, WIN.w, WIN.h), { timeout: 10_000 }).toBe(0);
    await bob.screenshot({ path: path.join(tmpdir(), 'baton-window-share-covered.png') });
  }, 60_000);

  it('a click from the controller on the covered half raises the window and lands at its coordinates', async () => {
    await bob.getByTestId('control-request').click();
    await expect.poll(() => bob.getByTestId('control-status').textContent(), { timeout: 10_000 }).toBe('You are in control');
    await expect.poll(() => agent!.output(), { timeout: 10_000 }).toMatch(/Bob is controlling/);
    presses.length = 0;
    const box = (await bob.getByTestId('share-canvas').boundingBox())!;
    const at = { x: 300, y: 120 }; // under the cover on the host's screen
    await bob.mouse.click(box.x + (at.x * box.width) / WIN.w, box.y + (at.y * box.height) / WIN.h);
    await expect.poll(() => presses.length, { timeout: 10_000 }).toBe(1);
    expect(Math.abs(presses[0]!.x - at.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(presses[0]!.y - at.y)).toBeLessThanOrEqual(2);
  }, 60_000);

  it("shows the application's popup menu exactly, not another application's window over it; a click on the popup lands on it", async () => {
    const popupPresses: Array<{ x: number; y: number }> = [];
    const em = loadX11().eventMask;
    const popup = await painter.window(WIN.x + POPUP.x, WIN.y + POPUP.y, POPUP.w, POPUP.h, [0, 0, 0], em.ButtonPress! | em.Exposure!);
    const menu = texture(POPUP.w, POPUP.h, 7);
    // Like a real menu, it draws itself again when the X server asks (Expose). The agent redirects the
    // popup once it has seen it mapped and found it is the application's: on a busy machine that can be
    // after the intruder covered part of it, and the redirected window's pixmap then starts without the
    // covered part, which the server asks the application to paint.
    const onEvent = (ev: { name?: string; wid?: number; x?: number; y?: number }) => {
      if (ev.name === 'ButtonPress' && ev.wid === popup) popupPresses.push({ x: ev.x ?? -1, y: ev.y ?? -1 });
      if (ev.name === 'Expose' && ev.wid === popup) void painter.putRgb(popup, 0, 0, POPUP.w, POPUP.h, menu).catch(() => {});
    };
    painter.conn.on('event', onEvent);
    await painter.putRgb(popup, 0, 0, POPUP.w, POPUP.h, menu);
    const intruder = await desk.window(WIN.x + INTRUDER.x, WIN.y + INTRUDER.y, INTRUDER.w, INTRUDER.h, INTRUDER.c);
    try {
      // What the viewer must see: the window (texture 2) with the menu over it, cut at the window's edge.
      const want = texture(WIN.w, WIN.h, 2);
      for (let y = POPUP.y; y < Math.min(WIN.h, POPUP.y + POPUP.h); y++) {
        for (let x = POPUP.x; x < Math.min(WIN.w, POPUP.x + POPUP.w); x++) want.set(menu.subarray(((y - POPUP.y) * POPUP.w + x - POPUP.x) * 3, ((y - POPUP.y) * POPUP.w + x - POPUP.x) * 3 + 3), (y * WIN.w + x) * 3);
      }
      await expect.poll(() => canvasMismatches(bob, want, WIN.w, WIN.h), { timeout: 15_000 }).toBe(0);
      await bob.screenshot({ path: path.join(tmpdir(), 'baton-window-share-popup.png') });
      // A click where the intruder lies over the popup: the window is raised with its popup above it.
      presses.length = 0;
      const at = { x: 200, y: 220 };
      const box = (await bob.getByTestId('share-canvas').boundingBox())!;
      await bob.mouse.click(box.x + (at.x * box.width) / WIN.w, box.y + (at.y * box.height) / WIN.h);
      await expect.poll(() => popupPresses.length, { timeout: 10_000 }).toBe(1);
      expect(Math.abs(popupPresses[0]!.x - (at.x - POPUP.x))).toBeLessThanOrEqual(2);
      expect(Math.abs(popupPresses[0]!.y - (at.y - POPUP.y))).toBeLessThanOrEqual(2);
      expect(presses).toEqual([]);
    } finally {
      // The menu closes (also when a check above failed, so that the tests after see the window alone).
      painter.conn.off('event', onEvent);
      await painter.destroy(popup);
      await desk.destroy(intruder);
    }
    // The window's own pixels are back where the menu was.
    await expect.poll(() => canvasMismatches(bob, texture(WIN.w, WIN.h, 2), WIN.w, WIN.h), { timeout: 15_000 }).toBe(0);
  }, 60_000);

  it('a moved window keeps its input at window coordinates', async () => {
    await painter.move(target, 90, 70);
    presses.length = 0;
    const box = (await bob.getByTestId('share-canvas').boundingBox())!;
    const at = { x: 40, y: 250 };
    await bob.mouse.click(box.x + (at.x * box.width) / WIN.w, box.y + (at.y * box.height) / WIN.h);
    await expect.poll(() => presses.length, { timeout: 10_000 }).toBe(1);
    expect(Math.abs(presses[0]!.x - at.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(presses[0]!.y - at.y)).toBeLessThanOrEqual(2);
  }, 60_000);

  it('an unmapped window keeps the share; mapped again, its new pixels arrive', async () => {
    painter.conn.client.UnmapWindow(target);
    await painter.conn.sync();
    painter.conn.client.MapWindow(target);
    await painter.conn.sync();
    const next = texture(WIN.w, WIN.h, 4);
    await painter.putRgb(target, 0, 0, WIN.w, WIN.h, next);
    await expect.poll(() => canvasMismatches(bob, next, WIN.w, WIN.h), { timeout: 15_000 }).toBe(0);
    expect((await srv.registry.get(conf))?.snapshot().share?.kind).toBe('agent');
  }, 60_000);

  it('a resized window is a new screen of its new size', async () => {
    painter.conn.client.ConfigureWindow(target, { width: 320, height: 200 });
    await painter.conn.sync();
    const next = texture(320, 200, 3);
    await painter.putRgb(target, 0, 0, 320, 200, next);
    await expect.poll(() => canvasMismatches(bob, next, 320, 200), { timeout: 15_000 }).toBe(0);
  }, 60_000);

  it('closing the window ends the share with a clear message', async () => {
    const exited = new Promise<number | null>((resolve) => agent!.proc.once('exit', (code) => resolve(code)));
    await painter.destroy(target);
    expect(await exited).toBe(0);
    expect(agent!.output()).toContain(`Sharing ended: the shared window '${TITLE}' was closed.`);
    await expect.poll(async () => (await srv.registry.get(conf))?.snapshot().share ?? null, { timeout: 10_000 }).toBeNull();
    await expect.poll(() => canvasSize(bob), { timeout: 10_000 }).toBeNull();
  }, 60_000);

  it('--window pick shares the window the host clicks', async () => {
    const X = painter.conn.client;
    const picked = X.AllocID();
    X.CreateWindow(picked, painter.conn.root, 500, 300, 200, 100, 0, 0, 1, 0, { backgroundPixel: pixel(WIN.c) });
    X.ChangeProperty(0, picked, 39, 31, 8, 'Pick me');
    X.MapWindow(picked);
    await painter.conn.sync();
    const starting = startAgentShare(srv, conf, aliceCookie, desktop.display, 'never', srv.url, ['--window', 'pick']);
    // The agent grabs the pointer while it waits for the click: once our own grab is refused
    // (AlreadyGrabbed), the click goes to the picker.
    const grabStatus = () =>
      new Promise<number>((resolve) => X.GrabPointer(painter.conn.root, 0, 0, 1, 1, 0, 0, 0, (_e: unknown, st: unknown) => {
        if (st === 0) X.UngrabPointer(0);
        resolve(Number(st));
        return true;
      }));
    await expect.poll(grabStatus, { timeout: 30_000 }).toBe(1);
    execFileSync('xdotool', ['mousemove', '600', '350', 'click', '1'], { env: desktop.env() });
    agent = await starting;
    await expect.poll(() => agent!.output(), { timeout: 10_000 }).toContain("Sharing the window 'Pick me' (200x100)");
  }, 90_000);
});

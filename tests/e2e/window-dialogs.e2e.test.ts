/**
 * End to end, issue 12 (sharing one window, its dialogs): an Xvfb desktop, the real agent CLI with
 * `--window <title>`, the real server and a Chromium viewer in control.
 *
 * The application runs as its own process (XClientProcess) with the shared window and a "Save as"
 * dialog (a managed window, WM_TRANSIENT_FOR the shared window) reaching out of the window's bottom
 * edge; another program (this test's process) lies over part of the dialog and of the window. The
 * viewer's canvas shows the window with the dialog's exact pixels over it, cut at the window's edge,
 * and none of the other program's; the controller's click on the dialog, where the other program's
 * window covers it on the host, lands on the dialog, and their typing goes to the dialog.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { XDesktop } from '../../packages/agent/test/helpers/xDesktop.js';
import type { Painter, Rgb } from '../../packages/agent/test/helpers/painter.js';
import { XClientProcess } from '../../packages/agent/test/helpers/xclientProcess.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { canvasMismatches, texture } from '../support/hostDesktop.js';
import { BrowserMeeting } from '../support/meeting.js';
import { haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/window-dialogs.e2e.test.ts');
const TITLE = 'Baton dialog-share target';
const WIN = { x: 200, y: 120, w: 400, h: 300, c: [40, 120, 200] as Rgb };
/** The "Save as" dialog, in window coordinates: it reaches out of the window's bottom edge. */
const DLG = { x: 60, y: 180, w: 260, h: 160 };
/** Another program's window over part of the dialog and of the window (window coordinates). */
const COVER = { x: 20, y: 140, w: 160, h: 100, c: [230, 0, 230] as Rgb };

describe.skipIf(!OK)("sharing one window: the application's dialogs (agent --window + a browser viewer)", () => {
  let desktop: XDesktop;
  let app: XClientProcess;
  /** Another program: the desktop's own painting client. */
  let desk: Painter;
  let meeting: BrowserMeeting;
  let agent: AgentRun | undefined;
  let bob: Page;
  let conf = '';
  let target = 0;
  let dialog = 0;


  beforeAll(async () => {
    desktop = await XDesktop.start(1280, 720);
    desk = desktop.painter;
    await desk.window(0, 0, 1280, 720, [20, 20, 20]); // a desktop background, another program's
    app = await XClientProcess.open(desktop.display);
    target = await app.window(WIN.x, WIN.y, WIN.w, WIN.h, WIN.c, { title: TITLE });
    await app.putRgb(target, 0, 0, WIN.w, WIN.h, texture(WIN.w, WIN.h, 1));

    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-dialogs-e2e-', timeout: 15_000 });
    const srv = meeting.srv;
    const aliceCookie = await signUp(srv.url, 'alice');
    const bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, aliceCookie, { guests: 'allow', control: 'signed-in' }, 'Dialog demo');
    agent = await startAgentShare(srv, conf, aliceCookie, desktop.display, 'signed-in', srv.url, ['--window', TITLE]);
    bob = await meeting.open(bobCookie);
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await meeting?.close();
    await app?.close();
    await desktop?.stop();
  });

  it("the viewer sees the dialog's exact pixels over the window, cut at its edge, and not another program's window over both", async () => {
    await bob.goto(`${meeting.url}/m/${conf}`);
    await expect.poll(() => canvasMismatches(bob, texture(WIN.w, WIN.h, 1), WIN.w, WIN.h), { timeout: 20_000 }).toBe(0);
    /** The window with the dialog's picture over it, cut at the window's edge. */
    const withDialog = (pic: Uint8Array) => {
      const want = texture(WIN.w, WIN.h, 1);
      for (let y = DLG.y; y < Math.min(WIN.h, DLG.y + DLG.h); y++) {
        for (let x = DLG.x; x < Math.min(WIN.w, DLG.x + DLG.w); x++) {
          const s = ((y - DLG.y) * DLG.w + x - DLG.x) * 3;
          want.set(pic.subarray(s, s + 3), (y * WIN.w + x) * 3);
        }
      }
      return want;
    };
    dialog = await app.window(WIN.x + DLG.x, WIN.y + DLG.y, DLG.w, DLG.h, [0, 0, 0], { title: 'Save as', transientFor: target });
    const first = texture(DLG.w, DLG.h, 6);
    await app.putRgb(dialog, 0, 0, DLG.w, DLG.h, first);
    // Shown once: the agent has redirected it. (Before that, what is drawn where another window covers
    // it is lost, as on any X screen without a compositor; an application draws it again on Expose, which
    // this test client does not.)
    await expect.poll(() => canvasMismatches(bob, withDialog(first), WIN.w, WIN.h), { timeout: 15_000 }).toBe(0);
    await desk.window(WIN.x + COVER.x, WIN.y + COVER.y, COVER.w, COVER.h, COVER.c);
    // Drawn while covered: only the dialog's own storage (Composite) has these pixels under the cover.
    const pic = texture(DLG.w, DLG.h, 7);
    await app.putRgb(dialog, 0, 0, DLG.w, DLG.h, pic);
    await expect.poll(() => canvasMismatches(bob, withDialog(pic), WIN.w, WIN.h), { timeout: 15_000 }).toBe(0);
    await bob.screenshot({ path: path.join(tmpdir(), 'baton-window-dialog.png') });
  }, 60_000);

  it('a click from the controller on the dialog, where another program covers it, raises the dialog and lands on it; keys follow', async () => {
    await bob.getByTestId('control-request').click();
    await expect.poll(() => bob.getByTestId('control-status').textContent(), { timeout: 10_000 }).toBe('You are in control');
    await expect.poll(() => agent!.output(), { timeout: 10_000 }).toMatch(/Bob is controlling/);
    await app.presses();
    const at = { x: 100, y: 210 }; // on the dialog, under the other program's window on the host
    const box = (await bob.getByTestId('share-canvas').boundingBox())!;
    await bob.mouse.click(box.x + ((at.x + 0.5) * box.width) / WIN.w, box.y + ((at.y + 0.5) * box.height) / WIN.h);
    let got: Array<{ wid: number; x: number; y: number }> = [];
    await expect.poll(async () => (got = got.concat(await app.presses())).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(got).toHaveLength(1);
    expect(got[0]!.wid).toBe(dialog);
    expect(Math.abs(got[0]!.x - (at.x - DLG.x))).toBeLessThanOrEqual(1);
    expect(Math.abs(got[0]!.y - (at.y - DLG.y))).toBeLessThanOrEqual(1);
    // The click gave the dialog the keyboard: the controller's typing goes to it, not to the window.
    await app.keys();
    await bob.keyboard.press('x');
    let keys: Array<{ wid: number }> = [];
    await expect.poll(async () => (keys = keys.concat(await app.keys())).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(keys.map((k) => k.wid)).toEqual([dialog]);
  }, 60_000);

  it('the dialog closes: the window is shown alone again', async () => {
    await app.destroy(dialog);
    await expect.poll(() => canvasMismatches(bob, texture(WIN.w, WIN.h, 1), WIN.w, WIN.h), { timeout: 15_000 }).toBe(0);
  }, 60_000);
});

/**
 * End to end, issue 11 items 2, 7 and 16: the stage a viewer sees. An Xvfb desktop shared by the real
 * agent, the real server, and Debian's Chromium on the meeting page, at 1280x720 and as a phone
 * (390x844, touch).
 *
 * - item 7: the share opens by itself, with a loading state until the first whole picture;
 * - item 16: a controller whose keyboard goes to the host sees a coloured frame and says where keys go;
 *   1:1 shows scrollbars;
 * - item 2: on a phone the stage takes the viewport (people and chat are tabs), a fullscreen button,
 *   pinch zooms, and a controller's tap, long-press, two-finger drag and on-screen keyboard reach the host.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import sharp from 'sharp';
import { startServer } from '../../packages/server/dist/index.js';
import { XDesktop } from '../../packages/agent/test/helpers/xDesktop.js';
import type { Painter } from '../../packages/agent/test/helpers/painter.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';
import { H, QUADRANTS, TARGET, W, canvasPixel, closeTo as close, paintHostDesktop, type XEv } from '../support/hostDesktop.js';

const OK = haveBrowserAndX('tests/e2e/meeting-stage.e2e.test.ts');
// Screenshots for a person to look at (not part of the repository).
const SHOTS = process.env.BATON_SHOTS_DIR ?? path.join(tmpdir(), 'baton-shots-stage');
const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout });

type Pt = { x: number; y: number };
/** Raw touch through the DevTools protocol: several fingers, held as long as the test says. */
const touch = (cdp: CDPSession, type: 'touchStart' | 'touchMove' | 'touchEnd', points: Pt[]) =>
  cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map((p, id) => ({ x: p.x, y: p.y, id })) });
/**
 * Fingers from `from` to `to` in steps, each finger in a straight line, lifted while still moving (a
 * flick: the page must not let the browser start a fling that would spend the next tap on stopping it).
 */
const glide = async (cdp: CDPSession, from: Pt[], to: Pt[], steps = 8) => {
  await touch(cdp, 'touchStart', from);
  for (let i = 1; i <= steps; i++) await touch(cdp, 'touchMove', from.map((f, k) => ({ x: f.x + ((to[k]!.x - f.x) * i) / steps, y: f.y + ((to[k]!.y - f.y) * i) / steps })));
  await touch(cdp, 'touchEnd', []);
};

describe.skipIf(!OK)('the meeting stage: auto-open, keyboard capture, phones', { timeout: 90_000 }, () => {
  let desktop: XDesktop;
  let painter: Painter;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let agent: AgentRun | undefined;
  let browser: Browser;
  let conf = '';
  let bobCookie = '';
  const seen: XEv[] = [];

  const showsDesktop = async (page: Page) => {
    for (const q of QUADRANTS) if (!close(await canvasPixel(page, q.x ? q.x + 600 : 40, q.y ? q.y + 320 : 40), q.c)) return false;
    return true;
  };
  const focus = async () => (await srv.registry.get(conf))!;
  /** The page as the user sees it (a screenshot, in CSS pixels): the colour at (x, y). */
  const seenAt = async (page: Page, points: { x: number; y: number }[]): Promise<number[][]> => {
    const scale = await page.evaluate(() => window.devicePixelRatio);
    const { data, info } = await sharp(await page.screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return points.map(({ x, y }) => {
      const i = (Math.round(y * scale) * info.width + Math.round(x * scale)) * 3;
      return [data[i]!, data[i + 1]!, data[i + 2]!];
    });
  };
  const controlled = async (page: Page) => {
    await page.getByTestId('control-request').click();
    await poll(() => page.getByTestId('control-status').textContent()).toBe('You are in control');
    // The grant reaches the agent, which may be after the page shows it.
    await poll(async () => (await focus()).snapshot().share?.controllerId).toBeTruthy();
  };
  /** Page coordinates of a host screen point on the canvas as shown now. */
  const onCanvas = async (page: Page, x: number, y: number) => {
    const box = (await page.getByTestId('share-canvas').boundingBox())!;
    return { x: box.x + (x * box.width) / W, y: box.y + (y * box.height) / H };
  };

  /** A signed-in page of Bob's, at a desktop size or as a touch phone. */
  const bobPage = async (phone: boolean): Promise<{ ctx: BrowserContext; page: Page }> => {
    const ctx = await browser.newContext(phone ? { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 } : { viewport: { width: W, height: H } });
    await ctx.addCookies([{ name: 'baton_session', value: bobCookie.split('=')[1]!, url: srv.url }]);
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    return { ctx, page };
  };

  beforeAll(async () => {
    buildWeb();
    mkdirSync(SHOTS, { recursive: true });
    desktop = await XDesktop.start(W, H);
    painter = desktop.painter;
    await paintHostDesktop(painter, seen);

    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-stage-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    const alice = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, alice, { guests: 'allow', control: 'signed-in' }, 'Stage demo');
    agent = await startAgentShare(srv, conf, alice, desktop.display);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await browser?.close();
    await srv?.close();
    await desktop?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe('item 7: the share opens by itself', () => {
    it('a viewer sees a loading state, then the picture, without clicking anything; Hide keeps it closed until asked', async () => {
      const { ctx, page } = await bobPage(false);
      try {
        // What the user sees on every animation frame until the picture is there: never a bare
        // (black) canvas without a loading or status message.
        await page.addInitScript(() => {
          const w = window as unknown as { __stageLog: { bare: number; loading: number; shown: number } };
          w.__stageLog = { bare: 0, loading: 0, shown: 0 };
          const tick = () => {
            const vp = document.querySelector('[data-testid="share-viewport"]');
            if (vp) {
              const canvas = vp.querySelector('[data-testid="share-canvas"]') as HTMLElement;
              const visible = getComputedStyle(canvas).visibility === 'visible';
              const message = vp.querySelector('[data-testid="share-loading"], [data-testid="share-status"]');
              if (vp.getAttribute('data-drawn') === 'true' && visible) w.__stageLog.shown++;
              else if (message) w.__stageLog.loading++;
              else if (visible) w.__stageLog.bare++;
            }
            if (w.__stageLog.shown < 5) requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        });
        const t0 = Date.now();
        await page.goto(`${srv.url}/m/${conf}`);
        await poll(() => showsDesktop(page)).toBe(true);
        await poll(() => page.getByTestId('share-viewport').getAttribute('data-drawn')).toBe('true');
        console.log(`auto-open: the whole screen shown ${Date.now() - t0} ms after navigating`);
        const log = await page.evaluate(() => (window as unknown as { __stageLog: { bare: number; loading: number; shown: number } }).__stageLog);
        expect(log.bare).toBe(0);
        expect(log.loading).toBeGreaterThan(0);
        expect(await page.getByTestId('share-view').count()).toBe(0);
        expect(await page.getByTestId('share-loading').count()).toBe(0);

        await page.getByTestId('share-hide').click();
        const show = page.getByTestId('share-view');
        await poll(() => show.textContent()).toBe('Show the shared screen');
        // A styled button (the page's accent colour), not the browser's grey default.
        expect(await show.evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(79, 70, 229)');
        // Still hidden while the share goes on and the roster changes.
        const other = await bobPage(false);
        await other.page.goto(`${srv.url}/m/${conf}`);
        await poll(async () => (await focus()).snapshot().roster.length).toBeGreaterThanOrEqual(3);
        expect(await page.getByTestId('share-viewport').count()).toBe(0);
        await other.ctx.close();
        await show.click();
        await poll(() => showsDesktop(page)).toBe(true);
      } finally {
        await ctx.close();
      }
    });
  });

  describe('item 16: where the keyboard goes, scrollbars at 1:1', () => {
    it('a controller whose keyboard goes to the host sees a coloured frame and where keys go; Esc twice releases it', async () => {
      const { ctx, page } = await bobPage(false);
      try {
        await page.goto(`${srv.url}/m/${conf}`);
        await poll(() => showsDesktop(page)).toBe(true);
        await controlled(page);
        expect(await page.getByTestId('keyboard-frame').count()).toBe(0);
        expect(await page.getByTestId('control-hint').textContent()).toBe('Click the screen to type into it.');

        const at = await onCanvas(page, TARGET.x + 50, TARGET.y + 50);
        await page.mouse.click(at.x, at.y);
        const captured = page.getByTestId('keyboard-captured');
        await poll(() => captured.textContent()).toBe("⌨ Keyboard goes to Alice's computer · Esc twice to release");
        // The frame is there for the eye: the screen's edges are amber on the screenshot.
        const box = (await page.getByTestId('keyboard-frame').boundingBox())!;
        const edges = [
          { x: box.x + 1, y: box.y + box.height / 2 },
          { x: box.x + box.width - 2, y: box.y + box.height / 2 },
          { x: box.x + box.width / 2, y: box.y + box.height - 2 },
        ];
        for (const c of await seenAt(page, edges)) expect(close(c, [245, 158, 11], 20)).toBe(true);
        expect(close((await seenAt(page, [{ x: box.x + 10, y: box.y + 200 }]))[0]!, [245, 158, 11], 60)).toBe(false);
        await page.screenshot({ path: path.join(SHOTS, 'keyboard-captured-1280x720.png') });

        seen.length = 0;
        await page.keyboard.type('k');
        await poll(() => seen.filter((e) => e.name === 'KeyPress' && e.keysym === 0x6b).length, 5000).toBe(1);

        await page.keyboard.press('Escape');
        await page.keyboard.press('Escape');
        await poll(() => page.getByTestId('keyboard-frame').count()).toBe(0);
        expect(await page.getByTestId('control-hint').textContent()).toBe('Keyboard released. Click the screen to type into it again.');
        for (const c of await seenAt(page, edges.slice(0, 1))) expect(close(c, [245, 158, 11], 60)).toBe(false);
        await page.getByTestId('control-release').click();
        await poll(async () => (await focus()).snapshot().share?.controllerId).toBeNull();
      } finally {
        await ctx.close();
      }
    });

    it('1:1 shows scrollbars that stand out from the dark stage', async () => {
      const { ctx, page } = await bobPage(false);
      try {
        await page.goto(`${srv.url}/m/${conf}`);
        await poll(() => showsDesktop(page)).toBe(true);
        await page.getByTestId('view-mode-1to1').click();
        const scroller = page.getByTestId('share-scroller');
        await poll(() => scroller.evaluate((el) => el.scrollWidth > el.clientWidth && el.scrollHeight > el.clientHeight)).toBe(true);
        // Both bars are there, and their thumbs are light on the dark track (as seen on a screenshot).
        const hBar = (await page.getByTestId('share-scrollbar-h').boundingBox())!;
        const vBar = (await page.getByTestId('share-scrollbar-v').boundingBox())!;
        const hThumb = (await page.getByTestId('share-scrollbar-h-thumb').boundingBox())!;
        const vp = (await page.getByTestId('share-viewport').boundingBox())!;
        expect(hBar.height).toBeGreaterThanOrEqual(8);
        expect(vBar.width).toBeGreaterThanOrEqual(8);
        expect(hThumb.height).toBeLessThanOrEqual(hBar.height);
        expect(hBar.y + hBar.height).toBeCloseTo(vp.y + vp.height, 0);
        expect(vBar.x + vBar.width).toBeCloseTo(vp.x + vp.width, 0);
        // The thumb's share of the track is the share of the screen in view.
        const shown = await scroller.evaluate((el) => el.clientWidth / el.scrollWidth);
        expect(hThumb.width / hBar.width).toBeCloseTo(shown, 1);
        const [hT, vT, track] = await seenAt(page, [
          { x: hThumb.x + hThumb.width / 2, y: hBar.y + hBar.height / 2 },
          { x: vBar.x + vBar.width / 2, y: vBar.y + 20 },
          { x: hBar.x + hBar.width - 10, y: hBar.y + hBar.height / 2 },
        ]);
        await page.screenshot({ path: path.join(SHOTS, 'one-to-one-1280x720.png') });
        const lum = (c: number[]) => 0.3 * c[0]! + 0.59 * c[1]! + 0.11 * c[2]!;
        expect(lum(hT!)).toBeGreaterThan(130);
        expect(lum(vT!)).toBeGreaterThan(130);
        expect(lum(track!)).toBeLessThan(70);
        // Dragging the thumb scrolls the screen.
        await page.mouse.move(hThumb.x + 20, hThumb.y + hThumb.height / 2);
        await page.mouse.down();
        await page.mouse.move(hThumb.x + 120, hThumb.y + hThumb.height / 2, { steps: 4 });
        await page.mouse.up();
        await poll(() => scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(100);
      } finally {
        await ctx.close();
      }
    });
  });

  describe('item 2: a phone can watch and control a share', () => {
    let ctx: BrowserContext;
    let page: Page;
    let cdp: CDPSession;
    beforeAll(async () => {
      ({ ctx, page } = await bobPage(true));
      cdp = await ctx.newCDPSession(page);
    }, 60_000);
    afterAll(async () => {
      await ctx?.close();
    });

    it('at 390x844 the stage has the screen: edge to edge, a one-row toolbar; people and chat are sheets', async () => {
      await page.goto(`${srv.url}/m/${conf}`);
      await poll(() => showsDesktop(page)).toBe(true);
      const stage = (await page.getByTestId('stage').boundingBox())!;
      const canvas = (await page.getByTestId('share-canvas').boundingBox())!;
      const bar = (await page.locator('.stage-bar').boundingBox())!;
      console.log(`phone: stage ${stage.width}x${stage.height}, canvas ${canvas.width}x${canvas.height}, toolbar ${bar.height} px high`);
      expect(stage.width).toBeGreaterThanOrEqual(385);
      expect(stage.height).toBeGreaterThanOrEqual(844 * 0.7);
      expect(canvas.width).toBeGreaterThanOrEqual(385);
      expect(canvas.height).toBeGreaterThanOrEqual(canvas.width * (H / W) - 2);
      expect(bar.height).toBeLessThanOrEqual(52);
      // Full screen is in view in that row without scrolling it.
      const fs = (await page.getByTestId('share-fullscreen').boundingBox())!;
      expect(fs.x + fs.width).toBeLessThanOrEqual(390);
      expect(await page.getByTestId('sidebar').isVisible()).toBe(false);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
      await page.screenshot({ path: path.join(SHOTS, 'phone-share-390x844.png') });

      await page.getByTestId('people-toggle').tap();
      await poll(() => page.getByTestId('sidebar').isVisible()).toBe(true);
      expect(await page.locator('[data-testid="sidebar"] .roster').isVisible()).toBe(true);
      expect(await page.getByTestId('chat-panel').isVisible()).toBe(false);
      // The sheet covers the lower part; the screen stays in view above it.
      const sheet = (await page.getByTestId('sidebar').boundingBox())!;
      expect(sheet.y).toBeGreaterThan(bar.y + bar.height + 100);
      expect(canvas.y + canvas.height).toBeLessThanOrEqual(sheet.y + 1);
      await page.screenshot({ path: path.join(SHOTS, 'phone-people-390x844.png') });
      await page.getByTestId('people-toggle').tap();
      await page.getByTestId('chat-toggle').tap();
      await poll(() => page.getByTestId('chat-panel').isVisible()).toBe(true);
      expect(await page.locator('[data-testid="sidebar"] .roster').isVisible()).toBe(false);
      await page.screenshot({ path: path.join(SHOTS, 'phone-chat-390x844.png') });
      await page.getByTestId('chat-toggle').tap();
      await poll(() => page.getByTestId('sidebar').isVisible()).toBe(false);
      expect(await showsDesktop(page)).toBe(true);
    });

    it('Full screen puts the stage on the whole screen, and back', async () => {
      await page.getByTestId('share-fullscreen').tap();
      await poll(() => page.evaluate(() => document.fullscreenElement?.getAttribute('data-testid') ?? null)).toBe('stage');
      await poll(async () => (await page.getByTestId('stage').boundingBox())!.height).toBeGreaterThanOrEqual(840);
      // The button's label follows React's render after the fullscreenchange event, which may come after the layout.
      await poll(() => page.getByTestId('share-fullscreen').textContent()).toContain('Exit full screen');
      await page.screenshot({ path: path.join(SHOTS, 'phone-fullscreen-390x844.png') });
      await page.getByTestId('share-fullscreen').tap();
      await poll(() => page.evaluate(() => document.fullscreenElement)).toBeNull();
    });

    it('a pinch zooms in around the fingers; one finger then pans', async () => {
      const before = (await page.getByTestId('share-canvas').boundingBox())!;
      const zoom0 = Number(await page.getByTestId('share-viewport').getAttribute('data-zoom'));
      // Between the fingers: the middle of the desktop as shown.
      const mid = { x: before.x + before.width / 2, y: before.y + before.height / 2 };
      const hostAt = (box: { x: number; y: number; width: number }, p: Pt) => ({ x: ((p.x - box.x) * W) / box.width, y: ((p.y - box.y) * W) / box.width });
      const under0 = hostAt(before, mid);
      await glide(cdp, [{ x: mid.x - 30, y: mid.y }, { x: mid.x + 30, y: mid.y }], [{ x: mid.x - 120, y: mid.y }, { x: mid.x + 120, y: mid.y }]);
      await poll(async () => Number(await page.getByTestId('share-viewport').getAttribute('data-zoom'))).toBeGreaterThan(zoom0 * 2.5);
      const after = (await page.getByTestId('share-canvas').boundingBox())!;
      console.log(`pinch: zoom ${zoom0} -> ${await page.getByTestId('share-viewport').getAttribute('data-zoom')}, canvas ${before.width} -> ${after.width} px wide`);
      expect(after.width).toBeGreaterThan(before.width * 2.5);
      expect(await page.getByTestId('view-zoom').textContent()).toMatch(/^\d+%$/);
      // The point of the desktop between the fingers is still there, sideways (within a few host pixels);
      // upwards the screen, kept at the top of a phone's stage, cannot move further than its top edge.
      const under1 = hostAt(after, mid);
      expect(Math.abs(under1.x - under0.x)).toBeLessThan(25);
      expect(after.y).toBeLessThanOrEqual(before.y + 1);
      await page.screenshot({ path: path.join(SHOTS, 'phone-zoomed-390x844.png') });

      const scroller = page.getByTestId('share-scroller');
      const left0 = await scroller.evaluate((el) => el.scrollLeft);
      await glide(cdp, [{ x: mid.x + 80, y: mid.y }], [{ x: mid.x - 80, y: mid.y }]);
      await poll(() => scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(left0 + 100);
      await page.getByTestId('view-mode-fit').tap();
      await poll(async () => (await page.getByTestId('share-canvas').boundingBox())!.width).toBeLessThan(before.width + 2);
    });

    it("a controller's tap clicks, a long press right-clicks, two fingers scroll, and the keyboard button types", async () => {
      await page.getByTestId('control-request').tap();
      await poll(() => page.getByTestId('control-status').textContent()).toBe('You are in control');
      await poll(async () => (await focus()).snapshot().share?.controllerId).toBeTruthy();
      await expect.poll(() => agent!.output(), { timeout: 10_000 }).toMatch(/Bob is controlling/);

      seen.length = 0;
      const at = await onCanvas(page, TARGET.x + 60, TARGET.y + 40);
      await page.touchscreen.tap(at.x, at.y);
      await poll(() => seen.filter((e) => e.name === 'ButtonRelease').length, 5000).toBe(1);
      const press = seen.find((e) => e.name === 'ButtonPress')!;
      expect(press.detail).toBe(1);
      expect(Math.abs(press.x - 60)).toBeLessThanOrEqual(5);
      expect(Math.abs(press.y - 40)).toBeLessThanOrEqual(5);

      seen.length = 0;
      const at2 = await onCanvas(page, TARGET.x + 200, TARGET.y + 100);
      await touch(cdp, 'touchStart', [at2]);
      // Held still: the right button goes down while the finger is still on the glass.
      await poll(() => seen.some((e) => e.name === 'ButtonPress' && e.detail === 3), 5000).toBe(true);
      await touch(cdp, 'touchEnd', []);
      await poll(() => seen.filter((e) => e.name === 'ButtonRelease' && e.detail === 3).length, 5000).toBe(1);
      expect(seen.filter((e) => e.detail === 1)).toEqual([]);
      const right = seen.find((e) => e.name === 'ButtonPress')!;
      expect(Math.abs(right.x - 200)).toBeLessThanOrEqual(5);

      seen.length = 0;
      await page.getByTestId('share-keyboard').tap();
      await poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('soft-keyboard-field');
      await poll(() => page.getByTestId('keyboard-captured').isVisible()).toBe(true);
      // What a soft keyboard sends: text input without key codes, and Enter as a key.
      await page.keyboard.insertText('hi');
      await page.keyboard.press('Enter');
      const keysyms = () => seen.filter((e) => e.name === 'KeyPress' && e.keysym !== undefined).map((e) => e.keysym);
      await poll(keysyms, 5000).toEqual([0x68, 0x69, 0xff0d]);
      await page.screenshot({ path: path.join(SHOTS, 'phone-controlling-keyboard-390x844.png') });
      seen.length = 0;
      // Two fingers pushed up 150 px: the content follows them, i.e. the host scrolls down (button 5),
      // where the fingers went down (the pointer stays there, as with a touchpad).
      await glide(cdp, [{ x: at2.x - 25, y: at2.y + 10 }, { x: at2.x + 25, y: at2.y - 10 }], [{ x: at2.x - 25, y: at2.y - 140 }, { x: at2.x + 25, y: at2.y - 160 }], 10);
      await poll(() => seen.filter((e) => e.name === 'ButtonPress' && e.detail === 5).length, 5000).toBeGreaterThanOrEqual(2);
      expect(seen.filter((e) => e.name === 'ButtonPress' && e.detail !== 5)).toEqual([]);

      await page.getByTestId('control-release').tap();
      await poll(async () => (await focus()).snapshot().share?.controllerId).toBeNull();
    });

    it('at 1280x720 the Full screen button works too', async () => {
      const desk = await bobPage(false);
      try {
        await desk.page.goto(`${srv.url}/m/${conf}`);
        await poll(() => showsDesktop(desk.page)).toBe(true);
        await desk.page.screenshot({ path: path.join(SHOTS, 'desktop-share-1280x720.png') });
        await desk.page.getByTestId('share-fullscreen').click();
        await poll(() => desk.page.evaluate(() => document.fullscreenElement?.getAttribute('data-testid') ?? null)).toBe('stage');
        await poll(async () => (await desk.page.getByTestId('share-canvas').boundingBox())!.height).toBeGreaterThan(600);
        await desk.page.screenshot({ path: path.join(SHOTS, 'desktop-fullscreen-1280x720.png') });
        await desk.page.getByTestId('share-fullscreen').click();
        await poll(() => desk.page.evaluate(() => document.fullscreenElement)).toBeNull();
      } finally {
        await desk.ctx.close();
      }
    });
  });
});

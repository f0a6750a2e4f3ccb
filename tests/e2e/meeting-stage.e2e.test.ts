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
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { Painter, type Rgb } from '../../packages/agent/test/helpers/painter.js';
import { loadX11 } from '../../packages/agent/src/x11.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/meeting-stage.e2e.test.ts');
const W = 1280;
const H = 720;
const QUADRANTS: { x: number; y: number; c: Rgb }[] = [
  { x: 0, y: 0, c: [200, 30, 30] },
  { x: 640, y: 0, c: [30, 160, 60] },
  { x: 0, y: 360, c: [30, 60, 200] },
  { x: 640, y: 360, c: [220, 200, 40] },
];
// A window in the middle that records the input it gets.
const TARGET = { x: 440, y: 260, w: 400, h: 200, c: [90, 90, 90] as Rgb };
// Screenshots for a person to look at (not part of the repository).
const SHOTS = process.env.BATON_SHOTS_DIR ?? path.join(tmpdir(), 'baton-shots-stage');
const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout });

type XEv = { name: string; x: number; y: number; detail: number; keysym?: number };

describe.skipIf(!OK)('the meeting stage: auto-open, keyboard capture, phones', { timeout: 90_000 }, () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let agent: AgentRun | undefined;
  let browser: Browser;
  let conf = '';
  let bobCookie = '';
  const seen: XEv[] = [];

  const canvasPixel = (page: Page, x: number, y: number) =>
    page.evaluate(
      ([x, y]) => {
        const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement | null;
        if (!c || c.width === 0) return null;
        return Array.from(c.getContext('2d')!.getImageData(x!, y!, 1, 1).data.slice(0, 3));
      },
      [x, y],
    );
  const close = (a: number[] | null, c: Rgb, tol = 12) => !!a && a.every((v, i) => Math.abs(v - c[i]!) <= tol);
  const showsDesktop = async (page: Page) => {
    for (const q of QUADRANTS) if (!close(await canvasPixel(page, q.x ? q.x + 600 : 40, q.y ? q.y + 320 : 40), q.c)) return false;
    return true;
  };
  const focus = async () => (await srv.registry.get(conf))!;

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
    xvfb = await startXvfb(W, H);
    painter = await Painter.open(xvfb.display);
    for (const q of QUADRANTS) await painter.window(q.x, q.y, 640, 360, q.c);
    const em = loadX11().eventMask;
    const target = await painter.window(TARGET.x, TARGET.y, TARGET.w, TARGET.h, TARGET.c, em.KeyPress! | em.ButtonPress! | em.ButtonRelease!);
    painter.conn.client.SetInputFocus(target, 1);
    await painter.conn.sync();
    painter.conn.on('event', (ev: { name?: string; x?: number; y?: number; keycode?: number }) => {
      if (!['KeyPress', 'ButtonPress', 'ButtonRelease'].includes(ev.name ?? '')) return;
      const e: XEv = { name: ev.name!, x: ev.x ?? 0, y: ev.y ?? 0, detail: ev.keycode ?? 0 };
      seen.push(e);
      if (e.name === 'KeyPress') {
        painter.conn.client.GetKeyboardMapping(e.detail, 1, (_err: unknown, rows: number[][]) => {
          e.keysym = rows?.[0]?.[0];
          return true;
        });
      }
    });

    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-stage-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    const alice = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, alice, { guests: 'allow', control: 'signed-in' }, 'Stage demo');
    agent = await startAgentShare(srv, conf, alice, xvfb.display);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await browser?.close();
    await srv?.close();
    await painter?.close();
    await xvfb?.stop();
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
});

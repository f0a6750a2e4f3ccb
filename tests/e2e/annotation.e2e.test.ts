/**
 * End to end, issue 14 item 1: annotation on the shared screen. An Xvfb desktop shared by the real
 * agent CLI, the real server, and Chromium pages: Alice's own meeting page (she presents), Bob
 * (signed in, a viewer) and later Carol (a guest who joins late).
 *
 * - Alice draws a stroke with the pen; Bob's overlay shows it at the same screen coordinates: its box
 *   is the shared canvas's box and its pixels are set along the stroke and clear beside it, at Fit and
 *   at 1:1, at two browser window sizes;
 * - Alice's laser trail reaches Bob and fades (its pixels are gone after it);
 * - Carol, joining late, sees the marks;
 * - Bob, without permission, is refused by the server (a raw conference socket from his page);
 *   once Alice lets viewers annotate, he draws and Alice sees his mark;
 * - while Bob, the controller, holds an annotation tool his pointer draws and the host's pointer
 *   stays put; with the tool down, his pointer moves the host's again;
 * - typing elsewhere on the host leaves the stroke; the content under it replaced removes it.
 *
 * Timings (presenter's pointer up → the viewer's overlay shows it; laser seen → faded; host change
 * → mark gone) are printed as "annotation e2e:" lines.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { Painter } from '../../packages/agent/test/helpers/painter.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/annotation.e2e.test.ts');
type Pt = { x: number; y: number };
/** Raw touch through the DevTools protocol (several fingers). */
const touch = (cdp: CDPSession, type: 'touchStart' | 'touchMove' | 'touchEnd', points: Pt[]) =>
  cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map((p, id) => ({ x: p.x, y: p.y, id })) });
const glide = async (cdp: CDPSession, from: Pt[], to: Pt[], steps = 8) => {
  await touch(cdp, 'touchStart', from);
  for (let i = 1; i <= steps; i++) await touch(cdp, 'touchMove', from.map((f, k) => ({ x: f.x + ((to[k]!.x - f.x) * i) / steps, y: f.y + ((to[k]!.y - f.y) * i) / steps })));
  await touch(cdp, 'touchEnd', []);
};
const W = 1280, H = 720;
/** Alice's stroke, in screen pixels: a horizontal line under "a line of text". */
const STROKE = { y: 300, x0: 300, x1: 700 };

/**
 * The toggle shows the policy the server holds, so it flips only when the server's answer arrives:
 * click, then wait for that (Playwright's check() wants the state to change at once).
 */
async function allowViewers(page: Page, on: boolean): Promise<void> {
  const box = page.getByTestId('annotate-allow-viewers');
  if ((await box.isChecked()) !== on) await box.click();
  await expect.poll(() => box.isChecked(), { timeout: 20_000 }).toBe(on);
}

describe.skipIf(!OK)('annotation on the shared screen (agent + browsers)', () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let win = 0;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let agent: AgentRun;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let carol: Page;
  let conf = '';

  /** The overlay's alpha at screen point (x, y) on a page (null: no overlay yet). */
  const alphaAt = (page: Page, x: number, y: number) =>
    page.evaluate(({ x, y, W, H }) => {
      const c = document.querySelector('[data-testid="annotation-overlay"]') as HTMLCanvasElement | null;
      if (!c || c.width === 0) return null;
      const px = Math.min(c.width - 1, Math.round((x * c.width) / W)), py = Math.min(c.height - 1, Math.round((y * c.height) / H));
      // The brightest of the 5x5 device pixels around it: a thin line at a small zoom covers one or two.
      const d = c.getContext('2d')!.getImageData(Math.max(0, px - 2), Math.max(0, py - 2), 5, 5).data;
      let a = 0;
      for (let i = 3; i < d.length; i += 4) a = Math.max(a, d[i]!);
      return a;
    }, { x, y, W, H });
  /** With ANNOTATION_SHOTS=<dir>, screenshots to check by eye. */
  const shot = async (page: Page, name: string) => {
    if (process.env.ANNOTATION_SHOTS) await page.screenshot({ path: path.join(process.env.ANNOTATION_SHOTS, `${name}.png`) });
  };
  const marks = (page: Page) => page.getByTestId('annotation-overlay').getAttribute('data-marks').then(Number).catch(() => -1);
  /** The overlay lies exactly on the shared picture. */
  const aligned = async (page: Page) => {
    const a = (await page.getByTestId('annotation-overlay').boundingBox())!;
    const b = (await page.getByTestId('share-canvas').boundingBox())!;
    return Math.max(Math.abs(a.x - b.x), Math.abs(a.y - b.y), Math.abs(a.width - b.width), Math.abs(a.height - b.height));
  };
  /** Client coordinates of a screen point on a page's overlay. */
  const at = async (page: Page, x: number, y: number) => {
    const r = (await page.getByTestId('annotation-overlay').boundingBox())!;
    return { x: r.x + (x * r.width) / W, y: r.y + (y * r.height) / H };
  };
  const drawLine = async (page: Page, x0: number, y0: number, x1: number, y1: number) => {
    const a = await at(page, x0, y0), b = await at(page, x1, y1);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(a.x + ((b.x - a.x) * i) / 10, a.y + ((b.y - a.y) * i) / 10);
    await page.mouse.up();
  };
  /** The stroke is on this page's overlay: set along it, clear 40 px beside it. */
  const showsStroke = async (page: Page) => {
    await expect.poll(() => alphaAt(page, (STROKE.x0 + STROKE.x1) / 2, STROKE.y), { timeout: 20_000 }).toBeGreaterThan(200);
    expect(await alphaAt(page, STROKE.x0 + 20, STROKE.y)).toBeGreaterThan(200);
    expect(await alphaAt(page, (STROKE.x0 + STROKE.x1) / 2, STROKE.y + 40)).toBe(0);
    expect(await alphaAt(page, STROKE.x1 + 40, STROKE.y)).toBe(0);
    expect(await aligned(page)).toBeLessThanOrEqual(1);
  };

  beforeAll(async () => {
    buildWeb();
    xvfb = await startXvfb(W, H);
    painter = await Painter.open(xvfb.display);
    // A desktop: a grey page with a few dark "lines of text".
    win = await painter.window(0, 0, W, H, [200, 200, 200]);
    for (let y = 100; y < 600; y += 50) await painter.fill(win, 100, y, 900, 20, [40, 40, 40]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-annotation-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    const aliceCookie = await signUp(srv.url, 'alice');
    const bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, aliceCookie, { guests: 'allow', control: 'signed-in' }, 'Annotation demo');
    agent = await startAgentShare(srv, conf, aliceCookie, xvfb.display, 'signed-in', srv.url, ['--no-p2p']);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const open = async (cookie: string, viewport = { width: 1280, height: 800 }) => {
      const ctx = await browser.newContext({ viewport });
      await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: srv.url }]);
      ctx.setDefaultTimeout(20_000);
      const page = await ctx.newPage();
      await page.goto(`${srv.url}/m/${conf}`, { timeout: 90_000 });
      return page;
    };
    alice = await open(aliceCookie);
    bob = await open(bobCookie);
    // Alice's page shows her own desktop when she asks (the host's page does not open it by itself).
    await alice.getByTestId('share-view').click({ timeout: 60_000 });
    for (const p of [alice, bob]) await p.locator('[data-testid="share-viewport"][data-drawn="true"]').waitFor({ timeout: 60_000 });
  }, 360_000);

  afterAll(async () => {
    await agent?.stop();
    await browser?.close();
    await srv?.close();
    await painter?.close();
    await xvfb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the presenter draws a stroke; the viewer sees it at the same screen coordinates, at Fit and 1:1, at two window sizes', async () => {
    // Bob has no tools (viewers may not annotate by default); Alice has them.
    expect(await bob.getByTestId('annotate-pen').count()).toBe(0);
    await alice.getByTestId('annotate-pen').click();
    expect(await alice.getByTestId('annotation-overlay').getAttribute('data-tool')).toBe('pen');
    await drawLine(alice, STROKE.x0, STROKE.y, STROKE.x1, STROKE.y);
    const drawnAt = Date.now();
    await expect.poll(() => marks(bob), { timeout: 20_000, interval: 20 }).toBe(1);
    console.log(`annotation e2e: presenter's stroke on the viewer's overlay ${Date.now() - drawnAt} ms after pointer up`);
    await expect.poll(() => bob.getByTestId('mark-legend-entry').textContent()).toBe('Alice');
    await showsStroke(bob);
    await showsStroke(alice);
    await shot(alice, 'presenter-1280');
    await shot(bob, 'viewer-fit-1280');

    // 1:1 with scrolling, then a smaller window at Fit and at 1:1.
    await bob.getByTestId('view-mode-1to1').click();
    await expect.poll(() => bob.getByTestId('share-viewport').getAttribute('data-mode')).toBe('1:1');
    await bob.getByTestId('share-scroller').evaluate((el) => el.scrollTo(200, 150));
    await showsStroke(bob);
    await bob.setViewportSize({ width: 900, height: 640 });
    await showsStroke(bob);
    await bob.getByTestId('view-mode-fit').click();
    await expect.poll(() => bob.getByTestId('share-viewport').getAttribute('data-zoom')).not.toBe('1.000');
    await showsStroke(bob);
    await bob.setViewportSize({ width: 390, height: 844 }); // a phone, upright
    await showsStroke(bob);
    await shot(bob, 'viewer-phone');
    await bob.setViewportSize({ width: 1280, height: 800 });
    await showsStroke(bob);
  }, 180_000);

  it("the presenter's laser reaches the viewer and its trail fades", async () => {
    await alice.getByTestId('annotate-laser').click();
    const a = await at(alice, 200, 500), b = await at(alice, 500, 520);
    await alice.mouse.move(a.x, a.y);
    for (let i = 1; i <= 8; i++) await alice.mouse.move(a.x + ((b.x - a.x) * i) / 8, a.y + ((b.y - a.y) * i) / 8);
    await expect.poll(() => bob.getByTestId('annotation-overlay').getAttribute('data-lasers'), { timeout: 15_000, interval: 20 }).toBe('1');
    const seenAt = Date.now();
    // Gone on its own (LASER_FADE_MS), with nothing left on the overlay there.
    await expect.poll(() => bob.getByTestId('annotation-overlay').getAttribute('data-lasers'), { timeout: 15_000, interval: 20 }).toBe('0');
    console.log(`annotation e2e: laser trail faded ${Date.now() - seenAt} ms after the viewer first drew it`);
    expect(await alphaAt(bob, 500, 520)).toBe(0);
    expect(await alphaAt(bob, 350, 510)).toBe(0);
    expect(await marks(bob)).toBe(1); // the laser left no mark
    await alice.getByTestId('annotate-laser').click(); // the tool down again
    expect(await alice.getByTestId('annotation-overlay').getAttribute('data-tool')).toBe('');
  }, 120_000);

  it('a late joiner on a phone sees the marks that are there, in place after a pinch zoom', async () => {
    // A phone: touch, and two device pixels per CSS pixel (the overlay's canvas has them too).
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
    ctx.setDefaultTimeout(20_000);
    carol = await ctx.newPage();
    await carol.goto(`${srv.url}/m/${conf}`, { timeout: 90_000 });
    await carol.getByTestId('guest-name').fill('Carol');
    await carol.getByTestId('guest-join').click();
    await expect.poll(() => carol.getByTestId('share-viewport').getAttribute('data-drawn'), { timeout: 60_000 }).toBe('true');
    await expect.poll(() => marks(carol), { timeout: 20_000 }).toBe(1);
    await showsStroke(carol);
    // A pinch around the stroke zooms in; the overlay stays on the picture and the stroke on its spot.
    const zoom0 = Number(await carol.getByTestId('share-viewport').getAttribute('data-zoom'));
    const mid = await at(carol, (STROKE.x0 + STROKE.x1) / 2, STROKE.y);
    const cdp = await ctx.newCDPSession(carol);
    await glide(cdp, [{ x: mid.x - 30, y: mid.y }, { x: mid.x + 30, y: mid.y }], [{ x: mid.x - 100, y: mid.y }, { x: mid.x + 100, y: mid.y }]);
    await expect.poll(async () => Number(await carol.getByTestId('share-viewport').getAttribute('data-zoom')), { timeout: 20_000 }).toBeGreaterThan(zoom0 * 2);
    await showsStroke(carol);
    await shot(carol, 'phone-zoomed');
  }, 180_000);

  it('a viewer without permission is refused by the server; allowed, he draws and the others see it', async () => {
    const answer = await bob.evaluate(async (conf) => {
      // A second conference socket of Bob's own (his cookie goes with it), asking the server directly.
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws/conference/${conf}`);
      const next = (pred: (m: { type: string; rid?: string }) => boolean) =>
        new Promise<{ type: string; code?: string; message?: string }>((resolve) => ws.addEventListener('message', function on(e) {
          const m = JSON.parse(e.data as string);
          if (pred(m)) {
            ws.removeEventListener('message', on);
            resolve(m);
          }
        }));
      await new Promise((r) => ws.addEventListener('open', r));
      const welcome = next((m) => m.type === 'welcome');
      ws.send(JSON.stringify({ type: 'hello', v: 1 }));
      await welcome;
      const reply = next((m) => m.rid === 'x1');
      ws.send(JSON.stringify({ type: 'annotation.add', rid: 'x1', surface: { kind: 'screen' }, mark: { tool: 'pen', points: [[10, 10], [50, 50]] } }));
      const r = await reply;
      ws.close(1000);
      return r;
    }, conf);
    expect(answer).toMatchObject({ type: 'error', code: 'policy' });
    expect(answer.message).toMatch(/only the presenter may annotate/);
    expect(await marks(alice)).toBe(1);

    await allowViewers(alice, true);
    await bob.getByTestId('annotate-rectangle').click({ timeout: 20_000 });
    await drawLine(bob, 900, 600, 1100, 680);
    await expect.poll(() => marks(alice), { timeout: 20_000 }).toBe(2);
    await expect.poll(() => alice.getByTestId('mark-legend-entry').allTextContents()).toEqual(['Alice', 'Bob']);
    await shot(bob, 'viewer-allowed-two-marks');
    // His own clear takes his mark only.
    await bob.getByTestId('annotate-clear-mine').click();
    await expect.poll(() => marks(carol), { timeout: 20_000 }).toBe(1);
    await bob.getByTestId('annotate-rectangle').click();
    await allowViewers(alice, false);
    await expect.poll(() => bob.getByTestId('annotate-pen').count(), { timeout: 20_000 }).toBe(0);
  }, 180_000);

  it('typing elsewhere leaves the mark; the content under it replaced removes it', async () => {
    const viewerPixel = (x: number, y: number) =>
      bob.evaluate(({ x, y }) => {
        const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement;
        return [...c.getContext('2d')!.getImageData(x, y, 1, 1).data.slice(0, 3)];
      }, { x, y });
    // "Typing": a few characters appear one by one on a line far from the stroke.
    for (let i = 0; i < 6; i++) await painter.fill(win, 120 + i * 14, 555, 10, 12, [200, 30, 30]);
    await expect.poll(() => viewerPixel(120 + 5 * 14 + 2, 560), { timeout: 20_000 }).toEqual([200, 30, 30]);
    expect(await marks(bob)).toBe(1);
    // A new window opens over the line the stroke underlines.
    await painter.fill(win, STROKE.x0 - 40, STROKE.y - 40, STROKE.x1 - STROKE.x0 + 80, 80, [30, 90, 160]);
    const changedAt = Date.now();
    await expect.poll(() => viewerPixel(STROKE.x0 + 10, STROKE.y), { timeout: 20_000, interval: 20 }).toEqual([30, 90, 160]);
    const pictureAt = Date.now();
    await expect.poll(() => marks(bob), { timeout: 20_000, interval: 20 }).toBe(0);
    console.log(`annotation e2e: host content replaced → viewer has the new picture ${pictureAt - changedAt} ms, the mark gone ${Date.now() - changedAt} ms`);
    for (const p of [bob, alice, carol]) await expect.poll(() => marks(p), { timeout: 20_000 }).toBe(0);
    expect(await alphaAt(bob, (STROKE.x0 + STROKE.x1) / 2, STROKE.y)).toBe(0);
  }, 120_000);

  it("the controller's pointer draws while a tool is in hand and reaches the host once it is down", async () => {
    const hostPointer = () => {
      const out = execFileSync('xdotool', ['getmouselocation', '--shell'], { env: { ...process.env, DISPLAY: xvfb.display }, encoding: 'utf8' });
      return { x: Number(/X=(\d+)/.exec(out)![1]), y: Number(/Y=(\d+)/.exec(out)![1]) };
    };
    await allowViewers(alice, true);
    await bob.getByTestId('control-request').click();
    await expect.poll(() => bob.getByTestId('control-status').textContent(), { timeout: 20_000 }).toBe('You are in control');
    // With the tool off his pointer drives the host's.
    const p1 = await at(bob, 640, 100);
    await bob.mouse.move(p1.x, p1.y);
    await bob.mouse.move(p1.x + 1, p1.y + 1);
    await expect.poll(hostPointer, { timeout: 20_000 }).toEqual({ x: 641, y: 101 });
    // With the pen: a stroke, and the host's pointer stays where it was.
    await bob.getByTestId('annotate-pen').click();
    await drawLine(bob, 800, 620, 1000, 640);
    await expect.poll(() => marks(alice), { timeout: 20_000 }).toBe(1);
    expect(hostPointer()).toEqual({ x: 641, y: 101 });
    // Tool down: the pointer is the host's again.
    await bob.getByTestId('annotate-off').click();
    const p2 = await at(bob, 900, 200);
    await bob.mouse.move(p2.x, p2.y);
    await bob.mouse.move(p2.x + 1, p2.y + 1);
    await expect.poll(hostPointer, { timeout: 20_000 }).toEqual({ x: 901, y: 201 });
    await bob.getByTestId('control-release').click();
  }, 120_000);

  it('text, arrow and highlighter reach the viewer; the presenter clears all', async () => {
    if ((await marks(alice)) > 0) await alice.getByTestId('annotate-clear-all').click();
    await expect.poll(() => marks(bob), { timeout: 20_000 }).toBe(0);
    // The toast of Bob's control request may lie over the screen: out of the way first.
    for (const b of await alice.locator('[data-testid="toast"] button').all()) await b.click().catch(() => {});
    await expect.poll(() => alice.getByTestId('toast').count(), { timeout: 20_000 }).toBe(0);
    // Text: a click places a field; Enter puts the text on the screen (drawn, never HTML, on the viewer).
    await alice.getByTestId('annotate-text').click();
    const p = await at(alice, 200, 640);
    await alice.mouse.click(p.x, p.y);
    await alice.getByTestId('annotation-text-input').fill('<b>Look</b> here');
    await alice.getByTestId('annotation-text-input').press('Enter');
    await expect.poll(() => marks(bob), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => alphaAt(bob, 215, 652), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await bob.locator('b', { hasText: 'Look' }).count()).toBe(0);
    await alice.getByTestId('annotate-arrow').click();
    await drawLine(alice, 700, 660, 900, 620);
    await alice.getByTestId('annotate-highlighter').click();
    await drawLine(alice, 100, 60, 400, 60);
    await expect.poll(() => marks(bob), { timeout: 20_000 }).toBe(3);
    await expect.poll(() => alphaAt(bob, 800, 640), { timeout: 20_000 }).toBeGreaterThan(200);
    // The highlighter is see-through.
    const hl = (await alphaAt(bob, 250, 60))!;
    expect(hl).toBeGreaterThan(40);
    expect(hl).toBeLessThan(200);
    await shot(bob, 'viewer-text-arrow-highlighter');
    await alice.getByTestId('annotate-clear-all').click();
    for (const page of [bob, carol]) await expect.poll(() => marks(page), { timeout: 20_000 }).toBe(0);
    expect(await alphaAt(bob, 800, 640)).toBe(0);
  }, 120_000);
});

/**
 * End to end, issue 12 items 2 and 5: switch what is shared live, the host's indicator, pause.
 * An Xvfb desktop with two RandR monitors (xrandr --setmonitor), the real agent CLI with its standard
 * input as the host's keys (the pipe protocol), the real server, a Chromium viewer (Bob) and the
 * host's own meeting page (Alice).
 *
 * - monitor left → monitor right → a window, from the agent's terminal: after each switch the viewer's
 *   canvas has the new size and exactly the host's pixels, and it never showed a black picture between;
 * - the indicator window is on the host's screen (xwininfo) and the viewer's picture of the monitor it
 *   sits on has the desktop's pixels at its place, not the indicator's, also after they changed under
 *   it and while a window lies across it (Composite: every window keeps its own pixels);
 * - "Switch source" on the host's own meeting page switches back to monitor left; no other page gets the list;
 * - pause (key, then a click on the indicator) freezes the viewer's picture while the host's screen
 *   changes, with "Paused by host" shown; resume brings the new pixels;
 * - "Pause sharing" on the host's own meeting page pauses the agent (the viewer's picture stays, with
 *   "Paused by host"); the server refuses the same command from another account; "Resume sharing";
 * - "Controlled by" in another colour on the indicator while Bob controls, and his pointer lands on
 *   monitor right's place once the share switched there;
 * - a window switched to mid-share that is closed ends the share with the reason, as with --window.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { Painter } from '../../packages/agent/test/helpers/painter.js';
import { xcall } from '../../packages/agent/src/x11.js';
import { TestClient, createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { canvasMismatches, texture } from '../support/hostDesktop.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/live-switch.e2e.test.ts');
const W = 1280, H = 720;
const LEFT = { x: 0, y: 0, w: 700, h: 720 };
const RIGHT = { x: 700, y: 0, w: 580, h: 720 };
const WIN = { x: 100, y: 100, w: 300, h: 200 };
const TITLE = 'Baton live-switch target';
/** Where the agent puts its indicator: the screen's top-right corner (Indicator.ts). */
const IND = { x: W - 300 - 8, y: 8, w: 300, h: 24 };

/** The host's screen as the test drew it (RGB, W x H). */
const screen = new Uint8Array(W * H * 3);
function draw(x: number, y: number, w: number, h: number, rgb: Uint8Array): void {
  for (let row = 0; row < h; row++) screen.set(rgb.subarray(row * w * 3, (row + 1) * w * 3), ((y + row) * W + x) * 3);
}
function crop(r: { x: number; y: number; w: number; h: number }): Uint8Array {
  const out = new Uint8Array(r.w * r.h * 3);
  for (let row = 0; row < r.h; row++) out.set(screen.subarray(((r.y + row) * W + r.x) * 3, ((r.y + row) * W + r.x + r.w) * 3), row * r.w * 3);
  return out;
}

describe.skipIf(!OK)('switching what is shared live, the indicator and pause (agent + browser)', () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let agent: AgentRun;
  let browser: Browser;
  let bob: Page;
  let alice: Page;
  let conf = '';
  let bobCookie = '';
  let target = 0;
  let leftWin = 0;
  let rightWin = 0;
  const x11env = () => ({ ...process.env, DISPLAY: xvfb.display });
  const say = (line: string) => void agent.proc.stdin!.write(`${line}\n`);

  const showing = (r: { x: number; y: number; w: number; h: number }, timeout = 20_000) => expect.poll(() => canvasMismatches(bob, crop(r), r.w, r.h), { timeout }).toBe(0);
  /** Black pixels seen at the canvas's centre on any animation frame since the watch started. */
  const watchBlank = () =>
    bob.evaluate(() => {
      const w = window as unknown as { __blank: number; __watch?: boolean };
      w.__blank = 0;
      if (w.__watch) return;
      w.__watch = true;
      const tick = (): void => {
        const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement | null;
        if (c && c.width > 0) {
          const d = c.getContext('2d')!.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
          if (d[0] === 0 && d[1] === 0 && d[2] === 0) w.__blank++;
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
  const blanks = () => bob.evaluate(() => (window as unknown as { __blank: number }).__blank);
  /** The colour of one pixel of the host's screen (root window). */
  const hostPixel = async (x: number, y: number) => {
    const img = await xcall<{ data: Buffer }>((cb) => painter.conn.client.GetImage(2, painter.conn.root, x, y, 1, 1, 0xffffffff, cb));
    return [img.data[2], img.data[1], img.data[0]];
  };

  beforeAll(async () => {
    buildWeb();
    xvfb = await startXvfb(W, H);
    execFileSync('xrandr', ['--setmonitor', 'left', `${LEFT.w}/185x${LEFT.h}/190+${LEFT.x}+${LEFT.y}`, 'none'], { env: x11env() });
    execFileSync('xrandr', ['--setmonitor', 'right', `${RIGHT.w}/150x${RIGHT.h}/190+${RIGHT.x}+${RIGHT.y}`, 'none'], { env: x11env() });
    painter = await Painter.open(xvfb.display);
    // Two desktop backgrounds, one per monitor, and an application window on the left one.
    leftWin = await painter.window(LEFT.x, LEFT.y, LEFT.w, LEFT.h, [20, 20, 20]);
    rightWin = await painter.window(RIGHT.x, RIGHT.y, RIGHT.w, RIGHT.h, [20, 20, 20]);
    const left = texture(LEFT.w, LEFT.h, 1), right = texture(RIGHT.w, RIGHT.h, 2), win = texture(WIN.w, WIN.h, 3);
    await painter.putRgb(leftWin, 0, 0, LEFT.w, LEFT.h, left);
    await painter.putRgb(rightWin, 0, 0, RIGHT.w, RIGHT.h, right);
    draw(LEFT.x, LEFT.y, LEFT.w, LEFT.h, left);
    draw(RIGHT.x, RIGHT.y, RIGHT.w, RIGHT.h, right);
    const X = painter.conn.client;
    target = X.AllocID();
    X.CreateWindow(target, painter.conn.root, WIN.x, WIN.y, WIN.w, WIN.h, 0, 0, 1, 0, { backgroundPixel: 0x336699 });
    X.ChangeProperty(0, target, 39 /* WM_NAME */, 31 /* STRING */, 8, TITLE);
    X.ChangeProperty(0, target, 67 /* WM_CLASS */, 31, 8, 'batontest\0BatonTest\0');
    X.MapWindow(target);
    await painter.conn.sync();
    await painter.putRgb(target, 0, 0, WIN.w, WIN.h, win);
    draw(WIN.x, WIN.y, WIN.w, WIN.h, win);

    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-live-switch-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    const aliceCookie = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, aliceCookie, { guests: 'allow', control: 'signed-in' }, 'Switch demo');
    agent = await startAgentShare(srv, conf, aliceCookie, xvfb.display, 'signed-in', srv.url, ['--monitor', 'left', '--no-p2p'], { stdin: 'pipe', indicator: true });

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const open = async (cookie: string) => {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: srv.url }]);
      ctx.setDefaultTimeout(15_000);
      const page = await ctx.newPage();
      await page.goto(`${srv.url}/m/${conf}`, { timeout: 90_000 }); // a loaded machine loads the bundle slowly
      return page;
    };
    bob = await open(bobCookie);
    alice = await open(aliceCookie);
  }, 360_000);

  afterAll(async () => {
    await agent?.stop();
    await browser?.close();
    await srv?.close();
    await painter?.close();
    await xvfb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('shares monitor left; the indicator is on the host screen, in the top-right corner', async () => {
    await showing(LEFT);
    expect(agent.output()).toContain('Sharing monitor left (700x720)');
    await expect.poll(() => execFileSync('xwininfo', ['-root', '-tree'], { env: x11env(), encoding: 'utf8' }), { timeout: 10_000 }).toContain('"Baton sharing indicator"');
    const info = execFileSync('xwininfo', ['-name', 'Baton sharing indicator'], { env: x11env(), encoding: 'utf8' });
    expect(info).toMatch(new RegExp(`Absolute upper-left X:\\s+${IND.x}\\b`));
    expect(info).toMatch(new RegExp(`Absolute upper-left Y:\\s+${IND.y}\\b`));
    expect(info).toMatch(/Map State: IsViewable/);
    expect(info).toMatch(/Override Redirect State: yes/);
    expect(await hostPixel(IND.x + 2, IND.y + 2)).toEqual([0x15, 0x65, 0xc0]); // "Sharing" blue
    expect(agent.output()).toContain('State: Sharing monitor left');
  }, 150_000);

  it('switches to monitor right from the terminal: new size, exact pixels, the desktop where the indicator is, never blank', async () => {
    await watchBlank();
    say('s');
    await expect.poll(() => agent.output(), { timeout: 10_000 }).toMatch(/What to share:[\s\S]*monitor right 580x720 \[monitor:right\]/);
    say('source monitor:right');
    await showing(RIGHT);
    // The indicator sits on this monitor: the viewer has the texture there (checked by `showing`), and the host has the indicator.
    expect(await hostPixel(IND.x + 2, IND.y + 2)).toEqual([0x15, 0x65, 0xc0]);
    expect(await blanks()).toBe(0);
    expect(agent.output()).toContain('Now sharing monitor right (580x720), switched from this terminal.');
  }, 150_000);

  it('what changes under the indicator reaches the viewer: drawn there, and a window dragged across it', async () => {
    const next = texture(RIGHT.w, RIGHT.h, 8);
    await painter.putRgb(rightWin, 0, 0, RIGHT.w, RIGHT.h, next);
    draw(RIGHT.x, RIGHT.y, RIGHT.w, RIGHT.h, next);
    await showing(RIGHT);
    // A window dragged up into the corner and left lying across the indicator, which stays on top for the host.
    const size = { w: 160, h: 60 };
    const pic = texture(size.w, size.h, 9);
    const w = await painter.window(RIGHT.x + 40, 400, size.w, size.h, [0, 0, 0]);
    await painter.putRgb(w, 0, 0, size.w, size.h, pic);
    const end = { x: IND.x + 100, y: 0 };
    for (let i = 1; i <= 8; i++) await painter.move(w, Math.round(RIGHT.x + 40 + ((end.x - RIGHT.x - 40) * i) / 8), Math.round(400 - (400 * i) / 8));
    draw(end.x, end.y, size.w, size.h, pic);
    await showing(RIGHT);
    await expect.poll(() => hostPixel(IND.x + 110, IND.y + 2), { timeout: 10_000 }).toEqual([0x15, 0x65, 0xc0]);
    expect(await canvasMismatches(bob, crop(RIGHT), RIGHT.w, RIGHT.h)).toBe(0);
    await painter.destroy(w);
    draw(RIGHT.x, RIGHT.y, RIGHT.w, RIGHT.h, next);
    await showing(RIGHT);
  }, 150_000);

  it('switches to a window by its number in the list', async () => {
    const out = agent.output();
    const line = out.slice(out.lastIndexOf('What to share:')).split('\n').find((l) => l.includes(`window:0x${target.toString(16)}`));
    expect(line).toBeDefined();
    say(line!.trim().split(':')[0]!);
    await showing(WIN);
    expect(await blanks()).toBe(0);
  }, 150_000);

  it("switches back to monitor left from the host's own meeting page; only that page has the list", async () => {
    const select = alice.getByTestId('share-source-select');
    await expect.poll(() => select.inputValue(), { timeout: 15_000 }).toBe(`window:0x${target.toString(16)}`);
    expect(await alice.getByTestId('share-source-option').allTextContents()).toEqual(expect.arrayContaining(['Whole screen (1280×720)', 'Monitor left (700×720)', 'Monitor right (580×720)', `Window ${TITLE} (BatonTest) (300×200)`]));
    expect(await bob.getByTestId('share-source').count()).toBe(0);
    await select.selectOption('monitor:left');
    await showing(LEFT);
    expect(await blanks()).toBe(0);
    await expect.poll(() => agent.output(), { timeout: 15_000 }).toContain('Now sharing monitor left (700x720), switched from your meeting page (account alice).');
    await expect.poll(() => select.inputValue(), { timeout: 15_000 }).toBe('monitor:left');
  }, 150_000);

  it('pause freezes the viewer while the host screen changes, with "Paused by host"; resume shows the new pixels', async () => {
    const before = crop(LEFT);
    say('p');
    await expect.poll(() => bob.getByTestId('share-paused').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await bob.getByTestId('share-paused').textContent()).toBe('Paused by host');
    await expect.poll(() => hostPixel(IND.x + 2, IND.y + 2), { timeout: 15_000 }).toEqual([0xf9, 0xa8, 0x25]); // "Paused" amber
    const drawnAtPause = await bob.evaluate(() => window.__batonViewer!.framesDrawn);
    const next = texture(LEFT.w, LEFT.h, 5);
    await painter.putRgb(leftWin, 0, 0, LEFT.w, LEFT.h, next);
    draw(LEFT.x, LEFT.y, LEFT.w, LEFT.h, next);
    draw(WIN.x, WIN.y, WIN.w, WIN.h, texture(WIN.w, WIN.h, 3)); // the window stays on top
    // The agent has seen that damage once it answers a later command: nothing went to the viewer.
    const states = (agent.output().match(/State: .*PAUSED/g) ?? []).length;
    say('i');
    await expect.poll(() => (agent.output().match(/State: .*PAUSED/g) ?? []).length, { timeout: 10_000 }).toBe(states + 1);
    expect(await canvasMismatches(bob, before, LEFT.w, LEFT.h)).toBe(0);
    expect(await bob.evaluate(() => window.__batonViewer!.framesDrawn)).toBe(drawnAtPause);
    say('r');
    await showing(LEFT);
    await expect.poll(() => bob.getByTestId('share-paused').count(), { timeout: 15_000 }).toBe(0);
    expect(await blanks()).toBe(0);
  }, 150_000);

  it('a click on the indicator pauses and resumes', async () => {
    execFileSync('xdotool', ['mousemove', String(IND.x + 20), String(IND.y + 10), 'click', '1'], { env: x11env() });
    await expect.poll(() => bob.getByTestId('share-paused').isVisible(), { timeout: 15_000 }).toBe(true);
    execFileSync('xdotool', ['mousemove', String(IND.x + 20), String(IND.y + 10), 'click', '1'], { env: x11env() });
    await expect.poll(() => bob.getByTestId('share-paused').count(), { timeout: 15_000 }).toBe(0);
  }, 150_000);

  it('"Pause sharing" on the host\'s own meeting page freezes the viewer with "Paused by host"; only that account may; "Resume sharing"', async () => {
    const pause = alice.getByTestId('host-pause');
    await expect.poll(() => pause.textContent(), { timeout: 15_000 }).toBe('Pause sharing');
    expect(await bob.getByTestId('host-pause').count()).toBe(0);
    const before = crop(LEFT);
    await pause.click();
    await expect.poll(() => bob.getByTestId('share-paused').isVisible(), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => pause.textContent(), { timeout: 15_000 }).toBe('Resume sharing');
    expect(await pause.getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => agent.output(), { timeout: 15_000 }).toContain('Pause from your meeting page (account alice).');
    const drawnAtPause = await bob.evaluate(() => window.__batonViewer!.framesDrawn);
    const next = texture(LEFT.w, LEFT.h, 6);
    await painter.putRgb(leftWin, 0, 0, LEFT.w, LEFT.h, next);
    draw(LEFT.x, LEFT.y, LEFT.w, LEFT.h, next);
    draw(WIN.x, WIN.y, WIN.w, WIN.h, texture(WIN.w, WIN.h, 3));
    // Another account cannot resume it: the server refuses before the agent hears of it.
    const other = new TestClient(srv.url, conf, { cookie: bobCookie });
    try {
      await other.hello();
      await other.next('welcome');
      expect(await other.request({ type: 'share.setPaused', paused: false })).toMatchObject({ type: 'error', code: 'forbidden' });
    } finally {
      other.close();
    }
    const states = (agent.output().match(/State: .*PAUSED/g) ?? []).length;
    say('i');
    await expect.poll(() => (agent.output().match(/State: .*PAUSED/g) ?? []).length, { timeout: 10_000 }).toBe(states + 1);
    expect(await canvasMismatches(bob, before, LEFT.w, LEFT.h)).toBe(0);
    expect(await bob.evaluate(() => window.__batonViewer!.framesDrawn)).toBe(drawnAtPause);
    await pause.click();
    await showing(LEFT);
    await expect.poll(() => bob.getByTestId('share-paused').count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => pause.textContent(), { timeout: 15_000 }).toBe('Pause sharing');
    expect(agent.output()).toContain('Resume from your meeting page (account alice).');
  }, 150_000);

  it('shows "Controlled by" in another colour while someone controls', async () => {
    await bob.getByTestId('control-request').click();
    await expect.poll(() => bob.getByTestId('control-status').textContent(), { timeout: 10_000 }).toBe('You are in control');
    await expect.poll(() => hostPixel(IND.x + 2, IND.y + 2), { timeout: 10_000 }).toEqual([0xc6, 0x28, 0x28]); // red
    await expect.poll(() => agent.output(), { timeout: 15_000 }).toContain('State: Sharing monitor left · controlled by Bob');
  }, 150_000);

  it("the controller's input follows a switch: on monitor right it lands at that monitor's place", async () => {
    say('source monitor:right');
    await showing(RIGHT);
    const box = (await bob.getByTestId('share-canvas').boundingBox())!;
    const at = { x: 50, y: 300 };
    await bob.mouse.move(box.x + (at.x * box.width) / RIGHT.w, box.y + (at.y * box.height) / RIGHT.h);
    const where = () => {
      const m = /x:(\d+) y:(\d+)/.exec(execFileSync('xdotool', ['getmouselocation'], { env: x11env(), encoding: 'utf8' }))!;
      return Math.abs(Number(m[1]) - (RIGHT.x + at.x)) <= 2 && Math.abs(Number(m[2]) - (RIGHT.y + at.y)) <= 2;
    };
    await expect.poll(where, { timeout: 15_000 }).toBe(true);
  }, 150_000);

  it('a window switched to mid-share that is closed ends the share with the reason', async () => {
    say(`source window:0x${target.toString(16)}`);
    await showing(WIN);
    const exited = new Promise<number | null>((resolve) => agent.proc.once('exit', (code) => resolve(code)));
    await painter.destroy(target);
    expect(await exited).toBe(0);
    expect(agent.output()).toContain(`Sharing ended: the shared window '${TITLE}' was closed.`);
    await expect.poll(async () => (await srv.registry.get(conf))?.snapshot().share ?? null, { timeout: 10_000 }).toBeNull();
    await expect.poll(() => bob.getByTestId('share-canvas').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => alice.getByTestId('host-panel').count(), { timeout: 10_000 }).toBe(0);
  }, 150_000);
});

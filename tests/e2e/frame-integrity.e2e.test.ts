/**
 * End to end, issue 17: every picture a viewer shows is a picture the host showed, also during motion
 * and under load. The agent runs with BATON_VERIFY_FRAMES=1 (each `frame` carries the hash of the
 * host's picture over its lossless cells) and the viewers (the meeting page, in Chromium) with
 * `window.__batonVerifyFrames`, so each viewer hashes its canvas after drawing every whole frame and
 * counts the frames that differ (`framesMismatched`).
 *
 * - a window with a textured title bar, text and a photo dragged along a curve at varying speed, with
 *   and without a CPU hog, two viewers of which one is CPU-throttled (it skips versions), and a late
 *   joiner during the motion: zero mismatching frames, and every canvas ends pixel-exact;
 * - a long document (headings, tables, gradients) scrolled in a real Chromium window on the host at two
 *   speeds: the same;
 * - the bench's code editor (typing, lines pushed down, smooth scrolls), spreadsheet (data entry, jump
 *   scrolls under frozen headers) and photo slideshow (crossfades, which the video layer may carry): the
 *   same, and every canvas pixel-exact once they stop (refined from JPEG or video back to lossless).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { Painter, photoLike } from '../../packages/agent/test/helpers/painter.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { pathToFileURL } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';
import { canvasRgba, screenPixels } from '../support/hostDesktop.js';

const OK = haveBrowserAndX('tests/e2e/frame-integrity.e2e.test.ts');
const W = 1280;
const H = 720;
/** The dragged window. */
const WIN = { w: 480, h: 320, title: 28 };
/** Seconds of motion per run (the issue asks for 10 s; each run here is one of several). */
const DRAG_S = Number(process.env.BATON_FRAME_TEST_SECONDS ?? 6);

type VerifyStats = { framesDrawn: number; framesVerified: number; framesMismatched: number; lastMismatchSeq: number };

/** Deterministic noise in [0, 1). */
const noise = (x: number, y: number, seed: number): number => ((Math.imul(x * 374761393 + y * 668265263 + seed * 2246822519, 1274126177) >>> 8) & 0xffff) / 65536;

/** The dragged window's pixels: a textured title bar, a text area (glyph-like marks) and a photo. */
function windowPixels(): Uint8Array {
  const rgb = new Uint8Array(WIN.w * WIN.h * 3);
  const put = (x: number, y: number, r: number, g: number, b: number) => rgb.set([r, g, b], (y * WIN.w + x) * 3);
  const photo = photoLike(200, 150, 7);
  for (let y = 0; y < WIN.h; y++) {
    for (let x = 0; x < WIN.w; x++) {
      if (y < WIN.title) {
        // Brushed-metal title bar: 24 levels of blue-grey, non-repeating.
        const v = 90 + Math.floor(noise(x, y, 1) * 24) * 3;
        put(x, y, v - 30, v - 10, v + 20);
      } else if (x >= 260 && x < 460 && y >= 60 && y < 210) {
        const i = ((y - 60) * 200 + (x - 260)) * 3;
        put(x, y, photo[i]!, photo[i + 1]!, photo[i + 2]!);
      } else {
        // Text lines: 6x10 "glyphs" of dark marks on white.
        const line = Math.floor((y - WIN.title - 8) / 16), gy = (y - WIN.title - 8) % 16;
        const col = Math.floor((x - 12) / 7), gx = (x - 12) % 7;
        const ink = line >= 0 && gy < 10 && col >= 0 && gx < 6 && (x < 250 || y >= 220) && x < WIN.w - 12 && noise(col * 7 + gx, line * 16 + gy, 3 + (col % 5)) < 0.45;
        if (ink) put(x, y, 20, 20, 30);
        else put(x, y, 250, 250, 245);
      }
    }
  }
  return rgb;
}

/** The desktop behind it: a diagonal gradient with a grid (many colours: JPEG where it is exposed, refined later). */
function desktopPixels(): Uint8Array {
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const grid = x % 80 === 0 || y % 80 === 0;
      const o = (y * W + x) * 3;
      rgb[o] = grid ? 255 : Math.floor((x / W) * 200) + 30;
      rgb[o + 1] = grid ? 255 : Math.floor((y / H) * 180) + 40;
      rgb[o + 2] = grid ? 255 : Math.floor(((x + y) / (W + H)) * 160) + 60;
    }
  }
  return rgb;
}

describe.skipIf(!OK)('frame integrity during motion (verify mode: agent + Chromium viewers)', () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let agent: AgentRun | undefined;
  let browser: Browser;
  let fast: Page;
  let slow: Page;
  let conf = '';
  let alice = '';
  const extraContexts: BrowserContext[] = [];

  /** A window whose background is a pixmap: the X server repaints it on every move and exposure. */
  const pixmapWindow = async (x: number, y: number, w: number, h: number, rgb: Uint8Array, parent = painter.conn.root): Promise<number> => {
    const X = painter.conn.client;
    const pix = X.AllocID();
    X.CreatePixmap(pix, parent, 24, w, h);
    await painter.putRgb(pix, 0, 0, w, h, rgb);
    const wid = X.AllocID();
    X.CreateWindow(wid, parent, x, y, w, h, 0, 0, 1, 0, { backgroundPixmap: pix, overrideRedirect: 1 });
    X.MapWindow(wid);
    X.FreePixmap(pix);
    await painter.conn.sync();
    return wid;
  };

  /** Pixels where the viewer's canvas differs from the host's screen right now. */
  const mismatchedPixels = async (page: Page): Promise<number> => {
    const host = await screenPixels(painter, W, H);
    const seen = await canvasRgba(page, W, H);
    if (!seen) return W * H;
    let bad = 0;
    const box = { x0: W, y0: H, x1: -1, y1: -1 };
    for (let i = 0; i < host.length; i += 4) {
      if (host[i + 2] === seen[i] && host[i + 1] === seen[i + 1] && host[i] === seen[i + 2]) continue;
      bad++;
      const x = (i >> 2) % W, y = Math.floor((i >> 2) / W);
      box.x0 = Math.min(box.x0, x), box.y0 = Math.min(box.y0, y), box.x1 = Math.max(box.x1, x), box.y1 = Math.max(box.y1, y);
    }
    lastMismatchBox = bad ? `x ${box.x0}-${box.x1}, y ${box.y0}-${box.y1}` : '';
    return bad;
  };
  /** Where the last mismatchedPixels() found differences, for the failure message. */
  let lastMismatchBox = '';
  const stats = (page: Page): Promise<VerifyStats> =>
    page.evaluate(() => {
      const s = window.__batonViewer!;
      return { framesDrawn: s.framesDrawn, framesVerified: s.framesVerified, framesMismatched: s.framesMismatched, lastMismatchSeq: s.lastMismatchSeq };
    });
  const shareStats = async () => (await srv.registry.get(conf))!.shareStats()!;

  /** A signed-out viewer on the meeting page, in verify mode, showing the share. */
  const openViewer = async (name: string, throttle = 1): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    extraContexts.push(ctx);
    ctx.setDefaultTimeout(20_000);
    await ctx.addInitScript(() => {
      window.__batonVerifyFrames = true;
    });
    const page = await ctx.newPage();
    if (throttle > 1) {
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
    }
    await page.goto(`${srv.url}/m/${conf}`);
    await page.getByTestId('guest-name').fill(name);
    await page.getByTestId('guest-join').click();
    await page.waitForFunction(() => (window.__batonViewer?.framesVerified ?? 0) > 0, undefined, { timeout: 20_000 });
    return page;
  };

  /** A non-headless Chromium window on the host's screen, covering it. */
  const hostChromium = () =>
    chromium.launch({
      executablePath: CHROMIUM,
      headless: false,
      args: [...CHROMIUM_ARGS, '--window-position=0,0', `--window-size=${W},${H}`],
      env: { ...process.env, DISPLAY: xvfb.display },
    });

  /** A busy loop on one core, until stopped. */
  const cpuHog = (): ChildProcess => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });

  /**
   * Drag `wid` along a Lissajous curve for `seconds`, at a speed that swells and ebbs (2-40 px a step,
   * a step every ~16 ms), calling `midway` once halfway.
   */
  const drag = async (wid: number, seconds: number, midway?: () => Promise<void>): Promise<number> => {
    const t0 = Date.now();
    let phase = 0, moves = 0;
    let mid: Promise<void> | null = null;
    while (Date.now() - t0 < seconds * 1000) {
      const s = (Date.now() - t0) / 1000;
      phase += 0.01 + 0.025 * (1 + Math.sin(s * 1.7));
      const x = Math.round((W - WIN.w) / 2 + ((W - WIN.w) / 2 - 10) * Math.cos(phase));
      const y = Math.round((H - WIN.h) / 2 + ((H - WIN.h) / 2 - 10) * Math.sin(2 * phase));
      painter.conn.client.MoveWindow(wid, x, y);
      await painter.conn.sync();
      moves++;
      if (midway && !mid && s > seconds / 2) mid = midway();
      await sleep(16);
    }
    await mid;
    return moves;
  };

  beforeAll(async () => {
    buildWeb();
    process.env.BATON_VERIFY_FRAMES = '1';
    xvfb = await startXvfb(W, H);
    painter = await Painter.open(xvfb.display);
    await pixmapWindow(0, 0, W, H, desktopPixels());
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-frames-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    alice = await signUp(srv.url, 'alice');
    conf = await createConference(srv.url, alice, { guests: 'allow' }, 'Frame integrity');
    agent = await startAgentShare(srv, conf, alice, xvfb.display);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    fast = await openViewer('Fast Fay');
    slow = await openViewer('Slow Sam', 6);
  }, 180_000);

  afterAll(async () => {
    delete process.env.BATON_VERIFY_FRAMES;
    await agent?.stop();
    for (const c of extraContexts) await c.close().catch(() => undefined);
    await browser?.close();
    await srv?.close();
    await painter?.close();
    await xvfb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const expectIntact = async (label: string, pages: Page[], before: Map<Page, VerifyStats>) => {
    for (const [i, page] of pages.entries()) {
      let last = -1;
      await expect
        .poll(async () => (last = await mismatchedPixels(page)), { timeout: 30_000, message: `viewer ${i} of ${label}: canvas differs from the host` })
        .toBe(0)
        .catch(async (err: unknown) => {
          console.log(`${label}: viewer ${i} still differs in ${last} pixels (${lastMismatchBox}); viewer ${JSON.stringify(await stats(page))}, relay ${JSON.stringify(await shareStats())}`);
          throw err;
        });
    }
    for (const page of pages) {
      const s = await stats(page);
      const b = before.get(page) ?? { framesDrawn: 0, framesVerified: 0, framesMismatched: 0, lastMismatchSeq: -1 };
      console.log(`${label}: ${s.framesVerified - b.framesVerified} frames verified, ${s.framesMismatched - b.framesMismatched} mismatched`);
      expect(s.framesVerified).toBeGreaterThan(b.framesVerified);
      expect(s.framesMismatched - b.framesMismatched).toBe(0);
    }
  };
  const snapshot = async (pages: Page[]) => new Map(await Promise.all(pages.map(async (p) => [p, await stats(p)] as const)));

  it('a window dragged along a curve: no torn or garbled frame on a fast and a throttled viewer, nor on a late joiner', async () => {
    const wid = await pixmapWindow(100, 100, WIN.w, WIN.h, windowPixels());
    const before = await snapshot([fast, slow]);
    const s0 = await shareStats();
    let late: Page | null = null;
    const moves = await drag(wid, DRAG_S, async () => {
      late = await openViewer('Late Lee');
    });
    const s1 = await shareStats();
    console.log(`drag: ${moves} moves, ${s1.copiesIn - s0.copiesIn} Copy tiles, ${s1.tilesSkipped - s0.tilesSkipped} tile versions skipped, ${s1.refreshesAsked - s0.refreshesAsked} refreshes, ${s1.framesReplayed - s0.framesReplayed} replays`);
    await expectIntact('drag', [fast, slow, late!], before);
    await painter.destroy(wid);
  }, 120_000);

  it('the same with a CPU hog on the machine', async () => {
    const wid = await pixmapWindow(200, 150, WIN.w, WIN.h, windowPixels());
    const before = await snapshot([fast, slow]);
    const hog = cpuHog();
    try {
      await drag(wid, DRAG_S);
    } finally {
      hog.kill('SIGKILL');
    }
    await expectIntact('drag under load', [fast, slow], before);
    await painter.destroy(wid);
  }, 120_000);

  it('a long document scrolled in a Chromium window on the host, slowly, then fast under a CPU hog', async () => {
    const host = await hostChromium();
    try {
      const page = await host.newPage({ viewport: null });
      await page.setContent(longDocument());
      const scroll = (pxPerFrame: number, seconds: number) =>
        page.evaluate(
          ([step, ms]) =>
            new Promise<void>((resolve) => {
              const end = performance.now() + ms;
              let dir = 1;
              const tick = () => {
                if (performance.now() > end) return resolve();
                const before = scrollY;
                scrollBy(0, dir * step);
                if (scrollY === before) dir = -dir; // at either end: turn round
                requestAnimationFrame(tick);
              };
              requestAnimationFrame(tick);
            }),
          [pxPerFrame, seconds * 1000] as const,
        );
      await page.waitForTimeout(500);
      for (const [label, step, hog] of [['scroll slowly', 3, false], ['scroll fast under load', 40, true]] as const) {
        const before = await snapshot([fast, slow]);
        const s0 = await shareStats();
        const busy = hog ? cpuHog() : null;
        try {
          await scroll(step, DRAG_S);
        } finally {
          busy?.kill('SIGKILL');
        }
        const s1 = await shareStats();
        console.log(`${label}: ${s1.framesIn - s0.framesIn} host frames, ${s1.copiesIn - s0.copiesIn} Copy tiles, ${s1.tilesSkipped - s0.tilesSkipped} tile versions skipped, ${s1.refreshesAsked - s0.refreshesAsked} refreshes, ${s1.framesReplayed - s0.framesReplayed} replays`);
        await expectIntact(label, [fast, slow], before);
      }
    } finally {
      await host.close();
    }
  }, 150_000);

  it("the bench's code editor, spreadsheet and photo slideshow on the host: no mismatched frame, and pixel-exact when they stop", async () => {
    const host = await hostChromium();
    try {
      const page = await host.newPage({ viewport: null });
      const workload = pathToFileURL(path.join(ROOT, 'bench/pages/workload.html')).href;
      for (const w of ['code', 'sheet', 'slideshow']) {
        await page.goto(`${workload}?w=${w}`);
        await page.waitForFunction(() => (globalThis as { benchReady?: boolean }).benchReady === true);
        const before = await snapshot([fast, slow]);
        const s0 = await shareStats();
        // Long enough for the editor's and the sheet's scrolls (every 3 and 2.5 s) and a crossfade (at 2.5 s).
        await sleep(Math.max(DRAG_S, 4) * 1000);
        await page.evaluate(() => (globalThis as { benchStop?: () => void }).benchStop!());
        const s1 = await shareStats();
        console.log(`${w}: ${s1.framesIn - s0.framesIn} host frames, ${s1.copiesIn - s0.copiesIn} Copy tiles, ${s1.tilesSkipped - s0.tilesSkipped} tile versions skipped, ${s1.refreshesAsked - s0.refreshesAsked} refreshes`);
        await expectIntact(w, [fast, slow], before);
      }
    } finally {
      await host.close();
    }
  }, 180_000);
});

/** A long page: headings, paragraphs, tables with striped rows, gradient panels. */
function longDocument(): string {
  const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');
  let n = 0;
  const text = (count: number) => Array.from({ length: count }, () => words[(n = (n * 7 + 3) % words.length)]).join(' ');
  const sections: string[] = [];
  for (let i = 0; i < 30; i++) {
    const rows = Array.from({ length: 6 }, (_, r) => `<tr><td>${i}.${r}</td><td>${text(3)}</td><td>${(i * 37 + r * 11) % 1000}</td><td>${text(2)}</td></tr>`).join('');
    sections.push(`<h2>Section ${i + 1}: ${text(3)}</h2><p>${text(60)}</p>
      <div class="grad" style="background: linear-gradient(${(i * 47) % 360}deg, hsl(${(i * 67) % 360} 70% 60%), hsl(${(i * 67 + 120) % 360} 70% 40%))">${text(8)}</div>
      <table><thead><tr><th>#</th><th>name</th><th>value</th><th>note</th></tr></thead><tbody>${rows}</tbody></table><p>${text(40)}</p>`);
  }
  return `<!doctype html><html><head><style>
    body { font: 15px/1.45 sans-serif; margin: 24px 48px; background: #fdfdf8; color: #222; }
    h2 { color: #234; border-bottom: 2px solid #89a; }
    table { border-collapse: collapse; width: 70%; margin: 12px 0; }
    th { background: #345; color: #fff; } td, th { border: 1px solid #aab; padding: 3px 8px; }
    tr:nth-child(even) td { background: #eef2f7; }
    .grad { height: 90px; border-radius: 8px; color: #fff; padding: 12px; font-weight: bold; }
  </style></head><body>${sections.join('')}</body></html>`;
}

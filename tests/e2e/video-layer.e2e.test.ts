/**
 * End to end, issue 13 item 4: the video layer. The real agent shares an Xvfb screen on which a
 * 448x320 region plays a "video" (a new photo-like picture every ~35 ms) next to text; viewers are the
 * meeting page in Chromium, one with WebCodecs (H.264 decoded with VideoDecoder) and one with WebCodecs
 * removed from the page (a browser without it: it says so and gets JPEG tiles for the region).
 *
 * - during the motion the WebCodecs viewer is sent the region as video units and the other none; once
 *   the motion stops, both canvases equal the host's screen pixel for pixel (the lossless top-off);
 * - a late joiner mid-motion, with and without WebCodecs, gets a picture at once (the run from the
 *   keyframe, or the tiles) and also ends pixel-exact.
 * No timing assertions: everything waits on events, with generous limits for a loaded machine.
 */
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
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/video-layer.e2e.test.ts');
/** The agent's encoder is the optional node-av: without it the agent sends tiles only (its own tests cover that). */
const NODE_AV = await import('node-av/api').then(() => true, () => false);
if (!NODE_AV) console.warn('\n*** SKIPPING tests/e2e/video-layer.e2e.test.ts: node-av is not installed (npm install) ***\n');
const W = 1280;
const H = 720;
const VIDEO = { x: 400, y: 200, w: 448, h: 320 };

type Stats = { framesDrawn: number; videoUnits: number; decodeErrors: number };

/** Text-like desktop: dark marks on white in lines, so everything outside the video is lossless. */
function desktopPixels(): Uint8Array {
  const rgb = new Uint8Array(W * H * 3).fill(248);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const line = Math.floor(y / 18), gy = y % 18, col = Math.floor(x / 8), gx = x % 8;
      if (gy < 11 && gx < 6 && ((col * 31 + line * 17 + gx * 3 + gy * 5) % 11) < 4) rgb.set([25, 25, 40], (y * W + x) * 3);
    }
  }
  return rgb;
}

describe.skipIf(!OK || !NODE_AV)('video layer: H.264 for motion, tiles for the rest, lossless when still (agent + Chromium)', () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let agent: AgentRun | undefined;
  let browser: Browser;
  let conf = '';
  let alice = '';
  let videoWin = 0;
  const contexts: BrowserContext[] = [];
  /** Pictures the "video" cycles through. */
  const pictures = Array.from({ length: 12 }, (_, i) => photoLike(VIDEO.w, VIDEO.h, i + 3));

  const hostPixels = async (): Promise<Buffer> => {
    const img = await new Promise<{ data: Buffer }>((resolve, reject) =>
      painter.conn.client.GetImage(2, painter.conn.root, 0, 0, W, H, 0xffffffff, (err: unknown, r: { data: Buffer }) => (err ? reject(err) : resolve(r))),
    );
    return img.data;
  };
  const canvasPixels = async (page: Page): Promise<Buffer | null> => {
    const b64 = await page.evaluate(
      ({ w, h }) => {
        const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement | null;
        if (!c || c.width !== w) return '';
        const d = c.getContext('2d')!.getImageData(0, 0, w, h).data;
        let bin = '';
        for (let i = 0; i < d.length; i += 8192) bin += String.fromCharCode(...d.subarray(i, i + 8192));
        return btoa(bin);
      },
      { w: W, h: H },
    );
    return b64 ? Buffer.from(b64, 'base64') : null;
  };
  /** Pixels where the canvas differs from the host's screen now. */
  const mismatched = async (page: Page): Promise<number> => {
    const [host, seen] = [await hostPixels(), await canvasPixels(page)];
    if (!seen) return W * H;
    let bad = 0;
    for (let i = 0; i < host.length; i += 4) if (host[i + 2] !== seen[i] || host[i + 1] !== seen[i + 1] || host[i] !== seen[i + 2]) bad++;
    return bad;
  };
  /**
   * How far the canvas's video region is from the nearest of the pictures the video plays (mean absolute
   * difference per channel): small when it shows one of them (lossy or not), ~100 for a black region.
   */
  const regionError = async (page: Page): Promise<number> => {
    const seen = await canvasPixels(page);
    if (!seen) return 255;
    let best = 255;
    for (const pic of pictures) {
      let sum = 0, n = 0;
      for (let y = 0; y < VIDEO.h; y += 2) {
        for (let x = 0; x < VIDEO.w; x += 2) {
          const i = ((VIDEO.y + y) * W + VIDEO.x + x) * 4, j = (y * VIDEO.w + x) * 3;
          sum += Math.abs(pic[j]! - seen[i]!) + Math.abs(pic[j + 1]! - seen[i + 1]!) + Math.abs(pic[j + 2]! - seen[i + 2]!);
          n += 3;
        }
      }
      best = Math.min(best, sum / n);
    }
    return best;
  };
  const stats = (page: Page): Promise<Stats> =>
    page.evaluate(() => {
      const s = window.__batonViewer!;
      return { framesDrawn: s.framesDrawn, videoUnits: s.videoUnits, decodeErrors: s.decodeErrors };
    });
  const shareStats = async () => (await srv.registry.get(conf))!.shareStats()!;

  /** A guest on the meeting page; `webCodecs: false` removes WebCodecs from the page before it loads. */
  const openViewer = async (name: string, webCodecs: boolean): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(ctx);
    ctx.setDefaultTimeout(30_000);
    if (!webCodecs) {
      await ctx.addInitScript(() => {
        for (const k of ['VideoDecoder', 'EncodedVideoChunk', 'VideoFrame', 'VideoEncoder']) delete (window as unknown as Record<string, unknown>)[k];
      });
    }
    const page = await ctx.newPage();
    await page.goto(`${srv.url}/m/${conf}`);
    await page.getByTestId('guest-name').fill(name);
    await page.getByTestId('guest-join').click();
    await page.waitForFunction(() => (window.__batonViewer?.framesDrawn ?? 0) > 0, undefined, { timeout: 60_000 });
    return page;
  };

  /** Play the video: a new picture every ~35 ms until `until` resolves. */
  const play = async (until: Promise<unknown>): Promise<number> => {
    let stop = false;
    void until.finally(() => (stop = true));
    let n = 0;
    while (!stop) {
      await painter.putRgb(videoWin, 0, 0, VIDEO.w, VIDEO.h, pictures[n++ % pictures.length]!);
      await painter.conn.sync();
      await sleep(35);
    }
    return n;
  };

  const expectExact = async (label: string, page: Page) => {
    let last = -1;
    await expect
      .poll(async () => (last = await mismatched(page)), { timeout: 60_000, interval: 500, message: `${label}: canvas differs from the host` })
      .toBe(0)
      .catch(async (err: unknown) => {
        console.log(`${label}: ${last} pixels differ; viewer ${JSON.stringify(await stats(page))}, relay ${JSON.stringify(await shareStats())}`);
        throw err;
      });
  };

  beforeAll(async () => {
    buildWeb();
    xvfb = await startXvfb(W, H);
    painter = await Painter.open(xvfb.display);
    const desk = await painter.window(0, 0, W, H, [248, 248, 248]);
    await painter.putRgb(desk, 0, 0, W, H, desktopPixels());
    videoWin = await painter.window(VIDEO.x, VIDEO.y, VIDEO.w, VIDEO.h, [0, 0, 0]);
    await painter.putRgb(videoWin, 0, 0, VIDEO.w, VIDEO.h, pictures[0]!);
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-video-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    alice = await signUp(srv.url, 'alice');
    conf = await createConference(srv.url, alice, { guests: 'allow' }, 'Video layer');
    // --no-p2p: three viewers come and go; the relay's mixed-audience path is what is tested.
    agent = await startAgentShare(srv, conf, alice, xvfb.display, 'signed-in', srv.url, ['--no-p2p']);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 240_000);

  afterAll(async () => {
    await agent?.stop();
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await srv?.close();
    await painter?.close();
    await xvfb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a mixed audience: video units to the WebCodecs viewer, tiles to the one without; both pixel-exact once the motion stops, late joiners too', async () => {
    const withWc = await openViewer('Vera (WebCodecs)', true);
    const without = await openViewer('Tom (no WebCodecs)', false);
    expect(await withWc.evaluate(() => typeof VideoDecoder)).toBe('function');
    expect(await without.evaluate(() => typeof (window as unknown as Record<string, unknown>).VideoDecoder)).toBe('undefined');
    const s0 = await shareStats();

    // Play until the WebCodecs viewer has drawn video units, then let two late joiners in mid-motion.
    let lateWc: Page | null = null, lateTiles: Page | null = null;
    let lateWcError = -1, lateTilesError = -1;
    const scenario = (async () => {
      await withWc.waitForFunction(() => (window.__batonViewer?.videoUnits ?? 0) >= 10, undefined, { timeout: 90_000, polling: 100 });
      lateWc = await openViewer('Liz (late, WebCodecs)', true);
      // Its first picture already shows the moving region close to the host's, not the black of a new canvas.
      lateWcError = await regionError(lateWc);
      lateTiles = await openViewer('Len (late, no WebCodecs)', false);
      lateTilesError = await regionError(lateTiles);
      await lateWc.waitForFunction(() => (window.__batonViewer?.videoUnits ?? 0) >= 5, undefined, { timeout: 60_000, polling: 100 });
    })();
    const played = await play(scenario);
    await scenario;
    const s1 = await shareStats();
    const [a, b, c, d] = await Promise.all([withWc, without, lateWc!, lateTiles!].map(stats));
    console.log(`video: ${played} pictures played; relay ${s1.videoUnitsIn - s0.videoUnitsIn} video units in, ${s1.keyframesAsked - s0.keyframesAsked} keyframes asked, ${s1.videoViewers} video viewers; viewers ${JSON.stringify({ a, b, c, d })}; late joiners' first picture off by ${lateWcError.toFixed(1)} (video) and ${lateTilesError.toFixed(1)} (tiles) per channel`);
    expect(s1.videoUnitsIn - s0.videoUnitsIn).toBeGreaterThan(10);
    expect(a.videoUnits).toBeGreaterThan(10);
    expect(c.videoUnits).toBeGreaterThan(0);
    expect(b.videoUnits).toBe(0);
    expect(d.videoUnits).toBe(0);
    for (const s of [a, b, c, d]) expect(s.decodeErrors).toBe(0);
    // A late joiner's first picture: the region is there at once (one of the video's pictures, not the black of a new canvas).
    expect(lateWcError).toBeLessThan(40);
    expect(lateTilesError).toBeLessThan(40);

    // Motion stopped: the lossless top-off makes every canvas equal the host's screen exactly.
    for (const [label, page] of [['WebCodecs viewer', withWc], ['viewer without WebCodecs', without], ['late WebCodecs joiner', lateWc!], ['late joiner without WebCodecs', lateTiles!]] as const) {
      await expectExact(label, page);
    }
  }, 400_000);

  it('peer-to-peer (the host and one viewer): the units go over the DataChannel, and the canvas ends pixel-exact', async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    await agent?.stop();
    conf = await createConference(srv.url, alice, { guests: 'allow' }, 'Video layer p2p');
    agent = await startAgentShare(srv, conf, alice, xvfb.display);
    const page = await openViewer('Pia (p2p, WebCodecs)', true);
    await expect.poll(async () => (await srv.registry.get(conf))!.snapshot().share?.transport, { timeout: 60_000 }).toBe('p2p');
    const s0 = await shareStats();
    const played = await play(page.waitForFunction(() => (window.__batonViewer?.videoUnits ?? 0) >= 10, undefined, { timeout: 120_000, polling: 100 }));
    const s1 = await shareStats();
    const st = await stats(page);
    console.log(`p2p: ${played} pictures played, viewer ${JSON.stringify(st)}, relay video units ${s1.videoUnitsIn - s0.videoUnitsIn}`);
    expect(st.videoUnits).toBeGreaterThanOrEqual(10);
    expect(st.decodeErrors).toBe(0);
    expect(s1.videoUnitsIn - s0.videoUnitsIn).toBe(0); // nothing went through the relay
    await expectExact('p2p viewer', page);
  }, 300_000);
});

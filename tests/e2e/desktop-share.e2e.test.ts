/**
 * End to end, issue "Desktop sharing with remote control": an Xvfb desktop, the real host agent CLI,
 * the real server, and two viewers in Debian's Chromium using the meeting page.
 *
 * - the viewers' canvases show the host's pixels; a late joiner sees the full screen at once;
 * - a viewer given control clicks and types, and an X client on the host receives exactly that;
 * - input from a viewer without control never reaches the host (raw frames, dropped and counted);
 * - local input on the host takes control back; the policy "never" refuses every request.
 */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, encodeShareMessage, type ServerMessage } from '@baton/protocol';
import type { BatonServer } from '../../packages/server/dist/index.js';
import { XDesktop } from '../../packages/agent/test/helpers/xDesktop.js';
import type { Painter } from '../../packages/agent/test/helpers/painter.js';
import { TestClient, createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { BrowserMeeting } from '../support/meeting.js';
import { haveBrowserAndX } from '../support/browser.js';
import { H, QUADRANTS, TARGET, W, canvasPixel, closeTo as close, paintHostDesktop, screenMismatches, texture, type XEv } from '../support/hostDesktop.js';

const OK = haveBrowserAndX('tests/e2e/desktop-share.e2e.test.ts');

describe.skipIf(!OK)('desktop sharing with remote control (agent + two browser viewers)', () => {
  let desktop: XDesktop;
  let painter: Painter;
  let meeting: BrowserMeeting;
  let srv: BatonServer;
  let agent: AgentRun | undefined;
  let bob: Page;
  let guest: Page;
  let conf = '';
  let alice = '';
  let bobCookie = '';
  const seen: XEv[] = [];

  const showsDesktop = async (page: Page) => {
    // Sample each quadrant at its outer corner, away from the input window in the middle.
    for (const q of QUADRANTS) if (!close(await canvasPixel(page, q.x ? q.x + 600 : 40, q.y ? q.y + 320 : 40), q.c)) return false;
    return close(await canvasPixel(page, TARGET.x + 200, TARGET.y + 100), TARGET.c);
  };
  const focus = async () => (await srv.registry.get(conf))!;

  beforeAll(async () => {
    desktop = await XDesktop.start(W, H);
    painter = desktop.painter;
    await paintHostDesktop(painter, seen);

    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-share-e2e-', timeout: 15_000 });
    srv = meeting.srv;
    alice = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, alice, { guests: 'allow', control: 'signed-in' }, 'Desktop demo');
    agent = await startAgentShare(srv, conf, alice, desktop.display);

    bob = await meeting.open(bobCookie);
    guest = await meeting.open(null);
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await meeting?.close();
    await desktop?.stop();
  });

  it("a viewer's canvas shows the host's pixels", async () => {
    await bob.goto(`${srv.url}/m/${conf}`);
    await expect.poll(() => showsDesktop(bob), { timeout: 15_000 }).toBe(true);
    expect(await bob.evaluate(() => (document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement).width)).toBe(W);
    // A change on the host reaches the viewer.
    const patch = await painter.window(100, 100, 128, 128, [250, 250, 250]);
    await expect.poll(() => canvasPixel(bob, 160, 160).then((p) => close(p, [250, 250, 250])), { timeout: 15_000 }).toBe(true);
    await bob.screenshot({ path: path.join(tmpdir(), 'baton-share-viewer-1280x720.png') });
    await painter.destroy(patch);
  });

  it('a late joiner sees the full screen at once, with the ticket its welcome brought, before any whiteboard or slides code', async () => {
    // What the page sends on its meeting socket, and which of the code it fetched it had a picture for.
    const sent: string[] = [];
    guest.on('websocket', (ws) => {
      if (ws.url().includes('/ws/conference/')) ws.on('framesent', (f) => sent.push(String(f.payload)));
    });
    const lazyChunks: { name: string; framesDrawn: number }[] = [];
    await guest.route(/\/assets\/(yjs|BoardSync|Whiteboard|SlidesView|pdf)-[^/]*\.js$/, async (route) => {
      const framesDrawn = await guest.evaluate(() => window.__batonViewer?.framesDrawn ?? 0).catch(() => -1);
      lazyChunks.push({ name: new URL(route.request().url()).pathname.replace(/^.*\//, ''), framesDrawn });
      await route.continue();
    });
    // Whether its sharing socket had sent its auth when the room (the roster) first rendered.
    await guest.addInitScript(() => {
      const rec = { sent: 0, sentAtRoom: null as number | null };
      Object.assign(window, { __lateJoin: rec, __batonEarlyShareHoldMs: 30_000 });
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        readonly #share: boolean;
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          this.#share = String(url).includes('/ws/share');
        }
        override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
          if (this.#share) rec.sent++;
          super.send(data);
        }
      };
      new MutationObserver((_, obs) => {
        if (!document.querySelector('[data-testid="roster"]')) return;
        rec.sentAtRoom = rec.sent;
        obs.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    await guest.goto(`${srv.url}/m/${conf}`);
    await guest.getByTestId('guest-name').fill('Late Lena');
    await guest.getByTestId('guest-join').click();
    const t0 = Date.now();
    await expect.poll(() => showsDesktop(guest), { timeout: 10_000 }).toBe(true);
    console.log(`late joiner: complete screen ${Date.now() - t0} ms after joining (the share opens by itself)`);
    // The room rendered only once the sharing socket had sent its auth (SnapshotGate): the socket's
    // open and the server's sending did not wait behind the room's render.
    expect(await guest.evaluate(() => (window as unknown as { __lateJoin: { sentAtRoom: number | null } }).__lateJoin.sentAtRoom)).toBeGreaterThanOrEqual(1);
    // No share.ticket round trip: the welcome carried the ticket.
    expect(sent.filter((m) => m.includes('"share.ticket"'))).toEqual([]);
    // The whiteboard's replica (Yjs) loads only after the first picture; the views' code only when shown.
    await expect.poll(() => lazyChunks.some((c) => c.name.startsWith('BoardSync-')), { timeout: 10_000 }).toBe(true);
    expect(lazyChunks.filter((c) => c.framesDrawn < 1)).toEqual([]);
    expect(lazyChunks.filter((c) => /^(Whiteboard|SlidesView|pdf)-/.test(c.name))).toEqual([]);
    await guest.unroute(/\/assets\//);
    // Guests may not control under the "signed-in" policy, and the page says so.
    expect(await guest.getByTestId('control-unavailable').textContent()).toContain('Sign in');
  });

  it('a window moved on the host arrives as moved pixels (a Copy tile), and both canvases match the host exactly', async () => {
    // A "document" window of non-repeating grey texture (40 levels: lossless) over the red quadrant.
    const TW = 240, TH = 150;
    const rgb = new Uint8Array(TW * TH * 3);
    for (let y = 0; y < TH; y++) for (let x = 0; x < TW; x++) rgb.fill(((Math.imul(x * 374761393 + y * 668265263, 1274126177) >>> 24) % 40) * 6, (y * TW + x) * 3, (y * TW + x) * 3 + 3);
    const win = await painter.window(60, 60, TW, TH, [0, 0, 0]);
    await painter.putRgb(win, 0, 0, TW, TH, rgb);
    const region = { x: 0, y: 0, w: 400, h: 300 };
    const hostPixels = async () => {
      const img = await new Promise<{ data: Buffer }>((resolve, reject) =>
        painter.conn.client.GetImage(2, painter.conn.root, region.x, region.y, region.w, region.h, 0xffffffff, (err: unknown, r: { data: Buffer }) => (err ? reject(err) : resolve(r))),
      );
      return img.data;
    };
    const mismatches = async (page: Page) => {
      const host = await hostPixels();
      // As base64: far quicker out of the page than an array of numbers.
      const seen = Buffer.from(
        await page.evaluate(({ x, y, w, h }) => {
          const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement;
          const d = c.getContext('2d')!.getImageData(x, y, w, h).data;
          let bin = '';
          for (let i = 0; i < d.length; i += 8192) bin += String.fromCharCode(...d.subarray(i, i + 8192));
          return btoa(bin);
        }, region),
        'base64',
      );
      let bad = 0;
      for (let i = 0, j = 0; i < host.length; i += 4, j += 4) if (host[i + 2] !== seen[j] || host[i + 1] !== seen[j + 1] || host[i] !== seen[j + 2]) bad++;
      return bad;
    };
    for (const page of [bob, guest]) await expect.poll(() => mismatches(page), { timeout: 15_000 }).toBe(0);
    const before = (await focus()).shareStats()!;
    await painter.move(win, 100, 90);
    for (const page of [bob, guest]) await expect.poll(() => mismatches(page), { timeout: 15_000 }).toBe(0);
    const after = (await focus()).shareStats()!;
    expect(after.copiesIn).toBeGreaterThan(before.copiesIn);
    console.log(`moved window: ${after.copiesIn - before.copiesIn} Copy tile(s), ${after.bytesIn - before.bytesIn} bytes from the host, ${after.refreshesAsked - before.refreshesAsked} refresh(es) asked`);

    // Someone joining now cannot use that Copy (they never had the picture before it): the relay asks
    // the host for those cells as pixels, and the newcomer's canvas still matches the host exactly.
    const late = await meeting.open(null);
    try {
      await late.goto(`${srv.url}/m/${conf}`);
      await late.getByTestId('guest-name').fill('Later Lou');
      await late.getByTestId('guest-join').click();
      await expect.poll(() => mismatches(late), { timeout: 15_000 }).toBe(0);
      expect((await focus()).shareStats()!.refreshesAsked).toBeGreaterThan(after.refreshesAsked);
    } finally {
      await late.context().close();
    }
    await painter.destroy(win);
  }, 60_000);

  it("a late joiner's snapshot comes in a few batches, drawn in a decode worker: its first picture is the host's screen pixel for pixel", async () => {
    // Textured windows (lossless, many colours) on top of the desktop, so the snapshot is Palette tiles beside fills.
    const wins: number[] = [];
    for (const [i, [x, y, w, h]] of [[30, 30, 300, 200], [700, 50, 420, 260], [80, 420, 500, 250], [900, 400, 330, 280]].entries()) {
      const win = await painter.window(x!, y!, w!, h!, [0, 0, 0]);
      await painter.putRgb(win, 0, 0, w!, h!, texture(w!, h!, 11 + i));
      wins.push(win);
    }
    const mismatches = (page: Page) => screenMismatches(page, painter, W, H);
    // The viewer already watching shows it exactly (so the relay holds the exact screen), then someone joins.
    await expect.poll(() => mismatches(bob), { timeout: 10_000 }).toBe(0);
    const late = await meeting.open(null);
    try {
      await late.goto(`${srv.url}/m/${conf}`);
      await late.getByTestId('guest-name').fill('Batch Bea');
      await late.getByTestId('guest-join').click();
      await expect.poll(() => late.evaluate(() => window.__batonViewer?.framesDrawn ?? 0), { timeout: 10_000 }).toBeGreaterThan(0);
      // Its first frame (the snapshot) is the host's screen, every pixel.
      expect(await mismatches(late)).toBe(0);
      const stats = await late.evaluate(() => window.__batonViewer!);
      console.log(`late joiner: ${stats.tileBatches} batches of ${stats.batchedTiles} tiles (${stats.workerBatches} drawn in a worker), ${stats.tilesDrawn} tiles drawn`);
      expect(stats.tileBatches).toBeGreaterThan(0);
      expect(stats.workerBatches).toBe(stats.tileBatches);
      expect(stats.batchedTiles).toBeGreaterThan(1);
      expect(stats.decodeErrors).toBe(0);
    } finally {
      await late.context().close();
    }
    for (const win of wins) await painter.destroy(win);
  }, 60_000);

  it('the viewer given control clicks and types; the host receives exactly that', async () => {
    await bob.getByTestId('control-request').click();
    await expect.poll(() => bob.getByTestId('control-status').textContent(), { timeout: 10_000 }).toBe('You are in control');
    // The agent prints its line when the grant reaches it, which may be after Bob's page shows it.
    await expect.poll(() => agent!.output(), { timeout: 10_000 }).toMatch(/Bob is controlling/);
    await bob.screenshot({ path: path.join(tmpdir(), 'baton-share-controlling-1280x720.png') });
    await expect.poll(() => guest.getByTestId('control-status').textContent()).toBe('Bob is in control');

    seen.length = 0;
    const box = (await bob.getByTestId('share-canvas').boundingBox())!;
    const at = { x: TARGET.x + 60, y: TARGET.y + 40 };
    await bob.mouse.click(box.x + (at.x * box.width) / W, box.y + (at.y * box.height) / H);
    await expect.poll(() => seen.filter((e) => e.name === 'ButtonRelease').length, { timeout: 15_000 }).toBe(1);
    const press = seen.find((e) => e.name === 'ButtonPress')!;
    expect(press.detail).toBe(1);
    expect(Math.abs(press.x - 60)).toBeLessThanOrEqual(2);
    expect(Math.abs(press.y - 40)).toBeLessThanOrEqual(2);

    await bob.keyboard.type('Hi!');
    await expect.poll(() => seen.filter((e) => e.name === 'KeyPress' && e.keysym !== undefined && e.keysym < 0xfe00).length, { timeout: 15_000 }).toBe(3);
    const typed = seen.filter((e) => e.name === 'KeyPress' && e.keysym! < 0xfe00).map((e) => String.fromCharCode(e.keysym!));
    // Keysyms as looked up on the unshifted level: h, i and 1 (Shift was pressed for H and !).
    expect(typed.join('')).toBe('hi1');
    expect(seen.filter((e) => e.name === 'KeyPress' && e.keysym === 0xffe1)).toHaveLength(2);
  });

  it('input from a viewer without control never reaches the host', async () => {
    const before = (await focus()).shareStats()!;
    const g = new TestClient(srv.url, conf);
    await g.hello({ name: 'Mallory' });
    await g.next('welcome');
    const ack = (await g.request({ type: 'share.ticket' })) as Extract<ServerMessage, { type: 'ack' }>;
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/ws/share`);
    await new Promise((r) => ws.once('open', r));
    ws.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: ack.ticket! }));
    await expect.poll(async () => (await focus()).shareStats()!.viewers, { timeout: 10_000 }).toBe(before.viewers + 1); // authenticated
    seen.length = 0;
    for (let i = 0; i < 5; i++) {
      ws.send(encodeShareMessage({ type: 'pointer', x: TARGET.x + 10 + i, y: TARGET.y + 10, buttons: 1 }));
      ws.send(encodeShareMessage({ type: 'pointer', x: TARGET.x + 10 + i, y: TARGET.y + 10, buttons: 0 }));
      ws.send(encodeShareMessage({ type: 'key', down: true, key: 'x', code: 'KeyX' }));
      ws.send(encodeShareMessage({ type: 'key', down: false, key: 'x', code: 'KeyX' }));
    }
    // Every message was handled (dropped) by the relay; none reached the X server.
    await expect.poll(async () => (await focus()).shareStats()!.inputDropped - before.inputDropped, { timeout: 10_000 }).toBe(20);
    await painter.conn.sync(); // any event the X server had for us has arrived
    expect(seen).toEqual([]);
    ws.close();
    g.close();
  });

  it('local input on the host takes control back at once', async () => {
    expect((await focus()).snapshot().share?.controllerId).not.toBeNull();
    execFileSync('xdotool', ['mousemove', '20', '20'], { env: desktop.env() });
    await expect.poll(async () => (await focus()).snapshot().share?.controllerId, { timeout: 15_000 }).toBeNull();
    await expect.poll(() => bob.getByTestId('control-status').textContent()).toBe('Alice has control');
    expect(await bob.getByTestId('control-request').isVisible()).toBe(true);
  });

  it('the policy "never" refuses every request, and the page says so', async () => {
    const org = new TestClient(srv.url, conf, { cookie: alice });
    await org.hello();
    await org.next('welcome');
    expect(await org.request({ type: 'policy.update', policy: { control: 'never' } })).toMatchObject({ type: 'ack' });
    await expect.poll(() => bob.getByTestId('control-unavailable').textContent()).toBe('Remote control is off in this meeting');
    const b = new TestClient(srv.url, conf, { cookie: bobCookie });
    await b.hello();
    await b.next('welcome');
    expect(await b.request({ type: 'control.request' })).toMatchObject({ type: 'error', code: 'policy', message: 'the meeting policy does not allow remote control' });
    expect((await focus()).snapshot().share?.requests).toEqual([]);
    b.close();
    org.close();
  });
});

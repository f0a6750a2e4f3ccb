/**
 * The viewer library in a real browser: Debian's Chromium (playwright-core) loads a page bundling the
 * real SharedScreen/ScreenView/ShareConnection/InputCapture; this test plays the sharing server on a
 * real WebSocket, sends tiles in every encoding, reads the canvas back, and checks acks and input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { setTimeout as delay } from 'node:timers/promises';
import { build } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CELL_HASH_SEED,
  cellHashStep,
  copyPayload,
  frameHashFold,
  SHARE_LIMITS,
  SHARE_PROTOCOL_VERSION,
  SHARE_TILES_VERSION,
  TILE_FLAG_LOSSY,
  TileEncoding,
  decodeShareMessage,
  paletteBits,
  paletteRowBytes,
  encodeShareMessage,
  type ShareMessage,
} from '@baton/protocol';

const CHROMIUM = '/usr/bin/chromium';
const CI = process.env.CI === 'true';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !CI) console.warn(`\n*** SKIPPED viewer browser tests: ${CHROMIUM} not found (apt-get install chromium) ***\n`);

const here = fileURLToPath(new URL('.', import.meta.url));
const webRoot = join(here, '..', '..');

type Tile = Extract<ShareMessage, { type: 'tile' }>;
type Input = Extract<ShareMessage, { type: 'pointer' | 'wheel' | 'key' }>;

/** One page connection as the server sees it. */
class Conn {
  auth: Extract<ShareMessage, { type: 'auth' }> | null = null;
  readonly msgs: ShareMessage[] = [];
  closed = false;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = decodeShareMessage(new Uint8Array(data));
      if (!this.auth && m.type === 'auth') this.auth = m;
      else this.msgs.push(m);
    });
    ws.on('close', () => (this.closed = true));
  }
  send(m: ShareMessage | Uint8Array): void {
    this.ws.send(m instanceof Uint8Array ? m : encodeShareMessage(m));
  }
  acks(): number[] {
    return this.msgs.filter((m) => m.type === 'ack').map((m) => (m as { seq: number }).seq);
  }
  inputs(): Input[] {
    // `caps` (what this viewer decodes) follows auth on every connection: not input.
    return this.msgs.filter((m) => m.type !== 'ack' && m.type !== 'caps') as Input[];
  }
}

async function until<T>(fn: () => T | Promise<T>, what: string, ms = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A smooth RGB test pattern (JPEG-friendly) that differs per seed. */
function pattern(w: number, h: number, seed: number): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      b[i] = x * 3 + seed * 9;
      b[i + 1] = y * 3 + seed * 5;
      b[i + 2] = 100 + seed * 15;
    }
  return b;
}

const raw = (w: number, h: number) => ({ raw: { width: w, height: h, channels: 3 as const } });
const tileMsg = (x: number, y: number, w: number, h: number, encoding: TileEncoding, data: Uint8Array, flags = 0): Tile => ({
  type: 'tile', x, y, w, h, encoding, flags, data,
});

/** Compare canvas RGBA read-back with expected RGB; returns max and mean absolute channel error. */
function diff(rgba: number[], rgb: Buffer): { max: number; mean: number } {
  let max = 0, sum = 0;
  for (let p = 0; p < rgb.length / 3; p++)
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(rgba[p * 4 + c]! - rgb[p * 3 + c]!);
      max = Math.max(max, d);
      sum += d;
    }
  return { max, mean: sum / rgb.length };
}

describe.skipIf(!haveChromium && !CI)('viewer library in Chromium', () => {
  let dir: string;
  let server: http.Server;
  let wss: WebSocketServer;
  let browser: Browser;
  let page: Page;
  let base: string;
  const conns: Conn[] = [];
  /** The close code/reason to answer the next auth with (to test failures); null = accept. */
  let reject: { code: number; reason: string } | null = null;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is required under CI`);
    dir = mkdtempSync(join(tmpdir(), 'baton-viewer-'));
    await build({
      configFile: false,
      root: webRoot,
      mode: 'production',
      // Vitest sets NODE_ENV=test, which would otherwise select React's development JSX runtime.
      oxc: { jsx: { runtime: 'automatic', development: false } },
      logLevel: 'warn',
      define: { 'process.env.NODE_ENV': JSON.stringify('production') },
      build: {
        lib: { entry: join(here, 'testing', 'viewerTestPage.tsx'), formats: ['es'], fileName: () => 'viewer.js' },
        outDir: dir,
        emptyOutDir: true,
        minify: false,
        reportCompressedSize: false,
      },
    });
    const html = '<!doctype html><html><body style="margin:0"><div id="root"></div><script type="module" src="/viewer.js"></script></body></html>';
    server = http.createServer((req, res) => {
      // The bundle and its worker chunks (assets/…); everything else gets the page.
      const file = /^\/(viewer\.js|assets\/[\w.-]+\.js)$/.exec(req.url ?? '')?.[1];
      if (file) {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(readFileSync(join(dir, file)));
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(html);
      }
    });
    wss = new WebSocketServer({ noServer: true, maxPayload: SHARE_LIMITS.maxFrame });
    server.on('upgrade', (req, socket, head) => {
      if (req.url !== '/ws/share') return socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => {
        const c = new Conn(ws);
        conns.push(c);
        if (reject) {
          const r = reject;
          ws.once('message', () => ws.close(r.code, r.reason));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(base);
    await page.waitForFunction(() => !!window.batonTest);
  });

  afterAll(async () => {
    await browser?.close();
    for (const c of conns) c.ws.terminate();
    wss?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Screen 250x128 on a 64 px grid: 4x2 cells, the right column clipped to 58 px.
  const W = 250, H = 128, T = 64;
  const cells: { x: number; y: number; w: number; h: number }[] = [];
  for (let y = 0; y < H; y += T) for (let x = 0; x < W; x += T) cells.push({ x, y, w: Math.min(T, W - x), h: Math.min(T, H - y) });
  let conn: Conn;
  const expected = new Map<number, { rgb: Buffer; tolerance: { max: number; mean: number } }>();

  async function encodeCell(i: number, encoding: TileEncoding, seed: number): Promise<Tile> {
    const { x, y, w, h } = cells[i]!;
    const rgb = pattern(w, h, seed);
    const exact = { max: 0, mean: 0 };
    switch (encoding) {
      case TileEncoding.Fill: {
        const c = [30 + seed, 200, 90];
        const solid = Buffer.alloc(w * h * 3);
        for (let p = 0; p < w * h; p++) solid.set(c, p * 3);
        expected.set(i, { rgb: solid, tolerance: exact });
        return tileMsg(x, y, w, h, encoding, Uint8Array.from(c));
      }
      case TileEncoding.Png:
        expected.set(i, { rgb, tolerance: exact });
        return tileMsg(x, y, w, h, encoding, await sharp(rgb, raw(w, h)).png().toBuffer());
      case TileEncoding.Jpeg:
        expected.set(i, { rgb, tolerance: { max: 24, mean: 3 } });
        return tileMsg(x, y, w, h, encoding, await sharp(rgb, raw(w, h)).jpeg({ quality: 90 }).toBuffer(), TILE_FLAG_LOSSY);
      case TileEncoding.Webp:
        expected.set(i, { rgb, tolerance: exact });
        return tileMsg(x, y, w, h, encoding, await sharp(rgb, raw(w, h)).webp({ lossless: true }).toBuffer());
      case TileEncoding.ZRgb:
        expected.set(i, { rgb, tolerance: exact });
        return tileMsg(x, y, w, h, encoding, deflateSync(rgb));
    }
  }

  async function checkCell(i: number): Promise<void> {
    const { x, y, w, h } = cells[i]!;
    const rgba = await page.evaluate(([x, y, w, h]) => window.batonTest.readPixels('[data-testid=share-canvas]', x!, y!, w!, h!), [x, y, w, h]);
    const e = expected.get(i)!;
    const d = diff(rgba, e.rgb);
    expect(d.max, `cell ${i} max error`).toBeLessThanOrEqual(e.tolerance.max);
    expect(d.mean, `cell ${i} mean error`).toBeLessThanOrEqual(e.tolerance.mean);
  }

  it('authenticates, draws tiles of every encoding at their place and acks each frame only after drawing it', async () => {
    await page.evaluate(() => {
      window.batonTest.probeAt = [64 + 10, 10]; // inside the PNG tile
      window.batonTest.mount({ wsUrl: '/ws/share', tickets: ['T1', 'T2', 'T3'], controlling: false, mode: 'fit', width: 125, height: 64 });
    });
    conn = await until(() => conns[0]?.auth && conns[0], 'auth');
    expect(conn.auth).toEqual({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: 'T1' });
    expect(await page.evaluate(() => window.batonTest.states)).toEqual(['connecting', 'authenticating']);
    expect(await page.getByTestId('share-status').textContent()).toBe('Waiting for the shared screen…');

    const encodings = [TileEncoding.Fill, TileEncoding.Png, TileEncoding.Jpeg, TileEncoding.Webp, TileEncoding.ZRgb, TileEncoding.Png, TileEncoding.ZRgb, TileEncoding.Fill];
    conn.send({ type: 'screen', width: W, height: H, tileSize: T });
    for (let i = 0; i < cells.length; i++) conn.send(await encodeCell(i, encodings[i]!, i));
    conn.send({ type: 'frame', seq: 7, time: 1234.5 });
    await until(() => conn.acks().includes(7), 'ack 7');
    expect(conn.acks()).toEqual([7]);
    for (let i = 0; i < cells.length; i++) await checkCell(i);

    // At the moment the ack left the page, frame 7 was already on the canvas.
    const acks = await page.evaluate(() => window.batonTest.acks);
    const pngAt10 = pattern(64, 64, 1).subarray((10 * 64 + 10) * 3, (10 * 64 + 10) * 3 + 3);
    expect(acks).toEqual([{ seq: 7, lastSeq: 7, framesDrawn: 1, probe: [...pngAt10, 255] }]);
    const stats = await page.evaluate(() => window.__batonViewer!);
    expect(stats).toMatchObject({ framesDrawn: 1, lastSeq: 7, lastCaptureTime: 1234.5, tilesDrawn: 8, decodeErrors: 0, width: W, height: H });
    expect(await page.getByTestId('share-status').count()).toBe(0);

    // A later frame replaces two cells; the rest stays.
    conn.send(await encodeCell(4, TileEncoding.ZRgb, 20));
    conn.send(await encodeCell(1, TileEncoding.Webp, 21));
    conn.send({ type: 'frame', seq: 8, time: 2000 });
    await until(() => conn.acks().includes(8), 'ack 8');
    for (let i = 0; i < cells.length; i++) await checkCell(i);

    // A tile that cannot be decoded is skipped (counted), and the frame is still drawn and acked.
    conn.send(tileMsg(0, 0, 64, 64, TileEncoding.Png, new Uint8Array([1, 2, 3, 4])));
    conn.send(tileMsg(0, 64, 64, 64, TileEncoding.ZRgb, deflateSync(Buffer.alloc(64 * 64 * 3 + 10, 255)))); // inflates too large
    conn.send(tileMsg(64, 64, 64, 64, TileEncoding.ZRgb, deflateSync(Buffer.alloc(64 * 64 * 3 - 3, 255)))); // too small
    conn.send({ type: 'frame', seq: 9, time: 3000 });
    await until(() => conn.acks().includes(9), 'ack 9');
    expect(await page.evaluate(() => window.__batonViewer!.decodeErrors)).toBe(3);
    await checkCell(4);
    await checkCell(5);
    await checkCell(0);
  });

  it('draws Palette tiles and tiles covering rectangles of several cells, exactly', async () => {
    /** A Palette payload: u8 (n - 1), RGB palette, zlib of indices packed MSB first, rows padded to a byte. */
    const paletteTile = (x: number, y: number, w: number, h: number, colours: number[][], index: (px: number, py: number) => number) => {
      const n = colours.length;
      const bits = paletteBits(n), rowBytes = paletteRowBytes(w, n);
      const packed = Buffer.alloc(rowBytes * h);
      const rgb = Buffer.alloc(w * h * 3);
      for (let py = 0; py < h; py++)
        for (let px = 0; px < w; px++) {
          const v = index(px, py);
          const bit = px * bits;
          packed[py * rowBytes + (bit >> 3)] |= v << (8 - bits - (bit & 7));
          rgb.set(colours[v]!, (py * w + px) * 3);
        }
      const data = Buffer.concat([Buffer.from([n - 1]), Buffer.from(colours.flat()), deflateSync(packed)]);
      return { tile: tileMsg(x, y, w, h, TileEncoding.Palette, data), rgb };
    };
    const grey = Array.from({ length: 40 }, (_, i) => [i * 6, 255 - i * 6, (i * 37) % 256]);
    // Cells 0-1 (128x64, 2 colours: 1 bit), cells 2-3 and 6-7 (122x128, clipped, 40 colours: 8 bits),
    // cells 4-5 (128x64, 3 colours: 2 bits).
    const a = paletteTile(0, 0, 128, 64, [[255, 255, 255], [10, 20, 30]], (x, y) => ((x >> 3) + (y >> 2)) & 1);
    const b = paletteTile(128, 0, 122, 128, grey, (x, y) => (x * 7 + y * 3) % 40);
    const c = paletteTile(0, 64, 128, 64, [[200, 0, 0], [0, 200, 0], [0, 0, 200]], (x, y) => (x + y) % 3);
    expect(a.tile.data.length).toBeLessThan(80); // 8192 pixels of 2-colour pattern
    for (const t of [a, b, c]) conn.send(t.tile);
    conn.send({ type: 'frame', seq: 20, time: 5000 });
    await until(() => conn.acks().includes(20), 'ack 20');
    for (const [t, rgb] of [[a.tile, a.rgb], [b.tile, b.rgb], [c.tile, c.rgb]] as const) {
      const rgba = await page.evaluate(([x, y, w, h]) => window.batonTest.readPixels('[data-testid=share-canvas]', x!, y!, w!, h!), [t.x, t.y, t.w, t.h]);
      expect(diff(rgba, rgb), `palette tile at ${t.x},${t.y}`).toEqual({ max: 0, mean: 0 });
    }
    // One JPEG over the whole screen (all 8 cells), then a Palette cell drawn over it in the same frame.
    const photo = pattern(W, H, 3);
    conn.send(tileMsg(0, 0, W, H, TileEncoding.Jpeg, await sharp(photo, raw(W, H)).jpeg({ quality: 90 }).toBuffer(), TILE_FLAG_LOSSY));
    conn.send(a.tile);
    conn.send({ type: 'frame', seq: 21, time: 6000 });
    await until(() => conn.acks().includes(21), 'ack 21');
    const top = await page.evaluate(([x, y, w, h]) => window.batonTest.readPixels('[data-testid=share-canvas]', x!, y!, w!, h!), [0, 0, 128, 64]);
    expect(diff(top, a.rgb)).toEqual({ max: 0, mean: 0 });
    const rest = await page.evaluate(([x, y, w, h]) => window.batonTest.readPixels('[data-testid=share-canvas]', x!, y!, w!, h!), [128, 0, W - 128, H]);
    const restRgb = Buffer.alloc((W - 128) * H * 3);
    for (let y = 0; y < H; y++) photo.copy(restRgb, y * (W - 128) * 3, (y * W + 128) * 3, (y * W + W) * 3);
    expect(diff(rest, restRgb).mean).toBeLessThanOrEqual(5); // JPEG: close, and not the palette tile underneath
    expect(await page.evaluate(() => window.__batonViewer!.decodeErrors)).toBe(3); // unchanged since the bad tiles above
    // Leave the cells as the earlier expectations say, for the tests that follow.
    for (let i = 0; i < cells.length; i++) conn.send(await encodeCell(i, TileEncoding.ZRgb, 30 + i));
    conn.send({ type: 'frame', seq: 22, time: 7000 });
    await until(() => conn.acks().includes(22), 'ack 22');
  });

  it('draws the remote cursor on the overlay at its hotspot and erases it when it moves', async () => {
    const red = new Uint8Array(4 * 4 * 4);
    for (let p = 0; p < 16; p++) red.set([255, 0, 0, 255], p * 4);
    conn.send({ type: 'cursorShape', w: 4, h: 4, hotX: 1, hotY: 1, rgba: red });
    conn.send({ type: 'cursorPos', x: 100, y: 50, visible: true });
    const px = (x: number, y: number) => page.evaluate(([x, y]) => window.batonTest.cursorAt(x!, y!), [x, y]);
    await until(async () => (await px(99, 49))[3] === 255, 'cursor drawn');
    // The overlay is the cursor's size (not the screen's), placed over the screen canvas at the same scale.
    const overlay = await page.getByTestId('share-cursor').evaluate((c: HTMLCanvasElement) => ({ w: c.width, h: c.height, box: c.getBoundingClientRect().toJSON() as DOMRect }));
    const screen = (await page.getByTestId('share-canvas').boundingBox())!;
    const scale = screen.width / (await page.evaluate(() => window.__batonViewer!.width));
    expect([overlay.w, overlay.h]).toEqual([4, 4]);
    expect(overlay.box.x).toBeCloseTo(screen.x + 99 * scale, 0);
    expect(overlay.box.y).toBeCloseTo(screen.y + 49 * scale, 0);
    expect(overlay.box.width).toBeCloseTo(4 * scale, 0);
    expect(await px(99, 49)).toEqual([255, 0, 0, 255]);
    expect(await px(102, 52)).toEqual([255, 0, 0, 255]);
    expect((await px(103, 53))[3]).toBe(0);
    conn.send({ type: 'cursorPos', x: 20, y: 20, visible: true });
    await until(async () => (await px(19, 19))[3] === 255, 'cursor moved');
    expect((await px(99, 49))[3]).toBe(0);
    conn.send({ type: 'cursorPos', x: 20, y: 20, visible: false });
    await until(async () => (await px(19, 19))[3] === 0, 'cursor hidden');
  });

  it('sends input in screen coordinates from a scaled canvas, only while controlling, and releases what it holds', async () => {
    const canvas = page.getByTestId('share-canvas');
    const box = (await canvas.boundingBox())!;
    expect(box.width).toBeCloseTo(125, 0); // 250x128 fitted into 125x64: scale 0.5
    expect(box.height).toBeCloseTo(64, 0);

    // Not controlling: nothing is sent.
    await page.mouse.move(box.x + 10, box.y + 10);
    await page.mouse.down();
    await page.mouse.up();
    await delay(100);
    expect(conn.inputs()).toEqual([]);

    // The remote cursor is on the overlay while watching...
    conn.send({ type: 'cursorPos', x: 200, y: 100, visible: true });
    const overlayAt = () => page.evaluate(() => window.batonTest.cursorAt(199, 99)[3]);
    await until(async () => (await overlayAt()) === 255, 'cursor shown');
    await page.evaluate(() => window.batonTest.setControlling(true));
    // ...and becomes the local pointer's shape while controlling (no lag), so the overlay is cleared.
    expect(await overlayAt()).toBe(0);
    expect(await canvas.evaluate((el) => getComputedStyle(el).cursor)).toMatch(/^url\("data:image\/png;base64,.+"\) 1 1, default$/);
    const n = () => conn.inputs().length;
    await page.mouse.move(box.x + 50.5, box.y + 20.5);
    await until(() => n() === 1, 'pointer move');
    expect(conn.inputs()[0]).toEqual({ type: 'pointer', x: 101, y: 41, buttons: 0 });
    await page.mouse.down();
    await page.mouse.up();
    await until(() => n() === 3, 'click');
    expect(conn.inputs().slice(1)).toEqual([
      { type: 'pointer', x: 101, y: 41, buttons: 1 },
      { type: 'pointer', x: 101, y: 41, buttons: 0 },
    ]);
    await page.mouse.move(box.x + 124, box.y + 63);
    await page.mouse.down({ button: 'right' });
    await page.mouse.up({ button: 'right' });
    await until(() => n() === 6, 'right click');
    expect(conn.inputs().slice(3)).toEqual([
      { type: 'pointer', x: 248, y: 126, buttons: 0 },
      { type: 'pointer', x: 248, y: 126, buttons: 4 },
      { type: 'pointer', x: 248, y: 126, buttons: 0 },
    ]);
    await page.mouse.wheel(0, 100);
    await until(() => n() === 7, 'wheel');
    expect(conn.inputs()[6]).toEqual({ type: 'wheel', x: 248, y: 126, dx: 0, dy: 2 });

    // The click focused the canvas: keys are captured (and the page does not see them).
    await page.keyboard.press('a');
    await until(() => n() === 9, 'key a');
    expect(conn.inputs().slice(7)).toEqual([
      { type: 'key', down: true, key: 'a', code: 'KeyA' },
      { type: 'key', down: false, key: 'a', code: 'KeyA' },
    ]);

    // Moves are sent at most once per animation frame: 20 in one task give one message, the last position.
    await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid=share-canvas]')!;
      const r = c.getBoundingClientRect();
      for (let i = 0; i < 20; i++) c.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + i, clientY: r.top + 2, bubbles: true }));
    });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await delay(50);
    expect(conn.inputs().slice(9)).toEqual([{ type: 'pointer', x: 38, y: 4, buttons: 0 }]);

    // Control ends while Shift and the left button are held: both are released.
    await page.keyboard.down('Shift');
    await page.mouse.down(); // where the real mouse still is
    await until(() => n() === 12, 'shift + button down');
    expect(conn.inputs().slice(10)).toEqual([
      { type: 'key', down: true, key: 'Shift', code: 'ShiftLeft' },
      { type: 'pointer', x: 248, y: 126, buttons: 1 },
    ]);
    await page.evaluate(() => window.batonTest.setControlling(false));
    await until(() => n() === 14, 'release on control end');
    expect(conn.inputs().slice(12)).toEqual([
      { type: 'key', down: false, key: 'Shift', code: 'ShiftLeft' },
      { type: 'pointer', x: 248, y: 126, buttons: 0 },
    ]);
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await page.mouse.move(box.x + 5, box.y + 5);
    await delay(100);
    expect(n()).toBe(14);

    // Esc twice gives the keyboard back: the second Esc is not sent, the canvas loses focus.
    await page.evaluate(() => window.batonTest.setControlling(true));
    await page.mouse.click(box.x + 5, box.y + 5);
    const before = n();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await until(() => page.evaluate(() => window.batonTest.keyboardReleased === 1), 'keyboard released');
    // The page has sent the first Esc before it released the keyboard; wait until the socket delivered it.
    const escapes = () => conn.inputs().slice(before).filter((m) => m.type === 'key');
    await until(() => escapes().length >= 2 || null, 'the first Esc, down and up');
    await delay(100); // room for a wrongly sent second Esc to show up (absence, as above)
    const keys = escapes();
    expect(keys).toEqual([
      { type: 'key', down: true, key: 'Escape', code: 'Escape' },
      { type: 'key', down: false, key: 'Escape', code: 'Escape' },
    ]);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null)).not.toBe('share-canvas');
    await page.evaluate(() => window.batonTest.setControlling(false));
  });

  it('reconnects with a fresh ticket after the connection drops, and stops on a final close with its reason', async () => {
    conn.ws.terminate();
    const second = await until(() => conns[1]?.auth && conns[1], 'reconnect');
    expect(second.auth!.ticket).toBe('T2');
    second.send({ type: 'screen', width: W, height: H, tileSize: T });
    for (let i = 0; i < cells.length; i++) second.send(await encodeCell(i, TileEncoding.ZRgb, 40 + i));
    second.send({ type: 'frame', seq: 1, time: 1 });
    await until(() => second.acks().includes(1), 'ack after reconnect');
    for (let i = 0; i < cells.length; i++) await checkCell(i);
    const states = await page.evaluate(() => window.batonTest.states);
    expect(states.at(-4)).toMatch(/^closed:1006:/);
    expect(states.slice(-3)).toEqual(['connecting', 'authenticating', 'open']);

    // Denied: the reason is shown and there is no retry.
    reject = { code: 4003, reason: 'the ticket is unknown, used or expired' };
    second.ws.terminate();
    await until(() => conns[2]?.closed, 'third connection refused');
    await until(() => page.getByTestId('share-status').count(), 'status shown');
    expect(await page.getByTestId('share-status').textContent()).toBe('the ticket is unknown, used or expired');
    await delay(1500);
    expect(conns).toHaveLength(3);
    reject = null;
  });

  it('shows the screen 1:1 with scrollbars in 1:1 mode', async () => {
    await page.evaluate(() => window.batonTest.mount({ wsUrl: '/ws/share', tickets: ['T9'], controlling: false, mode: '1:1', width: 125, height: 64 }));
    const c = await until(() => conns[3]?.auth && conns[3], 'new connection');
    c.send({ type: 'screen', width: W, height: H, tileSize: T });
    c.send({ type: 'frame', seq: 1, time: 1 });
    await until(() => c.acks().includes(1), 'ack');
    await until(async () => ((await page.getByTestId('share-canvas').boundingBox())?.width ?? 0) > 200, 'canvas at 1:1');
    const box = (await page.getByTestId('share-canvas').boundingBox())!;
    expect([box.width, box.height]).toEqual([W, H]);
    // The scroller scrolls both ways, and the page draws both scrollbars (native ones are transient or hidden).
    const scroll = await page.getByTestId('share-scroller').evaluate((el) => [el.scrollWidth > el.clientWidth, el.scrollHeight > el.clientHeight]);
    expect(scroll).toEqual([true, true]);
    // The bars follow the scroller's size through a ResizeObserver, a frame or so after the canvas grew. This
    // bare page has no stylesheet, so their look is checked on the meeting page (meeting-stage e2e), not here.
    await until(async () => (await page.getByTestId('share-scrollbar-h').count()) === 1 && (await page.getByTestId('share-scrollbar-v').count()) === 1, 'both drawn scrollbars');
  });
  it('falls back to main-thread ZRgb decoding when its workers cannot start', async () => {
    const p2 = await browser.newPage();
    try {
      let blocked = 0;
      await p2.route('**/assets/**', (route) => (blocked++, route.abort())); // the worker chunk cannot load
      await p2.goto(base);
      await p2.waitForFunction(() => !!window.batonTest);
      await p2.evaluate(() => window.batonTest.mountCore({ wsUrl: '/ws/share', ticket: 'no-workers', decoders: 'default' }));
      const c = await until(() => conns.find((x) => x.auth?.ticket === 'no-workers'), 'connection');
      c.send({ type: 'screen', width: W, height: H, tileSize: T });
      for (let i = 0; i < cells.length; i++) c.send(await encodeCell(i, TileEncoding.ZRgb, 60 + i));
      c.send({ type: 'frame', seq: 1, time: 1 });
      await until(() => c.acks().includes(1), 'ack');
      expect(blocked).toBeGreaterThan(0);
      expect(await p2.evaluate(() => window.__batonViewer!.decodeErrors)).toBe(0);
      for (let i = 0; i < cells.length; i++) {
        const { x, y, w, h } = cells[i]!;
        const rgba = await p2.evaluate(([x, y, w, h]) => window.batonTest.readPixels('#core', x!, y!, w!, h!), [x, y, w, h]);
        expect(diff(rgba, expected.get(i)!.rgb).max, `cell ${i}`).toBe(0);
      }
      // A `tiles` batch too: drawn on the main thread, tile by tile.
      const batch: Tile[] = [];
      for (let i = 0; i < cells.length; i++) batch.push(await encodeCell(i, TileEncoding.ZRgb, 90 + i));
      c.send({ type: 'tiles', tiles: batch });
      c.send({ type: 'frame', seq: 2, time: 2 });
      await until(() => c.acks().includes(2), 'ack 2');
      expect(await p2.evaluate(() => window.__batonViewer!)).toMatchObject({ decodeErrors: 0, tileBatches: 1, workerBatches: 0 });
      for (let i = 0; i < cells.length; i++) {
        const { x, y, w, h } = cells[i]!;
        const rgba = await p2.evaluate(([x, y, w, h]) => window.batonTest.readPixels('#core', x!, y!, w!, h!), [x, y, w, h]);
        expect(diff(rgba, expected.get(i)!.rgb).max, `batch cell ${i}`).toBe(0);
      }
    } finally {
      await p2.close();
    }
  });

  /** A viewer core in frame-verification mode on `page`, authenticating with `ticket`: its connection on the fake relay. */
  const mountVerifying = async (page: Page, ticket: string) => {
    await page.addInitScript(() => (window.__batonVerifyFrames = true));
    await page.goto(base);
    await page.waitForFunction(() => !!window.batonTest);
    await page.evaluate((t) => window.batonTest.mountCore({ wsUrl: '/ws/share', ticket: t, decoders: 'default' }), ticket);
    return until(() => conns.find((x) => x.auth?.ticket === ticket), 'connection');
  };

  it('frame verification: hashes the canvas after each whole frame and counts the frames that differ from the host', async () => {
    const p2 = await browser.newPage();
    try {
      const c = await mountVerifying(p2, 'verify');
      // Two 64 px cells; the host's hash over the given cells' RGB (null: lossy, left out).
      const cellHash = (rgb: Buffer) => {
        let h = CELL_HASH_SEED;
        for (let i = 0; i < rgb.length; i += 3) h = cellHashStep(h, (rgb[i]! << 16) | (rgb[i + 1]! << 8) | rgb[i + 2]!);
        return h;
      };
      const hashOf = (cells: (Buffer | null)[]) => cells.reduce((h, rgb, i) => (rgb ? frameHashFold(h, i, cellHash(rgb)) : h), CELL_HASH_SEED);
      const a = pattern(64, 64, 1), b = pattern(64, 64, 2);
      const solid = (rgb: number[]) => Buffer.concat(Array.from({ length: 64 * 64 }, () => Buffer.from(rgb)));
      c.send({ type: 'screen', width: 128, height: 64, tileSize: 64 });
      // Frame 1: two ZRgb cells (decoded in workers, in any order).
      c.send(tileMsg(0, 0, 64, 64, TileEncoding.ZRgb, deflateSync(a)));
      c.send(tileMsg(64, 0, 64, 64, TileEncoding.ZRgb, deflateSync(b)));
      c.send({ type: 'frame', seq: 1, time: 1, hash: hashOf([a, b]) });
      // Frame 2: the left cell copied onto the right one.
      c.send(tileMsg(64, 0, 64, 64, TileEncoding.Copy, copyPayload(0, 0)));
      c.send({ type: 'frame', seq: 2, time: 2, hash: hashOf([a, a]) });
      // Frame 3: the right cell lossy (JPEG): only the left one counts.
      c.send(tileMsg(64, 0, 64, 64, TileEncoding.Jpeg, await sharp(b, raw(64, 64)).jpeg({ quality: 60 }).toBuffer(), TILE_FLAG_LOSSY));
      c.send({ type: 'frame', seq: 3, time: 3, hash: hashOf([a, null]) });
      // Frame 4: the host had a slightly different colour than the viewer is sent: a mismatch.
      c.send(tileMsg(0, 0, 64, 64, TileEncoding.Fill, Uint8Array.from([9, 9, 9])));
      c.send({ type: 'frame', seq: 4, time: 4, hash: hashOf([solid([9, 9, 8]), null]) });
      // Frame 5: no hash (a host not in verify mode): drawn, not counted.
      c.send(tileMsg(0, 0, 64, 64, TileEncoding.Fill, Uint8Array.from([9, 9, 9])));
      c.send({ type: 'frame', seq: 5, time: 5 });
      await until(() => c.acks().includes(5), 'ack 5');
      expect(await p2.evaluate(() => window.__batonViewer!)).toMatchObject({ framesDrawn: 5, framesVerified: 4, framesMismatched: 1, lastMismatchSeq: 4 });
    } finally {
      await p2.close();
    }
  });

  it('measures the decode cost of a full 1080p frame per encoding and decoder path', async () => {
    const FW = 1920, FH = 1080, FT = 64;
    const desktop = await sharp(Buffer.from(desktopSvg(FW, FH))).removeAlpha().raw().toBuffer();
    const grid: { x: number; y: number; w: number; h: number; rgb: Buffer }[] = [];
    for (let y = 0; y < FH; y += FT)
      for (let x = 0; x < FW; x += FT) {
        const w = Math.min(FT, FW - x), h = Math.min(FT, FH - y);
        const rgb = Buffer.alloc(w * h * 3);
        for (let r = 0; r < h; r++) desktop.copy(rgb, r * w * 3, ((y + r) * FW + x) * 3, ((y + r) * FW + x + w) * 3);
        grid.push({ x, y, w, h, rgb });
      }
    // The agent's settings: ZRgb at zlib level 1, PNG level 1 without adaptive filtering, JPEG q70 4:2:0.
    const encoders: [string, TileEncoding, (t: (typeof grid)[number]) => Promise<Uint8Array>][] = [
      ['ZRgb', TileEncoding.ZRgb, async (t) => deflateSync(t.rgb, { level: 1 })],
      ['PNG', TileEncoding.Png, (t) => sharp(t.rgb, raw(t.w, t.h)).png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer()],
      ['JPEG', TileEncoding.Jpeg, (t) => sharp(t.rgb, raw(t.w, t.h)).jpeg({ quality: 70, chromaSubsampling: '4:2:0' }).toBuffer()],
    ];
    const encoded = new Map<string, Uint8Array[]>();
    for (const [name, encoding, encode] of encoders) {
      encoded.set(name, await Promise.all(grid.map(async (t) => encodeShareMessage(tileMsg(t.x, t.y, t.w, t.h, encoding, await encode(t))))));
    }
    const report: string[] = [];
    for (const variant of ['default', 'main', 'baseline'] as const) {
      const ticket = `bench-${variant}`;
      await page.evaluate(([ticket, decoders]) => window.batonTest.mountCore({ wsUrl: '/ws/share', ticket: ticket!, decoders: decoders as 'default' }), [ticket, variant]);
      const c = await until(() => conns.find((x) => x.auth?.ticket === ticket), `${variant} connection`);
      let seq = 0;
      for (const [name, encoding] of encoders) {
        const frames = encoded.get(name)!;
        const bytes = frames.reduce((n, f) => n + f.length, 0);
        const times: number[] = [];
        for (let round = 0; round < 5; round++) {
          c.send({ type: 'screen', width: FW, height: FH, tileSize: FT });
          for (const f of frames) c.send(f);
          const s = ++seq;
          c.send({ type: 'frame', seq: s, time: Date.now() });
          await until(() => c.acks().includes(s), `ack ${s}`, 30_000);
          times.push(await page.evaluate(() => window.__batonViewer!.lastFrameMs));
        }
        expect(await page.evaluate(() => window.__batonViewer!.decodeErrors)).toBe(0);
        // The whole frame really landed: a text-heavy tile, a photo tile and the last (clipped) one.
        for (const t of [grid[2 * 30 + 3]!, grid[7 * 30 + 20]!, grid.at(-1)!]) {
          const rgba = await page.evaluate(([x, y, w, h]) => window.batonTest.readPixels('#core', x!, y!, w!, h!), [t.x, t.y, t.w, t.h]);
          const d = diff(rgba, t.rgb);
          expect(d.mean, `${variant} ${name}`).toBeLessThanOrEqual(encoding === TileEncoding.Jpeg ? 12 : 0);
        }
        times.shift(); // warm-up
        times.sort((a, b) => a - b);
        report.push(`${variant.padEnd(8)} ${name.padEnd(4)} ${String((bytes / 1024) | 0).padStart(5)} KiB  median ${times[1]!.toFixed(0).padStart(4)} ms (min ${times[0]!.toFixed(0)}, max ${times.at(-1)!.toFixed(0)})`);
      }
    }
    console.log(`viewer: full 1920x1080 frame, 510 tiles of 64 px, first tile received → drawn\n  default = ZRgb in workers (fflate) + ImageDecoder, main = ZRgb with fflate on the main thread, baseline = DecompressionStream + createImageBitmap\n  ${report.join('\n  ')}`);
  }, 180_000);

  it('draws a `tiles` batch (a snapshot) in a decode worker exactly as its tiles one by one, in order, leaving other cells alone; frame verification agrees', async () => {
    const p2 = await browser.newPage();
    try {
      const c = await mountVerifying(p2, 'batch');
      expect(c.auth!.version).toBeGreaterThanOrEqual(SHARE_TILES_VERSION);
      const crop = (rgb: Buffer, rw: number, x: number, y: number, w: number, h: number) => {
        const out = Buffer.alloc(w * h * 3);
        for (let r = 0; r < h; r++) rgb.copy(out, r * w * 3, ((y + r) * rw + x) * 3, ((y + r) * rw + x + w) * 3);
        return out;
      };
      const solid = (w: number, h: number, rgb: number[]) => Buffer.concat(Array.from({ length: w * h }, () => Buffer.from(rgb)));
      const cellHash = (rgb: Buffer) => {
        let h = CELL_HASH_SEED;
        for (let i = 0; i < rgb.length; i += 3) h = cellHashStep(h, (rgb[i]! << 16) | (rgb[i + 1]! << 8) | rgb[i + 2]!);
        return h;
      };
      const hashOf = (now: (Buffer | null)[]) => now.reduce((h, rgb, i) => (rgb ? frameHashFold(h, i, cellHash(rgb)) : h), CELL_HASH_SEED);
      c.send({ type: 'screen', width: W, height: H, tileSize: T });
      // Frame 1, one tile a message: every cell ZRgb.
      const now: (Buffer | null)[] = cells.map((q, i) => pattern(q.w, q.h, 70 + i));
      for (let i = 0; i < cells.length; i++) c.send(tileMsg(cells[i]!.x, cells[i]!.y, cells[i]!.w, cells[i]!.h, TileEncoding.ZRgb, deflateSync(now[i]!)));
      c.send({ type: 'frame', seq: 1, time: 1, hash: hashOf(now) });
      // Frame 2, one `tiles` message: a PNG over cells 0-1, a fill over cell 1 after it, JPEG, WebP, ZRgb and
      // a 2-colour Palette; cells 6 and 7 are not in it and must stay as frame 1 left them.
      const wide = pattern(128, 64, 80);
      const photo = pattern(64, 64, 82);
      const webp = pattern(58, 64, 83);
      const zrgb = pattern(64, 64, 84);
      const packed = Buffer.alloc(8 * 64);
      const pal = Buffer.alloc(64 * 64 * 3);
      const colours = [[250, 250, 250], [20, 30, 40]];
      for (let y = 0; y < 64; y++)
        for (let x = 0; x < 64; x++) {
          const v = ((x >> 2) ^ (y >> 2)) & 1;
          packed[y * 8 + (x >> 3)] |= v << (7 - (x & 7));
          pal.set(colours[v]!, (y * 64 + x) * 3);
        }
      const tiles = [
        tileMsg(0, 0, 128, 64, TileEncoding.Png, await sharp(wide, raw(128, 64)).png().toBuffer()),
        tileMsg(64, 0, 64, 64, TileEncoding.Fill, Uint8Array.of(12, 34, 56)),
        tileMsg(128, 0, 64, 64, TileEncoding.Jpeg, await sharp(photo, raw(64, 64)).jpeg({ quality: 90 }).toBuffer(), TILE_FLAG_LOSSY),
        tileMsg(192, 0, 58, 64, TileEncoding.Webp, await sharp(webp, raw(58, 64)).webp({ lossless: true }).toBuffer()),
        tileMsg(0, 64, 64, 64, TileEncoding.ZRgb, deflateSync(zrgb)),
        tileMsg(64, 64, 64, 64, TileEncoding.Palette, Buffer.concat([Buffer.from([1]), Buffer.from(colours.flat()), deflateSync(packed)])),
      ];
      now[0] = crop(wide, 128, 0, 0, 64, 64);
      now[1] = solid(64, 64, [12, 34, 56]);
      now[2] = null; // lossy: not hashed
      now[3] = webp;
      now[4] = zrgb;
      now[5] = pal;
      c.send({ type: 'tiles', tiles });
      c.send({ type: 'frame', seq: 2, time: 2, hash: hashOf(now) });
      await until(() => c.acks().includes(2), 'ack 2');
      expect(await p2.evaluate(() => window.__batonViewer!)).toMatchObject({ framesDrawn: 2, framesVerified: 2, framesMismatched: 0, decodeErrors: 0, tileBatches: 1, batchedTiles: 6, workerBatches: 1, tilesDrawn: 14 });
      for (let i = 0; i < cells.length; i++) {
        const { x, y, w, h } = cells[i]!;
        const rgba = await p2.evaluate(([x, y, w, h]) => window.batonTest.readPixels('#core', x!, y!, w!, h!), [x, y, w, h]);
        const d = diff(rgba, now[i] ?? photo);
        if (now[i]) expect(d, `cell ${i}`).toEqual({ max: 0, mean: 0 });
        else expect(d.mean, `cell ${i} (JPEG)`).toBeLessThanOrEqual(3);
      }
    } finally {
      await p2.close();
    }
  });

  it("takes over a share started before it mounted (a late joiner's, opened as its welcome came): the picture drawn so far exactly, the cursor, and the same connection goes on", async () => {
    const p3 = await browser.newPage({ viewport: { width: 800, height: 600 } });
    try {
      await p3.goto(base);
      await p3.waitForFunction(() => !!window.batonTest);
      await p3.evaluate(() => window.batonTest.mountEarly({ wsUrl: '/ws/share', ticket: 'EARLY' }));
      const c = await until(() => conns.find((x) => x.auth?.ticket === 'EARLY'), 'early auth');
      const red = new Uint8Array(4 * 4 * 4);
      for (let p = 0; p < 16; p++) red.set([255, 0, 0, 255], p * 4);
      c.send({ type: 'screen', width: W, height: H, tileSize: T });
      c.send({ type: 'cursorShape', w: 4, h: 4, hotX: 1, hotY: 1, rgba: red });
      c.send({ type: 'cursorPos', x: 100, y: 50, visible: true });
      const lossless = [TileEncoding.Fill, TileEncoding.Png, TileEncoding.ZRgb, TileEncoding.Webp];
      for (let i = 0; i < cells.length; i++) c.send(await encodeCell(i, lossless[i % 4]!, 50 + i));
      c.send({ type: 'frame', seq: 1, time: 1 });
      // Drawn (and acked) on the view's own canvas, before the page has a screen at all.
      await until(() => c.acks().includes(1), 'ack 1 before mounting');
      expect(await p3.getByTestId('share-canvas').count()).toBe(0);

      await p3.evaluate(() => window.batonTest.mount({ wsUrl: '/ws/share', tickets: ['NOT-NEEDED'], controlling: false, mode: 'fit', width: 125, height: 64, adopt: true }));
      const check = async (i: number) => {
        const { x, y, w, h } = cells[i]!;
        const rgba = await p3.evaluate(([x, y, w, h]) => window.batonTest.readPixels('[data-testid=share-canvas]', x!, y!, w!, h!), [x, y, w, h]);
        expect(diff(rgba, expected.get(i)!.rgb), `cell ${i}`).toEqual({ max: 0, mean: 0 });
      };
      // The page's canvas shows that picture at once, pixel for pixel, with the host's cursor over it.
      expect(await p3.getByTestId('share-viewport').getAttribute('data-drawn')).toBe('true');
      expect(await p3.getByTestId('share-viewport').getAttribute('data-state')).toBe('open');
      expect(await p3.evaluate(() => [(document.querySelector('[data-testid=share-canvas]') as HTMLCanvasElement).width, (document.querySelector('[data-testid=share-canvas]') as HTMLCanvasElement).height])).toEqual([W, H]);
      for (let i = 0; i < cells.length; i++) await check(i);
      expect(await p3.evaluate(() => window.batonTest.cursorAt(99, 49))).toEqual([255, 0, 0, 255]);
      expect((await p3.evaluate(() => window.batonTest.cursorAt(103, 53)))[3]).toBe(0);

      // The same connection goes on feeding the page's canvas; no second one was opened.
      c.send(await encodeCell(2, TileEncoding.Png, 90));
      c.send({ type: 'frame', seq: 2, time: 2 });
      await until(() => c.acks().includes(2), 'ack 2 after mounting');
      for (let i = 0; i < cells.length; i++) await check(i);
      expect(conns.filter((x) => x.auth?.ticket === 'NOT-NEEDED')).toEqual([]);
      expect(await p3.evaluate(() => window.__batonViewer!)).toMatchObject({ framesDrawn: 2, decodeErrors: 0, width: W, height: H });
    } finally {
      await p3.close();
    }
  }, 120_000);
});

/** A desktop-like test picture: windows with lines of text, a toolbar, and a photo-like area. */
function desktopSvg(w: number, h: number): string {
  const lines: string[] = [];
  const words = ['const', 'share', 'viewer', 'frame', 'tile', '=', 'await', 'decode(', ');', 'return', 'if', '{', '}', 'baton', 'host', 'screen'];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 45; i++) {
    let text = '';
    while (text.length < 70) text += words[Math.floor(rnd() * words.length)] + ' ';
    lines.push(`<text x="40" y="${120 + i * 20}" font-family="DejaVu Sans Mono" font-size="14" fill="#222">${text.replace(/[<>&]/g, '')}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <rect width="${w}" height="${h}" fill="#3a6ea5"/>
    <rect x="20" y="60" width="900" height="1000" fill="#fdfdfd" stroke="#888"/>
    <rect x="20" y="60" width="900" height="30" fill="#dfe4ea"/>
    <rect x="0" y="0" width="${w}" height="40" fill="#2b2b2b"/>
    ${lines.join('')}
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#f4a261"/><stop offset="1" stop-color="#264653"/></linearGradient>
    <filter id="n"><feTurbulence type="fractalNoise" baseFrequency="0.04" numOctaves="4"/><feColorMatrix type="saturate" values="2"/><feBlend in="SourceGraphic" mode="multiply"/></filter></defs>
    <rect x="960" y="300" width="900" height="600" fill="url(#g)" filter="url(#n)"/>
  </svg>`;
}

/**
 * The host's desktop that the screen-share e2e tests draw on Xvfb and look for on a viewer's canvas:
 * four coloured quadrants and, in the middle, a window that records the input it gets.
 */
import type { Page } from 'playwright-core';
import type { Painter, Rgb } from '../../packages/agent/test/helpers/painter.js';
import { loadX11 } from '../../packages/agent/src/x11.js';

export const W = 1280;
export const H = 720;
export const QUADRANTS: { x: number; y: number; c: Rgb }[] = [
  { x: 0, y: 0, c: [200, 30, 30] },
  { x: 640, y: 0, c: [30, 160, 60] },
  { x: 0, y: 360, c: [30, 60, 200] },
  { x: 640, y: 360, c: [220, 200, 40] },
];
export const TARGET = { x: 440, y: 260, w: 400, h: 200, c: [90, 90, 90] as Rgb };

/** An input event the middle window got (a key press also with its keysym, once the server said it). */
export type XEv = { name: string; x: number; y: number; detail: number; keysym?: number };

/** Draws the quadrants and the middle window, gives that window the focus and records its input in `seen`. */
export async function paintHostDesktop(painter: Painter, seen: XEv[]): Promise<void> {
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
}

/** The RGB at (x, y) of a viewer page's share canvas (or another canvas by its test id), or null before it has a picture. */
export const canvasPixel = (page: Page, x: number, y: number, testId = 'share-canvas') =>
  page.evaluate(
    ([x, y, id]) => {
      const c = document.querySelector(`[data-testid="${id}"]`) as HTMLCanvasElement | null;
      if (!c || c.width === 0) return null;
      return Array.from(c.getContext('2d')!.getImageData(x, y, 1, 1).data.slice(0, 3));
    },
    [x, y, testId] as const,
  );

/** Whether colour `a` is within `tol` of `c` in every channel. */
export const closeTo = (a: number[] | null, c: Rgb, tol = 12) => !!a && a.every((v, i) => Math.abs(v - c[i]!) <= tol);

/** A non-repeating texture (40 grey levels: lossless through the tile codecs), different per seed: packed RGB. */
export function texture(w: number, h: number, seed: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = ((Math.imul(x * 374761393 + y * 668265263 + seed * 97, 1274126177) >>> 24) % 40) * 6;
      rgb[(y * w + x) * 3] = v;
      rgb[(y * w + x) * 3 + 1] = 255 - v;
      rgb[(y * w + x) * 3 + 2] = (v * 3) & 0xff;
    }
  }
  return rgb;
}

/** The RGBA pixels of a viewer page's share canvas while it is w x h; null while it has another size. */
export async function canvasRgba(page: Page, w: number, h: number): Promise<Buffer | null> {
  const seen = await page.evaluate(({ w, h }) => {
    const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement | null;
    if (!c || c.width !== w || c.height !== h) return null;
    const d = c.getContext('2d')!.getImageData(0, 0, w, h).data;
    let bin = '';
    for (let i = 0; i < d.length; i += 8192) bin += String.fromCharCode(...d.subarray(i, i + 8192));
    return btoa(bin);
  }, { w, h });
  return seen === null ? null : Buffer.from(seen, 'base64');
}

/** The X screen's pixels at (0, 0, w, h) now (B, G, R, x per pixel), read through the painter's connection. */
export async function screenPixels(painter: Painter, w: number, h: number): Promise<Buffer> {
  const img = await new Promise<{ data: Buffer }>((resolve, reject) =>
    painter.conn.client.GetImage(2, painter.conn.root, 0, 0, w, h, 0xffffffff, (err: unknown, r: { data: Buffer }) => (err ? reject(err) : resolve(r))),
  );
  return img.data;
}

/** Pixels of the share canvas (w x h) that differ from the X screen's now; -1 while the canvas has another size. */
export async function screenMismatches(page: Page, painter: Painter, w: number, h: number): Promise<number> {
  const host = await screenPixels(painter, w, h);
  const px = await canvasRgba(page, w, h);
  if (!px) return -1;
  let bad = 0;
  for (let i = 0; i < host.length; i += 4) if (host[i + 2] !== px[i] || host[i + 1] !== px[i + 1] || host[i] !== px[i + 2]) bad++;
  return bad;
}

/** Pixels of a viewer page's share canvas (the whole canvas, w x h) that differ from packed RGB `rgb`; -1 while it has another size. */
export async function canvasMismatches(page: Page, rgb: Uint8Array, w: number, h: number): Promise<number> {
  const px = await canvasRgba(page, w, h);
  if (!px) return -1;
  let bad = 0;
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) if (px[j] !== rgb[i] || px[j + 1] !== rgb[i + 1] || px[j + 2] !== rgb[i + 2]) bad++;
  return bad;
}

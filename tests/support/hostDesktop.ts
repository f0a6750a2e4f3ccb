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

/** The RGB at (x, y) of a viewer page's share canvas, or null before it has a picture. */
export const canvasPixel = (page: Page, x: number, y: number) =>
  page.evaluate(
    ([x, y]) => {
      const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement | null;
      if (!c || c.width === 0) return null;
      return Array.from(c.getContext('2d')!.getImageData(x!, y!, 1, 1).data.slice(0, 3));
    },
    [x, y],
  );

/** Whether colour `a` is within `tol` of `c` in every channel. */
export const closeTo = (a: number[] | null, c: Rgb, tol = 12) => !!a && a.every((v, i) => Math.abs(v - c[i]!) <= tol);

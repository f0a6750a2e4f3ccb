import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeShareMessage, encodeShareMessage } from '@baton/protocol';
import { CursorWatcher, toShape, type CursorPos, type CursorShape } from '../src/CursorWatcher.js';
import { Painter } from './helpers/painter.js';
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const run = promisify(execFile);
const HAVE_X = xvfbAvailable('CursorWatcher tests');

function next<T>(w: CursorWatcher, event: 'shape' | 'position', pred: (v: T) => boolean = () => true, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} event`)), ms);
    const fn = (v: T) => {
      if (!pred(v)) return;
      clearTimeout(t);
      w.off(event, fn as never);
      resolve(v);
    };
    w.on(event, fn as never);
  });
}

describe('toShape', () => {
  it('un-premultiplies XFIXES ARGB into straight RGBA', () => {
    // one pixel: B=0x40 G=0x20 R=0x10 A=0x80 (premultiplied), one transparent pixel
    const s = toShape(2, 1, 0, 0, Buffer.from([0x40, 0x20, 0x10, 0x80, 0, 0, 0, 0]));
    expect([...s.rgba]).toEqual([32, 64, 128, 128, 0, 0, 0, 0]);
    expect(decodeShareMessage(encodeShareMessage(s))).toMatchObject({ type: 'cursorShape', w: 2, h: 1 });
  });
});

describe.skipIf(!HAVE_X)('CursorWatcher under Xvfb', () => {
  let desktop: XDesktop;
  let painter: Painter;
  beforeAll(async () => {
    desktop = await XDesktop.start(1280, 720);
    painter = desktop.painter;
  });
  afterAll(() => desktop?.stop());

  it('reports the cursor image and the pointer position relative to the shared area', async () => {
    const w = await CursorWatcher.open({ display: desktop.display, area: () => ({ x: 640, y: 0, width: 640, height: 720 }) });
    try {
      const first = w.shape!;
      expect(first.w).toBeGreaterThan(0);
      expect(first.rgba.some((v) => v !== 0)).toBe(true);

      const inside = next<CursorPos>(w, 'position', (p) => p.visible);
      await run('xdotool', ['mousemove', '700', '100'], { env: desktop.env() });
      expect(await inside).toEqual({ type: 'cursorPos', x: 60, y: 100, visible: true });

      const outside = next<CursorPos>(w, 'position', (p) => !p.visible);
      await run('xdotool', ['mousemove', '100', '100'], { env: desktop.env() });
      expect((await outside).visible).toBe(false);

      // A live client sets a core "watch" cursor on the root (the server refuses the image of a
      // cursor whose creator has exited, so not xsetroot).
      const changed = next<CursorShape>(w, 'shape');
      const X = painter.conn.client as unknown as Record<string, (...a: unknown[]) => void>;
      const font = painter.conn.client.AllocID();
      const cursor = painter.conn.client.AllocID();
      X.OpenFont!(font, 'cursor');
      X.CreateGlyphCursor!(cursor, font, font, 150, 151, { R: 0, G: 0, B: 0 }, { R: 65535, G: 65535, B: 65535 });
      painter.conn.client.ChangeWindowAttributes(painter.conn.root, { cursor });
      await painter.conn.sync();
      const watch = await changed;
      expect(Buffer.from(watch.rgba).equals(Buffer.from(first.rgba))).toBe(false);
    } finally {
      await w.close();
      await w.close();
    }
  });
});

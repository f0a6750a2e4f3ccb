import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PointerButton } from '@baton/protocol';
import { InputInjector } from '../src/InputInjector.js';
import { InjectionLog } from '../src/InjectionLog.js';
import { LocalInputMonitor } from '../src/LocalInputMonitor.js';
import { browserKeyToKeysym } from '../src/keysyms.js';
import { xcall, loadX11, type XEvent } from '../src/x11.js';
import { Painter } from './helpers/painter.js';
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const run = promisify(execFile);
const HAVE_X = xvfbAvailable('InputInjector / LocalInputMonitor tests');

type Seen = { name: string; detail: number; x: number; y: number; state: number; keysym?: number };

function keysymToChar(ks: number): string {
  if (ks >= 0x01000000) return String.fromCodePoint(ks - 0x01000000);
  return String.fromCharCode(ks);
}

describe('browserKeyToKeysym', () => {
  it('maps characters, named keys and modifiers', () => {
    expect(browserKeyToKeysym('a', 'KeyA')).toBe(0x61);
    expect(browserKeyToKeysym('A', 'KeyA')).toBe(0x41);
    expect(browserKeyToKeysym('é', 'Quote')).toBe(0xe9);
    expect(browserKeyToKeysym('€', 'KeyE')).toBe(0x010020ac);
    expect(browserKeyToKeysym('Enter', 'Enter')).toBe(0xff0d);
    expect(browserKeyToKeysym('Enter', 'NumpadEnter')).toBe(0xff8d);
    expect(browserKeyToKeysym('F12', 'F12')).toBe(0xffc9);
    expect(browserKeyToKeysym('Shift', 'ShiftRight')).toBe(0xffe2);
    expect(browserKeyToKeysym('Meta', 'MetaLeft')).toBe(0xffeb);
    expect(browserKeyToKeysym('Unidentified', 'KeyQ')).toBe(0x71);
    expect(browserKeyToKeysym('Dead', '')).toBeNull();
  });
});

describe.skipIf(!HAVE_X)('InputInjector and LocalInputMonitor under Xvfb', () => {
  let desktop: XDesktop;
  let painter: Painter;
  let win: number;
  let seen: Seen[] = [];

  beforeAll(async () => {
    desktop = await XDesktop.start(1280, 720);
    painter = desktop.painter;
    const em = loadX11().eventMask;
    win = await painter.window(100, 100, 600, 400, [40, 40, 40], em.KeyPress! | em.KeyRelease! | em.ButtonPress! | em.ButtonRelease! | em.PointerMotion!);
    painter.conn.client.SetInputFocus(win, 1);
    await painter.conn.sync();
    const X = painter.conn.client;
    painter.conn.on('event', (ev: XEvent) => {
      if (!['KeyPress', 'KeyRelease', 'ButtonPress', 'ButtonRelease', 'MotionNotify'].includes(ev.name ?? '')) return;
      const s: Seen = { name: ev.name!, detail: ev.keycode as number, x: ev.x as number, y: ev.y as number, state: ev.buttons as number };
      seen.push(s);
      if (ev.name === 'KeyPress') {
        // Look the keysym up now, as a client would, while a remap is still in place.
        X.GetKeyboardMapping(s.detail, 1, (err, rows) => {
          const row = rows?.[0] ?? [];
          const shifted = (s.state & 1) !== 0 && row[1] ? row[1] : row[0];
          s.keysym = shifted;
          return true;
        });
      }
    });
  });
  afterAll(() => desktop?.stop());

  async function settle(): Promise<void> {
    await sleep(100);
    await painter.conn.sync();
  }

  it('moves the pointer in shared-area coordinates and presses buttons 1-3, back and forward', async () => {
    const inj = await InputInjector.open({ display: desktop.display, area: () => ({ x: 50, y: 50, width: 1000, height: 600 }) });
    try {
      seen = [];
      await inj.pointer(100, 120, 0);
      await inj.pointer(100, 120, PointerButton.Left);
      await inj.pointer(110, 130, PointerButton.Left | PointerButton.Right);
      await inj.pointer(110, 130, 0);
      await inj.pointer(110, 130, PointerButton.Middle);
      await inj.pointer(110, 130, PointerButton.Back);
      await inj.pointer(110, 130, PointerButton.Forward);
      await inj.pointer(110, 130, 0);
      await inj.flush();
      await settle();
      const motions = seen.filter((s) => s.name === 'MotionNotify');
      // area origin (50,50) + (100,120) = root (150,170) = window (50,70)
      expect(motions[0]).toMatchObject({ x: 50, y: 70 });
      expect(motions.at(-1)).toMatchObject({ x: 60, y: 80 });
      const buttons = seen.filter((s) => s.name.startsWith('Button')).map((s) => `${s.name === 'ButtonPress' ? '+' : '-'}${s.detail}`);
      expect(buttons).toEqual(['+1', '+3', '-1', '-3', '+2', '-2', '+8', '-8', '+9', '-9']);
    } finally {
      await inj.close();
    }
  });

  it('turns wheel notches into buttons 4/5/6/7', async () => {
    const inj = await InputInjector.open({ display: desktop.display });
    try {
      seen = [];
      await inj.wheel(300, 300, 0, 2);
      await inj.wheel(300, 300, 0, -1);
      await inj.wheel(300, 300, 1, 0);
      await inj.wheel(300, 300, -1, 0);
      await inj.flush();
      await settle();
      const presses = seen.filter((s) => s.name === 'ButtonPress').map((s) => s.detail);
      expect(presses).toEqual([5, 5, 4, 7, 6]);
    } finally {
      await inj.close();
    }
  });

  it('types "Hello, World! é" with Shift where needed and a temporary remap for é', async () => {
    const inj = await InputInjector.open({ display: desktop.display, restoreAfterMs: 300 });
    try {
      const text = 'Hello, World! é';
      expect(inj.keymap.some((row) => row.includes(0xe9))).toBe(false); // not on the US map: needs a remap
      seen = [];
      for (const ch of text) {
        const code = /[a-z]/i.test(ch) ? `Key${ch.toUpperCase()}` : '';
        await inj.key(true, ch, code);
        await inj.key(false, ch, code);
      }
      await inj.key(true, 'Enter', 'Enter');
      await inj.key(false, 'Enter', 'Enter');
      await inj.flush();
      await settle();
      const presses = seen.filter((s) => s.name === 'KeyPress' && s.keysym !== undefined);
      const typed = presses.filter((s) => s.keysym! < 0xfe00 || s.keysym! >= 0x01000000).map((s) => keysymToChar(s.keysym!)).join('');
      expect(typed).toBe(text);
      expect(presses.at(-1)!.keysym).toBe(0xff0d); // Return
      // Shift (keysym Shift_L) was pressed for H, W and !, and released again.
      expect(presses.filter((s) => s.keysym === 0xffe1)).toHaveLength(3);

      // The remap is undone once the keyboard is idle.
      const d = painter.conn.display;
      const remapped = async () => (await xcall<number[][]>((cb) => painter.conn.client.GetKeyboardMapping(d.min_keycode, d.max_keycode - d.min_keycode + 1, cb))).some((row) => row.includes(0xe9));
      await expect.poll(remapped, { timeout: 10_000 }).toBe(false);
    } finally {
      await inj.close();
    }
  });

  it('releases every key and button it holds', async () => {
    const inj = await InputInjector.open({ display: desktop.display });
    try {
      seen = [];
      await inj.key(true, 'Shift', 'ShiftLeft');
      await inj.key(true, 'Control', 'ControlLeft');
      await inj.pointer(200, 200, PointerButton.Left);
      await inj.releaseAll();
      await settle();
      const names = seen.filter((s) => s.name !== 'MotionNotify').map((s) => s.name);
      expect(names).toEqual(['KeyPress', 'KeyPress', 'ButtonPress', 'KeyRelease', 'KeyRelease', 'ButtonRelease']);
    } finally {
      await inj.close();
    }
  });

  it('reports host input (xdotool) as localInput, and not what it injected itself', async () => {
    const log = new InjectionLog();
    const inj = await InputInjector.open({ display: desktop.display, log });
    const mon = await LocalInputMonitor.open({ display: desktop.display, log });
    const local: string[] = [];
    mon.on('localInput', (e) => local.push(`${e.kind}:${e.action}:${e.detail}`));
    try {
      await inj.pointer(400, 300, 0);
      await inj.pointer(410, 310, PointerButton.Left);
      await inj.pointer(410, 310, 0);
      await inj.key(true, 'x', 'KeyX');
      await inj.key(false, 'x', 'KeyX');
      await inj.key(true, '!', 'Digit1');
      await inj.key(false, '!', 'Digit1');
      await inj.key(true, 'é', '');
      await inj.key(false, 'é', '');
      await inj.wheel(410, 310, 0, 3);
      await inj.flush();
      await sleep(300);
      expect(local).toEqual([]);

      await run('xdotool', ['mousemove', '20', '30'], { env: desktop.env() });
      await expect.poll(() => local, { timeout: 10_000 }).toContain('motion:motion:0');
      local.length = 0;
      await run('xdotool', ['key', 'a'], { env: desktop.env() });
      await run('xdotool', ['click', '1'], { env: desktop.env() });
      await expect.poll(() => local, { timeout: 10_000 }).toEqual(expect.arrayContaining(['key:press:38', 'key:release:38', 'button:press:1', 'button:release:1']));
    } finally {
      await mon.close();
      await mon.close();
      await inj.close();
      await inj.close();
    }
  });
});

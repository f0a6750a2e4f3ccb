/**
 * Injects the remote controller's input with XTEST.
 *
 * XTEST presses keycodes, not keysyms: each browser key is turned into a keysym, looked up in the
 * current keyboard map (level 1 or 2, pressing Shift for level 2), and when the layout has no key
 * for it a spare keycode is remapped (ChangeKeyboardMapping) for the keystroke and restored once
 * the keyboard is idle — late enough that clients have looked the keycode up. Every injected event
 * is written to the InjectionLog so the LocalInputMonitor can recognise it.
 */
import { PointerButton } from '@baton/protocol';
import { X11Connection } from './X11Connection.js';
import { InjectionLog } from './InjectionLog.js';
import { browserKeyToKeysym, XK_Shift_L, XK_Shift_R } from './keysyms.js';
import type { Rect } from './monitors.js';
import { xcall, type XEvent, type XTestExt } from './x11.js';

export type InputInjectorOptions = {
  /** Use this connection (not closed by close()); otherwise one is opened to `display`/$DISPLAY. */
  connection?: X11Connection;
  display?: string;
  /** Shared area in root coordinates: viewer coordinates are relative to its origin. */
  area?: () => Rect;
  log?: InjectionLog;
  /** Called (and awaited) before a button or key goes down: a shared window is raised, as XTEST input goes to whatever is on top. */
  beforePress?: () => Promise<void>;
  /** Restore remapped keycodes after the keyboard has been idle this long. */
  restoreAfterMs?: number;
};

type HeldKey = { keycode: number };

/** Protocol pointer-button bit → X button number (Back/Forward are 8/9 in X). */
const BUTTONS: Array<[number, number]> = [
  [PointerButton.Left, 1],
  [PointerButton.Middle, 2],
  [PointerButton.Right, 3],
  [PointerButton.Back, 8],
  [PointerButton.Forward, 9],
];

const MAX_WHEEL_NOTCHES = 20;

export class InputInjector {
  readonly conn: X11Connection;
  readonly log: InjectionLog;
  #ownsConn: boolean;
  #xtest!: XTestExt;
  #area: () => Rect;
  #beforePress: (() => Promise<void>) | undefined;
  #restoreAfterMs: number;
  #minKeycode: number;
  #perKeycode = 0;
  #map: number[][] = [];
  #mapStale = false;
  #shiftKeycode = 0;
  #spare: number[] = [];
  /** keysym → spare keycode currently remapped to it. */
  #remapped = new Map<number, number>();
  #restoreTimer: NodeJS.Timeout | null = null;
  #heldKeys = new Map<string, HeldKey>();
  #heldButtons = 0;
  #lastPos: { x: number; y: number } | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #onEvent = (ev: XEvent): void => {
    if (ev.name === 'MappingNotify') this.#mapStale = true;
  };

  private constructor(conn: X11Connection, ownsConn: boolean, options: InputInjectorOptions) {
    this.conn = conn;
    this.#ownsConn = ownsConn;
    this.log = options.log ?? new InjectionLog();
    this.#area = options.area ?? (() => ({ x: 0, y: 0, width: conn.screen.pixel_width, height: conn.screen.pixel_height }));
    this.#restoreAfterMs = options.restoreAfterMs ?? 500;
    this.#beforePress = options.beforePress;
    this.#minKeycode = conn.display.min_keycode;
  }

  static async open(options: InputInjectorOptions = {}): Promise<InputInjector> {
    const conn = options.connection ?? (await X11Connection.open({ display: options.display }));
    const inj = new InputInjector(conn, !options.connection, options);
    try {
      inj.#xtest = await conn.extension<XTestExt>('xtest');
      conn.on('event', inj.#onEvent);
      await inj.#loadKeymap();
    } catch (err) {
      if (!options.connection) await conn.close();
      throw err;
    }
    return inj;
  }

  /** Keysyms per keycode as the server reports them (tests and diagnostics). */
  get keymap(): readonly number[][] {
    return this.#map;
  }

  /** Absolute pointer position in shared-area coordinates, with the protocol's button bitmask. */
  pointer(x: number, y: number, buttons: number): Promise<void> {
    return this.#enqueue(async () => {
      if (buttons & ~this.#heldButtons & 0x1f) await this.#beforePress?.();
      this.#move(x, y);
      const changed = (buttons ^ this.#heldButtons) & 0x1f;
      for (const [bit, button] of BUTTONS) {
        if (!(changed & bit)) continue;
        this.#button(button, (buttons & bit) !== 0);
      }
      this.#heldButtons = buttons & 0x1f;
    });
  }

  /** Wheel notches at a position: X buttons 4/5 (up/down) and 6/7 (left/right). */
  wheel(x: number, y: number, dx: number, dy: number): Promise<void> {
    return this.#enqueue(async () => {
      await this.#beforePress?.();
      this.#move(x, y);
      const clicks = (button: number, n: number): void => {
        for (let i = 0; i < Math.min(Math.abs(n), MAX_WHEEL_NOTCHES); i++) {
          this.#button(button, true);
          this.#button(button, false);
        }
      };
      if (dy) clicks(dy < 0 ? 4 : 5, dy);
      if (dx) clicks(dx < 0 ? 6 : 7, dx);
    });
  }

  /** A key event from the browser: `key` is KeyboardEvent.key, `code` KeyboardEvent.code. */
  key(down: boolean, key: string, code: string): Promise<void> {
    return this.#enqueue(async () => {
      const id = code || key;
      if (!down) {
        const held = this.#heldKeys.get(id);
        if (!held) return;
        this.#heldKeys.delete(id);
        this.#keyEvent(held.keycode, false);
        this.#scheduleRestore();
        return;
      }
      const keysym = browserKeyToKeysym(key, code);
      if (keysym === null) return;
      const prev = this.#heldKeys.get(id);
      if (!prev) await this.#beforePress?.();
      if (prev) {
        // Browser autorepeat: X clients expect release+press pairs, as the server's own autorepeat makes.
        this.#keyEvent(prev.keycode, false);
        this.#keyEvent(prev.keycode, true);
        return;
      }
      if (this.#mapStale) await this.#loadKeymap();
      let found = this.#find(keysym);
      if (!found) found = await this.#remap(keysym);
      if (!found) return;
      const shiftHeld = [...this.#heldKeys.values()].filter((h) => this.#isShift(h.keycode)).map((h) => h.keycode);
      if (found.level === 1 && shiftHeld.length === 0 && this.#shiftKeycode) {
        this.#keyEvent(this.#shiftKeycode, true);
        this.#keyEvent(found.keycode, true);
        this.#keyEvent(this.#shiftKeycode, false);
      } else if (found.level === 0 && shiftHeld.length > 0 && !this.#isShift(found.keycode) && this.#levelsDiffer(found.keycode)) {
        // The viewer holds Shift but the character lives on the unshifted level (e.g. a digit typed
        // with Shift on another layout): lift Shift for this one keystroke.
        for (const k of shiftHeld) this.#keyEvent(k, false);
        this.#keyEvent(found.keycode, true);
        for (const k of shiftHeld) this.#keyEvent(k, true);
      } else {
        this.#keyEvent(found.keycode, true);
      }
      this.#heldKeys.set(id, { keycode: found.keycode });
    });
  }

  /** Release every key and button the controller holds (control changed hands or was revoked). */
  releaseAll(): Promise<void> {
    return this.#enqueue(async () => {
      for (const held of this.#heldKeys.values()) this.#keyEvent(held.keycode, false);
      this.#heldKeys.clear();
      for (const [bit, button] of BUTTONS) if (this.#heldButtons & bit) this.#button(button, false);
      this.#heldButtons = 0;
      this.#scheduleRestore();
      await this.conn.sync();
    });
  }

  /** Wait until everything injected so far has reached the X server. */
  flush(): Promise<void> {
    return this.#enqueue(() => this.conn.sync());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.releaseAll().catch(() => undefined);
    this.#closed = true;
    if (this.#restoreTimer) clearTimeout(this.#restoreTimer);
    if (!this.conn.closed) {
      this.#restoreRemaps();
      await this.conn.sync().catch(() => undefined);
    }
    this.conn.off('event', this.#onEvent);
    if (this.#ownsConn) await this.conn.close();
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.resolve(undefined as T);
    const p = this.#queue.then(fn);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  #move(x: number, y: number): void {
    const a = this.#area();
    const rx = a.x + Math.max(0, Math.min(a.width - 1, Math.round(x)));
    const ry = a.y + Math.max(0, Math.min(a.height - 1, Math.round(y)));
    if (this.#lastPos && this.#lastPos.x === rx && this.#lastPos.y === ry) return;
    this.#lastPos = { x: rx, y: ry };
    this.log.record({ kind: 'motion', action: 'motion', detail: 0, x: rx, y: ry });
    this.#xtest.FakeInput(this.#xtest.MotionNotify, 0, 0, this.conn.root, rx, ry);
  }

  #button(button: number, down: boolean): void {
    this.log.record({ kind: 'button', action: down ? 'press' : 'release', detail: button, x: 0, y: 0 });
    this.#xtest.FakeInput(down ? this.#xtest.ButtonPress : this.#xtest.ButtonRelease, button, 0, 0, 0, 0);
  }

  #keyEvent(keycode: number, down: boolean): void {
    this.log.record({ kind: 'key', action: down ? 'press' : 'release', detail: keycode, x: 0, y: 0 });
    this.#xtest.FakeInput(down ? this.#xtest.KeyPress : this.#xtest.KeyRelease, keycode, 0, 0, 0, 0);
  }

  async #loadKeymap(): Promise<void> {
    this.#mapStale = false;
    const d = this.conn.display;
    const map = await xcall<number[][]>((cb) => this.conn.client.GetKeyboardMapping(d.min_keycode, d.max_keycode - d.min_keycode + 1, cb));
    this.#map = map;
    this.#perKeycode = map[0]?.length ?? 0;
    const remappedCodes = new Set(this.#remapped.values());
    // Spare keycodes: no keysym at all. Taken from the top, far from real keys.
    this.#spare = [];
    for (let i = map.length - 1; i >= 0; i--) {
      const kc = i + this.#minKeycode;
      if (remappedCodes.has(kc)) continue;
      if (map[i]!.every((s) => s === 0)) this.#spare.push(kc);
    }
    this.#shiftKeycode = this.#find(XK_Shift_L)?.keycode ?? this.#find(XK_Shift_R)?.keycode ?? 0;
  }

  /** Keycode and level (0 plain, 1 with Shift) carrying the keysym in group 1. */
  #find(keysym: number): { keycode: number; level: 0 | 1 } | null {
    for (const level of [0, 1] as const) {
      for (let i = 0; i < this.#map.length; i++) {
        if (this.#map[i]![level] === keysym) return { keycode: i + this.#minKeycode, level };
      }
    }
    return null;
  }

  #isShift(keycode: number): boolean {
    const row = this.#map[keycode - this.#minKeycode];
    return !!row && (row[0] === XK_Shift_L || row[0] === XK_Shift_R);
  }

  #levelsDiffer(keycode: number): boolean {
    const row = this.#map[keycode - this.#minKeycode];
    return !!row && row[1] !== 0 && row[1] !== row[0];
  }

  /** Put the keysym on a spare keycode (both levels, so Shift does not matter). */
  async #remap(keysym: number): Promise<{ keycode: number; level: 0 } | null> {
    const existing = this.#remapped.get(keysym);
    if (existing !== undefined) return { keycode: existing, level: 0 };
    let keycode = this.#spare.pop();
    if (keycode === undefined) {
      // All spares in use: recycle the oldest remap that no held key uses.
      const busy = new Set([...this.#heldKeys.values()].map((h) => h.keycode));
      const victim = [...this.#remapped.entries()].find(([, kc]) => !busy.has(kc));
      if (!victim) return null;
      this.#remapped.delete(victim[0]);
      keycode = victim[1];
    }
    const syms = new Array<number>(Math.max(2, this.#perKeycode)).fill(0);
    syms[0] = keysym;
    syms[1] = keysym;
    this.conn.client.ChangeKeyboardMapping(keycode, syms.length, syms);
    this.#map[keycode - this.#minKeycode] = syms;
    this.#remapped.set(keysym, keycode);
    await this.conn.sync();
    this.#mapStale = false; // our own change: the local copy is current
    return { keycode, level: 0 };
  }

  #scheduleRestore(): void {
    if (this.#remapped.size === 0) return;
    if (this.#restoreTimer) clearTimeout(this.#restoreTimer);
    this.#restoreTimer = setTimeout(() => {
      this.#restoreTimer = null;
      void this.#enqueue(async () => {
        if (this.#heldKeys.size > 0) return this.#scheduleRestore();
        this.#restoreRemaps();
        await this.conn.sync();
      });
    }, this.#restoreAfterMs);
    this.#restoreTimer.unref?.();
  }

  #restoreRemaps(): void {
    for (const keycode of this.#remapped.values()) {
      const syms = new Array<number>(Math.max(2, this.#perKeycode)).fill(0);
      this.conn.client.ChangeKeyboardMapping(keycode, syms.length, syms);
      this.#map[keycode - this.#minKeycode] = syms;
      this.#spare.push(keycode);
    }
    this.#remapped.clear();
  }
}

/**
 * Turns the controller's pointer, wheel and keyboard on the displayed canvas into input messages in the
 * host's screen coordinates, whatever the canvas is scaled to. Pointer moves are sent at most once per
 * animation frame; button changes, wheel notches and keys go at once. Everything held down (keys,
 * buttons) is released when capture stops, the canvas loses focus or the page is hidden, so the host
 * never keeps a stuck key.
 */
import { PointerButton, SHARE_LIMITS } from '@baton/protocol';
import type { InputMessage } from './ShareConnection';

export interface InputCaptureOptions {
  /** The focusable element showing the screen (the canvas), sized exactly as the screen is displayed. */
  element: HTMLElement;
  send: (msg: InputMessage) => void;
  /** Current screen size in host pixels. */
  screenSize: () => { width: number; height: number };
  /** Esc pressed twice within half a second gives the keyboard back to the page (the canvas is blurred). */
  onReleaseKeyboard?: () => void;
}

// Wheel deltas to notches, as noVNC does it: 50 px per notch, a "line" counts 19 px.
const WHEEL_STEP = 50;
const WHEEL_LINE = 19;
const ESC_TWICE_MS = 500;

/** DOM MouseEvent.buttons bits → protocol bits (DOM has right=2, middle=4; the protocol middle=2, right=4). */
export function domButtons(b: number): number {
  return (
    (b & 1 ? PointerButton.Left : 0) |
    (b & 2 ? PointerButton.Right : 0) |
    (b & 4 ? PointerButton.Middle : 0) |
    (b & 8 ? PointerButton.Back : 0) |
    (b & 16 ? PointerButton.Forward : 0)
  );
}

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;
const clampInt16 = (v: number): number => Math.max(-32768, Math.min(32767, v));

export class InputCapture {
  readonly #el: HTMLElement;
  readonly #send: (msg: InputMessage) => void;
  readonly #screenSize: () => { width: number; height: number };
  readonly #onReleaseKeyboard: (() => void) | undefined;
  #enabled = false;
  #buttons = 0;
  #x = 0;
  #y = 0;
  #sentX = -1;
  #sentY = -1;
  #raf = 0;
  #wheelX = 0;
  #wheelY = 0;
  #lastEsc = 0;
  /** Keys down on the host, by code (or key when there is no code). */
  readonly #held = new Map<string, { key: string; code: string }>();
  readonly #off: (() => void)[] = [];

  constructor(options: InputCaptureOptions) {
    this.#el = options.element;
    this.#send = options.send;
    this.#screenSize = options.screenSize;
    this.#onReleaseKeyboard = options.onReleaseKeyboard;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  enable(): void {
    if (this.#enabled) return;
    this.#enabled = true;
    const el = this.#el;
    this.#listen(el, 'pointermove', (e) => this.#onPointerMove(e as PointerEvent));
    this.#listen(el, 'pointerdown', (e) => this.#onPointerButton(e as PointerEvent, true));
    this.#listen(el, 'pointerup', (e) => this.#onPointerButton(e as PointerEvent, false));
    this.#listen(el, 'pointercancel', () => this.releaseAll());
    this.#listen(el, 'wheel', (e) => this.#onWheel(e as WheelEvent));
    this.#listen(el, 'contextmenu', (e) => e.preventDefault());
    this.#listen(el, 'keydown', (e) => this.#onKey(e as KeyboardEvent, true));
    this.#listen(el, 'keyup', (e) => this.#onKey(e as KeyboardEvent, false));
    this.#listen(el, 'blur', () => this.releaseAll());
    this.#listen(window, 'blur', () => this.releaseAll());
    this.#listen(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.releaseAll();
    });
  }

  /** Stop capturing (control ended): releases everything first. */
  disable(): void {
    if (!this.#enabled) return;
    this.releaseAll();
    this.#enabled = false;
    for (const off of this.#off.splice(0)) off();
    if (this.#raf) cancelAnimationFrame(this.#raf);
    this.#raf = 0;
  }

  destroy(): void {
    this.disable();
  }

  /** Send an "up" for every key and button held down. */
  releaseAll(): void {
    for (const { key, code } of this.#held.values()) this.#send({ type: 'key', down: false, key, code });
    this.#held.clear();
    if (this.#buttons !== 0) {
      this.#buttons = 0;
      this.#sendPointer();
    }
  }

  /** Page coordinates → host screen coordinates, clamped to the screen. */
  toScreen(clientX: number, clientY: number): { x: number; y: number } {
    const r = this.#el.getBoundingClientRect();
    const { width, height } = this.#screenSize();
    const fx = r.width > 0 ? (clientX - r.left) / r.width : 0;
    const fy = r.height > 0 ? (clientY - r.top) / r.height : 0;
    return {
      x: Math.max(0, Math.min(width - 1, Math.floor(fx * width))),
      y: Math.max(0, Math.min(height - 1, Math.floor(fy * height))),
    };
  }

  /** True when the page point is on the displayed screen. */
  #onScreen(clientX: number, clientY: number): boolean {
    const r = this.#el.getBoundingClientRect();
    return clientX >= r.left && clientX < r.right && clientY >= r.top && clientY < r.bottom;
  }

  #moveTo(clientX: number, clientY: number): void {
    const p = this.toScreen(clientX, clientY);
    this.#x = p.x;
    this.#y = p.y;
  }

  /** A touch tap (left) or long press (right): move there, press and release that button. */
  click(clientX: number, clientY: number, button: number = PointerButton.Left): void {
    if (!this.#enabled || !this.#onScreen(clientX, clientY)) return;
    this.#el.focus({ preventScroll: true });
    this.#moveTo(clientX, clientY);
    this.#sendPointer();
    this.#buttons |= button;
    this.#sendPointer();
    this.#buttons &= ~button;
    this.#sendPointer();
  }

  /** A one-finger drag: the left button held from where the finger went down to where it lifts. */
  drag(phase: 'start' | 'move' | 'end', clientX: number, clientY: number): void {
    if (!this.#enabled) return;
    if (phase === 'start') {
      if (!this.#onScreen(clientX, clientY)) return;
      this.#el.focus({ preventScroll: true });
      this.#moveTo(clientX, clientY);
      this.#sendPointer();
      this.#buttons |= PointerButton.Left;
      this.#sendPointer();
      return;
    }
    if (!(this.#buttons & PointerButton.Left)) return;
    this.#moveTo(clientX, clientY);
    if (phase === 'move') {
      if (!this.#raf) this.#raf = requestAnimationFrame(() => this.#flushMove());
      return;
    }
    this.#buttons &= ~PointerButton.Left;
    this.#sendPointer();
  }

  /** Two fingers moved by (dx, dy) CSS px: the host scrolls as the content follows the fingers (wheel notches). */
  scroll(clientX: number, clientY: number, dx: number, dy: number): void {
    if (!this.#enabled) return;
    this.#moveTo(clientX, clientY);
    this.#wheel(-dx, -dy);
  }

  /** A key pressed and released (the on-screen keyboard). */
  pressKey(key: string, code = ''): void {
    if (!this.#enabled) return;
    if (utf8Length(key) > SHARE_LIMITS.maxKeyString || utf8Length(code) > SHARE_LIMITS.maxKeyString) return;
    this.#send({ type: 'key', down: true, key, code });
    this.#send({ type: 'key', down: false, key, code });
  }

  /** Text typed on the on-screen keyboard, a key press per character (a new line is Enter). */
  typeText(text: string): void {
    for (const ch of text) {
      if (ch === '\n') this.pressKey('Enter', 'Enter');
      else this.pressKey(ch);
    }
  }

  #listen(target: EventTarget, type: string, fn: (e: Event) => void): void {
    const opts = { passive: false } as AddEventListenerOptions;
    target.addEventListener(type, fn, opts);
    this.#off.push(() => target.removeEventListener(type, fn, opts));
  }

  #setPos(e: MouseEvent): void {
    const p = this.toScreen(e.clientX, e.clientY);
    this.#x = p.x;
    this.#y = p.y;
  }

  #onPointerMove(e: PointerEvent): void {
    if (e.pointerType === 'touch') return; // touch comes as gestures (click, drag, scroll below)
    this.#setPos(e);
    const buttons = domButtons(e.buttons);
    if (buttons !== this.#buttons) {
      // A second button pressed or released during a drag arrives as a move ("chorded" buttons).
      this.#buttons = buttons;
      this.#sendPointer();
      return;
    }
    if (!this.#raf) this.#raf = requestAnimationFrame(() => this.#flushMove());
  }

  #flushMove(): void {
    this.#raf = 0;
    if (this.#x !== this.#sentX || this.#y !== this.#sentY) this.#sendPointer();
  }

  #onPointerButton(e: PointerEvent, down: boolean): void {
    if (e.pointerType === 'touch') return;
    e.preventDefault();
    if (down) {
      this.#el.focus({ preventScroll: true });
      try {
        this.#el.setPointerCapture(e.pointerId);
      } catch {
        // Synthetic events have no active pointer to capture.
      }
    }
    this.#setPos(e);
    this.#buttons = domButtons(e.buttons);
    this.#sendPointer();
  }

  #sendPointer(): void {
    if (this.#raf) {
      cancelAnimationFrame(this.#raf);
      this.#raf = 0;
    }
    this.#sentX = this.#x;
    this.#sentY = this.#y;
    this.#send({ type: 'pointer', x: this.#x, y: this.#y, buttons: this.#buttons });
  }

  #onWheel(e: WheelEvent): void {
    e.preventDefault();
    this.#setPos(e);
    const unit = e.deltaMode === 1 ? WHEEL_LINE : e.deltaMode === 2 ? this.#el.clientHeight || 400 : 1;
    this.#wheel(e.deltaX * unit, e.deltaY * unit);
  }

  #wheel(px: number, py: number): void {
    this.#wheelX += px;
    this.#wheelY += py;
    const dx = Math.trunc(this.#wheelX / WHEEL_STEP);
    const dy = Math.trunc(this.#wheelY / WHEEL_STEP);
    if (dx === 0 && dy === 0) return;
    this.#wheelX -= dx * WHEEL_STEP;
    this.#wheelY -= dy * WHEEL_STEP;
    if (this.#x !== this.#sentX || this.#y !== this.#sentY) this.#sendPointer();
    this.#send({ type: 'wheel', x: this.#x, y: this.#y, dx: clampInt16(dx), dy: clampInt16(dy) });
  }

  #onKey(e: KeyboardEvent, down: boolean): void {
    e.preventDefault();
    e.stopPropagation();
    // The protocol caps key and code strings; nothing real comes near the cap, so skip rather than break the socket.
    if (utf8Length(e.key) > SHARE_LIMITS.maxKeyString || utf8Length(e.code) > SHARE_LIMITS.maxKeyString) return;
    const id = e.code || e.key;
    if (down && e.key === 'Escape') {
      const now = performance.now();
      if (now - this.#lastEsc < ESC_TWICE_MS) {
        this.#lastEsc = 0;
        this.releaseAll();
        this.#el.blur();
        this.#onReleaseKeyboard?.();
        return;
      }
      this.#lastEsc = now;
    }
    if (down) {
      // Repeats are sent as more "down"s, like a keyboard's own autorepeat; the host decides what to do with them.
      this.#held.set(id, { key: e.key, code: e.code });
      this.#send({ type: 'key', down: true, key: e.key, code: e.code });
    } else {
      // An "up" for a key we never sent down (pressed before capture started) is not the host's business.
      const held = this.#held.get(id);
      if (!held) return;
      this.#held.delete(id);
      this.#send({ type: 'key', down: false, key: held.key, code: held.code });
    }
  }
}

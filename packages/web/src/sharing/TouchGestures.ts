/**
 * Touch on the shared screen, as gestures. One finger: a tap, a long press (held still), or a drag.
 * Two fingers: a pinch (their distance changes) or a two-finger drag (they move together); which one
 * is decided once per gesture, from the first movement, so a scroll does not jitter the zoom.
 * Pointer Events with pointerType 'touch' only: mouse and pen stay with InputCapture.
 */
import { Emitter } from '../conference/Emitter';

export type Point = { x: number; y: number };

export type TouchGesturesEvents = {
  tap: Point;
  longPress: Point;
  dragStart: Point;
  /** dx, dy: movement since the last event, CSS px. */
  dragMove: Point & { dx: number; dy: number };
  dragEnd: Point;
  /** scale: the fingers' distance now over the last event's; (x, y) their midpoint; dx, dy its movement. */
  pinch: Point & { scale: number; dx: number; dy: number };
  /** Two fingers moving together: the midpoint's movement since the last event; start: where the gesture began. */
  twoFingerDrag: Point & { dx: number; dy: number; start: Point };
};

export interface TouchGesturesOptions {
  element: HTMLElement;
  /** How long a still finger waits to be a long press (ms). */
  longPressMs?: number;
}

/** Movement (CSS px) within which a finger is still a tap. */
const SLOP = 10;
const LONG_PRESS_MS = 550;

type Finger = { id: number; x: number; y: number; x0: number; y0: number };

export class TouchGestures extends Emitter<TouchGesturesEvents> {
  readonly #el: HTMLElement;
  readonly #longPressMs: number;
  readonly #fingers = new Map<number, Finger>();
  /** What the current gesture turned out to be. */
  #mode: 'none' | 'pending' | 'drag' | 'longPress' | 'two' | 'pinch' | 'twoDrag' | 'done' = 'none';
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last: { dist: number; mid: Point } | null = null;
  #two0: { dist: number; mid: Point } | null = null;
  readonly #off: (() => void)[] = [];

  constructor(options: TouchGesturesOptions) {
    super();
    this.#el = options.element;
    this.#longPressMs = options.longPressMs ?? LONG_PRESS_MS;
    const on = (type: string, fn: (e: PointerEvent) => void) => {
      const h = (e: Event) => {
        if ((e as PointerEvent).pointerType === 'touch') fn(e as PointerEvent);
      };
      this.#el.addEventListener(type, h);
      this.#off.push(() => this.#el.removeEventListener(type, h));
    };
    // The browser makes no gestures of its own from touches here (no scroll, fling or click): a fling
    // left running would spend the user's next tap, even on a button elsewhere, on stopping it.
    const block = (e: Event) => e.cancelable && e.preventDefault();
    for (const type of ['touchstart', 'touchmove']) {
      this.#el.addEventListener(type, block, { passive: false });
      this.#off.push(() => this.#el.removeEventListener(type, block));
    }
    on('pointerdown', (e) => this.#down(e));
    on('pointermove', (e) => this.#move(e));
    on('pointerup', (e) => this.#up(e, false));
    on('pointercancel', (e) => this.#up(e, true));
  }

  destroy(): void {
    clearTimeout(this.#timer);
    for (const off of this.#off.splice(0)) off();
    this.removeAllListeners();
  }

  #down(e: PointerEvent): void {
    e.preventDefault();
    this.#fingers.set(e.pointerId, { id: e.pointerId, x: e.clientX, y: e.clientY, x0: e.clientX, y0: e.clientY });
    if (this.#fingers.size === 1) {
      this.#mode = 'pending';
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        if (this.#mode !== 'pending') return;
        this.#mode = 'longPress';
        const f = [...this.#fingers.values()][0]!;
        this.emit('longPress', { x: f.x, y: f.y });
      }, this.#longPressMs);
    } else if (this.#fingers.size === 2) {
      clearTimeout(this.#timer);
      if (this.#mode === 'drag') {
        const f = [...this.#fingers.values()][0]!;
        this.emit('dragEnd', { x: f.x, y: f.y });
      }
      // A second finger turns any one-finger gesture (that did not act yet) into a two-finger one.
      this.#mode = this.#mode === 'longPress' ? 'done' : 'two';
      this.#two0 = this.#last = this.#pair();
    }
  }

  #move(e: PointerEvent): void {
    const f = this.#fingers.get(e.pointerId);
    if (!f) return;
    e.preventDefault();
    const dx = e.clientX - f.x;
    const dy = e.clientY - f.y;
    f.x = e.clientX;
    f.y = e.clientY;
    switch (this.#mode) {
      case 'pending':
        if (Math.hypot(f.x - f.x0, f.y - f.y0) > SLOP) {
          clearTimeout(this.#timer);
          this.#mode = 'drag';
          this.emit('dragStart', { x: f.x0, y: f.y0 });
          this.emit('dragMove', { x: f.x, y: f.y, dx: f.x - f.x0, dy: f.y - f.y0 });
        }
        return;
      case 'drag':
        this.emit('dragMove', { x: f.x, y: f.y, dx, dy });
        return;
      case 'two': {
        const now = this.#pair();
        const start = this.#two0;
        if (!now || !start) return;
        const spread = Math.abs(now.dist - start.dist);
        const travel = Math.hypot(now.mid.x - start.mid.x, now.mid.y - start.mid.y);
        if (Math.max(spread, travel) <= SLOP) return;
        this.#mode = spread > travel ? 'pinch' : 'twoDrag';
        this.#last = start;
        this.#emitTwo(now);
        return;
      }
      case 'pinch':
      case 'twoDrag': {
        const now = this.#pair();
        if (now) this.#emitTwo(now);
        return;
      }
      default:
        return;
    }
  }

  #up(e: PointerEvent, cancelled: boolean): void {
    const f = this.#fingers.get(e.pointerId);
    if (!f) return;
    this.#fingers.delete(e.pointerId);
    if (this.#fingers.size > 0) {
      // Lifting one of two fingers ends the two-finger gesture; the other finger does nothing more.
      if (this.#mode !== 'drag') this.#mode = 'done';
      return;
    }
    clearTimeout(this.#timer);
    const mode = this.#mode;
    this.#mode = 'none';
    this.#last = this.#two0 = null;
    if (mode === 'pending' && !cancelled) this.emit('tap', { x: f.x, y: f.y });
    else if (mode === 'drag') this.emit('dragEnd', { x: f.x, y: f.y });
  }

  #pair(): { dist: number; mid: Point } | null {
    const [a, b] = [...this.#fingers.values()];
    if (!a || !b) return null;
    return { dist: Math.hypot(a.x - b.x, a.y - b.y), mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
  }

  #emitTwo(now: { dist: number; mid: Point }): void {
    const last = this.#last ?? now;
    this.#last = now;
    const dx = now.mid.x - last.mid.x;
    const dy = now.mid.y - last.mid.y;
    if (this.#mode === 'pinch') {
      const scale = last.dist > 0 ? now.dist / last.dist : 1;
      this.emit('pinch', { x: now.mid.x, y: now.mid.y, scale, dx, dy });
    } else {
      this.emit('twoFingerDrag', { x: now.mid.x, y: now.mid.y, dx, dy, start: this.#two0?.mid ?? now.mid });
    }
  }
}

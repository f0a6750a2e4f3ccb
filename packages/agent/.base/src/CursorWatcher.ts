/**
 * The pointer as viewers draw it: its image (XFIXES cursor image, on CursorNotify) and its position
 * (QueryPointer, polled fast while it moves and slowly while it rests). A moving pointer costs a
 * few bytes, never tiles: the cursor is drawn by the viewer, not captured.
 */
import { SHARE_LIMITS, type ShareMessage } from '@baton/protocol';
import { TypedEmitter } from './TypedEmitter.js';
import { X11Connection } from './X11Connection.js';
import type { Rect } from './monitors.js';
import { xcall, type FixesExt, type XEvent } from './x11.js';

export type CursorShape = Extract<ShareMessage, { type: 'cursorShape' }>;
export type CursorPos = Extract<ShareMessage, { type: 'cursorPos' }>;

export type CursorWatcherOptions = {
  /** Use this connection (not closed by close()); otherwise one is opened to `display`/$DISPLAY. */
  connection?: X11Connection;
  display?: string;
  /** The shared area in root coordinates; positions are reported relative to it. */
  area: () => Rect;
  /** Poll interval while the pointer moves (~60 Hz). */
  fastPollMs?: number;
  /** Poll interval once it has rested for `idleAfterMs`. */
  idlePollMs?: number;
  idleAfterMs?: number;
};

export type CursorWatcherEvents = {
  shape: [CursorShape];
  position: [CursorPos];
  error: [Error];
};

export class CursorWatcher extends TypedEmitter<CursorWatcherEvents> {
  readonly conn: X11Connection;
  #ownsConn: boolean;
  #fixes!: FixesExt;
  #area: () => Rect;
  #fastMs: number;
  #idleMs: number;
  #idleAfterMs: number;
  #timer: NodeJS.Timeout | null = null;
  #lastMoveAt = 0;
  #pos: CursorPos | null = null;
  #shape: CursorShape | null = null;
  #serial = -1;
  #closed = false;
  #shapeTimer: NodeJS.Timeout | null = null;
  #lastShapeAt = 0;
  #onEvent = (ev: XEvent): void => {
    if (ev.name === 'CursorNotify') this.#scheduleShape();
  };

  private constructor(conn: X11Connection, ownsConn: boolean, options: CursorWatcherOptions) {
    super();
    this.conn = conn;
    this.#ownsConn = ownsConn;
    this.#area = options.area;
    this.#fastMs = options.fastPollMs ?? 16;
    this.#idleMs = options.idlePollMs ?? 100;
    this.#idleAfterMs = options.idleAfterMs ?? 500;
  }

  static async open(options: CursorWatcherOptions): Promise<CursorWatcher> {
    const conn = options.connection ?? (await X11Connection.open({ display: options.display }));
    const w = new CursorWatcher(conn, !options.connection, options);
    try {
      w.#fixes = await conn.extension<FixesExt>('fixes');
      conn.on('event', w.#onEvent);
      w.#fixes.SelectCursorInput(conn.root, w.#fixes.CursorNotifyMask.DisplayCursor);
      await w.refreshShape();
      await w.#poll();
    } catch (err) {
      await w.close();
      throw err;
    }
    return w;
  }

  /** The latest shape and position, for a channel that (re)starts. */
  get shape(): CursorShape | null {
    return this.#shape;
  }
  get position(): CursorPos | null {
    return this.#pos;
  }

  /** Fetch the cursor image now (CursorNotify schedules it, at most every 50 ms). */
  async refreshShape(): Promise<void> {
    if (this.#closed) return;
    this.#lastShapeAt = Date.now();
    try {
      const img = await xcall<{ width: number; height: number; xhot: number; yhot: number; cursorSerial: number; cursorImage: Buffer }>((cb) => this.#fixes.GetCursorImage(cb));
      if (img.cursorSerial === this.#serial && this.#shape) return;
      this.#serial = img.cursorSerial;
      this.#shape = toShape(img.width, img.height, img.xhot, img.yhot, img.cursorImage);
      if (!this.#closed) this.emit('shape', this.#shape);
    } catch {
      // The server refuses (BadAccess) the image of a cursor whose creator has exited, e.g. one set
      // by xsetroot; viewers keep the previous shape, which beats flooding errors on every notify.
    }
  }

  /** Animated cursors notify on every frame: coalesce to at most one fetch per 50 ms. */
  #scheduleShape(): void {
    if (this.#shapeTimer || this.#closed) return;
    const wait = Math.max(0, this.#lastShapeAt + 50 - Date.now());
    this.#shapeTimer = setTimeout(() => {
      this.#shapeTimer = null;
      void this.refreshShape();
    }, wait);
  }

  async #poll(): Promise<void> {
    if (this.#closed) return;
    try {
      const p = await xcall<{ rootX: number; rootY: number; sameScreen: number }>((cb) => this.conn.client.QueryPointer(this.conn.root, cb));
      const a = this.#area();
      const rx = p.rootX - a.x, ry = p.rootY - a.y;
      const visible = !!p.sameScreen && rx >= 0 && ry >= 0 && rx < a.width && ry < a.height;
      const pos: CursorPos = { type: 'cursorPos', x: clamp16(rx), y: clamp16(ry), visible };
      const old = this.#pos;
      if (!old || old.x !== pos.x || old.y !== pos.y || old.visible !== pos.visible) {
        this.#pos = pos;
        this.#lastMoveAt = Date.now();
        if (!this.#closed) this.emit('position', pos);
      }
    } catch (err) {
      if (!this.#closed && this.listenerCount('error') > 0) this.emit('error', err as Error);
    }
    if (this.#closed) return;
    const moving = Date.now() - this.#lastMoveAt < this.#idleAfterMs;
    this.#timer = setTimeout(() => void this.#poll(), moving ? this.#fastMs : this.#idleMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#shapeTimer) clearTimeout(this.#shapeTimer);
    this.conn.off('event', this.#onEvent);
    if (this.#ownsConn) await this.conn.close();
    this.removeAllListeners();
  }
}

function clamp16(v: number): number {
  return Math.max(0, Math.min(0xffff, v));
}

/** XFIXES gives premultiplied ARGB32 (little-endian words: B, G, R, A); viewers want straight RGBA. */
export function toShape(width: number, height: number, hotX: number, hotY: number, argb: Buffer): CursorShape {
  const max = SHARE_LIMITS.maxCursorSide;
  const w = Math.min(width, max), h = Math.min(height, max);
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * width + x) * 4, o = (y * w + x) * 4;
      const a = argb[i + 3]!;
      if (a === 0) continue;
      rgba[o] = Math.min(255, Math.round((argb[i + 2]! * 255) / a));
      rgba[o + 1] = Math.min(255, Math.round((argb[i + 1]! * 255) / a));
      rgba[o + 2] = Math.min(255, Math.round((argb[i]! * 255) / a));
      rgba[o + 3] = a;
    }
  }
  return { type: 'cursorShape', w, h, hotX: Math.min(hotX, Math.max(0, w - 1)), hotY: Math.min(hotY, Math.max(0, h - 1)), rgba };
}

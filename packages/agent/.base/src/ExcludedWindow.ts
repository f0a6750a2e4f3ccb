/**
 * Leaves one of the agent's own on-top windows (the host's indicator) out of screen and monitor
 * captures, and shows viewers what is under it, as it is now.
 *
 * X11 cannot read the screen under an on-top window: those pixels are not on the screen. With the
 * Composite extension they exist somewhere else: `prepare()` redirects every top-level window
 * (RedirectSubwindows on the root, Automatic: the X server still paints the screen itself, so the host
 * sees no difference), before the indicator is mapped, so each window keeps its whole content in its own
 * storage from then on, the part under the indicator included. Where a capture read the indicator's
 * rectangle from the root, `compose()` paints it again, inside the same server grab, from the other
 * top-level windows, bottom to top, each from a pixmap named for the moment
 * (NameWindowPixmap), over `base` (the screen under the indicator before it was mapped, which stands
 * for the root's own background where no window lies).
 *
 * What is under it changes without the root reporting damage there (the indicator hides it): each
 * window found there gets a DAMAGE object, and windows mapped, moved, restacked or gone (the root's
 * SubstructureNotify) mark it stale (`takeStale()`); either way `changed` asks the capture to read it again.
 *
 * Limits: windows are painted as opaque rectangles (a shaped window's cut-outs, or an ARGB window's
 * translucency, under the indicator show as its pixmap's pixels); where no window lies, viewers see the
 * desktop background as it was when the indicator appeared.
 */
import { TypedEmitter } from './TypedEmitter.js';
import type { X11Connection } from './X11Connection.js';
import type { Rect } from './monitors.js';
import { loadX11, xcall, type CompositeExt, type DamageExt, type XEvent } from './x11.js';

export type ExcludedWindowEvents = {
  /** What is under the window changed: read its rectangle (root coordinates) again. */
  changed: [Rect];
};

/** Pixels in X's order (B, G, R, x), `stride` bytes a row; the capture's frame. */
type Pixels = { stride: number; data: Buffer };

const IS_VIEWABLE = 2;
const INPUT_OUTPUT = 1;
const ZPIXMAP = 2;
const ALL_PLANES = 0xffffffff;
const STRUCTURE = new Set(['MapNotify', 'UnmapNotify', 'DestroyNotify', 'ConfigureNotify', 'CirculateNotify', 'ReparentNotify']);

function intersect(a: Rect, b: Rect): Rect | null {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width), y1 = Math.min(a.y + a.height, b.y + b.height);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
}

export class ExcludedWindow extends TypedEmitter<ExcludedWindowEvents> {
  readonly conn: X11Connection;
  readonly window: number;
  /** Its place in root coordinates. */
  readonly rect: Rect;
  /** The screen under it before it was mapped (rect.width * 4 bytes a row). */
  readonly base: Buffer;
  #composite: CompositeExt;
  #damageExt: DamageExt;
  /** DAMAGE objects on the windows found under it, by window. */
  #damages = new Map<number, number>();
  #stale = true;
  /** The root's children's outer rectangles as their ConfigureNotify said (unknown ones count as touching). */
  #rects = new Map<number, Rect>();
  #closed = false;
  #onEvent = (ev: XEvent): void => this.#handleEvent(ev);

  private constructor(conn: X11Connection, composite: CompositeExt, damage: DamageExt, o: { window: number; rect: Rect; base: Buffer }) {
    super();
    this.conn = conn;
    this.#composite = composite;
    this.#damageExt = damage;
    this.window = o.window;
    this.rect = o.rect;
    this.base = o.base;
    conn.on('event', this.#onEvent);
  }

  /**
   * Redirect every top-level window on `conn` (kept until that connection closes), and watch the root's
   * children. Call before the window to leave out is mapped. Throws without Composite.
   */
  static async prepare(conn: X11Connection): Promise<void> {
    const composite = await conn.extension<CompositeExt>('composite');
    await conn.extension<DamageExt>('damage');
    composite.RedirectSubwindows(conn.root, composite.Redirect.Automatic);
    conn.client.ChangeWindowAttributes(conn.root, { eventMask: loadX11().eventMask.SubstructureNotify! });
    await conn.sync();
  }

  /** After prepare(): leave `window` out of what is read on `conn`. */
  static async open(conn: X11Connection, o: { window: number; rect: Rect; base: Buffer }): Promise<ExcludedWindow> {
    return new ExcludedWindow(conn, await conn.extension<CompositeExt>('composite'), await conn.extension<DamageExt>('damage'), o);
  }

  /** Whether windows moved, appeared or went since this was last asked: then read the rectangle again. */
  takeStale(): boolean {
    const s = this.#stale;
    this.#stale = false;
    return s;
  }

  #handleEvent(ev: XEvent): void {
    if (this.#closed) return;
    if (ev.name === 'DamageNotify') {
      if (![...this.#damages.values()].includes(Number(ev.damage))) return;
      // NonEmpty reports once until cleared; the capture that follows reads the whole rectangle.
      this.#damageExt.Subtract(Number(ev.damage), 0, 0);
      this.emit('changed', this.rect);
      return;
    }
    if (!STRUCTURE.has(String(ev.name))) return;
    const root = this.conn.root;
    // The root's children only (ConfigureNotify names the event window `wid`, the others `event`).
    if ((ev.name === 'ConfigureNotify' ? ev.wid : ev.event) !== root) return;
    const wid = Number(ev.name === 'ConfigureNotify' ? ev.wid1 : ev.wid);
    if (wid === this.window) return;
    // Only what happens at our place matters (a window dragged elsewhere must not cost a compose a frame).
    const old = this.#rects.get(wid);
    let touches = !old || !!intersect(old, this.rect);
    if (ev.name === 'ConfigureNotify') {
      const b = 2 * Number(ev.borderWidth);
      const now = { x: Number(ev.x), y: Number(ev.y), width: Number(ev.width) + b, height: Number(ev.height) + b };
      this.#rects.set(wid, now);
      touches ||= !!intersect(now, this.rect);
    }
    if (ev.name === 'DestroyNotify' || ev.name === 'ReparentNotify') {
      this.#damages.delete(wid); // freed with it, or no longer ours to watch
      this.#rects.delete(wid);
    }
    if (!touches) return;
    this.#stale = true;
    this.emit('changed', this.rect);
  }

  /**
   * Paint the window's rectangle, where it meets `read` (rectangles of `area` just read from the root,
   * area coordinates), with what is under it. Call with the server grabbed, right after the reads: it
   * makes three round trips.
   */
  async compose(area: Rect, frame: Pixels, read: Rect[]): Promise<void> {
    if (this.#closed) return;
    const inArea = intersect(this.rect, area);
    if (!inArea) return;
    const pieces = read.flatMap((r) => intersect({ x: r.x + area.x, y: r.y + area.y, width: r.width, height: r.height }, inArea) ?? []);
    if (pieces.length === 0) return;
    const X = this.conn.client;
    // The base first: the root's background where no window lies.
    for (const p of pieces) {
      const rowBytes = p.width * 4;
      for (let y = p.y; y < p.y + p.height; y++) {
        const src = ((y - this.rect.y) * this.rect.width + (p.x - this.rect.x)) * 4;
        this.base.copy(frame.data, (y - area.y) * frame.stride + (p.x - area.x) * 4, src, src + rowBytes);
      }
    }
    const tree = await xcall<{ children: number[] }>((cb) => X.QueryTree(this.conn.root, cb));
    // Every window but ours, bottom to top: those above it too (it may not be on top at this moment).
    const others = tree.children.filter((w) => w !== this.window);
    const found = await Promise.all(
      others.map((w) =>
        Promise.all([
          xcall<{ mapState: number; klass: number }>((cb) => X.GetWindowAttributes(w, cb)),
          xcall<{ xPos: number; yPos: number; width: number; height: number; borderWidth: number; depth: number }>((cb) => X.GetGeometry(w, cb)),
        ]).catch(() => null), // gone meanwhile
      ),
    );
    const draws: Array<{ to: Rect; img: Promise<{ data: Buffer } | null> }> = [];
    others.forEach((w, k) => {
      const f = found[k];
      if (!f || f[0].mapState !== IS_VIEWABLE || f[0].klass !== INPUT_OUTPUT || (f[1].depth !== 24 && f[1].depth !== 32)) return;
      const g = f[1];
      // The pixmap covers the window with its border; the geometry's x, y are the border's outer corner.
      const outer = { x: g.xPos, y: g.yPos, width: g.width + 2 * g.borderWidth, height: g.height + 2 * g.borderWidth };
      if (!intersect(outer, inArea)) return;
      this.#watch(w);
      const pixmap = X.AllocID();
      this.#composite.NameWindowPixmap(w, pixmap);
      for (const p of pieces) {
        const part = intersect(outer, p);
        if (!part) continue;
        const img = xcall<{ data: Buffer }>((cb) => X.GetImage(ZPIXMAP, pixmap, part.x - outer.x, part.y - outer.y, part.width, part.height, ALL_PLANES, cb)).catch(() => null);
        draws.push({ to: part, img });
      }
      X.FreePixmap(pixmap);
    });
    for (const d of draws) {
      const img = await d.img;
      if (!img) continue;
      const rowBytes = d.to.width * 4;
      for (let row = 0; row < d.to.height; row++) img.data.copy(frame.data, (d.to.y - area.y + row) * frame.stride + (d.to.x - area.x) * 4, row * rowBytes, (row + 1) * rowBytes);
    }
  }

  /** DAMAGE on a window found under the rectangle: its drawing there is hidden from the root's. */
  #watch(w: number): void {
    if (this.#damages.has(w)) return;
    const d = this.conn.client.AllocID();
    this.#damageExt.Create(d, w, this.#damageExt.ReportLevel.NonEmpty);
    this.#damages.set(w, d);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.off('event', this.#onEvent);
    if (!this.conn.closed) {
      try {
        for (const d of this.#damages.values()) this.#damageExt.Destroy(d);
        this.#composite.UnredirectSubwindows(this.conn.root);
      } catch {
        // the connection is going away anyway
      }
    }
    this.#damages.clear();
    this.removeAllListeners();
  }
}

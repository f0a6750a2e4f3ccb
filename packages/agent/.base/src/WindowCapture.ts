/**
 * One application window as the shared area (`--window`): its own pixels through the Composite
 * extension, even where other windows cover it.
 *
 * The window is redirected (RedirectWindow, Automatic: the X server still paints the screen as usual)
 * and its off-screen storage named as a pixmap (NameWindowPixmap); ScreenCapture reads that pixmap
 * instead of the root window, with DAMAGE on the window. The storage is reallocated when the window
 * is resized or mapped again, so the pixmap is named again then and a full refresh follows. The area
 * keeps the window's place on the root window, so input (XTEST, root coordinates) lands on it; the
 * window is raised before a click or key, since XTEST input goes to whatever is on top.
 *
 * Popup menus, tooltips and drop-downs are override-redirect top-level windows of their own, not
 * children of the window. Those of the same application are shared too (`popups`): an override-redirect
 * window belongs to it when its XID has the window's resource-id base (XID & ~resource_mask of the
 * connection setup: the X server gives each client its own range, which no client can forge), or when
 * its WM_TRANSIENT_FOR names the window. The root's SubstructureNotify tells us when one is mapped,
 * moved, restacked or gone; each is redirected and read from its own named pixmap (DAMAGE on it), so
 * another application's window lying over it never shows. Only those stacked above the window count
 * (the same client's windows under it are not seen on the host either), in their stacking order.
 * The shared area stays the window's own rectangle: a popup is clipped to it rather than growing the
 * share (a new screen size for every menu would make every viewer's picture jump). A popup is also
 * kept above the window when the window is raised for input, so a click on it lands on it.
 */
import { TypedEmitter } from './TypedEmitter.js';
import type { X11Connection } from './X11Connection.js';
import type { Rect } from './monitors.js';
import { loadX11, xcall, type CompositeExt, type DamageExt, type XEvent } from './x11.js';

export type WindowInfo = { id: number; title: string; wmClass: string; width: number; height: number; x: number; y: number };

export type WindowCaptureEvents = {
  /** The window changed size (a new pixmap is named: read everything again) or place. */
  resize: [Rect];
  /** The window was mapped again after being unmapped: read everything again. */
  remapped: [];
  /** The window is gone (destroyed): the share ends. */
  gone: [string];
  /** This root rectangle looks different because of one of the window's popups (mapped, drawn, moved, gone). */
  popup: [Rect];
  error: [Error];
};

const IS_VIEWABLE = 2;
const ANY_PROPERTY_TYPE = 0;
const XA_WM_NAME = 39;
const XA_WM_CLASS = 67;
const XA_WM_TRANSIENT_FOR = 68;
const STACK_ABOVE = 0;

/** An override-redirect window of the shared application, redirected: `rect` is its outer rectangle on the root (border included, as its pixmap). */
export type Popup = { id: number; rect: Rect; pixmap: number; damage: number };

async function atom(conn: X11Connection, name: string): Promise<number> {
  return xcall<number>((cb) => conn.client.InternAtom(false, name, cb));
}

async function property(conn: X11Connection, wid: number, prop: number): Promise<Buffer | null> {
  const r = await xcall<{ type: number; data: Buffer }>((cb) => conn.client.GetProperty(0, wid, prop, ANY_PROPERTY_TYPE, 0, 1024, cb)).catch(() => null);
  return r && r.type !== 0 ? r.data : null;
}

async function windowTitle(conn: X11Connection, wid: number, netWmName: number): Promise<string | null> {
  const net = await property(conn, wid, netWmName);
  if (net && net.length > 0) return net.toString('utf8');
  const wm = await property(conn, wid, XA_WM_NAME);
  return wm && wm.length > 0 ? wm.toString('latin1') : null;
}

/** WM_CLASS is "instance\0class\0": the class. */
async function windowClass(conn: X11Connection, wid: number): Promise<string> {
  const data = await property(conn, wid, XA_WM_CLASS);
  if (!data) return '';
  const parts = data.toString('latin1').split('\0');
  return parts[1] || parts[0] || '';
}

/**
 * The top-level application windows that are on screen: children of the root that are viewable and
 * not override-redirect, or (under a window manager's frame) their first titled child.
 */
export async function listWindows(conn: X11Connection): Promise<WindowInfo[]> {
  const X = conn.client;
  const netWmName = await atom(conn, '_NET_WM_NAME');
  const tree = await xcall<{ children: number[] }>((cb) => X.QueryTree(conn.root, cb));
  const out: WindowInfo[] = [];
  for (const top of tree.children) {
    const attrs = await xcall<{ mapState: number; overrideRedirect: number }>((cb) => X.GetWindowAttributes(top, cb)).catch(() => null);
    if (!attrs || attrs.mapState !== IS_VIEWABLE || attrs.overrideRedirect) continue;
    let wid = top;
    let title = await windowTitle(conn, top, netWmName);
    if (title === null) {
      const sub = await xcall<{ children: number[] }>((cb) => X.QueryTree(top, cb)).catch(() => ({ children: [] as number[] }));
      for (const c of sub.children) {
        const t = await windowTitle(conn, c, netWmName);
        if (t !== null) {
          wid = c;
          title = t;
          break;
        }
      }
    }
    if (title === null) continue;
    const geo = await xcall<{ width: number; height: number }>((cb) => X.GetGeometry(wid, cb)).catch(() => null);
    if (!geo) continue;
    const pos = await xcall<{ destX: number; destY: number }>((cb) => X.TranslateCoordinates(wid, conn.root, 0, 0, cb));
    out.push({ id: wid, title, wmClass: await windowClass(conn, wid), width: geo.width, height: geo.height, x: pos.destX, y: pos.destY });
  }
  return out;
}

export class WindowNotFoundError extends Error {
  override name = 'WindowNotFoundError';
}

/** `--window`: an id (0x… or decimal), a title (exact, else a unique case-insensitive part of one) or `pick`. */
export async function findWindow(conn: X11Connection, spec: string, log: (line: string) => void = () => undefined): Promise<WindowInfo> {
  const windows = await listWindows(conn);
  let found: WindowInfo | undefined;
  if (spec === 'pick') {
    const id = await pickWindow(conn, log);
    found = windows.find((w) => w.id === id) ?? (await topLevelOf(conn, id, windows));
  } else if (/^(0x[0-9a-f]+|\d+)$/i.test(spec)) {
    const id = Number(spec);
    found = windows.find((w) => w.id === id);
  } else {
    found = windows.find((w) => w.title === spec);
    if (!found) {
      const matches = windows.filter((w) => w.title.toLowerCase().includes(spec.toLowerCase()));
      if (matches.length > 1) throw new WindowNotFoundError(`'${spec}' matches ${matches.length} windows (${matches.map((w) => `${hexId(w.id)} ${w.title}`).join('; ')}): give its id`);
      found = matches[0];
    }
  }
  if (!found) throw new WindowNotFoundError(`no window '${spec}' on the screen (see baton-agent windows)`);
  return found;
}

export const hexId = (id: number): string => `0x${id.toString(16)}`;

/** The listed window that contains `id` (a click on a frame or a child). */
async function topLevelOf(conn: X11Connection, id: number, windows: WindowInfo[]): Promise<WindowInfo | undefined> {
  for (let w = id; w && w !== conn.root; ) {
    const hit = windows.find((x) => x.id === w);
    if (hit) return hit;
    const tree = await xcall<{ parent: number; children: number[] }>((cb) => conn.client.QueryTree(w, cb)).catch(() => null);
    if (!tree) return undefined;
    // A frame: its titled child is the listed window.
    const child = windows.find((x) => tree.children.includes(x.id));
    if (child) return child;
    w = tree.parent;
  }
  return undefined;
}

/** Grab the pointer and wait for a click: the top-level window under it. */
async function pickWindow(conn: X11Connection, log: (line: string) => void): Promise<number> {
  const X = conn.client;
  const mask = loadX11().eventMask.ButtonPress!;
  const status = await xcall<number>((cb) => X.GrabPointer(conn.root, 0, mask, 1, 1, 0, 0, 0, cb as never));
  if (status !== 0) throw new WindowNotFoundError('cannot grab the pointer to pick a window (another program holds it)');
  log('Click the window to share...');
  const child = await new Promise<number>((resolve) => {
    const onEvent = (ev: XEvent): void => {
      if (ev.name !== 'ButtonPress') return;
      conn.off('event', onEvent);
      resolve(Number(ev.child ?? 0));
    };
    conn.on('event', onEvent);
  });
  X.UngrabPointer(0);
  await conn.sync();
  if (!child) throw new WindowNotFoundError('no window there (the click was on the desktop)');
  return child;
}

/**
 * The redirected window and its named pixmap. Listens to the window's structure events on `conn`
 * (the capture's connection).
 */
export class WindowCapture extends TypedEmitter<WindowCaptureEvents> {
  readonly conn: X11Connection;
  readonly info: WindowInfo;
  #composite!: CompositeExt;
  #damageExt!: DamageExt;
  #pixmap = 0;
  /** The window's client's XID range (XID & ~resource_mask). */
  #clientBase: number;
  /** The application's mapped override-redirect windows, redirected, by id. */
  #candidates = new Map<number, Popup>();
  /** Those stacked above the window, bottom to top: what the capture draws over the window. */
  #popups: Popup[] = [];
  /** Being looked at (MapNotify), and whether it was unmapped meanwhile. */
  #adding = new Map<number, { cancelled: boolean }>();
  /** The root's child that holds the window (a frame under a window manager; the window itself without one). */
  #top: number;
  #restacking = false;
  #restackAgain = false;
  #rect: Rect;
  #mapped = true;
  #closed = false;
  #onEvent = (ev: XEvent): void => this.#handleEvent(ev);

  private constructor(conn: X11Connection, info: WindowInfo) {
    super();
    this.conn = conn;
    this.info = info;
    this.#rect = { x: info.x, y: info.y, width: info.width, height: info.height };
    this.#clientBase = (info.id & ~conn.display.resource_mask) >>> 0;
    this.#top = info.id;
  }

  static async open(conn: X11Connection, info: WindowInfo): Promise<WindowCapture> {
    const w = new WindowCapture(conn, info);
    try {
      await w.#init();
    } catch (err) {
      await w.close();
      throw err;
    }
    return w;
  }

  /** The window's place and size on the root window. */
  get rect(): Rect {
    return this.#rect;
  }
  /** The pixmap holding the window's pixels (0 while unmapped before it was ever named). */
  get pixmap(): number {
    return this.#pixmap;
  }
  get mapped(): boolean {
    return this.#mapped;
  }
  /** The application's popups stacked above the window, bottom to top (root coordinates). */
  get popups(): readonly Popup[] {
    return this.#popups;
  }

  async #init(): Promise<void> {
    const { conn } = this;
    const X = conn.client;
    const geo = await xcall<{ depth: number }>((cb) => X.GetGeometry(this.info.id, cb));
    // 24 and 32 (ARGB: translucent windows, client-side shadows) are both read as 32 bits a pixel, B G R
    // first, like the screen; the alpha byte is left out (translucent parts show over black).
    if (geo.depth !== 24 && geo.depth !== 32) throw new Error(`window ${hexId(this.info.id)} has depth ${geo.depth}: only 24 and 32 bits deep windows can be shared`);
    this.#composite = await conn.extension<CompositeExt>('composite');
    this.#damageExt = await conn.extension<DamageExt>('damage');
    conn.on('event', this.#onEvent);
    const em = loadX11().eventMask;
    X.ChangeWindowAttributes(this.info.id, { eventMask: em.StructureNotify! });
    // Popups come and go as the root's children. Never deselected: the connection is the capture's, and a
    // switch opens the next WindowCapture before this one closes; events of nobody's interest are ignored.
    X.ChangeWindowAttributes(conn.root, { eventMask: em.SubstructureNotify! });
    this.#composite.RedirectWindow(this.info.id, this.#composite.Redirect.Automatic);
    this.#namePixmap();
    await conn.sync();
    // The application's popups already on the screen.
    const tree = await xcall<{ children: number[] }>((cb) => X.QueryTree(conn.root, cb));
    await Promise.all(tree.children.map((c) => this.#addCandidate(c)));
    await this.#restack();
  }

  /** Whether an override-redirect window belongs to the shared application (see the file's comment). */
  async #owns(wid: number): Promise<boolean> {
    if (wid === this.info.id) return false;
    if (((wid & ~this.conn.display.resource_mask) >>> 0) === this.#clientBase) return true;
    const t = await property(this.conn, wid, XA_WM_TRANSIENT_FOR);
    return !!t && t.length >= 4 && t.readUInt32LE(0) === this.info.id;
  }

  /** A mapped override-redirect window: redirect it and keep it when it is the application's. */
  async #addCandidate(wid: number): Promise<void> {
    if (this.#candidates.has(wid) || this.#adding.has(wid) || this.#closed) return;
    const state = { cancelled: false };
    this.#adding.set(wid, state);
    try {
      const X = this.conn.client;
      const attrs = await xcall<{ mapState: number; overrideRedirect: number }>((cb) => X.GetWindowAttributes(wid, cb));
      if (!attrs.overrideRedirect || attrs.mapState !== IS_VIEWABLE) return;
      if (!(await this.#owns(wid))) return;
      const geo = await xcall<{ xPos: number; yPos: number; width: number; height: number; borderWidth: number; depth: number }>((cb) => X.GetGeometry(wid, cb));
      // 24 and 32 bits deep are both 32 bits a pixel, B G R first: read the same way as the window.
      if (state.cancelled || this.#closed || (geo.depth !== 24 && geo.depth !== 32)) return;
      const p: Popup = { id: wid, rect: { x: geo.xPos, y: geo.yPos, width: geo.width + 2 * geo.borderWidth, height: geo.height + 2 * geo.borderWidth }, pixmap: X.AllocID(), damage: X.AllocID() };
      this.#composite.RedirectWindow(wid, this.#composite.Redirect.Automatic);
      this.#composite.NameWindowPixmap(wid, p.pixmap);
      this.#damageExt.Create(p.damage, wid, this.#damageExt.ReportLevel.NonEmpty);
      this.#candidates.set(wid, p);
    } catch {
      // gone meanwhile (BadWindow): nothing to share
    } finally {
      this.#adding.delete(wid);
    }
  }

  /** Unmapped or destroyed: forget it (and show what it covered). */
  #dropCandidate(wid: number, destroyed: boolean): void {
    const adding = this.#adding.get(wid);
    if (adding) adding.cancelled = true;
    const p = this.#candidates.get(wid);
    if (!p) return;
    this.#candidates.delete(wid);
    const i = this.#popups.indexOf(p);
    if (i >= 0) this.#popups = this.#popups.filter((q) => q !== p);
    this.#release(p, destroyed);
    if (i >= 0) this.emit('popup', p.rect);
  }

  #release(p: Popup, destroyed: boolean): void {
    if (this.conn.closed) return;
    const X = this.conn.client;
    X.FreePixmap(p.pixmap); // a named pixmap outlives its window
    if (!destroyed) {
      // A destroyed window took its damage object and redirection with it.
      this.#damageExt.Destroy(p.damage);
      this.#composite.UnredirectWindow(p.id);
    }
  }

  /** The root's child holding the window. */
  async #topLevel(): Promise<number> {
    let top = this.info.id;
    for (;;) {
      const tree = await xcall<{ parent: number }>((cb) => this.conn.client.QueryTree(top, cb));
      if (tree.parent === this.conn.root || tree.parent === 0) return top;
      top = tree.parent;
    }
  }

  /**
   * Which of the application's popups are above the window, in the root's stacking order (QueryTree lists
   * children bottom to top). Runs one at a time; a change meanwhile runs it again.
   */
  async #restack(): Promise<void> {
    if (this.#restacking) {
      this.#restackAgain = true;
      return;
    }
    this.#restacking = true;
    try {
      do {
        this.#restackAgain = false;
        this.#top = await this.#topLevel();
        const tree = await xcall<{ children: number[] }>((cb) => this.conn.client.QueryTree(this.conn.root, cb));
        if (this.#closed) return;
        const i = tree.children.indexOf(this.#top);
        const next = i < 0 ? [] : tree.children.slice(i + 1).flatMap((id) => this.#candidates.get(id) ?? []);
        const old = this.#popups;
        this.#popups = next;
        const same = old.length === next.length && old.every((p, k) => p === next[k]);
        if (!same) for (const p of new Set([...old, ...next])) this.emit('popup', p.rect);
      } while (this.#restackAgain && !this.#closed);
    } catch {
      // the window is gone (DestroyNotify follows)
    } finally {
      this.#restacking = false;
    }
  }

  /** A root child moved, was resized or restacked. */
  #onRootConfigure(wid: number, x: number, y: number, width: number, height: number, border: number): void {
    const p = this.#candidates.get(wid);
    if (p) {
      const rect = { x, y, width: width + 2 * border, height: height + 2 * border };
      const old = p.rect;
      if (rect.width !== old.width || rect.height !== old.height) {
        // New storage for the new size: name it again.
        this.conn.client.FreePixmap(p.pixmap);
        p.pixmap = this.conn.client.AllocID();
        this.#composite.NameWindowPixmap(wid, p.pixmap);
      }
      p.rect = rect;
      if (this.#popups.includes(p)) {
        this.emit('popup', old);
        this.emit('popup', rect);
      }
    }
    if (p || wid === this.#top) void this.#restack();
  }

  #namePixmap(): void {
    const X = this.conn.client;
    if (this.#pixmap) X.FreePixmap(this.#pixmap);
    this.#pixmap = X.AllocID();
    this.#composite.NameWindowPixmap(this.info.id, this.#pixmap);
  }

  /** Raise the window (its top-level ancestor, a frame under a window manager) and give it the focus. */
  async raise(): Promise<void> {
    if (this.#closed || !this.#mapped) return;
    const X = this.conn.client;
    let top = this.info.id;
    for (;;) {
      const tree = await xcall<{ parent: number }>((cb) => X.QueryTree(top, cb)).catch(() => null);
      if (!tree || tree.parent === this.conn.root || tree.parent === 0) break;
      top = tree.parent;
    }
    X.ConfigureWindow(top, { stackMode: STACK_ABOVE });
    // Its own popups stay over it (a menu that is open): a click at a popup's place lands on the popup.
    for (const p of this.#popups) X.ConfigureWindow(p.id, { stackMode: STACK_ABOVE });
    X.SetInputFocus(this.info.id, 1);
    // The raise must be done before input sent on another connection (XTEST) is processed.
    await this.conn.sync();
  }

  #handleEvent(ev: XEvent): void {
    if (this.#closed) return;
    const root = this.conn.root;
    if (ev.name === 'DamageNotify') {
      const p = this.#popups.find((q) => q.damage === ev.damage) ?? [...this.#candidates.values()].find((q) => q.damage === ev.damage);
      if (!p) return;
      // NonEmpty reports once until the damage is cleared; the capture after this reads the whole popup.
      this.#damageExt.Subtract(p.damage, 0, 0);
      if (this.#popups.includes(p)) this.emit('popup', p.rect);
      return;
    }
    // The root's children (SubstructureNotify): the application's popups, and the window's own frame.
    if (ev.name === 'ConfigureNotify' && ev.wid === root) {
      if (ev.wid1 === this.info.id) void this.#restack(); // raised or lowered (its place and size: StructureNotify)
      else this.#onRootConfigure(Number(ev.wid1), Number(ev.x), Number(ev.y), Number(ev.width), Number(ev.height), Number(ev.borderWidth));
      return;
    }
    if (ev.event === root && ev.wid !== this.info.id) {
      if (ev.name === 'MapNotify' && ev.overrideRedirect) void this.#addCandidate(Number(ev.wid)).then(() => this.#restack());
      else if (ev.name === 'UnmapNotify' || ev.name === 'DestroyNotify') this.#dropCandidate(Number(ev.wid), ev.name === 'DestroyNotify');
      else if (ev.name === 'MapNotify' && ev.wid === this.#top) void this.#restack();
      return;
    }
    // The window's own (StructureNotify on it; a window without a frame is also the root's child: the
    // root's copy of these is not for us).
    if (ev.name === 'ConfigureNotify' ? ev.wid !== this.info.id : ev.event !== this.info.id || ev.wid !== this.info.id) return;
    if (ev.name === 'DestroyNotify') {
      this.#pixmap = 0; // freed with the window
      this.emit('gone', `the shared window '${this.info.title}' was closed`);
    } else if (ev.name === 'UnmapNotify') {
      this.#mapped = false;
    } else if (ev.name === 'MapNotify') {
      this.#mapped = true;
      this.#namePixmap();
      this.emit('remapped');
      void this.#restack();
    } else if (ev.name === 'ConfigureNotify') {
      void this.#onConfigure(Number(ev.width), Number(ev.height));
    }
  }

  async #onConfigure(width: number, height: number): Promise<void> {
    try {
      // ConfigureNotify's x/y are relative to the parent (a frame under a window manager): ask the root.
      const pos = await xcall<{ destX: number; destY: number }>((cb) => this.conn.client.TranslateCoordinates(this.info.id, this.conn.root, 0, 0, cb));
      const old = this.#rect;
      if (this.#closed || (old.x === pos.destX && old.y === pos.destY && old.width === width && old.height === height)) return;
      const resized = old.width !== width || old.height !== height;
      this.#rect = { x: pos.destX, y: pos.destY, width, height };
      if (resized && this.#mapped) this.#namePixmap();
      this.emit('resize', this.#rect);
    } catch (err) {
      if (!this.#closed) this.emit('error', err as Error); // destroyed meanwhile: DestroyNotify follows
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.off('event', this.#onEvent);
    for (const a of this.#adding.values()) a.cancelled = true;
    if (!this.conn.closed) {
      try {
        if (this.#pixmap) this.conn.client.FreePixmap(this.#pixmap);
        if (this.#composite) this.#composite.UnredirectWindow(this.info.id);
        for (const p of this.#candidates.values()) this.#release(p, false);
      } catch {
        // the connection is going away anyway
      }
    }
    this.removeAllListeners();
  }
}

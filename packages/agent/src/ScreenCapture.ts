/**
 * X11 screen capture of the shared area (whole screen or one RandR monitor).
 *
 * DAMAGE (report level NonEmpty) tells us something changed; at capture time we move the
 * accumulated damage into a region (DamageSubtract), fetch its rectangles (XFIXES) and read the
 * tile-aligned bands they touch with MIT-SHM GetImage (plain GetImage when SHM is unavailable), with
 * the server grabbed from taking the damage to the last read, so a capture is one picture.
 * While nobody captures, damage just accumulates in the server: a late capture reads only the
 * newest pixels. RandR screen changes re-evaluate the area and force a full refresh.
 */
import { TypedEmitter } from './TypedEmitter.js';
import { X11Connection } from './X11Connection.js';
import { chooseArea, listMonitors, type Rect, type SharedArea } from './monitors.js';
import { WindowCapture, findWindow } from './WindowCapture.js';
import { ExcludedWindow } from './ExcludedWindow.js';
import { xcall, type DamageExt, type FixesExt, type FixesRect, type RandrExt, type ShmExt, type ShmSegment, type XEvent } from './x11.js';

/** Pixels of the shared area, 4 bytes per pixel in X's little-endian order: B, G, R, unused. */
export type FrameBuffer = { width: number; height: number; stride: number; data: Buffer };

export type CaptureResult = {
  /** Tile-aligned rectangles (area coordinates) whose pixels were refreshed in `frame`. */
  rects: Rect[];
  /** Capture time, ms since the epoch (taken before reading pixels). */
  time: number;
  /** True when the whole area was read (first capture, resize, explicit refresh). */
  full: boolean;
  /** Milliseconds spent reading pixels from the X server. */
  readMs: number;
};

export type ScreenCaptureOptions = {
  /** Use this connection (not closed by close()); otherwise one is opened to `display`/$DISPLAY. */
  connection?: X11Connection;
  display?: string;
  /** Monitor name or index; the whole screen when absent. */
  monitor?: string;
  /** Grid the bands are aligned to; should match the TileEncoder's tile size. */
  tileSize?: number;
  /** Set false to force plain GetImage (for measurements). */
  useShm?: boolean;
  /** Share this one window (its own pixels, through Composite) instead of the screen or a monitor. */
  window?: string;
  /** Where the window picker's prompt goes. */
  log?: (line: string) => void;
};

export type ScreenCaptureEvents = {
  /** New damage since the last capture (at most once per capture). */
  damage: [];
  /** Something was drawn on the screen (every drawing request, not once per capture). */
  paint: [];
  /** The shared area changed size or place; the next capture is a full one. */
  resize: [SharedArea];
  /** switchTo() put another source in place (after its `resize`). */
  source: [SharedArea];
  /** The shared window was closed: nothing more to share. */
  gone: [string];
  error: [Error];
};

export class UnsupportedVisualError extends Error {
  override name = 'UnsupportedVisualError';
}

const ZPIXMAP = 2;
const ALL_PLANES = 0xffffffff;

export class ScreenCapture extends TypedEmitter<ScreenCaptureEvents> {
  readonly conn: X11Connection;
  readonly tileSize: number;
  #ownsConn: boolean;
  #monitorSpec: string | undefined;
  #damageExt!: DamageExt;
  #fixes!: FixesExt;
  #randr: RandrExt | null = null;
  #windowSpec: string | undefined;
  #log: ((line: string) => void) | undefined;
  #window: WindowCapture | null = null;
  #shmExt: ShmExt | null = null;
  #seg: ShmSegment | null = null;
  #damage = 0;
  /** A second damage object, reporting raw rectangles: its events time the screen's repaints. */
  #paints = 0;
  #lastPaintAt = -Infinity;
  #burstAt = -Infinity;
  #paintPeriod = Infinity;
  #region = 0;
  #area!: SharedArea;
  #frame!: FrameBuffer;
  #needFull = true;
  #pending = true;
  /** Rectangles to read at the next capture whatever the damage says (requestRegion). */
  #extra: Rect[] = [];
  #mask: { rect: Rect; pixels: Buffer } | null = null;
  /** Our own on-top window, left out of screen and monitor captures (exclude()). */
  #excluded: ExcludedWindow | null = null;
  #busy = false;
  /** The latest switchTo(), which captures wait for. */
  #switching: Promise<unknown> = Promise.resolve();
  #switchesPending = 0;
  #closed = false;
  #onEvent = (ev: XEvent): void => this.#handleEvent(ev);

  private constructor(conn: X11Connection, ownsConn: boolean, options: ScreenCaptureOptions) {
    super();
    this.conn = conn;
    this.#ownsConn = ownsConn;
    this.#monitorSpec = options.monitor;
    this.#windowSpec = options.window;
    this.#log = options.log;
    this.tileSize = options.tileSize ?? 64;
  }

  static async open(options: ScreenCaptureOptions = {}): Promise<ScreenCapture> {
    const conn = options.connection ?? (await X11Connection.open({ display: options.display, batch: true }));
    const cap = new ScreenCapture(conn, !options.connection, options);
    try {
      await cap.#init(options.useShm !== false);
    } catch (err) {
      await cap.close();
      throw err;
    }
    return cap;
  }

  get area(): SharedArea {
    return this.#area;
  }
  get frame(): FrameBuffer {
    return this.#frame;
  }
  /** The shared window, when one window is shared. */
  get window(): WindowCapture | null {
    return this.#window;
  }
  /** Whether pixels are read through MIT-SHM. */
  get shm(): boolean {
    return this.#seg !== null;
  }
  /** Damage (or a refresh request) is waiting to be captured. */
  get pending(): boolean {
    return this.#pending || this.#needFull;
  }
  /** The next capture reads the whole area. */
  get fullPending(): boolean {
    return this.#needFull;
  }
  /** When the screen was last drawn on (performance.now() ms). */
  get lastPaintAt(): number {
    return this.#lastPaintAt;
  }
  /**
   * The interval between repaints while something repaints continuously (an animation at 60 fps gives
   * ~16.7 ms), or Infinity when the screen is not repainting at a steady pace.
   */
  get paintPeriod(): number {
    return performance.now() - this.#lastPaintAt > 100 ? Infinity : this.#paintPeriod;
  }

  /**
   * Pixels to show in place of what is on the screen at `rect` (root coordinates; B, G, R, x rows of
   * rect.width): the host's indicator, composited out of screen and monitor captures. null: none.
   */
  setMask(mask: { rect: Rect; pixels: Buffer } | null): void {
    this.#mask = mask;
    this.requestFull();
  }

  /**
   * Get ready to leave one of our own windows out of what viewers see (ExcludedWindow.prepare: every
   * top-level window is redirected). Call before that window is mapped. Throws without Composite.
   */
  async prepareExclusion(): Promise<void> {
    await ExcludedWindow.prepare(this.conn);
  }

  /**
   * After prepareExclusion(): screen and monitor captures show what is under `window` (the indicator),
   * as it is now, instead of the window. `base`: the screen under it before it was mapped.
   */
  async exclude(o: { window: number; rect: Rect; base: Buffer }): Promise<void> {
    this.#excluded?.close();
    const e = await ExcludedWindow.open(this.conn, o);
    e.on('changed', (r) => {
      if (this.#excluded !== e || this.#window) return;
      for (const c of clipRects([r], this.#area)) this.requestRegion(c);
    });
    this.#excluded = e;
    this.#mask = null;
    this.requestFull();
  }

  /** Make the next capture read this rectangle (area coordinates) too, changed or not. */
  requestRegion(r: Rect): void {
    this.#extra.push(r);
    const first = !this.#pending;
    this.#pending = true;
    if (first) this.emit('damage');
  }

  /** Make the next capture read the whole area (a viewer needs a full picture). */
  requestFull(): void {
    this.#needFull = true;
    this.emit('damage');
  }

  async #init(useShm: boolean): Promise<void> {
    const { conn } = this;
    const screen = conn.screen;
    const visual = screen.depths[screen.root_depth]?.[screen.root_visual];
    const bpp = conn.display.format[screen.root_depth]?.bits_per_pixel;
    if (
      (screen.root_depth !== 24 && screen.root_depth !== 32) || bpp !== 32 || conn.display.image_byte_order !== 0 ||
      !visual || visual.red_mask !== 0xff0000 || visual.green_mask !== 0xff00 || visual.blue_mask !== 0xff
    ) {
      throw new UnsupportedVisualError(`unsupported root visual: depth ${screen.root_depth}, ${bpp} bpp; need 24-bit TrueColor, 32 bpp, LSB first`);
    }
    this.#damageExt = await conn.extension<DamageExt>('damage');
    this.#fixes = await conn.extension<FixesExt>('fixes');
    try {
      this.#randr = await conn.extension<RandrExt>('randr');
    } catch {
      this.#randr = null;
    }
    if (useShm && conn.display.isLocalSocket) {
      try {
        const shm = await conn.extension<ShmExt>('shm');
        const ok = await new Promise<boolean>((resolve) => shm.usable((_e, usable) => resolve(!!usable)));
        if (ok) this.#shmExt = shm;
      } catch {
        this.#shmExt = null;
      }
    }
    conn.on('event', this.#onEvent);
    if (this.#windowSpec !== undefined) this.#setWindow(await WindowCapture.open(conn, await findWindow(conn, this.#windowSpec, this.#log)));
    this.#region = conn.client.AllocID();
    this.#fixes.CreateRegion(this.#region, []);
    // Selected whatever is shared: a switch to a monitor later needs it (for a window it changes nothing).
    if (this.#randr) this.#randr.SelectInput(conn.root, this.#randr.NotifyMask.ScreenChange | this.#randr.NotifyMask.CrtcChange | this.#randr.NotifyMask.OutputChange);
    this.#watch();
    const area = await this.#computeArea();
    await this.#applyArea(area);
    await conn.sync();
  }

  #setWindow(w: WindowCapture | null): void {
    this.#window = w;
    if (!w) return;
    w.on('resize', (r) => void this.#onWindowChange(r));
    w.on('remapped', () => this.requestFull());
    // A popup of the window's application appeared, changed or went: read that part again.
    w.on('popup', (r) => {
      if (this.#window !== w) return;
      for (const c of clipRects([r], this.#area)) this.requestRegion(c);
    });
    w.on('gone', (why) => this.emit('gone', why));
    w.on('error', (err) => this.emit('error', err));
  }

  /** DAMAGE on what is shared; on a shared window, it reports in the window's own coordinates. */
  #watch(): void {
    const { conn } = this;
    const watched = this.#window ? this.#window.info.id : conn.root;
    this.#damage = conn.client.AllocID();
    this.#damageExt.Create(this.#damage, watched, this.#damageExt.ReportLevel.NonEmpty);
    this.#paints = conn.client.AllocID();
    this.#damageExt.Create(this.#paints, watched, this.#damageExt.ReportLevel.RawRectangles);
  }

  #unwatch(): void {
    if (this.#damage) this.#damageExt.Destroy(this.#damage);
    if (this.#paints) this.#damageExt.Destroy(this.#paints);
    this.#damage = this.#paints = 0;
  }

  /**
   * Share something else without closing: the whole screen (`{}`), a monitor or a window. The new source
   * is found first (an unknown one throws and the old one stays); then the next capture is a full one of
   * the new area, and `resize` and `source` are emitted. Waits for a capture under way.
   */
  switchTo(spec: { monitor?: string; window?: string }): Promise<SharedArea> {
    const run = async (): Promise<SharedArea> => {
      while (this.#busy) await new Promise((r) => setTimeout(r, 2));
      if (this.#closed) throw new Error('ScreenCapture is closed');
      const { conn } = this;
      let win: WindowCapture | null = null;
      if (spec.window !== undefined) {
        const info = await findWindow(conn, spec.window, this.#log);
        win = this.#window?.info.id === info.id ? null : await WindowCapture.open(conn, info);
        if (!win) spec = { window: spec.window }; // the same window: nothing to redirect again
      } else if (spec.monitor !== undefined) {
        const geo = await xcall<{ width: number; height: number }>((cb) => conn.client.GetGeometry(conn.root, cb));
        chooseArea(geo, await listMonitors(conn), spec.monitor); // throws for an unknown monitor
      }
      const keepWindow = spec.window !== undefined && !win;
      this.#unwatch();
      if (!keepWindow) {
        const old = this.#window;
        this.#window = null;
        await old?.close();
        this.#setWindow(win);
      }
      this.#monitorSpec = spec.monitor;
      this.#windowSpec = spec.window;
      this.#watch();
      const area = await this.#computeArea();
      await this.#applyArea(area);
      await conn.sync();
      this.emit('resize', area);
      this.emit('source', area);
      this.emit('damage');
      return area;
    };
    this.#switchesPending++;
    const p = this.#switching.then(run, run).finally(() => this.#switchesPending--);
    this.#switching = p.catch(() => undefined);
    return p;
  }

  async #computeArea(): Promise<SharedArea> {
    if (this.#window) return { ...this.#window.rect, monitor: null, window: this.#window.info.title };
    const geo = await xcall<{ width: number; height: number }>((cb) => this.conn.client.GetGeometry(this.conn.root, cb));
    const screen = { width: geo.width, height: geo.height };
    if (this.#monitorSpec === undefined) return chooseArea(screen, [], undefined);
    return chooseArea(screen, await listMonitors(this.conn), this.#monitorSpec);
  }

  async #applyArea(area: SharedArea): Promise<void> {
    this.#area = area;
    const stride = area.width * 4;
    const need = stride * area.height;
    if (this.#shmExt && (!this.#seg || this.#seg.size < need)) {
      const old = this.#seg;
      this.#seg = null;
      if (old) old.detach();
      const shm = this.#shmExt;
      this.#seg = await new Promise<ShmSegment | null>((resolve) => shm.createSegment(need, (err, seg) => resolve(err ? null : seg)));
    }
    // A mapped segment (mappedShm.ts) laid out as the frame is the frame: whole rows are read into it at
    // their place and nothing is copied out (see #inPlace). Otherwise the frame is a buffer of its own.
    const seg = this.#seg;
    const inPlace = seg?.zeroCopy && seg.size >= need && !this.#window && !this.#mask && !this.#excluded;
    const data = inPlace ? seg.buffer.subarray(0, need).fill(0) : Buffer.alloc(need);
    this.#frame = { width: area.width, height: area.height, stride, data };
    this.#needFull = true;
  }

  /**
   * Whether this capture reads straight into the frame: the segment is mapped and is the frame, and
   * nothing is painted over what was read (a shared window's popups, the indicator's mask or its
   * exclusion), since whole rows are read, beyond the damaged columns.
   */
  #inPlace(): boolean {
    const seg = this.#seg;
    return !!seg?.zeroCopy && this.#frame.data.buffer === seg.buffer.buffer && !this.#window && !this.#mask && !this.#excluded;
  }

  /**
   * Before a capture: the frame is the segment exactly when it may be read in place. A frame of its own
   * is needed as soon as something is painted over what is read (the bands are then read packed into the
   * segment and copied out, which must not land in the segment itself), and back again when that ends.
   * The frame keeps its pixels across the switch.
   */
  #frameMode(): void {
    const seg = this.#seg, f = this.#frame;
    if (!seg?.zeroCopy) return;
    const mapped = f.data.buffer === seg.buffer.buffer;
    const allowed = !this.#window && !this.#mask && !this.#excluded && seg.size >= f.data.length;
    if (mapped && !allowed) this.#frame = { ...f, data: Buffer.from(f.data) };
    else if (!mapped && allowed) {
      const data = seg.buffer.subarray(0, f.data.length);
      f.data.copy(data);
      this.#frame = { ...f, data };
    }
  }

  #handleEvent(ev: XEvent): void {
    if (this.#closed) return;
    if (ev.name === 'DamageNotify' && ev.damage === this.#paints) {
      // Requests drawn within a few ms of each other are one repaint (an application's frame).
      const now = performance.now();
      if (now - this.#lastPaintAt > 4) {
        const interval = now - this.#burstAt;
        this.#paintPeriod = interval > 100 ? Infinity : this.#paintPeriod === Infinity ? interval : 0.7 * this.#paintPeriod + 0.3 * interval;
        this.#burstAt = now;
      }
      this.#lastPaintAt = now;
      this.emit('paint');
    } else if (ev.name === 'DamageNotify' && ev.damage === this.#damage) {
      const first = !this.#pending;
      this.#pending = true;
      if (first) this.emit('damage');
    } else if (this.#randr && (ev.type === this.#randr.firstEvent || ev.type === this.#randr.firstEvent + 1)) {
      void this.#onScreenChange();
    }
  }

  /** The window moved (input follows it; the pixels are the same) or was resized (a new screen). */
  async #onWindowChange(r: Rect): Promise<void> {
    if (this.#closed) return;
    const a = this.#area;
    const area: SharedArea = { ...r, monitor: null, window: this.#window!.info.title };
    if (a.width === r.width && a.height === r.height) {
      this.#area = area;
      // Its pixels are the same, but its popups (root coordinates) now lie elsewhere over it.
      if (this.#window!.popups.length > 0) this.requestFull();
      return;
    }
    try {
      await this.#applyArea(area);
      this.emit('resize', area);
      this.emit('damage');
    } catch (err) {
      if (!this.#closed) this.emit('error', err as Error);
    }
  }

  async #onScreenChange(): Promise<void> {
    try {
      let area: SharedArea;
      try {
        area = await this.#computeArea();
      } catch (err) {
        // The chosen monitor went away: share the whole screen rather than nothing.
        this.emit('error', err as Error);
        this.#monitorSpec = undefined;
        area = await this.#computeArea();
      }
      const a = this.#area;
      if (this.#closed || (a.x === area.x && a.y === area.y && a.width === area.width && a.height === area.height)) return;
      await this.#applyArea(area);
      this.emit('resize', area);
      this.emit('damage');
    } catch (err) {
      if (!this.#closed) this.emit('error', err as Error);
    }
  }

  /** Read what changed since the last capture (everything, the first time or after `full`). */
  async capture(options: { full?: boolean } = {}): Promise<CaptureResult> {
    if (this.#closed) throw new Error('ScreenCapture is closed');
    if (this.#busy) throw new Error('ScreenCapture.capture() is already running');
    // A switch waits for a capture under way; a capture waits for every switch asked for before it.
    while (this.#switchesPending > 0) await this.#switching;
    if (this.#busy) throw new Error('ScreenCapture.capture() is already running');
    if (this.#closed) throw new Error('ScreenCapture is closed');
    this.#busy = true;
    try {
      this.#frameMode();
      const full = options.full === true || this.#needFull;
      this.#needFull = false;
      this.#pending = false;
      const time = Date.now();
      const area = this.#area;
      const whole = { x: 0, y: 0, width: area.width, height: area.height };
      let damaged: Rect[];
      if (full) {
        this.#damageExt.Subtract(this.#damage, 0, 0);
        damaged = [whole];
      } else {
        damaged = await this.#takeDamage(area);
      }
      if (this.#extra.length > 0) {
        damaged = damaged.concat(clipRects(this.#extra, whole));
        this.#extra = [];
      }
      damaged = damaged.concat(this.#staleExcluded(area));
      // One picture per capture (issue 17). The tile rows are read by several GetImage requests, and the
      // damage was taken a round trip earlier: another client drawing in between gave a frame whose rows
      // came from two pictures (a dragged window torn across a horizontal line; 5 captures in 400 under a
      // whole-screen repaint flood, none since: test/captureAtomic.test.ts). So the rows are read with the
      // server grabbed, and in the same grab the damage that arrived since it was taken is taken again:
      // none means the rows read and the cells not read are one picture. Grab, requests and Ungrab go out
      // in one write, so the server is not held while this process waits to be scheduled. If damage came
      // in between (motion), its rows are read in a second grab that is held across one round trip (take
      // the damage, read its rows too), which makes that capture one picture whatever happens.
      const t0 = performance.now();
      let bands = tileBands(damaged, area.width, area.height, this.tileSize);
      const rects: Rect[] = [];
      for (let round = 0; this.#area === area && !this.#closed; round++) {
        const { read, late } = await this.#readGrabbed(bands, area, round >= 1);
        rects.push(...read);
        if (late.length === 0) break;
        bands = tileBands(late, area.width, area.height, this.tileSize);
      }
      this.#applyMask(area, rects);
      return { rects, time, full, readMs: performance.now() - t0 };
    } finally {
      this.#busy = false;
    }
  }

  /**
   * The excluded window's rectangle (area coordinates) when windows moved, appeared or went since it was
   * last composed: the events came before the damage taken with them, so it is read in the same capture.
   */
  #staleExcluded(area: SharedArea): Rect[] {
    const e = this.#excluded;
    return e && !this.#window && e.takeStale() ? clipRects([e.rect], area) : [];
  }

  /** Put the mask's pixels back over its place, where this capture read the screen. */
  #applyMask(area: SharedArea, read: Rect[]): void {
    const m = this.#mask;
    if (!m || this.#window || area !== this.#area) return;
    const x0 = Math.max(m.rect.x, area.x), y0 = Math.max(m.rect.y, area.y);
    const x1 = Math.min(m.rect.x + m.rect.width, area.x + area.width), y1 = Math.min(m.rect.y + m.rect.height, area.y + area.height);
    if (x1 <= x0 || y1 <= y0) return;
    const hit = read.some((r) => r.x < x1 - area.x && r.x + r.width > x0 - area.x && r.y < y1 - area.y && r.y + r.height > y0 - area.y);
    if (!hit) return;
    const frame = this.#frame;
    const rowBytes = (x1 - x0) * 4;
    for (let y = y0; y < y1; y++) {
      const src = ((y - m.rect.y) * m.rect.width + (x0 - m.rect.x)) * 4;
      m.pixels.copy(frame.data, (y - area.y) * frame.stride + (x0 - area.x) * 4, src, src + rowBytes);
    }
  }

  /** The damage accumulated since it was last taken, in area coordinates (DAMAGE is reset). */
  async #takeDamage(area: SharedArea): Promise<Rect[]> {
    this.#damageExt.Subtract(this.#damage, 0, this.#region);
    const reg = await xcall<{ rectangles: FixesRect[] }>((cb) => this.#fixes.FetchRegion(this.#region, cb));
    return clipRects(reg.rectangles, this.#window ? { x: 0, y: 0, width: area.width, height: area.height } : area);
  }

  /**
   * Read `bands` with the server grabbed, and take the damage that arrived before the grab (`late`:
   * empty means what was read matches the rest of the frame). With `hold`, the damage is taken first and
   * its rows are read too, inside the same grab: one picture whatever happens, at the cost of holding the
   * server for a round trip. `read`: the rows read.
   */
  async #readGrabbed(bands: Rect[], area: SharedArea, hold: boolean): Promise<{ read: Rect[]; late: Rect[] }> {
    const { client } = this.conn;
    client.GrabServer();
    let grabbed = true;
    const ungrab = (): void => {
      if (!grabbed) return;
      grabbed = false;
      if (!this.conn.closed) client.UngrabServer();
    };
    try {
      if (hold) {
        // One band per tile row, merged: #read gives each row its own slice of the shared-memory segment,
        // so two reads of one row would land in the same slice and the first would be copied out with the
        // second's pixels (a band of wrong cells the hashes cannot see, since the agent sends what it read).
        const late = await this.#takeDamage(area);
        bands = tileBands(bands.concat(late, this.#staleExcluded(area)), area.width, area.height, this.tileSize);
      }
      const late = hold ? null : this.#takeDamage(area);
      // #read issues every request before its first await: the Ungrab follows them in the stream.
      const reading = bands.length > 0 ? this.#read(bands, area) : null;
      // Our own window (the indicator) read from the root is painted over with what is under it, from the
      // windows' own storage, before anything can change: the grab is held for that.
      const ex = this.#excluded && !this.#window && bands.length > 0 ? this.#excluded : null;
      if (!ex) ungrab();
      await reading;
      if (ex && this.#area === area) await ex.compose(area, this.#frame, bands);
      ungrab();
      const lateRects = late ? await late : [];
      return { read: bands, late: lateRects.length > 0 ? lateRects.concat(this.#staleExcluded(area)) : this.#staleExcluded(area) };
    } finally {
      ungrab();
    }
  }

  async #read(bands: Rect[], area: SharedArea): Promise<void> {
    const frame = this.#frame;
    const seg = this.#seg;
    // A shared window is read from its pixmap, at its own coordinates.
    const win = this.#window;
    const drawable = win ? win.pixmap : this.conn.root;
    const ox = win ? 0 : area.x, oy = win ? 0 : area.y;
    if (!drawable) return;
    const { client } = this.conn;
    if (seg && this.#inPlace()) {
      // Whole rows at their own place in the segment, which is the frame: the X server writes the pixels
      // where they belong and nothing is copied (a 1726x966 band Chromium damages for one typed character
      // was a 6.7 MB copy). The pixels beside the band are the screen's as it is now, read in the same grab.
      await Promise.all(bands.map((b) => xcall((cb) => seg.getImage(drawable, ox, oy + b.y, frame.width, b.height, ALL_PLANES, ZPIXMAP, b.y * frame.stride, cb))));
      return;
    }
    const reads = Promise.all(
      bands.map(async (b) => {
        let src: Buffer;
        if (seg) {
          // Each band gets its own slice of the segment (at its row: at most one band per tile row), so the
          // requests can be pipelined.
          const offset = b.y * frame.stride;
          await xcall((cb) => seg.getImage(drawable, ox + b.x, oy + b.y, b.width, b.height, ALL_PLANES, ZPIXMAP, offset, cb));
          src = seg.buffer.subarray(offset, offset + b.width * b.height * 4);
        } else {
          const img = await xcall<{ data: Buffer }>((cb) => client.GetImage(ZPIXMAP, drawable, ox + b.x, oy + b.y, b.width, b.height, ALL_PLANES, cb));
          src = img.data;
        }
        if (frame !== this.#frame) return; // resized meanwhile: the full refresh that follows rereads
        const rowBytes = b.width * 4;
        if (b.x === 0 && b.width === frame.width) {
          src.copy(frame.data, b.y * frame.stride, 0, rowBytes * b.height);
        } else {
          for (let row = 0; row < b.height; row++) {
            src.copy(frame.data, (b.y + row) * frame.stride + b.x * 4, row * rowBytes, (row + 1) * rowBytes);
          }
        }
      }),
    );
    // The window's popups over what was read, bottom to top, each from its own pixmap (never the screen:
    // another application's window over them must not show). Requested now, with the bands, so they are
    // read inside the same server grab.
    const overlays: Array<{ r: Rect; img: Promise<{ data: Buffer } | null> }> = [];
    for (const p of win?.popups ?? []) {
      for (const b of bands) {
        const x0 = Math.max(area.x + b.x, p.rect.x), y0 = Math.max(area.y + b.y, p.rect.y);
        const x1 = Math.min(area.x + b.x + b.width, p.rect.x + p.rect.width), y1 = Math.min(area.y + b.y + b.height, p.rect.y + p.rect.height);
        if (x1 <= x0 || y1 <= y0) continue;
        // A popup gone meanwhile (BadDrawable) is left out: its UnmapNotify asks for that place again.
        const img = xcall<{ data: Buffer }>((cb) => client.GetImage(ZPIXMAP, p.pixmap, x0 - p.rect.x, y0 - p.rect.y, x1 - x0, y1 - y0, ALL_PLANES, cb)).catch(() => null);
        overlays.push({ r: { x: x0 - area.x, y: y0 - area.y, width: x1 - x0, height: y1 - y0 }, img });
      }
    }
    await reads;
    for (const o of overlays) {
      const img = await o.img;
      if (!img || frame !== this.#frame) continue;
      const rowBytes = o.r.width * 4;
      for (let row = 0; row < o.r.height; row++) img.data.copy(frame.data, (o.r.y + row) * frame.stride + o.r.x * 4, row * rowBytes, (row + 1) * rowBytes);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.off('event', this.#onEvent);
    this.#excluded?.close();
    await this.#window?.close();
    if (!this.conn.closed) {
      try {
        this.#unwatch();
        if (this.#region) this.#fixes.DestroyRegion(this.#region);
        if (this.#seg) this.#seg.detach();
      } catch {
        // the connection is going away anyway
      }
    }
    this.#seg = null;
    if (this.#ownsConn) await this.conn.close();
    this.removeAllListeners();
  }
}

/** Clip root-coordinate rectangles to the area and translate them into area coordinates. */
export function clipRects(rects: FixesRect[], area: Rect): Rect[] {
  const out: Rect[] = [];
  for (const r of rects) {
    const x0 = Math.max(r.x, area.x), y0 = Math.max(r.y, area.y);
    const x1 = Math.min(r.x + r.width, area.x + area.width), y1 = Math.min(r.y + r.height, area.y + area.height);
    if (x1 > x0 && y1 > y0) out.push({ x: x0 - area.x, y: y0 - area.y, width: x1 - x0, height: y1 - y0 });
  }
  return out;
}

/**
 * Tile-aligned bands covering the damaged rectangles: one per tile row, spanning the dirty tile
 * columns of that row. Few requests, each a whole number of tiles, so tiles never read half-old.
 */
export function tileBands(rects: Rect[], width: number, height: number, tileSize: number): Rect[] {
  const rows = Math.ceil(height / tileSize);
  const minCol = new Int32Array(rows).fill(-1);
  const maxCol = new Int32Array(rows).fill(-1);
  for (const r of rects) {
    if (r.width <= 0 || r.height <= 0) continue;
    const c0 = Math.floor(r.x / tileSize), c1 = Math.floor((Math.min(r.x + r.width, width) - 1) / tileSize);
    const r0 = Math.floor(r.y / tileSize), r1 = Math.floor((Math.min(r.y + r.height, height) - 1) / tileSize);
    for (let row = Math.max(0, r0); row <= Math.min(rows - 1, r1); row++) {
      if (minCol[row] === -1 || c0 < minCol[row]!) minCol[row] = c0;
      if (c1 > maxCol[row]!) maxCol[row] = c1;
    }
  }
  const out: Rect[] = [];
  for (let row = 0; row < rows; row++) {
    if (minCol[row] === -1) continue;
    const x = minCol[row]! * tileSize;
    const y = row * tileSize;
    out.push({ x, y, width: Math.min(width, (maxCol[row]! + 1) * tileSize) - x, height: Math.min(height, y + tileSize) - y });
  }
  return out;
}

/**
 * The host's indicator: a small always-on-top window in the top-right corner of the X screen that
 * says "Sharing", "Controlled by <name>" (another colour) or "Paused". A click on it pauses or resumes
 * the share (`click`).
 *
 * It is override-redirect (no window manager frame, no focus, not in `baton-agent windows`), drawn as
 * one PutImage of text rendered by sharp from SVG, and raised again when something covers it: told by
 * VisibilityNotify, and, since windows redirected by Composite always count as unobscured, by another
 * top-level window being mapped or restacked (the root's SubstructureNotify).
 *
 * It must not show in what viewers see. Before it is mapped, the pixels under its place are read with
 * the server grabbed and mapped in the same grab (`under`). With Composite, ScreenCapture paints its
 * place in every capture of the screen or a monitor with what the windows under it hold now
 * (ExcludedWindow); without it, with `under`, the desktop as it was when the indicator appeared. A
 * shared window is read from its own pixmap, where the indicator never is.
 */
import sharp from 'sharp';
import { printable } from '@baton/protocol';
import { TypedEmitter } from './TypedEmitter.js';
import { X11Connection } from './X11Connection.js';
import type { Rect } from './monitors.js';
import { loadX11, xcall, type XEvent } from './x11.js';

export type IndicatorState = { kind: 'sharing' } | { kind: 'controlled'; by: string } | { kind: 'paused' };

export type IndicatorEvents = {
  click: [];
  error: [Error];
};

export const INDICATOR_TITLE = 'Baton sharing indicator';
export const INDICATOR_SIZE = { width: 300, height: 24 };
const MARGIN = 8;
const ZPIXMAP = 2;
const STYLE: Record<IndicatorState['kind'], { bg: string; fg: string }> = {
  sharing: { bg: '#1565c0', fg: '#ffffff' },
  controlled: { bg: '#c62828', fg: '#ffffff' },
  paused: { bg: '#f9a825', fg: '#000000' },
};

const xmlEscape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The indicator's text for a state (names escaped by printable(), cut to fit). */
export function indicatorText(state: IndicatorState): string {
  if (state.kind === 'paused') return '❚❚ Paused — click to resume';
  if (state.kind === 'sharing') return '● Sharing — click to pause';
  const name = printable(state.by);
  return `● Controlled by ${name.length > 22 ? `${name.slice(0, 21)}…` : name}`;
}

export class Indicator extends TypedEmitter<IndicatorEvents> {
  readonly conn: X11Connection;
  /** Where it is, in root coordinates. */
  readonly rect: Rect;
  /** The screen's pixels under it before it was mapped (B, G, R, x; rect.width * 4 bytes a row). */
  readonly under: Buffer;
  #wid: number;
  #gc: number;
  #image: Buffer | null = null;
  #state: IndicatorState = { kind: 'sharing' };
  #drawing: Promise<void> = Promise.resolve();
  #lastRaise = 0;
  #raiseTimer: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(conn: X11Connection, rect: Rect, under: Buffer, wid: number, gc: number) {
    super();
    this.conn = conn;
    this.rect = rect;
    this.under = under;
    this.#wid = wid;
    this.#gc = gc;
  }

  static async open(options: { display?: string } = {}): Promise<Indicator> {
    const conn = await X11Connection.open({ display: options.display });
    try {
      const X = conn.client;
      const geo = await xcall<{ width: number; height: number }>((cb) => X.GetGeometry(conn.root, cb));
      const { width, height } = INDICATOR_SIZE;
      const rect = { x: Math.max(0, geo.width - width - MARGIN), y: Math.min(MARGIN, Math.max(0, geo.height - height)), width, height };
      const em = loadX11().eventMask;
      const wid = X.AllocID();
      X.CreateWindow(wid, conn.root, rect.x, rect.y, width, height, 0, 0, 1, 0, {
        backgroundPixel: 0x1565c0,
        overrideRedirect: 1,
        eventMask: em.Exposure! | em.ButtonPress! | em.VisibilityChange!,
      });
      X.ChangeProperty(0, wid, 39 /* WM_NAME */, 31 /* STRING */, 8, INDICATOR_TITLE);
      X.ChangeProperty(0, wid, 67 /* WM_CLASS */, 31, 8, 'baton-agent\0BatonIndicator\0');
      const gc = X.AllocID();
      X.CreateGC(gc, wid, {});
      const ind = new Indicator(conn, rect, Buffer.alloc(0), wid, gc);
      const image = await ind.#render();
      // What is under its place, read and then covered in one grab: nothing can be drawn in between.
      X.GrabServer();
      let under: Buffer;
      try {
        under = (await xcall<{ data: Buffer }>((cb) => X.GetImage(ZPIXMAP, conn.root, rect.x, rect.y, width, height, 0xffffffff, cb))).data;
        X.MapWindow(wid);
      } finally {
        X.UngrabServer();
      }
      (ind as { under: Buffer }).under = Buffer.from(under);
      ind.#image = image;
      conn.on('event', (ev: XEvent) => ind.#onEvent(ev));
      X.ChangeWindowAttributes(conn.root, { eventMask: em.SubstructureNotify! });
      ind.#put();
      await conn.sync();
      return ind;
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  get state(): IndicatorState {
    return this.#state;
  }

  get windowId(): number {
    return this.#wid;
  }

  /** Show another state (rendered off the event loop's way; the latest one wins). */
  setState(state: IndicatorState): Promise<void> {
    this.#state = state;
    this.#drawing = this.#drawing.then(async () => {
      if (this.#closed || this.#state !== state) return;
      const image = await this.#render();
      if (this.#closed || this.#state !== state) return;
      this.#image = image;
      this.#put();
      await this.conn.sync();
    }).catch((err) => void this.emit('error', err as Error));
    return this.#drawing;
  }

  async #render(): Promise<Buffer> {
    const { width, height } = INDICATOR_SIZE;
    const { bg, fg } = STYLE[this.#state.kind];
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" fill="${bg}"/><text x="10" y="17" font-family="sans-serif" font-size="14" font-weight="bold" fill="${fg}">${xmlEscape(indicatorText(this.#state))}</text></svg>`;
    const rgba = await sharp(Buffer.from(svg)).flatten({ background: bg }).ensureAlpha().raw().toBuffer();
    const out = Buffer.alloc(width * height * 4);
    for (let i = 0; i < out.length; i += 4) {
      out[i] = rgba[i + 2]!;
      out[i + 1] = rgba[i + 1]!;
      out[i + 2] = rgba[i]!;
    }
    return out;
  }

  #put(): void {
    if (this.#closed || !this.#image || this.conn.closed) return;
    const { width, height } = INDICATOR_SIZE;
    this.conn.client.PutImage(ZPIXMAP, this.#wid, this.#gc, width, height, 0, 0, 0, this.conn.screen.root_depth, this.#image);
  }

  #onEvent(ev: XEvent): void {
    if (this.#closed) return;
    // Another top-level window mapped, raised or moved (maybe over us): on top again.
    const root = this.conn.root;
    if ((ev.name === 'MapNotify' && ev.event === root && ev.wid !== this.#wid) || (ev.name === 'ConfigureNotify' && ev.wid === root && ev.wid1 !== this.#wid)) {
      this.#raiseSoon();
      return;
    }
    if (ev.wid !== this.#wid) return;
    if (ev.name === 'Expose') this.#put();
    else if (ev.name === 'ButtonPress') this.emit('click');
    else if (ev.name === 'VisibilityNotify' && Number(ev.state) !== 0) this.#raiseSoon(); // covered, partly or fully
  }

  /** On top again, at most every 500 ms (no raise war with another always-on-top window), the last request included. */
  #raiseSoon(): void {
    if (this.#raiseTimer) return;
    const wait = this.#lastRaise + 500 - Date.now();
    const raise = (): void => {
      this.#raiseTimer = null;
      if (this.#closed || this.conn.closed) return;
      this.#lastRaise = Date.now();
      // Only when something is above it: a window moved elsewhere needs no restack.
      this.conn.client.QueryTree(this.conn.root, (err, tree) => {
        if (!err && !this.#closed && !this.conn.closed && tree.children[tree.children.length - 1] !== this.#wid) this.conn.client.ConfigureWindow(this.#wid, { stackMode: 0 });
        return true;
      });
    };
    if (wait <= 0) raise();
    else this.#raiseTimer = setTimeout(raise, wait);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#raiseTimer) clearTimeout(this.#raiseTimer);
    if (!this.conn.closed) {
      try {
        this.conn.client.DestroyWindow(this.#wid);
        await this.conn.sync();
      } catch {
        // going away anyway
      }
    }
    await this.conn.close();
    this.removeAllListeners();
  }
}

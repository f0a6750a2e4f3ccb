/**
 * What the agent can share, as one list for the host's terminal menu and its meeting page: the whole
 * screen, each RandR monitor, each application window. Ids are stable for the share: 'screen',
 * 'monitor:<name>', 'window:0x…'.
 */
import { printable, type ShareSource } from '@baton/protocol';
import { TypedEmitter } from './TypedEmitter.js';
import { X11Connection } from './X11Connection.js';
import { listMonitors, type SharedArea } from './monitors.js';
import { hexId, listWindows } from './WindowCapture.js';
import { loadX11, xcall, type XEvent } from './x11.js';

/** What ScreenCapture.switchTo() takes: neither is the whole screen. */
export type SourceSpec = { monitor?: string; window?: string };

export async function listSources(conn: X11Connection): Promise<ShareSource[]> {
  const geo = await xcall<{ width: number; height: number }>((cb) => conn.client.GetGeometry(conn.root, cb));
  const out: ShareSource[] = [{ id: 'screen', kind: 'screen', label: 'Whole screen', width: geo.width, height: geo.height }];
  for (const m of await listMonitors(conn)) {
    out.push({ id: `monitor:${m.name}`.slice(0, 80), kind: 'monitor', label: printable(`${m.name}${m.primary ? ' (primary)' : ''}`).slice(0, 200), width: m.width, height: m.height });
  }
  for (const w of await listWindows(conn)) {
    out.push({ id: `window:${hexId(w.id)}`, kind: 'window', label: printable(w.wmClass ? `${w.title} (${w.wmClass})` : w.title).slice(0, 200), width: w.width, height: w.height });
  }
  return out.slice(0, 64);
}

/** The spec for a source id, or null for an id that is none of ours. */
export function specOf(id: string): SourceSpec | null {
  if (id === 'screen') return {};
  if (id.startsWith('monitor:') && id.length > 8) return { monitor: id.slice(8) };
  if (/^window:0x[0-9a-f]+$/i.test(id)) return { window: id.slice(7) };
  return null;
}

/** The id of what is shared now. */
export function sourceIdOf(area: SharedArea, windowId: number | undefined): string {
  if (windowId !== undefined) return `window:${hexId(windowId)}`;
  return area.monitor ? `monitor:${area.monitor}` : 'screen';
}

/** How the terminal names it: "the window 'x'", "monitor DP-1", "the screen". */
export function describeArea(a: SharedArea): string {
  return a.window !== undefined ? `the window '${a.window}'` : a.monitor ? `monitor ${a.monitor}` : 'the screen';
}

export type SourceListEvents = {
  /** The list changed (a window appeared or went): the newest list. */
  changed: [ShareSource[]];
  error: [Error];
};

/**
 * The sources, kept current on a connection of its own: top-level windows mapped, unmapped, created or
 * destroyed (the root's SubstructureNotify) re-list them, at most every `debounceMs`.
 */
export class SourceList extends TypedEmitter<SourceListEvents> {
  readonly conn: X11Connection;
  #list: ShareSource[] = [];
  #timer: NodeJS.Timeout | null = null;
  #debounceMs: number;
  #closed = false;

  private constructor(conn: X11Connection, debounceMs: number) {
    super();
    this.conn = conn;
    this.#debounceMs = debounceMs;
  }

  static async open(options: { display?: string; debounceMs?: number } = {}): Promise<SourceList> {
    const conn = await X11Connection.open({ display: options.display });
    const s = new SourceList(conn, options.debounceMs ?? 300);
    try {
      s.#list = await listSources(conn);
      conn.on('event', (ev: XEvent) => {
        if (['CreateNotify', 'DestroyNotify', 'MapNotify', 'UnmapNotify'].includes(String(ev.name))) s.#soon();
      });
      conn.client.ChangeWindowAttributes(conn.root, { eventMask: loadX11().eventMask.SubstructureNotify! });
      await conn.sync();
    } catch (err) {
      await conn.close();
      throw err;
    }
    return s;
  }

  get list(): ShareSource[] {
    return this.#list;
  }

  /** List again now. */
  async refresh(): Promise<ShareSource[]> {
    const next = await listSources(this.conn);
    if (this.#closed) return next;
    const changed = JSON.stringify(next) !== JSON.stringify(this.#list);
    this.#list = next;
    if (changed) this.emit('changed', next);
    return next;
  }

  #soon(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.refresh().catch((err) => this.emit('error', err as Error));
    }, this.#debounceMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.conn.close();
    this.removeAllListeners();
  }
}

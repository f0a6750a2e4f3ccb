/**
 * The host's X11 CLIPBOARD selection, as text, on its own X connection:
 *
 * - `setText()` makes the agent the selection's owner (SetSelectionOwner on a small unmapped window of
 *   its own) and answers every SelectionRequest for it: TARGETS, UTF8_STRING, TEXT, STRING (Latin-1,
 *   other characters as '?'), TIMESTAMP. Text is capped (SHARE_LIMITS.maxClipboardBytes) well under
 *   the largest X request, so it always fits one ChangeProperty and INCR transfers are never needed.
 * - While `watch` is on, a change of owner (XFixes SelectSelectionInput) makes it read the new
 *   clipboard (ConvertSelection to UTF8_STRING into a property of its window, then GetProperty) and
 *   emit `text`, or `tooLarge` with the size when the owner offers more than the cap (an INCR answer,
 *   or more bytes after the cap). Its own ownership is never reported back.
 *
 * XFixes is in every X server the agent supports (the cursor needs it too); without it watching fails
 * to open, and the caller can go on without the host → controller direction.
 */
import { SHARE_LIMITS } from '@baton/protocol';
import { TypedEmitter } from './TypedEmitter.js';
import { X11Connection } from './X11Connection.js';
import { xcall, type FixesSelectionExt, type XEvent } from './x11.js';

export type HostClipboardOptions = {
  /** Use this connection (not closed by close()); otherwise one is opened to `display`/$DISPLAY. */
  connection?: X11Connection;
  display?: string;
  /** Report what others put on the clipboard (`text`, `tooLarge`). Default false. */
  watch?: boolean;
  /** Largest text in UTF-8 bytes, both ways. Default SHARE_LIMITS.maxClipboardBytes. */
  maxBytes?: number;
};

export type HostClipboardEvents = {
  /** Someone else on the host put this text on the clipboard. */
  text: [string];
  /** Someone else on the host put text of (at least) `size` bytes on the clipboard: over the cap, not read. */
  tooLarge: [size: number];
  error: [Error];
};

/** Core event numbers (X11 protocol). */
const SELECTION_CLEAR = 29;
const SELECTION_REQUEST = 30;
const SELECTION_NOTIFY = 31;
/** XFixes SelectionNotify is the extension's first event; mask bits for what to hear about. */
const XFIXES_SET_SELECTION_OWNER = 1;
const XFIXES_OWNER_GONE = 2 | 4; // the owner's window was destroyed, or its client closed

const ATOM_NAMES = ['CLIPBOARD', 'UTF8_STRING', 'TARGETS', 'TEXT', 'STRING', 'TIMESTAMP', 'INCR', 'ATOM', 'INTEGER', 'BATON_CLIPBOARD'] as const;
type AtomName = (typeof ATOM_NAMES)[number];

export class HostClipboardError extends Error {
  override name = 'HostClipboardError';
}

export class HostClipboard extends TypedEmitter<HostClipboardEvents> {
  readonly conn: X11Connection;
  readonly #ownsConn: boolean;
  readonly #maxBytes: number;
  #atoms = {} as Record<AtomName, number>;
  #window = 0;
  #fixesEvent = -1;
  /** What we serve while we own the selection (null: we do not own it). */
  #owned: Buffer | null = null;
  #ownedSince = 0;
  #watch: boolean;
  /** A read in progress, and whether another change came during it (read again after). */
  #reading = false;
  #readAgain = false;
  #pendingRead: { resolve: (property: number) => void } | null = null;
  #closed = false;
  /** Counters for tests and logs. */
  readonly stats = { served: 0, read: 0, tooLarge: 0 };

  private constructor(conn: X11Connection, ownsConn: boolean, o: HostClipboardOptions) {
    super();
    this.conn = conn;
    this.#ownsConn = ownsConn;
    this.#maxBytes = o.maxBytes ?? SHARE_LIMITS.maxClipboardBytes;
    this.#watch = o.watch ?? false;
  }

  static async open(o: HostClipboardOptions = {}): Promise<HostClipboard> {
    const conn = o.connection ?? (await X11Connection.open({ display: o.display }));
    const c = new HostClipboard(conn, !o.connection, o);
    try {
      await c.#init();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  /** We own the host's clipboard now (the last text set here is what the host pastes). */
  get owning(): boolean {
    return this.#owned !== null;
  }

  async #init(): Promise<void> {
    const X = this.conn.client;
    for (const name of ATOM_NAMES) this.#atoms[name] = await xcall<number>((cb) => X.InternAtom(false, name, cb));
    this.#window = X.AllocID();
    // A 1x1 window nobody sees: the owner of our selection and the requestor of our reads.
    X.CreateWindow(this.#window, this.conn.root, -10, -10, 1, 1, 0, 0, 2 /* InputOnly */, 0, { overrideRedirect: 1 });
    this.conn.on('event', this.#onEvent);
    if (this.#watch) {
      const fixes = await this.conn.extension<FixesSelectionExt>('fixes');
      this.#fixesEvent = fixes.firstEvent;
      fixes.SelectSelectionInput(this.#window, this.#atoms.CLIPBOARD, XFIXES_SET_SELECTION_OWNER | XFIXES_OWNER_GONE);
    }
    await this.conn.sync();
  }

  /**
   * Put `text` on the host's CLIPBOARD (the agent owns the selection until someone else copies).
   * Rejects text over the cap (the protocol never carries it; this guards direct callers).
   */
  async setText(text: string): Promise<void> {
    if (this.#closed) throw new HostClipboardError('the clipboard is closed');
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > this.#maxBytes) throw new HostClipboardError(`clipboard text of ${bytes.length} bytes exceeds ${this.#maxBytes}`);
    const X = this.conn.client;
    this.#owned = bytes;
    this.#ownedSince = 0;
    X.SetSelectionOwner(this.#window, this.#atoms.CLIPBOARD, 0);
    const owner = await xcall<number>((cb) => X.GetSelectionOwner(this.#atoms.CLIPBOARD, cb));
    if (owner !== this.#window) {
      this.#owned = null;
      throw new HostClipboardError('could not take the host clipboard (another client took it at once)');
    }
  }

  /** Read the host's clipboard now (null: empty, not text, or the owner did not answer). For tests and a first sync. */
  async readText(): Promise<string | null> {
    if (this.#owned) return this.#owned.toString('utf8');
    const r = await this.#read();
    return r?.kind === 'text' ? r.text : null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.off('event', this.#onEvent);
    this.#pendingRead?.resolve(0);
    this.#pendingRead = null;
    this.#owned = null;
    try {
      // Destroying the owner window gives the selection up; a paste after that finds no owner.
      if (this.#window && !this.conn.closed) {
        this.conn.client.DestroyWindow(this.#window);
        await this.conn.sync();
      }
    } catch {
      // the connection is going anyway
    }
    if (this.#ownsConn) await this.conn.close();
    this.removeAllListeners();
  }

  #onEvent = (ev: XEvent): void => {
    if (this.#closed) return;
    try {
      if (ev.type === SELECTION_REQUEST) this.#answer(ev);
      else if (ev.type === SELECTION_CLEAR && ev.selection === this.#atoms.CLIPBOARD) this.#owned = null;
      else if (ev.type === SELECTION_NOTIFY && ev.requestor === this.#window) {
        const p = this.#pendingRead;
        this.#pendingRead = null;
        p?.resolve(ev.property as number);
      } else if (this.#fixesEvent >= 0 && ev.type === this.#fixesEvent && ev.selection === this.#atoms.CLIPBOARD) {
        if (ev.owner === this.#window) {
          this.#ownedSince = ev.selectionTimestamp as number;
          return; // our own text
        }
        if (ev.owner === 0) return; // the owner went away: nothing to read
        void this.#onChange();
      }
    } catch (err) {
      this.emit('error', err as Error);
    }
  };

  /** Answer another client's request for our selection (ICCCM 2.2), or refuse it (property None). */
  #answer(ev: XEvent): void {
    const X = this.conn.client;
    const a = this.#atoms;
    const requestor = ev.requestor as number;
    const target = ev.target as number;
    // Obsolete clients pass None: the target's name is the property to use.
    const property = (ev.property as number) || target;
    const data = this.#owned;
    let ok = data !== null && ev.selection === a.CLIPBOARD;
    if (ok && data) {
      if (target === a.TARGETS) {
        X.ChangeProperty(0, requestor, property, a.ATOM, 32, atoms32([a.TARGETS, a.UTF8_STRING, a.TEXT, a.STRING, a.TIMESTAMP]));
      } else if (target === a.UTF8_STRING || target === a.TEXT) {
        X.ChangeProperty(0, requestor, property, a.UTF8_STRING, 8, data);
      } else if (target === a.STRING) {
        X.ChangeProperty(0, requestor, property, a.STRING, 8, latin1(data.toString('utf8')));
      } else if (target === a.TIMESTAMP) {
        X.ChangeProperty(0, requestor, property, a.INTEGER, 32, atoms32([this.#ownedSince]));
      } else {
        ok = false;
      }
    }
    if (ok) this.stats.served++;
    const notify = {
      name: 'SelectionNotify',
      time: ev.time as number,
      requestor,
      selection: ev.selection as number,
      target,
      property: ok ? property : 0,
    };
    X.SendEvent(requestor, 0, 0, notify);
  }

  /** Someone else copied: read it (one read at a time; a change during a read reads once more after). */
  async #onChange(): Promise<void> {
    if (!this.#watch) return;
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    try {
      do {
        this.#readAgain = false;
        const r = await this.#read();
        if (this.#closed) return;
        if (r?.kind === 'text') {
          this.stats.read++;
          this.emit('text', r.text);
        } else if (r?.kind === 'tooLarge') {
          this.stats.tooLarge++;
          this.emit('tooLarge', r.size);
        }
      } while (this.#readAgain && !this.#closed);
    } catch (err) {
      if (!this.#closed) this.emit('error', err as Error);
    } finally {
      this.#reading = false;
    }
  }

  async #read(): Promise<{ kind: 'text'; text: string } | { kind: 'tooLarge'; size: number } | null> {
    const X = this.conn.client;
    const a = this.#atoms;
    const answered = new Promise<number>((resolve) => (this.#pendingRead = { resolve }));
    X.ConvertSelection(this.#window, a.CLIPBOARD, a.UTF8_STRING, a.BATON_CLIPBOARD, 0);
    // A clipboard owner that never answers would hang the read: give it a generous while.
    let timer: NodeJS.Timeout | undefined;
    const property = await Promise.race([answered, new Promise<number>((resolve) => (timer = setTimeout(() => resolve(0), 5000)))]);
    clearTimeout(timer);
    if (this.#pendingRead) this.#pendingRead = null;
    if (property === 0 || this.#closed) return null; // refused (not text) or no owner
    const words = Math.ceil(this.#maxBytes / 4) + 1;
    const prop = await xcall<{ type: number; format: number; bytesAfter: number; data: Buffer }>((cb) => X.GetProperty(1, this.#window, property, 0, 0, words, cb));
    if (prop.type === a.INCR) {
      // The owner sends it in pieces, as X clients do for large data: over our cap by far.
      const lower = prop.data.length >= 4 ? prop.data.readUInt32LE(0) : this.#maxBytes + 1;
      X.DeleteProperty(this.#window, property);
      return { kind: 'tooLarge', size: Math.max(lower, this.#maxBytes + 1) };
    }
    const size = prop.data.length + prop.bytesAfter;
    if (size > this.#maxBytes) {
      X.DeleteProperty(this.#window, property);
      return { kind: 'tooLarge', size };
    }
    if (prop.type !== a.UTF8_STRING && prop.type !== a.STRING && prop.type !== a.TEXT) return null;
    const text = prop.type === a.STRING ? prop.data.toString('latin1') : new TextDecoder('utf-8').decode(prop.data);
    return { kind: 'text', text };
  }
}

function atoms32(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

/** STRING is ISO Latin-1: other characters become '?'. */
function latin1(text: string): Buffer {
  return Buffer.from(text.replace(/[^\u0000-\u00ff]/gu, '?'), 'latin1');
}

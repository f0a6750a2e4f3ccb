/**
 * One connection to an X server ($DISPLAY by default), with promise helpers over node-x11.
 * Each agent piece opens its own connection: RECORD needs a dedicated one anyway, and separate
 * connections keep a slow GetImage from delaying injected input.
 */
import { TypedEmitter } from './TypedEmitter.js';
import { loadX11, type XClient, type XDisplay, type XError, type XEvent, type XScreen } from './x11.js';
import { mappedShmProvider } from './mappedShm.js';

export type X11ConnectionOptions = {
  /** X display name such as ":0"; defaults to $DISPLAY. */
  display?: string;
  /**
   * Batch requests into one socket write until the event loop is about to wait (node-x11's
   * `bufferRequests`, without its flush on each request that expects a reply): a capture pass's dozen
   * requests leave in two writes instead of one each. Default false: input injection writes at once.
   */
  batch?: boolean;
};

export type X11ConnectionEvents = {
  event: [XEvent];
  /** An asynchronous X error no request callback claimed. */
  error: [XError];
  /** The connection is gone (closed by us or by the server). */
  close: [];
};

export class X11ConnectionError extends Error {
  override name = 'X11ConnectionError';
}

export class X11Connection extends TypedEmitter<X11ConnectionEvents> {
  readonly client: XClient;
  readonly display: XDisplay;
  readonly displayName: string;
  #extensions = new Map<string, Promise<unknown>>();
  #closed = false;

  private constructor(client: XClient, display: XDisplay, displayName: string) {
    super();
    this.client = client;
    this.display = display;
    this.displayName = displayName;
    client.on('event', (ev) => this.emit('event', ev));
    client.on('error', (err) => {
      // node-x11 throws from emit('error') without a listener; keep it as our own event.
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    client.on('end', () => this.#markClosed());
  }

  static open(options: X11ConnectionOptions = {}): Promise<X11Connection> {
    const displayName = options.display ?? process.env.DISPLAY;
    if (!displayName) return Promise.reject(new X11ConnectionError('no X display: set DISPLAY or pass --display'));
    return new Promise((resolve, reject) => {
      let settled = false;
      // MIT-SHM segments mapped into this process when koffi is there (zero-copy reads), else node-x11's own.
      const shm = mappedShmProvider();
      const batch = options.batch ? { bufferRequests: { flushOnReply: false } } : {};
      const client = loadX11().createClient({ display: displayName, ...batch, ...(shm ? { shm } : {}) }, (err, display) => {
        if (settled) return;
        settled = true;
        if (err) reject(new X11ConnectionError(`cannot connect to X display ${displayName}: ${err.message}`));
        else resolve(new X11Connection(display.client, display, displayName));
      });
      client.on('error', (err) => {
        if (settled) return;
        settled = true;
        reject(new X11ConnectionError(`cannot connect to X display ${displayName}: ${err.message}`));
      });
    });
  }

  get screen(): XScreen {
    const s = this.display.screen[0];
    if (!s) throw new X11ConnectionError('X display has no screen');
    return s;
  }

  get root(): number {
    return this.screen.root;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Load an X extension once (QueryExtension + version handshake). Rejects when the server lacks it. */
  extension<T>(name: string): Promise<T> {
    let p = this.#extensions.get(name);
    if (!p) {
      p = new Promise<T>((resolve, reject) => {
        this.client.require<T>(name, (err, ext) => (err ? reject(new X11ConnectionError(`X extension ${name}: ${err.message}`)) : resolve(ext)));
      });
      this.#extensions.set(name, p);
    }
    return p as Promise<T>;
  }

  /** Round trip: every request issued so far has been processed by the server. */
  sync(): Promise<void> {
    return this.client.sync();
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, 1000);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      try {
        this.client.close(done);
      } catch {
        done();
      }
    }).then(() => {
      this.emit('close');
      this.removeAllListeners();
    });
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close');
  }
}

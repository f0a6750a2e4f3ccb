/**
 * The one ShareTransport a ShareSession streams into when the share may move between two paths: the
 * server's sharing socket (always connected and authenticated, "prepared") and a direct DataChannel
 * to the peer.
 *
 * Out: `auth` always goes to the server socket (it opens it); every other frame goes to the active
 * path only, and nowhere while nobody is served. The latest `screen` and cursor frames are kept, so
 * a switch replays them on the new path before anything else; `onSwitch` then lets the owner reset
 * flow control and the encoder, so the next pass sends every tile there (a full refresh).
 *
 * In: acks and refresh requests only from the active path (a frame is acked where it was sent). Input
 * and clipboard text from the server are passed on (the relay already drops anyone but the
 * controller); from the peer only while `peerMayControl()` says the Focus made that peer the
 * controller, because nothing else can filter a direct path. For the same reason the host's
 * clipboard goes to the peer only while it is the controller.
 */
import { ShareType } from '@baton/protocol';
import type { ShareTransport } from '../ShareTransport.js';

export type PathName = 'server' | 'peer';

export type PathSwitchOptions = {
  server: ShareTransport;
  peerMayControl: () => boolean;
  /** After the switch to a path and its replayed screen and cursor: time for a full refresh. */
  onSwitch?: (to: PathName | null, from: PathName | null) => void;
};

export type PathStats = {
  /** Bytes sent on each path (the server socket's `auth` included). */
  bytesOut: Record<PathName, number>;
  /** Frames that had no path to go to (nobody served). */
  idleDrops: number;
  /** Input (and clipboard text) from the peer while it was not the controller. */
  peerInputDropped: number;
  /** The host's clipboard not sent to the peer, which was not the controller. */
  peerClipboardDropped: number;
  switches: number;
};

/** What only the controller may send the host. */
const INPUT = new Set<number>([ShareType.Pointer, ShareType.Wheel, ShareType.Key, ShareType.Clipboard]);
/** What only the controller may be sent. */
const CLIPBOARD_OUT = new Set<number>([ShareType.Clipboard, ShareType.ClipboardRefused]);

export class PathSwitch implements ShareTransport {
  onMessage: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((code: number, reason: string) => void) | null = null;
  readonly stats: PathStats = { bytesOut: { server: 0, peer: 0 }, idleDrops: 0, peerInputDropped: 0, peerClipboardDropped: 0, switches: 0 };
  readonly #server: ShareTransport;
  readonly #peerMayControl: () => boolean;
  readonly #onSwitch: PathSwitchOptions['onSwitch'];
  #peer: ShareTransport | null = null;
  #active: PathName | null = null;
  #screen: Uint8Array | null = null;
  #cursorShape: Uint8Array | null = null;
  #cursorPos: Uint8Array | null = null;
  #closed = false;

  constructor(o: PathSwitchOptions) {
    this.#server = o.server;
    this.#peerMayControl = o.peerMayControl;
    this.#onSwitch = o.onSwitch;
    o.server.onMessage = (b) => this.#receive('server', b);
    o.server.onClose = (code, reason) => this.#serverClosed(code, reason);
  }

  get active(): PathName | null {
    return this.#active;
  }

  get hasPeer(): boolean {
    return this.#peer !== null;
  }

  /** Geometry of the latest `screen` sent, if any. */
  get screen(): { width: number; height: number; tileSize: number } | null {
    const b = this.#screen;
    if (!b || b.length < 7) return null;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { width: v.getUint16(1), height: v.getUint16(3), tileSize: v.getUint16(5) };
  }

  /** Tiles in a full pass of the current screen (0 before the first `screen`). */
  get tileCount(): number {
    const s = this.screen;
    return s ? Math.ceil(s.width / s.tileSize) * Math.ceil(s.height / s.tileSize) : 0;
  }

  get bufferedAmount(): number {
    return this.#transport(this.#active)?.bufferedAmount ?? 0;
  }

  /** The direct channel (or null when it is gone). The switch does not own it: it never closes it. */
  setPeer(peer: ShareTransport | null): void {
    if (this.#peer === peer) return;
    const old = this.#peer;
    if (old) {
      old.onMessage = null;
      old.onClose = null;
    }
    this.#peer = peer;
    if (peer) {
      peer.onMessage = (b) => this.#receive('peer', b);
      peer.onClose = () => {
        if (this.#peer !== peer) return;
        this.#peer = null;
        if (this.#active === 'peer') this.#active = null;
      };
    } else if (this.#active === 'peer') {
      this.#active = null;
    }
  }

  /** Stream to `to` from now on; returns false when nothing changed (or that path is missing). */
  switchTo(to: PathName | null): boolean {
    if (this.#closed || to === this.#active) return false;
    if (to === 'peer' && !this.#peer) return false;
    const from = this.#active;
    this.#active = to;
    this.stats.switches++;
    const t = this.#transport(to);
    if (t) for (const b of [this.#screen, this.#cursorShape, this.#cursorPos]) if (b) this.#out(to!, t, b);
    this.#onSwitch?.(to, from);
    return true;
  }

  send(bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    const type = bytes[0];
    if (type === ShareType.Auth) {
      this.#out('server', this.#server, bytes);
      return;
    }
    if (type === ShareType.Screen) this.#screen = bytes;
    else if (type === ShareType.CursorShape) this.#cursorShape = bytes;
    else if (type === ShareType.CursorPos) this.#cursorPos = bytes;
    const t = this.#transport(this.#active);
    if (!t) {
      this.stats.idleDrops++;
      return;
    }
    if (this.#active === 'peer' && CLIPBOARD_OUT.has(type!) && !this.#peerMayControl()) {
      this.stats.peerClipboardDropped++;
      return;
    }
    this.#out(this.#active!, t, bytes);
  }

  /** Closes the server socket (owned); leaves the peer's channel to its owner. */
  close(code = 1000, reason = ''): void {
    if (this.#closed) return;
    this.#server.close(code, reason);
    this.#serverClosed(code, reason);
  }

  #transport(path: PathName | null): ShareTransport | null {
    return path === 'server' ? this.#server : path === 'peer' ? this.#peer : null;
  }

  #out(path: PathName, t: ShareTransport, bytes: Uint8Array): void {
    this.stats.bytesOut[path] += bytes.byteLength;
    t.send(bytes);
  }

  #receive(from: PathName, bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    const type = bytes[0]!;
    if (type === ShareType.Ack || type === ShareType.Refresh) {
      if (from === this.#active) this.onMessage?.(bytes);
      return;
    }
    if (INPUT.has(type) && from === 'peer' && !this.#peerMayControl()) {
      this.stats.peerInputDropped++;
      return;
    }
    this.onMessage?.(bytes);
  }

  #serverClosed(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.setPeer(null); // the channel lives on; the next switch takes it over
    this.#active = null;
    const cb = this.onClose;
    this.onClose = null;
    this.onMessage = null;
    cb?.(code, reason);
  }
}

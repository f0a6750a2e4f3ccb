/**
 * The direct path of one viewer: a PeerAnswerer for the host's offer, then a ShareConnection over the
 * host's DataChannel feeding the shared ViewFeed as source 'peer'. SharedScreen keeps one while the
 * Focus says 'p2p' and retires it when the share moves to the server: the direct path then stays
 * until the server's first frame has reached the view (or `retireMs` passed), and is shut out of the
 * view for good so a late frame from it cannot paint over newer pixels.
 */
import { Emitter } from '../conference/Emitter';
import { ShareConnection, type ClipboardMessage, type InputMessage, type ShareConnectionState } from '../sharing/ShareConnection';
import { PeerAnswerer, type AnswererState, type P2PConference, type PeerAnswererOptions } from './PeerAnswerer';
import type { ViewFeed } from './ViewFeed';

export type PeerViewerState = 'connecting' | 'open' | 'closed';

export type PeerViewerEvents = {
  state: PeerViewerState;
  /** Clipboard news from the host over the direct channel (the host sends it only to its controller). */
  clipboard: ClipboardMessage;
};

export interface PeerViewerOptions {
  conference: P2PConference;
  hostId: string;
  feed: ViewFeed;
  /** The answerer's limits (PeerAnswererOptions). */
  limits?: Pick<PeerAnswererOptions, 'offerTimeoutMs' | 'attemptMs' | 'retryWaitMs'>;
  retireMs?: number;
}

export class PeerViewer extends Emitter<PeerViewerEvents> {
  readonly answerer: PeerAnswerer;
  #connection: ShareConnection | null = null;
  #state: PeerViewerState = 'connecting';
  readonly #feed: ViewFeed;
  readonly #retireMs: number;
  #retireTimer: ReturnType<typeof setTimeout> | null = null;
  #offFrame: (() => void) | null = null;
  /** Why it closed. */
  reason: string | null = null;

  constructor(o: PeerViewerOptions) {
    super();
    this.#feed = o.feed;
    this.#retireMs = o.retireMs ?? 3000;
    this.answerer = new PeerAnswerer({ conference: o.conference, hostId: o.hostId, ...o.limits });
    this.answerer.on('channel', (channel) => {
      this.#connection?.close('the host offered again');
      const conn = new ShareConnection({ channel, view: this.#feed.source('peer') });
      this.#connection = conn;
      conn.on('state', (s) => this.#onConnection(conn, s));
      conn.on('message', (m) => {
        if (conn === this.#connection && (m.type === 'clipboard' || m.type === 'clipboardRefused')) this.emit('clipboard', m);
      });
      conn.connect();
    });
    this.answerer.on('state', (s: AnswererState) => {
      if (s === 'failed' || s === 'closed') this.close(this.answerer.reason ?? s);
    });
    this.answerer.start();
  }

  get state(): PeerViewerState {
    return this.#state;
  }

  get connection(): ShareConnection | null {
    return this.#connection;
  }

  /** Send input straight to the host; false when the channel is not open (the caller uses the server). */
  sendInput(msg: InputMessage): boolean {
    return this.#state === 'open' && !!this.#connection?.sendInput(msg);
  }

  /** Send clipboard text straight to the host; false when the channel is not open. */
  sendClipboard(text: string): boolean {
    return this.#state === 'open' && !!this.#connection?.sendClipboard(text);
  }

  /** The share moved to the server: close once the server's first frame reached the view. */
  retire(): void {
    if (this.#state === 'closed' || this.#retireTimer) return;
    this.#offFrame = this.#feed.on('frame', ({ source }) => {
      if (source === 'server') this.close('the server path took over');
    });
    this.#retireTimer = setTimeout(() => this.close('the share moved to the server'), this.#retireMs);
  }

  close(reason = 'closed'): void {
    if (this.#state === 'closed') return;
    this.reason = reason;
    this.#feed.shut('peer');
    if (this.#retireTimer) clearTimeout(this.#retireTimer);
    this.#retireTimer = null;
    this.#offFrame?.();
    this.#offFrame = null;
    this.#connection?.close(reason);
    this.answerer.close(reason);
    this.#setState('closed');
    this.removeAllListeners();
  }

  #onConnection(conn: ShareConnection, s: ShareConnectionState): void {
    if (conn !== this.#connection) return;
    if (s === 'open') this.#setState('open');
    else if (s === 'closed') this.close(conn.closeInfo?.reason ?? 'the direct connection closed');
  }

  #setState(state: PeerViewerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }
}

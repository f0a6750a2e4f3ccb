/**
 * One viewer connection carrying the sharing protocol into a ScreenView, over one of two channels:
 *
 * - the application sharing server's WebSocket: connecting → authenticating → open → closed. It
 *   authenticates with a single-use ticket;
 * - a WebRTC DataChannel straight from the host (a peer-to-peer share): connecting → open → closed.
 *   No auth frame travels on it: the Focus authenticated both ends by relaying their signalling, and
 *   the channel's label and sub-protocol (SHARE_DATACHANNEL_*) state what it carries and the version.
 *   Frames larger than the channel's message size arrive in pieces and are joined here.
 *
 * It feeds the view and acks each frame it fed once the view has drawn it (the sender paces this
 * viewer by those acks; when two connections feed one view, each acks only its own frames). Every
 * failure ends in `closed` with a code and a reason; a connection is never reused (tickets are
 * single-use), so a page that wants to reconnect makes a new one.
 */
import {
  SHARE_DATACHANNEL_LABEL,
  SHARE_DATACHANNEL_PROTOCOL,
  SHARE_PROTOCOL_VERSION,
  ShareDecodeError,
  decodeShareMessage,
  encodeShareMessage,
  type ShareMessage,
} from '@baton/protocol';
import { Emitter } from '../conference/Emitter';
import { videoDecodingSupported } from './VideoTileDecoder';
import { ChunkError, ChunkJoiner } from '@baton/protocol';

export type ShareConnectionState = 'connecting' | 'authenticating' | 'open' | 'closed';

export interface ShareCloseInfo {
  code: number;
  reason: string;
  /** We closed it (close() or a protocol error on our side), rather than the server or the network. */
  local: boolean;
}

export type ShareConnectionEvents = {
  state: ShareConnectionState;
  /** Every message from the server, after the view has been fed. */
  message: ShareMessage;
};

export type InputMessage = Extract<ShareMessage, { type: 'pointer' | 'wheel' | 'key' }>;
/** Clipboard news from the host (sent to the controller only). */
export type ClipboardMessage = Extract<ShareMessage, { type: 'clipboard' | 'clipboardRefused' }>;

/** What a connection feeds: a ScreenView, or a wrapper that feeds one (p2p/ViewFeed). */
export interface ShareViewLike {
  handle(msg: ShareMessage): void;
  on(event: 'frameDrawn', listener: (drawn: { seq: number; time: number }) => void): () => void;
}

/** The part of RTCDataChannel a connection uses. */
export interface DataChannelLike {
  readonly label: string;
  readonly protocol: string;
  readonly readyState: string;
  binaryType: string;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: Event) => unknown) | null;
  onerror: ((ev: never) => unknown) | null;
}

export type ShareConnectionOptions = {
  view: ShareViewLike;
  /**
   * Whether to ask for the host's video layer (H.264 decoded with WebCodecs): told to the relay (or the
   * host over a direct channel) in a `caps` frame. Default: whether this browser decodes it.
   */
  video?: boolean;
} & (
  | {
      /** `ws(s)://host/ws/share`, an http(s) URL, or a path such as `/ws/share` (resolved against the page). */
      url: string;
      /** The ticket, or how to get one (asked once, when connecting). */
      ticket: string | (() => Promise<string>);
      /** WebSocket constructor (defaults to the global one). */
      WebSocket?: typeof WebSocket;
    }
  | {
      /** A DataChannel from the host (peer-to-peer), open or opening. */
      channel: DataChannelLike;
    }
);

/** Frames a viewer may receive. Anything else from the server is a protocol error. */
const FROM_SERVER = new Set<ShareMessage['type']>(['screen', 'tile', 'tiles', 'frame', 'cursorPos', 'cursorShape', 'clipboard', 'clipboardRefused']);

export function resolveShareUrl(url: string, base: string = globalThis.location?.href ?? 'http://localhost/'): string {
  const u = new URL(url, base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.toString();
}

/** Close reasons are limited to 123 bytes of UTF-8. */
function clipReason(reason: string): string {
  const enc = new TextEncoder();
  let out = reason;
  while (enc.encode(out).length > 123) out = out.slice(0, -1);
  return out;
}

export class ShareConnection extends Emitter<ShareConnectionEvents> {
  #state: ShareConnectionState = 'connecting';
  #closeInfo: ShareCloseInfo | null = null;
  #ws: WebSocket | null = null;
  #channel: DataChannelLike | null = null;
  #joiner: ChunkJoiner | null = null;
  readonly #view: ShareViewLike;
  readonly #unsubscribe: () => void;
  /** Seqs of the frames this connection fed the view and has not acked yet, oldest first. */
  #fed: number[] = [];
  bytesIn = 0;
  bytesOut = 0;
  framesIn = 0;

  readonly #options: ShareConnectionOptions;
  #started = false;

  constructor(options: ShareConnectionOptions) {
    super();
    this.#options = options;
    this.#view = options.view;
    this.#unsubscribe = this.#view.on('frameDrawn', ({ seq }) => this.#drawn(seq));
    // Starts by itself after the caller's synchronous setup, so listeners added right away see 'connecting'.
    queueMicrotask(() => this.connect());
  }

  /** Start connecting now rather than at the end of the current task (idempotent). */
  connect(): this {
    if (this.#started || this.#state === 'closed') return this;
    this.#started = true;
    this.emit('state', 'connecting');
    void this.#connect(this.#options);
    return this;
  }

  get state(): ShareConnectionState {
    return this.#state;
  }
  /** 'peer' over a DataChannel from the host, 'server' over the sharing socket. */
  get path(): 'server' | 'peer' {
    return 'channel' in this.#options ? 'peer' : 'server';
  }
  /** Why it closed, once closed. */
  get closeInfo(): ShareCloseInfo | null {
    return this.#closeInfo;
  }

  /** Send pointer, wheel or key input. Returns false when not open (the input is dropped). */
  sendInput(msg: InputMessage): boolean {
    return this.#send(msg);
  }

  /** Send text for the host's clipboard (the caller checked its size). False when not open. */
  sendClipboard(text: string): boolean {
    return this.#send({ type: 'clipboard', text });
  }

  close(reason = 'closed by the viewer'): void {
    this.#finish({ code: 1000, reason, local: true });
  }

  async #connect(options: ShareConnectionOptions): Promise<void> {
    if ('channel' in options) return this.#useChannel(options.channel);
    // A ticket getter may take a while; close() meanwhile wins.
    let ticket: string;
    let url: string;
    try {
      ticket = typeof options.ticket === 'string' ? options.ticket : await options.ticket();
      url = resolveShareUrl(options.url);
    } catch (err) {
      return this.#finish({ code: 1006, reason: `cannot get a sharing ticket: ${(err as Error).message}`, local: true });
    }
    if (this.#state === 'closed') return;
    // Whether this browser decodes video is asked while the socket opens (the answer comes from the
    // media stack, and a late joiner's snapshot should not wait for it before the handshake even starts).
    let video: boolean | null = null;
    const videoAnswer = this.#videoWanted().then((v) => (video = v));
    const WS = options.WebSocket ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new WS(url);
    } catch (err) {
      return this.#finish({ code: 1006, reason: `cannot open ${url}: ${(err as Error).message}`, local: true });
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    const sendCaps = (v: boolean) => this.#send({ type: 'caps', video: v, tiles: !v }, true);
    ws.onopen = () => {
      if (this.#state !== 'connecting') return;
      this.#setState('authenticating');
      this.#send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket }, true);
      // Right behind auth, so the relay knows before it sends this viewer anything that moves (or as
      // soon as known: the relay then sends what changes for a viewer of video, as after any caps).
      if (video !== null) sendCaps(video);
      else void videoAnswer.then((v) => this.#ws === ws && this.#state !== 'closed' && sendCaps(v));
    };
    ws.onmessage = (ev: MessageEvent) => this.#onMessage(ev.data);
    ws.onclose = (ev: CloseEvent) => {
      const reason = ev.reason || (ev.code === 1006 ? 'the connection was lost' : `closed with code ${ev.code}`);
      this.#finish({ code: ev.code, reason, local: false });
    };
    // An error is always followed by close, which carries the reason.
    ws.onerror = () => {};
  }

  #useChannel(ch: DataChannelLike): void {
    if (this.#state === 'closed') return;
    if (ch.label !== SHARE_DATACHANNEL_LABEL || ch.protocol !== SHARE_DATACHANNEL_PROTOCOL) {
      return this.#finish({ code: 1002, reason: `the host's channel speaks '${ch.protocol}' on '${ch.label}', not ${SHARE_DATACHANNEL_PROTOCOL}`, local: true });
    }
    this.#channel = ch;
    this.#joiner = new ChunkJoiner();
    ch.binaryType = 'arraybuffer';
    const opened = () => {
      if (this.#state !== 'connecting') return;
      this.#setState('open');
      void this.#videoWanted().then((video) => this.#send({ type: 'caps', video, tiles: !video }));
    };
    ch.onopen = opened;
    ch.onmessage = (ev: MessageEvent) => this.#onMessage(ev.data);
    ch.onclose = () => this.#finish({ code: 1001, reason: 'the direct connection to the host closed', local: false });
    ch.onerror = () => {};
    if (ch.readyState === 'open') opened();
    else if (ch.readyState === 'closing' || ch.readyState === 'closed') this.#finish({ code: 1001, reason: 'the direct connection to the host closed', local: false });
  }

  #videoWanted(): Promise<boolean> {
    return this.#options.video === undefined ? videoDecodingSupported() : Promise.resolve(this.#options.video);
  }

  #onMessage(data: unknown): void {
    if (this.#state === 'closed') return;
    const from = this.#channel ? 'host' : 'server';
    if (!(data instanceof ArrayBuffer)) return this.#fail(`the ${from} sent a text frame on the sharing ${this.#channel ? 'channel' : 'socket'}`);
    this.bytesIn += data.byteLength;
    let bytes: Uint8Array | null = new Uint8Array(data);
    let msg: ShareMessage;
    try {
      if (this.#joiner) bytes = this.#joiner.push(bytes);
      if (!bytes) return; // more pieces of a large frame to come
      msg = decodeShareMessage(bytes);
    } catch (err) {
      if (err instanceof ShareDecodeError || err instanceof ChunkError) return this.#fail(`bad frame from the ${from}: ${err.message}`);
      throw err;
    }
    if (!FROM_SERVER.has(msg.type)) return this.#fail(`the ${from} sent a '${msg.type}' frame`);
    // The server only ever sends to an authenticated viewer, so its first frame means we are in.
    if (this.#state === 'authenticating') this.#setState('open');
    if (msg.type === 'frame') {
      this.framesIn++;
      this.#fed.push(msg.seq);
      if (this.#fed.length > 256) this.#fed.shift(); // never drawn (dropped by the view): forget
    }
    // Clipboard news is not for the picture: only listeners get it.
    if (msg.type !== 'clipboard' && msg.type !== 'clipboardRefused') this.#view.handle(msg);
    this.emit('message', msg);
  }

  /** The view drew frame `seq`: ack it if it was ours (another connection may feed the same view). */
  #drawn(seq: number): void {
    const i = this.#fed.indexOf(seq);
    if (i < 0) return;
    this.#fed.splice(0, i + 1);
    this.#send({ type: 'ack', seq });
  }

  #send(msg: ShareMessage, duringAuth = false): boolean {
    if (this.#state !== 'open' && !duringAuth) return false;
    const ch = this.#channel;
    if (ch) {
      if (ch.readyState !== 'open') return false;
      const bytes = encodeShareMessage(msg) as Uint8Array<ArrayBuffer>;
      try {
        ch.send(bytes);
      } catch {
        return false; // closing: onclose follows
      }
      this.bytesOut += bytes.byteLength;
      return true;
    }
    const ws = this.#ws;
    if (!ws || ws.readyState !== 1 /* OPEN */) return false;
    const bytes = encodeShareMessage(msg);
    this.bytesOut += bytes.byteLength;
    ws.send(bytes as Uint8Array<ArrayBuffer>);
    return true;
  }

  #fail(reason: string): void {
    this.#finish({ code: 1000, reason, local: true });
  }

  #setState(state: ShareConnectionState): void {
    this.#state = state;
    this.emit('state', state);
  }

  #finish(info: ShareCloseInfo): void {
    if (this.#state === 'closed') return;
    this.#closeInfo = info;
    this.#unsubscribe();
    const ws = this.#ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Browsers only let a page close with 1000 or 3000-4999.
      if (ws.readyState === 0 || ws.readyState === 1) ws.close(1000, clipReason(info.reason));
    }
    const ch = this.#channel;
    if (ch) {
      ch.onopen = ch.onmessage = ch.onclose = ch.onerror = null;
      if (ch.readyState === 'connecting' || ch.readyState === 'open') ch.close();
    }
    this.#setState('closed');
    this.removeAllListeners();
  }
}

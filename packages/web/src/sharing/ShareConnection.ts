/**
 * One viewer connection to the application sharing server: connecting → authenticating → open → closed.
 * It opens the binary socket, authenticates with a single-use ticket, feeds the ScreenView and acks each
 * frame once the view has drawn it (the server paces this viewer by those acks). Every failure ends in
 * `closed` with a code and a reason; a connection is never reused (tickets are single-use), so a page
 * that wants to reconnect makes a new one.
 */
import {
  SHARE_PROTOCOL_VERSION,
  ShareDecodeError,
  decodeShareMessage,
  encodeShareMessage,
  type ShareMessage,
} from '@baton/protocol';
import { Emitter } from '../conference/Emitter';
import type { ScreenView } from './ScreenView';

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

export interface ShareConnectionOptions {
  /** `ws(s)://host/ws/share`, an http(s) URL, or a path such as `/ws/share` (resolved against the page). */
  url: string;
  /** The ticket, or how to get one (asked once, when connecting). */
  ticket: string | (() => Promise<string>);
  view: ScreenView;
  /** WebSocket constructor (defaults to the global one). */
  WebSocket?: typeof WebSocket;
}

/** Frames a viewer may receive. Anything else from the server is a protocol error. */
const FROM_SERVER = new Set<ShareMessage['type']>(['screen', 'tile', 'frame', 'cursorPos', 'cursorShape']);

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
  readonly #view: ScreenView;
  readonly #unsubscribe: () => void;
  bytesIn = 0;
  bytesOut = 0;

  readonly #options: ShareConnectionOptions;
  #started = false;

  constructor(options: ShareConnectionOptions) {
    super();
    this.#options = options;
    this.#view = options.view;
    this.#unsubscribe = this.#view.on('frameDrawn', ({ seq }) => this.#send({ type: 'ack', seq }));
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
  /** Why it closed, once closed. */
  get closeInfo(): ShareCloseInfo | null {
    return this.#closeInfo;
  }

  /** Send pointer, wheel or key input. Returns false when not open (the input is dropped). */
  sendInput(msg: InputMessage): boolean {
    return this.#send(msg);
  }

  close(reason = 'closed by the viewer'): void {
    this.#finish({ code: 1000, reason, local: true });
  }

  async #connect(options: ShareConnectionOptions): Promise<void> {
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
    const WS = options.WebSocket ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new WS(url);
    } catch (err) {
      return this.#finish({ code: 1006, reason: `cannot open ${url}: ${(err as Error).message}`, local: true });
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (this.#state !== 'connecting') return;
      this.#setState('authenticating');
      this.#send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket }, true);
    };
    ws.onmessage = (ev: MessageEvent) => this.#onMessage(ev.data);
    ws.onclose = (ev: CloseEvent) => {
      const reason = ev.reason || (ev.code === 1006 ? 'the connection was lost' : `closed with code ${ev.code}`);
      this.#finish({ code: ev.code, reason, local: false });
    };
    // An error is always followed by close, which carries the reason.
    ws.onerror = () => {};
  }

  #onMessage(data: unknown): void {
    if (this.#state === 'closed') return;
    if (!(data instanceof ArrayBuffer)) return this.#fail('the server sent a text frame on the sharing socket');
    this.bytesIn += data.byteLength;
    let msg: ShareMessage;
    try {
      msg = decodeShareMessage(new Uint8Array(data));
    } catch (err) {
      if (err instanceof ShareDecodeError) return this.#fail(`bad frame from the server: ${err.message}`);
      throw err;
    }
    if (!FROM_SERVER.has(msg.type)) return this.#fail(`the server sent a '${msg.type}' frame`);
    // The server only ever sends to an authenticated viewer, so its first frame means we are in.
    if (this.#state === 'authenticating') this.#setState('open');
    this.#view.handle(msg);
    this.emit('message', msg);
  }

  #send(msg: ShareMessage, duringAuth = false): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== 1 /* OPEN */) return false;
    if (this.#state !== 'open' && !duringAuth) return false;
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
    this.#setState('closed');
    this.removeAllListeners();
  }
}

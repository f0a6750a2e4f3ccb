/** ShareTransport over a WebSocket (the `ws` package): binary frames only. */
import WebSocket from 'ws';
import type { ShareTransport } from './ShareTransport.js';

export class WebSocketTransport implements ShareTransport {
  onMessage: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((code: number, reason: string) => void) | null = null;
  #ws: WebSocket;
  #closed = false;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return; // the sharing socket is binary; text frames are not ours
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.onMessage?.(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    });
    ws.on('close', (code, reason) => this.#closedBy(code, reason.toString()));
    ws.on('error', () => {
      // 'close' follows every error; the reason travels there.
    });
  }

  /** Open a WebSocket and resolve once it is connected. */
  static connect(url: string, options: { timeoutMs?: number } = {}): Promise<WebSocketTransport> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: options.timeoutMs ?? 10_000 });
      const fail = (err: Error): void => {
        ws.off('open', onOpen);
        reject(new Error(`cannot open ${url}: ${err.message}`));
      };
      const onOpen = (): void => {
        ws.off('error', fail);
        resolve(new WebSocketTransport(ws));
      };
      ws.once('open', onOpen);
      ws.once('error', fail);
    });
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(bytes: Uint8Array): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(bytes, { binary: true });
  }

  close(code = 1000, reason = ''): void {
    if (this.#closed) return;
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(code, reason);
    this.#closedBy(code, reason);
  }

  #closedBy(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const cb = this.onClose;
    this.onClose = null;
    this.onMessage = null;
    cb?.(code, reason);
  }
}

/**
 * ShareTransport over a node-datachannel DataChannel (ordered, reliable): the sharing protocol's
 * binary frames, one per message; a frame larger than the channel's negotiated message size
 * (Chromium: 256 KiB, e.g. a big merged JPEG) goes in pieces (splitFrame/ChunkJoiner in @baton/protocol).
 */
import type { DataChannel } from 'node-datachannel';
import type { ShareTransport } from '../ShareTransport.js';
import { ChunkError, ChunkJoiner, splitFrame } from '@baton/protocol';

export class DataChannelTransport implements ShareTransport {
  onMessage: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((code: number, reason: string) => void) | null = null;
  /** Frames sent in pieces because they exceeded the channel's message size. */
  chunked = 0;
  bytesOut = 0;
  bytesIn = 0;
  readonly #dc: DataChannel;
  readonly #onClosed: (() => void) | undefined;
  readonly #joiner = new ChunkJoiner();
  #closed = false;
  /** The negotiated message size, read once (a native call; it does not change once the channel is open). */
  #maxMessageSize = 0;

  /** `onClosed` hears the channel close once, whoever closed it (the owner of the PeerConnection). */
  constructor(dc: DataChannel, onClosed?: () => void) {
    this.#dc = dc;
    this.#onClosed = onClosed;
    dc.onMessage((m) => {
      if (typeof m === 'string') return; // the protocol is binary; text is not ours
      const bytes = Buffer.isBuffer(m) ? new Uint8Array(m.buffer, m.byteOffset, m.byteLength) : new Uint8Array(m);
      this.bytesIn += bytes.byteLength;
      let frame: Uint8Array | null;
      try {
        frame = this.#joiner.push(bytes);
      } catch (err) {
        if (!(err instanceof ChunkError)) throw err;
        return this.close(1008, err.message);
      }
      if (frame) this.onMessage?.(frame);
    });
    dc.onClosed(() => this.#closedBy(1001, 'the direct channel closed'));
  }

  get open(): boolean {
    return !this.#closed && this.#dc.isOpen();
  }

  get bufferedAmount(): number {
    if (this.#closed) return 0;
    try {
      return this.#dc.bufferedAmount();
    } catch {
      return 0;
    }
  }

  send(bytes: Uint8Array): void {
    if (!this.open) return;
    try {
      const max = this.#maxMessageSize || (this.#maxMessageSize = this.#dc.maxMessageSize());
      const parts = splitFrame(bytes, max);
      if (parts.length > 1) this.chunked++;
      for (const p of parts) {
        this.#dc.sendMessageBinary(p);
        this.bytesOut += p.byteLength;
      }
    } catch {
      // The channel is closing; onClosed follows.
    }
  }

  close(code = 1000, reason = 'closed'): void {
    if (this.#closed) return;
    try {
      this.#dc.close();
    } catch {
      /* already closed */
    }
    this.#closedBy(code, reason);
  }

  #closedBy(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const cb = this.onClose;
    this.onClose = null;
    this.onMessage = null;
    cb?.(code, reason);
    this.#onClosed?.();
  }
}

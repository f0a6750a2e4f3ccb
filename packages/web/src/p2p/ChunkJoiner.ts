/**
 * Joins a frame that the host sent in pieces over the DataChannel (SHARE_CHUNK … SHARE_CHUNK_END,
 * see packages/protocol/src/share.ts); any other message passes through. The host's side is
 * packages/agent/src/p2p/chunks.ts.
 */
import { SHARE_CHUNK, SHARE_CHUNK_END, SHARE_LIMITS } from '@baton/protocol';

export class ChunkError extends Error {
  override name = 'ChunkError';
}

export class ChunkJoiner {
  #parts: Uint8Array[] = [];
  #size = 0;

  /** A whole frame, or null while pieces are missing. Throws ChunkError past SHARE_LIMITS.maxFrame. */
  push(msg: Uint8Array): Uint8Array | null {
    const t = msg[0];
    if (t !== SHARE_CHUNK && t !== SHARE_CHUNK_END) {
      if (this.#parts.length > 0) throw new ChunkError('a frame arrived in the middle of a chunked frame');
      return msg;
    }
    const part = msg.subarray(1);
    this.#size += part.byteLength;
    if (this.#size > SHARE_LIMITS.maxFrame) {
      this.#parts = [];
      this.#size = 0;
      throw new ChunkError(`chunked frame larger than ${SHARE_LIMITS.maxFrame} bytes`);
    }
    this.#parts.push(part);
    if (t === SHARE_CHUNK) return null;
    const whole = new Uint8Array(this.#size);
    let off = 0;
    for (const p of this.#parts) {
      whole.set(p, off);
      off += p.byteLength;
    }
    this.#parts = [];
    this.#size = 0;
    return whole;
  }
}

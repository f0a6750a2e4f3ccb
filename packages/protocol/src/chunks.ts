/**
 * Frames larger than a DataChannel's message size travel in pieces (SHARE_CHUNK … SHARE_CHUNK_END).
 * The host splits (agent), the viewer joins (web); both use this one implementation.
 */
import { SHARE_CHUNK, SHARE_CHUNK_END, SHARE_LIMITS } from './share.js';

/** The messages to send for one frame: the frame itself when it fits, else its pieces. */
export function splitFrame(frame: Uint8Array, maxMessage: number): Uint8Array[] {
  if (frame.byteLength <= maxMessage) return [frame];
  const room = maxMessage - 1;
  if (room < 1) throw new RangeError(`message size ${maxMessage} is too small`);
  const out: Uint8Array[] = [];
  for (let off = 0; off < frame.byteLength; off += room) {
    const part = frame.subarray(off, Math.min(frame.byteLength, off + room));
    const msg = new Uint8Array(part.byteLength + 1);
    msg[0] = off + room >= frame.byteLength ? SHARE_CHUNK_END : SHARE_CHUNK;
    msg.set(part, 1);
    out.push(msg);
  }
  return out;
}

export class ChunkError extends Error {
  override name = 'ChunkError';
}

/** Joins pieces back into frames; anything else passes through. */
export class ChunkJoiner {
  #parts: Uint8Array[] = [];
  #size = 0;

  /** A whole frame, or null while pieces are still missing. Throws ChunkError past SHARE_LIMITS.maxFrame. */
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

/**
 * The relay's unit-test harness: an in-memory ShareChannel and a 4x3-cell screen with helpers to
 * play the host, shared by the AppShareServer tests (tiles, video). Not used by the server itself.
 */
import { TileEncoding, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { AppShareServer, type ShareProtocolError } from './AppShareServer.js';
import type { ShareChannel, ShareChannelEvents } from './ShareChannel.js';
/** In-memory ShareChannel: records what the relay sends, lets the test play the peer. */
export class FakeChannel extends TypedEmitter<ShareChannelEvents> implements ShareChannel {
  sent: Uint8Array[] = [];
  bufferedAmount = 0;
  closedWith: { code: number; reason: string } | null = null;
  send(bytes: Uint8Array): void {
    if (!this.closedWith) this.sent.push(bytes);
  }
  close(code = 1000, reason = ''): void {
    if (this.closedWith) return;
    this.closedWith = { code, reason };
    this.emit('close', code, reason);
  }
  /** The peer sends a message. */
  receive(msg: ShareMessage | Uint8Array): void {
    this.emit('message', msg instanceof Uint8Array ? msg : encodeShareMessage(msg));
  }
  drain(): void {
    this.emit('drain');
  }
  /** Decoded messages sent since the last take(). */
  take(): ShareMessage[] {
    const out = this.sent.map((b) => decodeShareMessage(b));
    this.sent = [];
    return out;
  }
}

export const SCREEN = { type: 'screen', width: 64, height: 48, tileSize: 16 } as const; // 4x3 = 12 cells
export const CELLS = 12;
export function tile(cell: number, version: number): Extract<ShareMessage, { type: 'tile' }> {
  const x = (cell % 4) * 16, y = Math.floor(cell / 4) * 16;
  const data = new Uint8Array(40).fill(version & 0xff);
  data[0] = cell;
  return { type: 'tile', x, y, w: 16, h: 16, encoding: TileEncoding.Png, flags: 0, data };
}
export const frame = (seq: number): ShareMessage => ({ type: 'frame', seq, time: 1000 + seq });
/** A host frame: the given cells at the given version, then `frame`. */
export function hostFrame(host: FakeChannel, seq: number, cells: number[], version = seq): void {
  for (const c of cells) host.receive(tile(c, version));
  host.receive(frame(seq));
}
export const all = Array.from({ length: CELLS }, (_, i) => i);
export const acksOf = (msgs: ShareMessage[]) => msgs.filter((m) => m.type === 'ack').map((m) => (m as { seq: number }).seq);
export const framesOf = (msgs: ShareMessage[]) => msgs.filter((m) => m.type === 'frame').map((m) => (m as { seq: number }).seq);
export const tilesOf = (msgs: ShareMessage[]) => msgs.filter((m) => m.type === 'tile') as Extract<ShareMessage, { type: 'tile' }>[];

export function setup(opts: Partial<ConstructorParameters<typeof AppShareServer>[0]> = {}) {
  // The window tests count frames: two of any size (the small-frame window has a test of its own).
  const relay = new AppShareServer({ conferenceId: 'c1', hostId: 'h', maxHostUnacked: 2, viewerMaxSmallUnacked: 2, ...opts });
  const host = new FakeChannel();
  relay.attachHost(host);
  const errors: ShareProtocolError[] = [];
  relay.on('protocolError', (e) => errors.push(e));
  return { relay, host, errors };
}

/**
 * The pure parts of the host's peer-to-peer paths: the path rule, ICE server conversion, chunking of
 * large frames, and PathSwitch's routing (with an in-test transport that records what it is given).
 */
import { describe, expect, it } from 'vitest';
import { SHARE_CHUNK, SHARE_CHUNK_END, SHARE_LIMITS, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import type { ShareTransport } from '../ShareTransport.js';
import { choosePath } from './choosePath.js';
import { toNodeIceServers } from './iceServers.js';
import { ChunkError, ChunkJoiner, splitFrame } from '@baton/protocol';
import { PathSwitch } from './PathSwitch.js';

class RecordingTransport implements ShareTransport {
  onMessage: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((code: number, reason: string) => void) | null = null;
  bufferedAmount = 0;
  sent: ShareMessage[] = [];
  closed = false;
  send(bytes: Uint8Array): void {
    this.sent.push(decodeShareMessage(bytes));
  }
  close(code = 1000, reason = ''): void {
    this.closed = true;
    this.onClose?.(code, reason);
  }
  deliver(msg: ShareMessage): void {
    this.onMessage?.(encodeShareMessage(msg));
  }
  types(): string[] {
    return this.sent.map((m) => m.type);
  }
}

const enc = encodeShareMessage;
const tile = (x: number): ShareMessage => ({ type: 'tile', x, y: 0, w: 64, h: 64, encoding: 0, flags: 0, data: Uint8Array.from([1, 2, 3]) });

describe('choosePath', () => {
  it('follows the Focus, streams nowhere with nobody to serve, and always to the server without p2p', () => {
    expect(choosePath({ p2p: false, transport: 'server', othersJoined: 0, peerOpen: false })).toBe('server');
    expect(choosePath({ p2p: false, transport: 'p2p', othersJoined: 1, peerOpen: true })).toBe('server');
    expect(choosePath({ p2p: true, transport: 'server', othersJoined: 0, peerOpen: false })).toBeNull();
    expect(choosePath({ p2p: true, transport: 'server', othersJoined: 2, peerOpen: true })).toBe('server');
    expect(choosePath({ p2p: true, transport: 'p2p', othersJoined: 1, peerOpen: false })).toBeNull();
    expect(choosePath({ p2p: true, transport: 'p2p', othersJoined: 1, peerOpen: true })).toBe('peer');
  });
});

describe('toNodeIceServers', () => {
  it('keeps STUN as URLs and TURN as objects (a REST username has a colon), and names what it cannot use', () => {
    const { entries, skipped } = toNodeIceServers([
      { urls: ['stun:stun.example.org:3478', 'stun:[::1]'] },
      { urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp', 'turn:[::1]:3478?transport=tcp'], username: '1700000000:p-abc', credential: 'c2VjcmV0' },
      { urls: ['turn:nocreds.example.org'] },
      { urls: ['http://not-ice'] },
    ]);
    expect(entries).toEqual([
      'stun:stun.example.org:3478',
      'stun:[::1]:3478',
      { hostname: 'turn.example.org', port: 3478, username: '1700000000:p-abc', password: 'c2VjcmV0', relayType: 'TurnUdp' },
      { hostname: 'turn.example.org', port: 5349, username: '1700000000:p-abc', password: 'c2VjcmV0', relayType: 'TurnTls' },
      { hostname: '::1', port: 3478, username: '1700000000:p-abc', password: 'c2VjcmV0', relayType: 'TurnTcp' },
    ]);
    expect(skipped).toEqual(['turn:nocreds.example.org', 'http://not-ice']);
  });
});

describe('chunks', () => {
  it('splits a frame larger than the message size and joins it back byte for byte', () => {
    const frame = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    const parts = splitFrame(frame, 65_536);
    expect(parts.length).toBe(Math.ceil(300_000 / 65_535));
    expect(parts.every((p) => p.byteLength <= 65_536)).toBe(true);
    expect(parts.slice(0, -1).every((p) => p[0] === SHARE_CHUNK)).toBe(true);
    expect(parts.at(-1)![0]).toBe(SHARE_CHUNK_END);
    const j = new ChunkJoiner();
    const out = parts.map((p) => j.push(p));
    expect(out.slice(0, -1).every((o) => o === null)).toBe(true);
    expect(Buffer.from(out.at(-1)!).equals(Buffer.from(frame))).toBe(true);
    // Small frames pass untouched, both ways.
    const small = enc({ type: 'ack', seq: 9 });
    expect(splitFrame(small, 65_536)).toEqual([small]);
    expect(j.push(small)).toBe(small);
  });

  it('refuses a chunked frame past the frame limit, and a frame cut into by another', () => {
    const j = new ChunkJoiner();
    const big = new Uint8Array(SHARE_LIMITS.maxFrame + 10);
    const parts = splitFrame(big, 100_000);
    expect(() => parts.forEach((p) => j.push(p))).toThrow(ChunkError);
    const k = new ChunkJoiner();
    k.push(splitFrame(new Uint8Array(300), 100)[0]!);
    expect(() => k.push(enc({ type: 'ack', seq: 1 }))).toThrow(/middle of a chunked frame/);
  });
});

describe('PathSwitch', () => {
  function rig(controller: { peer: boolean } = { peer: false }) {
    const server = new RecordingTransport();
    const peer = new RecordingTransport();
    const switches: Array<[string | null, string | null]> = [];
    const sw = new PathSwitch({ server, peerMayControl: () => controller.peer, onSwitch: (to, from) => switches.push([to, from]) });
    const got: ShareMessage[] = [];
    sw.onMessage = (b) => got.push(decodeShareMessage(b));
    return { server, peer, sw, got, switches, controller };
  }

  it('sends auth to the server only, nothing while idle, and replays screen and cursor on a switch', () => {
    const { server, peer, sw, switches } = rig();
    sw.send(enc({ type: 'auth', version: 2, ticket: 't' }));
    sw.send(enc({ type: 'screen', width: 1280, height: 720, tileSize: 64 }));
    sw.send(enc({ type: 'cursorShape', w: 1, h: 1, hotX: 0, hotY: 0, rgba: new Uint8Array(4) }));
    sw.send(enc({ type: 'cursorPos', x: 5, y: 6, visible: true }));
    sw.send(enc(tile(0)));
    sw.send(enc({ type: 'frame', seq: 1, time: 1 }));
    expect(server.types()).toEqual(['auth']);
    expect(sw.stats.idleDrops).toBe(5);
    expect(sw.screen).toEqual({ width: 1280, height: 720, tileSize: 64 });
    expect(sw.tileCount).toBe(20 * 12);

    expect(sw.switchTo('peer')).toBe(false); // no channel yet
    sw.setPeer(peer);
    expect(sw.switchTo('peer')).toBe(true);
    expect(switches).toEqual([['peer', null]]);
    expect(peer.types()).toEqual(['screen', 'cursorShape', 'cursorPos']);
    sw.send(enc(tile(64)));
    sw.send(enc({ type: 'cursorPos', x: 7, y: 8, visible: true }));
    expect(peer.types().slice(3)).toEqual(['tile', 'cursorPos']);
    expect(server.types()).toEqual(['auth']);

    // Escalation: the server socket gets the latest screen and cursor first, then everything.
    expect(sw.switchTo('server')).toBe(true);
    expect(server.sent.slice(1)).toMatchObject([{ type: 'screen' }, { type: 'cursorShape' }, { type: 'cursorPos', x: 7, y: 8 }]);
    sw.send(enc(tile(128)));
    expect(server.types().at(-1)).toBe('tile');
    expect(peer.types().length).toBe(5);
    expect(switches.at(-1)).toEqual(['server', 'peer']);
    expect(sw.stats.bytesOut.peer).toBeGreaterThan(0);
  });

  it('takes acks from the active path only, and the peer input only while the peer controls', () => {
    const { server, peer, sw, got, controller } = rig();
    sw.setPeer(peer);
    sw.switchTo('peer');
    server.deliver({ type: 'ack', seq: 1 });
    peer.deliver({ type: 'ack', seq: 2 });
    peer.deliver({ type: 'pointer', x: 1, y: 1, buttons: 1 });
    server.deliver({ type: 'pointer', x: 2, y: 2, buttons: 0 }); // the relay filtered it already
    controller.peer = true;
    peer.deliver({ type: 'key', down: true, key: 'a', code: 'KeyA' });
    expect(got).toMatchObject([{ type: 'ack', seq: 2 }, { type: 'pointer', x: 2 }, { type: 'key', key: 'a' }]);
    expect(sw.stats.peerInputDropped).toBe(1);
  });

  it('takes clipboard text from the peer and sends it the host\'s only while the peer controls', () => {
    const { peer, sw, got, controller } = rig();
    sw.setPeer(peer);
    sw.switchTo('peer');
    const sentBefore = peer.sent.length;
    peer.deliver({ type: 'clipboard', text: 'not yet' });
    sw.send(enc({ type: 'clipboard', text: 'host secret' }));
    sw.send(enc({ type: 'clipboardRefused', reason: 'off', size: 3 }));
    expect(got).toEqual([]);
    expect(peer.sent.length).toBe(sentBefore);
    expect(sw.stats).toMatchObject({ peerInputDropped: 1, peerClipboardDropped: 2 });
    controller.peer = true;
    peer.deliver({ type: 'clipboard', text: 'Grüße' });
    sw.send(enc({ type: 'clipboard', text: 'for the controller' }));
    expect(got).toEqual([{ type: 'clipboard', text: 'Grüße' }]);
    expect(peer.sent.at(-1)).toEqual({ type: 'clipboard', text: 'for the controller' });
  });

  it('loses the peer path when the channel closes, and closes only the server socket itself', () => {
    const { server, peer, sw } = rig();
    let closed: [number, string] | null = null;
    sw.onClose = (c, r) => (closed = [c, r]);
    sw.setPeer(peer);
    sw.switchTo('peer');
    peer.close(1001, 'gone');
    expect(sw.active).toBeNull();
    expect(sw.hasPeer).toBe(false);
    const peer2 = new RecordingTransport();
    sw.setPeer(peer2);
    sw.close(1000, 'bye');
    expect(server.closed).toBe(true);
    expect(peer2.closed).toBe(false);
    expect(closed).toEqual([1000, 'bye']);
    sw.close(); // twice is fine
  });
});

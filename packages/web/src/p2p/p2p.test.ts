/**
 * The viewer's p2p pieces that need no browser: ViewFeed (two connections into one view, no blank on
 * a change of path, a retired source shut out) with an in-test view that records what it is fed, and
 * ChunkJoiner against splitFrame (both in @baton/protocol), byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { SHARE_LIMITS, encodeShareMessage, decodeShareMessage, type ShareMessage } from '@baton/protocol';
import { splitFrame, ChunkError, ChunkJoiner } from '@baton/protocol';
import { ViewFeed } from './ViewFeed';
import type { ScreenView } from '../sharing/ScreenView';

class RecordingView {
  fed: ShareMessage[] = [];
  listeners: ((d: { seq: number; time: number }) => void)[] = [];
  handle(msg: ShareMessage): void {
    this.fed.push(msg);
  }
  on(_event: 'frameDrawn', l: (d: { seq: number; time: number }) => void): () => void {
    this.listeners.push(l);
    return () => (this.listeners = this.listeners.filter((x) => x !== l));
  }
}

const screen = (width: number, height: number): ShareMessage => ({ type: 'screen', width, height, tileSize: 64 });
const tile: ShareMessage = { type: 'tile', x: 0, y: 0, w: 64, h: 64, encoding: 0, flags: 0, data: Uint8Array.from([1, 2, 3]) };

describe('ViewFeed', () => {
  it('passes both sources to the view, keeps the picture on a same-size screen, and shuts a source out', () => {
    const view = new RecordingView();
    const feed = new ViewFeed(view as unknown as ScreenView);
    const peer = feed.source('peer');
    const server = feed.source('server');
    const frames: string[] = [];
    feed.on('frame', ({ source, seq }) => frames.push(`${source}:${seq}`));

    peer.handle(screen(1280, 720));
    peer.handle(tile);
    peer.handle({ type: 'frame', seq: 1, time: 1 });
    // Escalation: the server's full refresh starts with the same screen; it must not clear the canvas.
    server.handle(screen(1280, 720));
    server.handle(tile);
    server.handle({ type: 'frame', seq: 2, time: 2 });
    expect(view.fed.map((m) => m.type)).toEqual(['screen', 'tile', 'frame', 'tile', 'frame']);
    expect(feed.keptScreens).toBe(1);
    expect(frames).toEqual(['peer:1', 'server:2']);
    expect(feed.lastSource).toBe('server');

    feed.shut('peer');
    peer.handle(tile);
    peer.handle({ type: 'frame', seq: 3, time: 3 });
    expect(view.fed).toHaveLength(5);
    expect(feed.isShut('peer')).toBe(true);

    // A real resize still goes through.
    server.handle(screen(1920, 1080));
    expect(view.fed.at(-1)).toEqual(screen(1920, 1080));
    // Acks subscribe to the view's own frameDrawn.
    let drawn = 0;
    const off = server.on('frameDrawn', () => drawn++);
    view.listeners.forEach((l) => l({ seq: 2, time: 2 }));
    off();
    expect(drawn).toBe(1);
    expect(view.listeners).toHaveLength(0);
  });
});

describe('ChunkJoiner (viewer) against splitFrame (host)', () => {
  it('rebuilds a large tile sent in pieces, and passes small frames through', () => {
    const data = new Uint8Array(500_000).map((_, i) => (i * 13) & 0xff);
    const big = encodeShareMessage({ type: 'tile', x: 0, y: 0, w: 256, h: 256, encoding: 2, flags: 1, data });
    const parts = splitFrame(big, 262_144);
    expect(parts.length).toBe(2);
    const j = new ChunkJoiner();
    expect(j.push(parts[0]!)).toBeNull();
    const whole = j.push(parts[1]!)!;
    const msg = decodeShareMessage(whole) as Extract<ShareMessage, { type: 'tile' }>;
    expect(msg.w).toBe(256);
    expect(Buffer.from(msg.data).equals(Buffer.from(data))).toBe(true);
    const ack = encodeShareMessage({ type: 'frame', seq: 1, time: 5 });
    expect(j.push(ack)).toBe(ack);
  });

  it('refuses more than the frame limit', () => {
    const j = new ChunkJoiner();
    const parts = splitFrame(new Uint8Array(SHARE_LIMITS.maxFrame + 1), 200_000);
    expect(() => parts.forEach((p) => j.push(p))).toThrow(ChunkError);
  });
});

/**
 * Issue 17, the relay's part, deterministic: the real TileEncoder (Copy tiles for a dragged window,
 * refreshes answered as the agent does) feeds the real AppShareServer, and viewers that decode every
 * tile into a picture compare it, at each `frame`, with the picture the host captured for that frame.
 * A viewer that acks late skips versions; a late joiner arrives mid-motion. None may ever draw a
 * picture the host never had.
 */
import { describe, expect, it } from 'vitest';
import { decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TileEncoder } from '../../packages/agent/src/TileEncoder.js';
import type { FrameBuffer } from '../../packages/agent/src/ScreenCapture.js';
import { Canvas, frameFromRgb } from '../../packages/agent/test/helpers/canvas.js';
import { AppShareServer } from '../../packages/server/src/sharing/AppShareServer.js';
import type { ShareChannel, ShareChannelEvents } from '../../packages/server/src/sharing/ShareChannel.js';
import { TypedEmitter } from '../../packages/server/src/util/TypedEmitter.js';

const W = 320, H = 192;

class Channel extends TypedEmitter<ShareChannelEvents> implements ShareChannel {
  bufferedAmount = 0;
  inbox: ShareMessage[] = [];
  send(bytes: Uint8Array): void {
    this.inbox.push(decodeShareMessage(bytes));
  }
  close(): void {}
  receive(msg: ShareMessage): void {
    this.emit('message', encodeShareMessage(msg));
  }
}

/** A viewer: draws every tile it gets, checks the picture at each frame, acks when told to. */
class Viewer {
  readonly ch = new Channel();
  readonly canvas = new Canvas(W, H);
  drawn = 0;
  torn = 0;
  constructor(readonly captured: Map<number, FrameBuffer>) {}
  /** Draw what arrived; ack the last frame drawn. */
  async catchUp(): Promise<void> {
    const msgs = this.ch.inbox.splice(0);
    let last = -1;
    for (const m of msgs) {
      if (m.type === 'tile') await this.canvas.apply(m);
      if (m.type !== 'frame') continue;
      this.drawn++;
      if (this.canvas.diff(this.captured.get(m.seq)!) > 0) this.torn++;
      last = m.seq;
    }
    if (last >= 0) this.ch.receive({ type: 'ack', seq: last });
  }
}

/** A grey-textured "window" (lossless: 24 levels) at (x, y) on a two-tone background. */
function scene(x: number, y: number): Uint8Array {
  const rgb = new Uint8Array(W * H * 3);
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const inWin = px >= x && px < x + 120 && py >= y && py < y + 80;
      const v = inWin ? 40 + ((Math.imul((px - x) * 374761393 + (py - y) * 668265263, 1274126177) >>> 24) % 24) * 8 : (px >> 5) % 2 ? 220 : 200;
      rgb.fill(v, (py * W + px) * 3, (py * W + px) * 3 + 3);
    }
  }
  return rgb;
}

describe('relay and encoder: whole pictures only', () => {
  // Small frames (Copy tiles) may run ahead of a viewer's two-frame window, up to 8: the slow viewer then
  // skips versions only when it acks less often than that.
  it.each([
    { window: 2, slowEvery: 3 },
    { window: 8, slowEvery: 10 },
  ])('a window dragged for 60 frames: a fast viewer, one that skips versions and a late joiner never draw a mixed picture (small-frame window $window)', async ({ window, slowEvery }) => {
    const relay = new AppShareServer({ conferenceId: 'c', hostId: 'h', viewerMaxSmallUnacked: window, maxHostUnacked: window });
    const host = new Channel();
    relay.attachHost(host);
    const enc = new TileEncoder({ tileSize: 16 });
    const captured = new Map<number, FrameBuffer>();
    const fast = new Viewer(captured), slow = new Viewer(captured), late = new Viewer(captured);
    relay.attachViewer('fast', fast.ch);
    relay.attachViewer('slow', slow.ch);
    const all = [{ x: 0, y: 0, width: W, height: H }];
    let copies = 0;
    for (let seq = 1; seq <= 60; seq++) {
      // The agent: refreshes asked by the relay are answered at the next pass.
      for (const m of host.inbox.splice(0)) if (m.type === 'refresh') enc.invalidate(m.x, m.y, m.w, m.h);
      const t = seq / 60;
      const frame = frameFromRgb(W, H, scene(Math.round(10 + 180 * t), Math.round(10 + 90 * Math.sin(t * 6))));
      captured.set(seq, frame);
      if (seq === 1) host.receive({ type: 'screen', width: W, height: H, tileSize: 16 });
      const tiles = await enc.encode(frame, all, seq * 40);
      const refined = await enc.refine(seq * 40);
      for (const tile of [...tiles, ...refined]) {
        if (tile.encoding === 6) copies++;
        host.receive(tile);
      }
      host.receive({ type: 'frame', seq, time: seq * 40 });
      await fast.catchUp();
      if (seq % slowEvery === 0) await slow.catchUp(); // draws and acks only every few frames: skips versions
      if (seq === 30) relay.attachViewer('late', late.ch);
      if (seq > 30 && seq % 2 === 0) await late.catchUp();
    }
    for (const v of [slow, late]) await v.catchUp();
    console.log(`relay: ${copies} Copy tiles, ${relay.stats().refreshesAsked} refreshes, ${relay.stats().framesReplayed} replays, ${relay.stats().tilesSkipped} versions skipped; frames drawn fast/slow/late ${fast.drawn}/${slow.drawn}/${late.drawn}, mixed ${fast.torn}/${slow.torn}/${late.torn}`);
    expect(copies).toBeGreaterThan(20);
    expect(relay.stats().tilesSkipped).toBeGreaterThan(0);
    // The slow viewer misses frames: it is replayed them (a Copy then has its picture).
    expect(relay.stats().framesReplayed).toBeGreaterThan(0);
    for (const v of [fast, slow, late]) {
      expect(v.drawn).toBeGreaterThan(3);
      expect(v.torn).toBe(0);
    }
    relay.close();
  });
});

import { describe, expect, it } from 'vitest';
import { SHARE_TILES_VERSION, TileEncoding, copyPayload, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { AppShareServer } from './AppShareServer.js';
import { TILE_BATCH_BYTES, packTiles } from './ShareViewer.js';
import { FakeChannel, SCREEN, CELLS, tile, frame, hostFrame, all, acksOf, framesOf, tilesOf, setup } from './testing.js';


describe('AppShareServer', () => {
  it('sends a late joiner the screen, every current tile, the cursor and a frame at once', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all, 1);
    hostFrame(host, 2, [3, 7], 2);
    host.receive({ type: 'cursorShape', w: 2, h: 2, hotX: 1, hotY: 0, rgba: new Uint8Array(16).fill(9) });
    host.receive({ type: 'cursorPos', x: 10, y: 20, visible: true });
    host.receive({ type: 'cursorPos', x: 11, y: 21, visible: true });
    // Nobody was watching: every frame was acked at once.
    expect(acksOf(host.take())).toEqual([1, 2]);

    const v = new FakeChannel();
    relay.attachViewer('v', v);
    const got = v.take();
    expect(got[0]).toEqual(SCREEN);
    expect(got.at(-1)).toEqual(frame(2));
    const tiles = tilesOf(got);
    expect(tiles).toHaveLength(CELLS);
    for (const t of tiles) {
      const cell = t.data[0]!;
      expect(t).toEqual(tile(cell, cell === 3 || cell === 7 ? 2 : 1));
    }
    expect(got.filter((m) => m.type === 'cursorShape')).toHaveLength(1);
    expect(got.filter((m) => m.type === 'cursorPos')).toEqual([{ type: 'cursorPos', x: 11, y: 21, visible: true }]);
    expect(relay.stats().viewers).toBe(1);
  });

  it('relays tile and frame bytes unchanged and never sends a half batch', () => {
    const { relay, host } = setup();
    const v = new FakeChannel();
    relay.attachViewer('v', v);
    host.receive(SCREEN);
    expect(v.take()).toEqual([SCREEN]);
    const t = encodeShareMessage(tile(5, 1));
    host.receive(t);
    expect(v.sent).toHaveLength(0); // batch not finished
    const f = encodeShareMessage(frame(1));
    host.receive(f);
    expect(v.sent.map((b) => [...b])).toEqual([[...t], [...f]]);
  });

  it('gives a Copy tile only to a viewer that drew every frame before it; for the others it asks the host for the pixels', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all);
    host.take();
    const inSync = new FakeChannel();
    relay.attachViewer('in-sync', inSync);
    expect(framesOf(inSync.take())).toEqual([1]);
    inSync.receive({ type: 'ack', seq: 1 });
    // Frame 2: cells 0..1 moved to 4..5 (a Copy tile from (0,0) to (0,16), 32x16), and cell 9 changed.
    const copy: Extract<ShareMessage, { type: 'tile' }> = { type: 'tile', x: 0, y: 16, w: 32, h: 16, encoding: TileEncoding.Copy, flags: 0, data: copyPayload(0, 0) };
    host.receive(copy);
    host.receive(tile(9, 2));
    host.receive(frame(2));
    const got = inSync.take();
    expect(got[0]).toEqual(copy); // first, as the host sent it
    expect(framesOf(got)).toEqual([2]);
    expect(host.take().filter((m) => m.type === 'refresh')).toEqual([]); // the in-sync viewer needed no pixels

    // A late joiner's picture is not the one before frame 2: no Copy for it, and no frame without the
    // Copy's cells either (that picture never existed on the host); the host is asked once for pixels.
    const late = new FakeChannel();
    relay.attachViewer('late', late);
    const lateGot = late.take();
    expect(tilesOf(lateGot)).toEqual([]);
    expect(framesOf(lateGot)).toEqual([]);
    const asked = host.take().filter((m) => m.type === 'refresh');
    expect(asked).toEqual([{ type: 'refresh', x: 0, y: 16, w: 32, h: 16 }]);
    expect(relay.stats().refreshesAsked).toBe(1);
    // The host sends cells 4 and 5 as pixels: the late joiner gets the whole screen with that frame.
    inSync.receive({ type: 'ack', seq: 2 });
    hostFrame(host, 3, [4, 5]);
    const fixed = late.take();
    expect(tilesOf(fixed).some((t) => t.encoding === TileEncoding.Copy)).toBe(false);
    expect(tilesOf(fixed).map((t) => t.data[0]).sort((a, b) => a! - b!)).toEqual(all);
    expect(framesOf(fixed)).toEqual([3]);
    expect(host.take().filter((m) => m.type === 'refresh')).toEqual([]);
  });

  it('replays the frames a viewer missed, in order, when the latest has a Copy: no refresh, one frame shown', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all);
    const v = new FakeChannel();
    relay.attachViewer('v', v);
    expect(framesOf(v.take())).toEqual([1]);
    v.receive({ type: 'ack', seq: 1 });
    hostFrame(host, 2, [0]);
    hostFrame(host, 3, [1]);
    expect(framesOf(v.take())).toEqual([2, 3]);
    // The viewer is behind for frames 4 and 5; frame 5 moves cells 8..9 to 4..5, and cell 2 changes again.
    hostFrame(host, 4, [2, 4]);
    host.take();
    const copy: Extract<ShareMessage, { type: 'tile' }> = { type: 'tile', x: 0, y: 16, w: 32, h: 16, encoding: TileEncoding.Copy, flags: 0, data: copyPayload(0, 32) };
    host.receive(copy);
    host.receive(tile(2, 5));
    host.receive(frame(5));
    v.receive({ type: 'ack', seq: 3 });
    const got = v.take();
    // Frame 4's tiles (cell 4 too, which the Copy then overwrites), then frame 5's, then frame 5 alone.
    expect(got.map((m) => (m.type === 'tile' ? (m.encoding === TileEncoding.Copy ? 'copy' : `${m.data[0]}@${m.data[1]}`) : m.type))).toEqual(['2@4', '4@4', 'copy', '2@5', 'frame']);
    expect(framesOf(got)).toEqual([5]);
    expect(host.take().filter((m) => m.type === 'refresh')).toEqual([]);
    expect(relay.stats()).toMatchObject({ refreshesAsked: 0, framesReplayed: 1 });
  });

  it('holds back a frame with a Copy from a viewer that skipped the frame before it when that frame is no longer kept, and still acks the host', () => {
    const { relay, host } = setup({ replayFrames: 1 });
    host.receive(SCREEN);
    hostFrame(host, 1, all);
    const v = new FakeChannel();
    relay.attachViewer('v', v);
    expect(framesOf(v.take())).toEqual([1]);
    v.receive({ type: 'ack', seq: 1 });
    // The viewer acks no more: frames 2 and 3 are sent (two unacked), frame 4 finds it behind.
    hostFrame(host, 2, [0]);
    hostFrame(host, 3, [1]);
    expect(framesOf(v.take())).toEqual([2, 3]);
    hostFrame(host, 4, [2]);
    expect(v.take()).toEqual([]);
    // Frame 5 moves cells 8..9 to 4..5. The viewer catches up after it, but it never drew frame 4.
    host.take();
    host.receive({ type: 'tile', x: 0, y: 16, w: 32, h: 16, encoding: TileEncoding.Copy, flags: 0, data: copyPayload(0, 32) });
    host.receive(frame(5));
    v.receive({ type: 'ack', seq: 3 });
    expect(v.take()).toEqual([]); // not cell 2 of frame 4 alone, with 4..5 still showing their old pixels
    const toHost = host.take();
    expect(toHost.filter((m) => m.type === 'refresh')).toEqual([{ type: 'refresh', x: 0, y: 16, w: 32, h: 16 }]);
    expect(acksOf(toHost)).toEqual([4, 5]); // the host may go on, and can answer
    hostFrame(host, 6, [4, 5]);
    const got = v.take();
    expect(tilesOf(got).map((t) => t.data[0]).sort((a, b) => a! - b!)).toEqual([2, 4, 5]);
    expect(framesOf(got)).toEqual([6]);
  });

  it('lets a slow viewer skip versions with bounded memory while a fast viewer gets every frame', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all);
    host.take();
    const fast = new FakeChannel();
    const slow = new FakeChannel();
    relay.attachViewer('fast', fast);
    relay.attachViewer('slow', slow);
    expect(framesOf(fast.take())).toEqual([1]);
    expect(framesOf(slow.take())).toEqual([1]);
    fast.receive({ type: 'ack', seq: 1 });

    const fastFrames: number[] = [];
    let fastTiles = 0;
    for (let seq = 2; seq <= 101; seq++) {
      hostFrame(host, seq, [0, 1, 2, 3], seq);
      const got = fast.take();
      fastTiles += tilesOf(got).length;
      for (const s of framesOf(got)) {
        fastFrames.push(s);
        fast.receive({ type: 'ack', seq: s });
      }
    }
    // The fast viewer saw every frame, each with its four tiles.
    expect(fastFrames).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect(fastTiles).toBe(400);
    // The slow one (never acks, window of 2) got frame 2 and then nothing.
    const slowGot = slow.take();
    expect(framesOf(slowGot)).toEqual([2]);
    // The host was never held back: every frame acked, in order.
    expect(acksOf(host.take())).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    const st = relay.stats();
    expect(st.tilesSkipped).toBe(4 * 98); // versions 4..101 replaced the ones waiting (version 3 was the first)
    expect(relay.store.entryCount()).toBeLessThanOrEqual(CELLS);
    expect(st.storeBytes).toBeLessThan(CELLS * 60 + 100 + 4 * 4 * 60); // a tile per cell, and the last 4 frames kept for replay

    // Catching up: it gets each dirty cell once, at its newest version, then the latest frame.
    slow.receive({ type: 'ack', seq: 2 });
    const caught = slow.take();
    expect(tilesOf(caught)).toEqual([0, 1, 2, 3].map((c) => tile(c, 101)));
    expect(framesOf(caught)).toEqual([101]);
  });

  it('holds back a viewer with a full send buffer, coalesces its cursor, and catches it up on drain', () => {
    const { relay, host } = setup({ viewerHighWater: 1000 });
    host.receive(SCREEN);
    const v = new FakeChannel();
    const other = new FakeChannel();
    relay.attachViewer('v', v);
    relay.attachViewer('o', other);
    v.take();
    other.take();
    v.bufferedAmount = 5000;
    hostFrame(host, 1, all, 1);
    hostFrame(host, 2, [0], 2);
    for (let i = 0; i < 10; i++) host.receive({ type: 'cursorPos', x: i, y: i, visible: true });
    expect(v.sent).toHaveLength(0);
    const o = other.take();
    expect(framesOf(o)).toEqual([1, 2]);
    expect(o.filter((m) => m.type === 'cursorPos')).toHaveLength(10);
    v.bufferedAmount = 0;
    v.drain();
    const got = v.take();
    expect(got.filter((m) => m.type === 'cursorPos')).toEqual([{ type: 'cursorPos', x: 9, y: 9, visible: true }]);
    expect(tilesOf(got)).toHaveLength(CELLS);
    expect(tilesOf(got).find((t) => t.data[0] === 0)).toEqual(tile(0, 2));
    expect(framesOf(got)).toEqual([2]);
  });

  it('sends a viewer small frames ahead of its two-frame window, big ones two at a time', () => {
    const { relay, host } = setup({ viewerMaxSmallUnacked: 5, maxHostUnacked: 8 });
    host.receive(SCREEN);
    hostFrame(host, 1, all);
    const v = new FakeChannel();
    relay.attachViewer('v', v);
    expect(framesOf(v.take())).toEqual([1]);
    // A typed character a frame: the viewer gets five before it acks any, and the host is acked for each.
    for (let seq = 2; seq <= 6; seq++) hostFrame(host, seq, [seq % CELLS]);
    expect(framesOf(v.take())).toEqual([2, 3, 4, 5]);
    expect(acksOf(host.take())).toEqual([1, 2, 3, 4, 5]);
    v.receive({ type: 'ack', seq: 5 });
    expect(framesOf(v.take())).toEqual([6]);
    v.receive({ type: 'ack', seq: 6 });
    // Big frames (30 kB each): two in flight, as before; a small one behind them waits for an ack.
    const big = (cell: number, version: number) => ({ ...tile(cell, version), data: new Uint8Array(30_000).fill(version) });
    host.receive(big(0, 7));
    host.receive(frame(7));
    host.receive(big(1, 8));
    host.receive(frame(8));
    hostFrame(host, 9, [2]);
    expect(framesOf(v.take())).toEqual([7, 8]);
    v.receive({ type: 'ack', seq: 7 });
    expect(framesOf(v.take())).toEqual([9]);
    expect(relay.stats().hostOverruns).toBe(0);
  });

  it('acks the host when any viewer takes a frame, immediately with no viewers, and throttles it only when every viewer is behind', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all);
    expect(acksOf(host.take())).toEqual([1]); // no viewers
    const a = new FakeChannel();
    const b = new FakeChannel();
    relay.attachViewer('a', a);
    relay.attachViewer('b', b);
    hostFrame(host, 2, [1]);
    expect(acksOf(host.take())).toEqual([2]); // both took it
    // Both are now at their window (frames 1 and 2 unacked): the host's next frames wait.
    hostFrame(host, 3, [2]);
    hostFrame(host, 4, [3]);
    expect(acksOf(host.take())).toEqual([]);
    expect(relay.stats().hostUnacked).toBe(2);
    expect(relay.stats().hostOverruns).toBe(0);
    // One viewer catching up releases the host: one ack per pending frame, in order.
    b.receive({ type: 'ack', seq: 1 });
    expect(acksOf(host.take())).toEqual([3, 4]);
    expect(framesOf(b.take())).toEqual([1, 2, 4]);
    expect(framesOf(a.take())).toEqual([1, 2]);
    // The last viewer leaving frees whatever is still pending.
    hostFrame(host, 5, [4]);
    expect(acksOf(host.take())).toEqual([]);
    relay.detachViewer('a');
    relay.detachViewer('b');
    expect(acksOf(host.take())).toEqual([5]);
    expect(a.closedWith?.code).toBe(1000);
  });

  it('forwards input only from the controller and releases what it held when control moves', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    const a = new FakeChannel();
    const b = new FakeChannel();
    relay.attachViewer('a', a);
    relay.attachViewer('b', b);
    const down = encodeShareMessage({ type: 'key', down: true, key: 'a', code: 'KeyA' });
    a.receive(down);
    b.receive({ type: 'pointer', x: 1, y: 1, buttons: 0 });
    expect(host.take()).toEqual([]);
    expect(relay.stats()).toMatchObject({ inputForwarded: 0, inputDropped: 2 });

    relay.setController('a');
    a.receive(down);
    a.receive({ type: 'pointer', x: 30, y: 40, buttons: 1 });
    a.receive({ type: 'wheel', x: 30, y: 40, dx: 0, dy: -2 });
    b.receive({ type: 'key', down: true, key: 'b', code: 'KeyB' });
    expect(host.sent[0]).toEqual(down); // byte for byte
    expect(host.take()).toEqual([
      { type: 'key', down: true, key: 'a', code: 'KeyA' },
      { type: 'pointer', x: 30, y: 40, buttons: 1 },
      { type: 'wheel', x: 30, y: 40, dx: 0, dy: -2 },
    ]);
    expect(relay.stats()).toMatchObject({ inputForwarded: 3, inputDropped: 3 });

    relay.setController('b');
    expect(host.take()).toEqual([
      { type: 'key', down: false, key: 'a', code: 'KeyA' },
      { type: 'pointer', x: 30, y: 40, buttons: 0 },
    ]);
    a.receive({ type: 'pointer', x: 2, y: 2, buttons: 0 });
    b.receive({ type: 'pointer', x: 3, y: 3, buttons: 0 });
    expect(host.take()).toEqual([{ type: 'pointer', x: 3, y: 3, buttons: 0 }]);
    expect(relay.stats()).toMatchObject({ inputForwarded: 4, inputDropped: 4 });
  });

  it('closes only the offending viewer on malformed or forbidden frames', () => {
    const { relay, host, errors } = setup();
    host.receive(SCREEN);
    const bad = new FakeChannel();
    const rude = new FakeChannel();
    const good = new FakeChannel();
    relay.attachViewer('bad', bad);
    relay.attachViewer('rude', rude);
    relay.attachViewer('good', good);
    bad.take();
    bad.receive(new Uint8Array([0xff, 1, 2]));
    expect(bad.closedWith).toEqual({ code: 1008, reason: 'unknown frame type 0xff' });
    rude.receive(tile(0, 1));
    expect(rude.closedWith).toEqual({ code: 1008, reason: "a viewer may not send 'tile' frames" });
    expect(errors).toEqual([
      { participantId: 'bad', role: 'viewer', reason: 'unknown frame type 0xff' },
      { participantId: 'rude', role: 'viewer', reason: "a viewer may not send 'tile' frames" },
    ]);
    expect(relay.stats().viewers).toBe(1);
    expect(host.closedWith).toBeNull();
    good.take();
    hostFrame(host, 1, [0]);
    expect(framesOf(good.take())).toEqual([1]);
    expect(bad.sent).toHaveLength(0);
  });

  it('closes the host channel, and only it, on bad host frames', () => {
    const cases: [string, (h: FakeChannel) => void, string][] = [
      ['tile before screen', (h) => h.receive(tile(0, 1)), 'tile before any screen'],
      ['input from host', (h) => (h.receive(SCREEN), h.receive({ type: 'key', down: true, key: 'a', code: 'KeyA' })), "a host may not send 'key' frames"],
      ['ack from host', (h) => (h.receive(SCREEN), h.receive({ type: 'ack', seq: 1 })), "a host may not send 'ack' frames"],
      ['off-screen tile', (h) => (h.receive(SCREEN), h.receive({ ...tile(0, 1), x: 64 })), 'tile 16x16+64+0 outside the 64x48 screen'],
      ['truncated frame', (h) => h.receive(new Uint8Array([4, 0, 0])), 'frame: expected 13 bytes, got 3'],
    ];
    for (const [name, act, reason] of cases) {
      const { relay, host, errors } = setup();
      const gone: number[] = [];
      relay.on('hostGone', (code) => gone.push(code));
      const v = new FakeChannel();
      relay.attachViewer('v', v);
      act(host);
      expect(host.closedWith, name).toEqual({ code: 1008, reason });
      expect(errors, name).toEqual([{ participantId: 'h', role: 'host', reason }]);
      expect(gone, name).toEqual([1008]);
      expect(v.closedWith, name).toBeNull();
      expect(relay.hasHost).toBe(false);
    }
  });

  it('sends a new screen at once to a viewer with room, the latest one to a busy viewer once it drains, and forgets the old tiles', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all);
    const v = new FakeChannel();
    const room = new FakeChannel();
    relay.attachViewer('v', v);
    relay.attachViewer('room', room);
    v.take();
    room.take();
    v.bufferedAmount = 10 * 1024 * 1024;
    hostFrame(host, 2, [0, 1]);
    const smaller = { type: 'screen', width: 48, height: 16, tileSize: 16 } as const;
    const bigger = { type: 'screen', width: 32, height: 16, tileSize: 16 } as const;
    for (let i = 0; i < 1000; i++) host.receive(i % 2 ? bigger : smaller);
    // Never a queue for the busy viewer: nothing while it is full, then only the latest screen.
    expect(v.take()).toEqual([]);
    expect(room.take().filter((m) => m.type === 'screen')).toHaveLength(1000);
    v.bufferedAmount = 0;
    v.drain();
    expect(v.take()).toEqual([bigger]);
    hostFrame(host, 3, [0, 1]);
    const got = v.take();
    expect(tilesOf(got).map((t) => t.data[0])).toEqual([0, 1]);
    expect(framesOf(got)).toEqual([3]);
    const late = new FakeChannel();
    relay.attachViewer('late', late);
    expect(late.take().map((m) => m.type)).toEqual(['screen', 'tile', 'tile', 'frame']);
  });

  it('closes a host that hoards tiles past the share budget, with the reason, and holds no more than the budget', () => {
    const { relay, host, errors } = setup();
    host.receive(SCREEN); // 64x48: the 8 MiB floor applies
    const fat = (cell: number, fill: number): ShareMessage => ({ ...tile(cell, 0), data: new Uint8Array(512 * 1024).fill(fill) });
    for (let round = 0; round < 4 && !host.closedWith; round++) {
      for (const c of all) host.receive(fat(c, round));
      if (!host.closedWith) host.receive(frame(round + 1));
    }
    expect(host.closedWith?.code).toBe(1008);
    expect(host.closedWith?.reason).toMatch(/would hold more than its 8388608 bytes of tiles/);
    expect(errors).toHaveLength(1);
    expect(relay.stats().storeBytes).toBeLessThanOrEqual(relay.store.budget);
  });

  it('sends a big catch-up in slices, a turn of the event loop apart, and pauses while the channel is full', async () => {
    const { relay, host } = setup({ sliceTiles: 100, viewerHighWater: 50_000 });
    const big = { type: 'screen', width: 1024, height: 1024, tileSize: 16 } as const; // 4,096 cells
    host.receive(big);
    for (let c = 0; c < 4096; c++) host.receive({ type: 'tile', x: (c % 64) * 16, y: Math.floor(c / 64) * 16, w: 16, h: 16, encoding: TileEncoding.Fill, flags: 0, data: new Uint8Array([c & 0xff, 0, 0]) });
    host.receive(frame(1));
    host.take();
    const v = new FakeChannel();
    relay.attachViewer('v', v);
    // The first slice goes at once, then the rest waits for the event loop.
    expect(tilesOf(v.take())).toHaveLength(100);
    expect(relay.stats().catchUps).toBe(1);
    const turns: number[] = [];
    let seen = 100;
    // Fill the channel after three more slices: nothing more until it drains.
    while (turns.length < 3) {
      await new Promise((r) => setImmediate(r));
      const n = tilesOf(v.take()).length;
      expect(n).toBeLessThanOrEqual(100);
      if (n) turns.push(n);
      seen += n;
    }
    v.bufferedAmount = 60_000;
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(v.take()).toEqual([]);
    v.bufferedAmount = 0;
    v.drain();
    let got = v.take();
    const frames: number[] = [];
    for (;;) {
      seen += tilesOf(got).length;
      frames.push(...framesOf(got));
      if (frames.length) break;
      await new Promise((r) => setImmediate(r));
      got = v.take();
    }
    expect(seen).toBe(4096);
    expect(frames).toEqual([1]);
    expect(relay.stats().catchUps).toBe(0);
    expect(acksOf(host.take())).toEqual([]); // acked at once, before anyone watched
  });

  it('close() cascades to every channel, emits closed once and is safe to call twice', () => {
    const { relay, host } = setup();
    const v1 = new FakeChannel();
    const v2 = new FakeChannel();
    relay.attachViewer('1', v1);
    relay.attachViewer('2', v2);
    let closed = 0;
    let hostGone = 0;
    relay.on('closed', () => closed++);
    relay.on('hostGone', () => hostGone++);
    relay.close();
    relay.close();
    expect(closed).toBe(1);
    expect(hostGone).toBe(0);
    for (const c of [host, v1, v2]) expect(c.closedWith).toEqual({ code: 1000, reason: 'the share has ended' });
    const late = new FakeChannel();
    relay.attachViewer('3', late);
    expect(late.closedWith?.code).toBe(1001);
    expect(relay.stats().viewers).toBe(0);
  });

  it('replaces a viewer that reconnects and a host that reconnects', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    const first = new FakeChannel();
    const second = new FakeChannel();
    relay.attachViewer('v', first);
    relay.attachViewer('v', second);
    expect(first.closedWith?.reason).toBe('replaced by a new connection');
    expect(relay.stats().viewers).toBe(1);
    const host2 = new FakeChannel();
    let gone = 0;
    relay.on('hostGone', () => gone++);
    relay.attachHost(host2);
    expect(host.closedWith?.reason).toBe('replaced by a new host connection');
    expect(gone).toBe(0);
    host.receive(SCREEN); // the old connection no longer counts
    second.take();
    host2.receive({ type: 'screen', width: 16, height: 16, tileSize: 16 });
    expect(second.take()).toEqual([{ type: 'screen', width: 16, height: 16, tileSize: 16 }]);
  });
});

/** A viewer whose auth said `version`. */
class VersionedChannel extends FakeChannel {
  constructor(readonly peerVersion: number) {
    super();
  }
}

describe('AppShareServer: snapshots in tiles batches', () => {
  it('sends a viewer whose auth said SHARE_TILES_VERSION its snapshot as `tiles`, an older one single tiles; live frames stay single tiles', () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all, 1);
    hostFrame(host, 2, [3, 7], 2);
    host.take();
    const v = new VersionedChannel(SHARE_TILES_VERSION);
    relay.attachViewer('v', v);
    const old = new VersionedChannel(SHARE_TILES_VERSION - 1);
    relay.attachViewer('old', old);
    const got = v.take();
    expect(got.map((m) => m.type)).toEqual(['screen', 'tiles', 'frame']);
    const batch = got[1] as Extract<ShareMessage, { type: 'tiles' }>;
    expect(batch.tiles).toHaveLength(CELLS);
    for (const t of batch.tiles) expect(t).toEqual(tile(t.data[0]!, t.data[0] === 3 || t.data[0] === 7 ? 2 : 1));
    const plain = old.take();
    expect(plain.some((m) => m.type === 'tiles')).toBe(false);
    expect(tilesOf(plain)).toHaveLength(CELLS);
    // A viewer in step is sent a live frame's tiles as they came.
    v.receive({ type: 'ack', seq: 2 });
    hostFrame(host, 3, [1, 2, 5], 3);
    expect(v.take().map((m) => m.type)).toEqual(['tile', 'tile', 'tile', 'frame']);
    // A new screen is a snapshot again.
    host.receive({ ...SCREEN, width: 48 });
    hostFrame(host, 4, [0, 1, 2, 4, 5, 6, 8, 9, 10], 4);
    expect(v.take().map((m) => m.type)).toEqual(['screen', 'tiles', 'frame']);
  });

  it('packs runs of tiles in order into batches of at most TILE_BATCH_BYTES; Copy tiles and lone tiles go alone', () => {
    const big = (n: number, kib: number) => ({ bytes: encodeShareMessage({ ...tile(n, 1), data: new Uint8Array(kib * 1024).fill(n) }) });
    const fill = (n: number) => ({ bytes: encodeShareMessage({ ...tile(n, 1), encoding: TileEncoding.Fill, data: Uint8Array.of(n, n, n) }) });
    const copy = { bytes: encodeShareMessage({ type: 'tile', x: 0, y: 16, w: 16, h: 16, encoding: TileEncoding.Copy, flags: 0, data: copyPayload(0, 0) }) };
    const items = [big(0, 60), big(1, 60), big(2, 60), copy, fill(3), fill(4), big(5, 200), fill(6)];
    const out = packTiles(items).map((i) => decodeShareMessage(i.bytes));
    expect(out.map((m) => m.type)).toEqual(['tiles', 'tile', 'tile', 'tiles', 'tile', 'tile']);
    for (const i of packTiles(items)) if (i.bytes[0] === 0x0a) expect(i.bytes.length).toBeLessThanOrEqual(TILE_BATCH_BYTES);
    // Unpacked again, the same tiles in the same order.
    const key = (m: ShareMessage) => (m.type === 'tile' ? `${m.x},${m.y} ${m.encoding} ${m.data.length} ${m.data[0]}` : m.type);
    const flat = out.flatMap((m) => (m.type === 'tiles' ? m.tiles : [m]));
    expect(flat.map(key)).toEqual(items.map((i) => key(decodeShareMessage(i.bytes))));
  });
});

import { describe, expect, it } from 'vitest';
import { TILE_FLAG_ALT, TILE_FLAG_LOSSY, TileEncoding, videoHeader, videoPayload, type ShareMessage } from '@baton/protocol';
import { AppShareServer } from './AppShareServer.js';
import { FakeChannel, SCREEN, tile, frame, hostFrame, all, framesOf, tilesOf, setup } from './testing.js';



type Tile = Extract<ShareMessage, { type: 'tile' }>;
/** A video unit over the left 2x2 cells (32x32 px). */
function unit(stream: number, seq: number, key = seq === 0, end = false): Tile {
  return { type: 'tile', x: 0, y: 0, w: 32, h: 32, encoding: TileEncoding.Video, flags: TILE_FLAG_LOSSY, data: videoPayload({ key, end, stream, seq }, end ? new Uint8Array(0) : Uint8Array.of(0, 0, 0, 1, seq & 0xff)) };
}
/** The ALT JPEG under the stream (cells 0, 1, 4, 5). */
function alt(version: number): Tile {
  return { type: 'tile', x: 0, y: 0, w: 32, h: 32, encoding: TileEncoding.Jpeg, flags: TILE_FLAG_LOSSY | TILE_FLAG_ALT, data: new Uint8Array(30).fill(version) };
}
const unitsOf = (msgs: ShareMessage[]) => tilesOf(msgs).filter((t) => t.encoding === TileEncoding.Video).map((t) => videoHeader(t.data));
const capsOf = (msgs: ShareMessage[]) => msgs.filter((m) => m.type === 'caps');
const flushImmediates = () => new Promise((r) => setImmediate(r));

describe('AppShareServer video layer', () => {
  it('tells the host what its audience decodes: video when a viewer says so, tiles for one without or for a recorder', async () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all, 1);
    host.take();
    const a = new FakeChannel();
    relay.attachViewer('a', a);
    a.receive({ type: 'caps', video: true, tiles: false });
    await flushImmediates();
    expect(capsOf(host.take())).toEqual([{ type: 'caps', video: true, tiles: false }]);
    const b = new FakeChannel();
    relay.attachViewer('b', b);
    b.receive({ type: 'caps', video: false, tiles: true });
    await flushImmediates();
    expect(capsOf(host.take())).toEqual([{ type: 'caps', video: true, tiles: true }]);
    relay.detachViewer('b');
    expect(capsOf(host.take())).toEqual([{ type: 'caps', video: true, tiles: false }]);
    const untap = relay.tap({ message: () => {} });
    expect(capsOf(host.take())).toEqual([{ type: 'caps', video: true, tiles: true }]);
    untap();
    expect(capsOf(host.take())).toEqual([{ type: 'caps', video: true, tiles: false }]);
    expect(relay.stats().videoViewers).toBe(1);
  });

  it('a mixed audience: the video viewer gets the units and not the ALT tiles, the other the ALT tiles and no units; the recorder no units', async () => {
    const { relay, host } = setup();
    const recorded: ShareMessage[] = [];
    relay.tap({ message: (m) => recorded.push(m) });
    host.receive(SCREEN);
    hostFrame(host, 1, all, 1);
    const v = new FakeChannel(), t = new FakeChannel();
    relay.attachViewer('v', v);
    relay.attachViewer('t', t);
    v.receive({ type: 'caps', video: true, tiles: false });
    t.receive({ type: 'caps', video: false, tiles: true });
    await flushImmediates();
    v.take();
    t.take();
    for (let seq = 0; seq < 3; seq++) {
      host.receive(alt(seq + 10));
      host.receive(tile(11, seq + 10));
      host.receive(unit(5, seq));
      host.receive(frame(2 + seq));
      v.receive({ type: 'ack', seq: 2 + seq });
      t.receive({ type: 'ack', seq: 2 + seq });
    }
    const vg = v.take(), tg = t.take();
    expect(unitsOf(vg).map((h) => h.seq)).toEqual([0, 1, 2]);
    expect(tilesOf(vg).some((x) => x.flags & TILE_FLAG_ALT)).toBe(false);
    expect(tilesOf(vg).filter((x) => x.x === 48 && x.y === 32)).toHaveLength(3); // other tiles still come
    expect(unitsOf(tg)).toEqual([]);
    expect(tilesOf(tg).filter((x) => x.flags & TILE_FLAG_ALT)).toHaveLength(3);
    expect(recorded.some((m) => m.type === 'tile' && m.encoding === TileEncoding.Video)).toBe(false);
    expect(recorded.filter((m) => m.type === 'tile' && m.flags & TILE_FLAG_ALT)).toHaveLength(3);
  });

  it('a late joiner that decodes video gets the run from its keyframe at once, after the tiles; a long run asks the host for a keyframe', async () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all, 1);
    for (let seq = 0; seq < 20; seq++) {
      host.receive(unit(7, seq));
      host.receive(frame(2 + seq));
    }
    host.take();
    const v = new FakeChannel();
    relay.attachViewer('v', v);
    v.receive({ type: 'caps', video: true, tiles: false });
    // The tiles went first (the caps came after the first batch), then at once the run behind that frame again.
    const first = v.take();
    expect(framesOf(first)).toEqual([21, 21]);
    expect(unitsOf(first).map((h) => h.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(unitsOf(first)[0]!.key).toBe(true);
    v.receive({ type: 'ack', seq: 21 });
    v.receive({ type: 'ack', seq: 21 });
    host.receive(unit(7, 20));
    host.receive(frame(22));
    const got = v.take();
    expect(unitsOf(got).map((h) => h.seq)).toEqual([20]);
    expect(got.at(-1)).toEqual(frame(22));
    const asked = host.take().filter((m) => m.type === 'refresh');
    expect(asked).toEqual([{ type: 'refresh', x: 0, y: 0, w: 32, h: 32 }]);
    // The keyframe starts a new run: the viewer goes on from it, never the rest of the old one.
    v.receive({ type: 'ack', seq: 22 });
    host.receive(unit(8, 0));
    host.receive(frame(23));
    expect(unitsOf(v.take()).map((h) => [h.stream, h.seq])).toEqual([[8, 0]]);
    // The stream ends: a joiner now gets tiles only.
    host.receive(unit(8, 1, false, true));
    hostFrame(host, 24, [0, 1, 4, 5], 30);
    const late = new FakeChannel();
    relay.attachViewer('late', late);
    late.receive({ type: 'caps', video: true, tiles: false });
    expect(unitsOf(late.take())).toEqual([]);
    expect(relay.store.videoTrack).toBeNull();
  });

  it('a gap in the units drops the run and asks for a keyframe at once; a slow viewer goes on from where it is', async () => {
    const { relay, host } = setup();
    host.receive(SCREEN);
    hostFrame(host, 1, all, 1);
    const v = new FakeChannel();
    relay.attachViewer('v', v);
    v.receive({ type: 'caps', video: true, tiles: false });
    await flushImmediates();
    v.take();
    v.receive({ type: 'ack', seq: 1 });
    host.take();
    host.receive(unit(3, 0));
    host.receive(frame(2));
    host.receive(unit(3, 1));
    host.receive(frame(3));
    host.receive(unit(3, 2));
    host.receive(frame(4));
    // Two frames unacked: the third waits; acked, the viewer gets the unit it missed, not a skip.
    expect(unitsOf(v.take()).map((h) => h.seq)).toEqual([0, 1]);
    v.receive({ type: 'ack', seq: 3 });
    expect(unitsOf(v.take()).map((h) => h.seq)).toEqual([2]);
    host.receive(unit(3, 9));
    host.receive(frame(5));
    expect(relay.store.videoTrack).toBeNull();
    expect(host.take().filter((m) => m.type === 'refresh')).toEqual([{ type: 'refresh', x: 0, y: 0, w: 32, h: 32 }]);
    expect(relay.stats().keyframesAsked).toBe(1);
  });

  it('refuses a malformed video unit with a clear reason', () => {
    const { host, errors } = setup();
    host.receive(SCREEN);
    const bad = unit(1, 0);
    host.receive({ ...bad, w: 31 } as Tile);
    expect(errors[0]?.reason).toMatch(/even sides|grid/);
  });
});

/**
 * The cascade of a share (issue 16 item 3) at the relay level: a home relay and a second relay fed by
 * ONE channel from it (as a node's ShareCascade is), joined by an in-memory pipe. The home sends the
 * stream once whatever the number of viewers behind the second relay, which gives them and late
 * joiners the screen itself; input from behind it reaches the host only for the home's controller.
 */
import { describe, expect, it } from 'vitest';
import { TILE_FLAG_ALT, TILE_FLAG_LOSSY, TileEncoding, copyPayload, decodeShareMessage, encodeShareMessage, videoHeader, videoPayload, type ShareMessage } from '@baton/protocol';
import { AppShareServer, type CascadeDown } from './AppShareServer.js';
import { FakeChannel, SCREEN, tile, frame, all, tilesOf, setup } from './testing.js';

/** One end of an in-memory channel pair: what one end sends the other receives, a microtask later (as over a socket). */
class PipeEnd extends FakeChannel {
  peer!: PipeEnd;
  bytesSent = 0;
  override send(bytes: Uint8Array): void {
    if (this.closedWith) return;
    this.bytesSent += bytes.byteLength;
    queueMicrotask(() => this.peer.closedWith || this.peer.emit('message', bytes));
  }
  sendText(text: string): void {
    if (!this.closedWith) queueMicrotask(() => this.peer.emit('text', text));
  }
  override close(code = 1000, reason = ''): void {
    if (this.closedWith) return;
    super.close(code, reason);
    queueMicrotask(() => this.peer.close(code, reason));
  }
}
function pipe(): [PipeEnd, PipeEnd] {
  const a = new PipeEnd(), b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A viewer that acks each frame as it arrives (a fast one), keeping the picture it would draw. */
class AckingViewer extends FakeChannel {
  picture = new Map<number, number>();
  frames: number[] = [];
  acking = true;
  override send(bytes: Uint8Array): void {
    super.send(bytes);
    const m = decodeShareMessage(bytes);
    if (m.type === 'tile' && m.encoding !== TileEncoding.Video) this.picture.set((m.y / 16) * 4 + m.x / 16, m.data[1]!);
    if (m.type === 'frame') {
      this.frames.push(m.seq);
      if (this.acking) queueMicrotask(() => this.receive({ type: 'ack', seq: m.seq }));
    }
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

/** The home relay with a host and a cascade relay ("node B") behind one pipe; B follows the home's control messages. */
function cascade() {
  const home = setup();
  const [homeEnd, bEnd] = pipe();
  const b = new AppShareServer({ conferenceId: 'c1', hostId: 'home:A', maxHostUnacked: 2, viewerMaxSmallUnacked: 2 });
  bEnd.on('text', (t) => {
    const m = JSON.parse(t) as CascadeDown;
    if (m.type === 'controller') b.setController(m.participantId);
    else b.detachViewer(m.participantId);
  });
  b.attachHost(bEnd);
  home.relay.attachCascade('B', homeEnd);
  return { ...home, b, homeEnd, bEnd };
}

/** Every cell at `version` (tile data byte 1 carries it), host frame `seq`, waiting for the relays between frames. */
async function hostFrames(host: FakeChannel, from: number, to: number): Promise<void> {
  for (let seq = from; seq <= to; seq++) {
    for (const c of all) {
      const t = tile(c, seq);
      t.data[1] = seq;
      host.receive(t);
    }
    host.receive(frame(seq));
    await settle();
  }
}

describe('AppShareServer cascade (a second relay fed by one channel from the home)', () => {
  it('the home sends the stream once for 20 viewers behind the cascade; each ends with the host\'s screen; a late joiner gets it from the cascade; a slow viewer skips versions without holding the others', async () => {
    const { relay, host, b, homeEnd } = cascade();
    const direct = new AckingViewer();
    relay.attachViewer('a', direct);
    const viewers = Array.from({ length: 20 }, (_, i) => {
      relay.admitRemote(`p${i}`, 'B');
      const v = new AckingViewer();
      b.attachViewer(`p${i}`, v);
      return v;
    });
    const slow = viewers[19]!;
    slow.acking = false;
    host.receive(SCREEN);
    await hostFrames(host, 1, 8);
    const want = new Map(all.map((c) => [c, 8]));
    expect(direct.picture).toEqual(want);
    for (const v of viewers.slice(0, 19)) {
      expect(v.picture).toEqual(want);
      expect(v.frames.at(-1)).toBe(8);
    }
    // The slow one stopped at its window (2 frames) and skipped the versions after; the others went on.
    expect(slow.frames).toEqual([1, 2]);
    expect(b.stats().tilesSkipped).toBeGreaterThan(0);
    // Once, not 20 times: what went to node B is about what went to the one direct viewer.
    const directBytes = direct.sent.reduce((n, x) => n + x.byteLength, 0);
    expect(homeEnd.bytesSent).toBeLessThan(directBytes * 1.5);
    expect(relay.stats()).toMatchObject({ viewers: 2, cascades: 1, remoteViewers: 20 });
    // The slow viewer acks: it resynchronises to the latest screen at once.
    slow.acking = true;
    slow.receive({ type: 'ack', seq: 2 });
    await settle();
    expect(slow.picture).toEqual(want);
    expect(slow.frames.at(-1)).toBe(8);
    // A late joiner behind the cascade: the whole screen from node B, nothing more from the home.
    const before = homeEnd.bytesSent;
    relay.admitRemote('late', 'B');
    const late = new AckingViewer();
    b.attachViewer('late', late);
    await settle();
    expect(late.picture).toEqual(want);
    expect(homeEnd.bytesSent).toBe(before);
  });

  it('input from behind the cascade reaches the host only from the home\'s controller; its clipboard goes back to it alone', async () => {
    const { relay, host, b } = cascade();
    const ctl = new AckingViewer(), other = new AckingViewer(), local = new AckingViewer();
    relay.attachViewer('local', local);
    for (const [id, ch] of [['ctl', ctl], ['other', other]] as const) {
      relay.admitRemote(id, 'B');
      b.attachViewer(id, ch);
    }
    host.receive(SCREEN);
    await hostFrames(host, 1, 1);
    host.take();
    const pointer = (x: number): ShareMessage => ({ type: 'pointer', x, y: 1, buttons: 0 });
    ctl.receive(pointer(1)); // nobody controls yet
    relay.setController('ctl');
    await settle();
    ctl.receive(pointer(2));
    other.receive(pointer(3)); // B drops it: not its controller
    await settle();
    expect(host.take().filter((m) => m.type === 'pointer').map((m) => (m as { x: number }).x)).toEqual([2]);
    host.receive({ type: 'clipboard', text: 'secret' });
    await settle();
    expect(ctl.take().filter((m) => m.type === 'clipboard')).toHaveLength(1);
    expect(other.take().filter((m) => m.type === 'clipboard')).toHaveLength(0);
    // Control moves to a viewer on the home: node B's input stops reaching the host, even a B that still claimed it.
    relay.setController('local');
    await settle();
    ctl.receive(pointer(4));
    b.setController('ctl'); // a node that ignored the home's word
    ctl.receive(pointer(5));
    await settle();
    expect(host.take().filter((m) => m.type === 'pointer')).toEqual([]);
    expect(relay.stats().inputDropped).toBeGreaterThan(0);
    // The home detaches a participant (it left): node B is told and drops that viewer.
    relay.setController('ctl');
    relay.detachViewer('ctl');
    await settle();
    expect(ctl.closedWith).not.toBeNull();
    expect(relay.stats().remoteViewers).toBe(1);
  });

  it('video through the cascade: a mixed audience on node B gets the stream and the ALT tiles from the home, each viewer what it decodes; a late video joiner gets the run from its keyframe from B', async () => {
    const { relay, host, b } = cascade();
    const v = new AckingViewer(), t = new AckingViewer();
    for (const [id, ch] of [['v', v], ['t', t]] as const) {
      relay.admitRemote(id, 'B');
      b.attachViewer(id, ch);
    }
    v.receive({ type: 'caps', video: true, tiles: false });
    t.receive({ type: 'caps', video: false, tiles: true });
    host.receive(SCREEN);
    await hostFrames(host, 1, 1);
    // Node B asked for both (its caps), so the host is told to send both.
    expect(host.take().filter((m) => m.type === 'caps').at(-1)).toEqual({ type: 'caps', video: true, tiles: true });
    const unit = (seq: number): ShareMessage => ({ type: 'tile', x: 0, y: 0, w: 32, h: 32, encoding: TileEncoding.Video, flags: TILE_FLAG_LOSSY, data: videoPayload({ key: seq === 0, end: false, stream: 4, seq }, Uint8Array.of(0, 0, 0, 1, seq)) });
    const alt = (n: number): ShareMessage => ({ type: 'tile', x: 0, y: 0, w: 32, h: 32, encoding: TileEncoding.Jpeg, flags: TILE_FLAG_LOSSY | TILE_FLAG_ALT, data: new Uint8Array(30).fill(n) });
    v.take();
    t.take();
    for (let seq = 0; seq < 14; seq++) {
      host.receive(alt(seq + 10));
      host.receive(unit(seq));
      host.receive(frame(2 + seq));
      await settle();
    }
    const run = Array.from({ length: 14 }, (_, i) => i);
    const units = (msgs: ShareMessage[]) => tilesOf(msgs).filter((x) => x.encoding === TileEncoding.Video).map((x) => videoHeader(x.data).seq);
    const vg = v.take(), tg = t.take();
    expect(units(vg)).toEqual(run);
    expect(tilesOf(vg).some((x) => x.flags & TILE_FLAG_ALT)).toBe(false);
    expect(units(tg)).toEqual([]);
    expect(tilesOf(tg).filter((x) => x.flags & TILE_FLAG_ALT)).toHaveLength(14);
    host.take();
    // A late joiner on B that decodes video: the run from the keyframe, from B's own store; so long a
    // run makes B ask for a keyframe, and the home passes that on to the host.
    relay.admitRemote('late', 'B');
    const late = new AckingViewer();
    b.attachViewer('late', late);
    late.receive({ type: 'caps', video: true, tiles: false });
    await settle();
    expect(units(late.take())).toEqual(run);
    expect(host.take().filter((m) => m.type === 'refresh')).toEqual([{ type: 'refresh', x: 0, y: 0, w: 32, h: 32 }]);
  });

  it('a cascade channel that drops takes its node\'s participants with it; input from a node the home never admitted anyone through is dropped', async () => {
    const { relay, host, homeEnd } = cascade();
    relay.admitRemote('x', 'B');
    relay.setController('x');
    host.receive(SCREEN);
    await hostFrames(host, 1, 1);
    const [cEnd, cPeer] = pipe();
    relay.attachCascade('C', cEnd);
    cPeer.send(encodeShareMessage({ type: 'pointer', x: 7, y: 7, buttons: 0 }));
    await settle();
    expect(host.take().filter((m) => m.type === 'pointer')).toEqual([]);
    homeEnd.close(1001, 'gone');
    await settle();
    expect(relay.stats()).toMatchObject({ cascades: 1, remoteViewers: 0 });
  });
  it('a Copy that late joiners on both relays cannot use costs the host one pixel request, not one per relay; a node repeating it, or asking for cells the home already has as pixels, reaches the host no more', async () => {
    const { relay, host, b, bEnd } = cascade();
    const direct = new AckingViewer();
    relay.attachViewer('a', direct);
    relay.admitRemote('p', 'B');
    const onB = new AckingViewer();
    b.attachViewer('p', onB);
    host.receive(SCREEN);
    await hostFrames(host, 1, 1);
    // Frame 2 moves cells 0..1 to 4..5: a Copy, which only a viewer that drew frame 1 can use.
    host.receive({ type: 'tile', x: 0, y: 16, w: 32, h: 16, encoding: TileEncoding.Copy, flags: 0, data: copyPayload(0, 0) });
    host.receive(frame(2));
    await settle();
    host.take();
    // A late joiner on each relay: each relay's store asks for those cells as pixels.
    relay.attachViewer('late-home', new AckingViewer());
    relay.admitRemote('q', 'B');
    b.attachViewer('q', new AckingViewer());
    await settle();
    expect(b.stats().refreshesAsked).toBe(1);
    // The node's request, asked again (its own slow viewers, or a node that floods): still one for the host.
    for (let i = 0; i < 5; i++) bEnd.send(encodeShareMessage({ type: 'refresh', x: 0, y: 16, w: 32, h: 16 }));
    await settle();
    const refreshes = host.take().filter((m) => m.type === 'refresh');
    expect(refreshes).toEqual([{ type: 'refresh', x: 0, y: 16, w: 32, h: 16 }]);
    // The host answers with pixels; a node asking for those cells now (its store behind) costs nothing.
    await hostFrames(host, 3, 3);
    bEnd.send(encodeShareMessage({ type: 'refresh', x: 0, y: 16, w: 32, h: 16 }));
    await settle();
    expect(host.take().filter((m) => m.type === 'refresh')).toEqual([]);
    expect(onB.picture).toEqual(new Map(all.map((c) => [c, 3])));
  });
});

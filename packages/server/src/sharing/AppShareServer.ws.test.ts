import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import {
  SHARE_LIMITS,
  SHARE_PROTOCOL_VERSION,
  TileEncoding,
  decodeShareMessage,
  encodeShareMessage,
  type ShareMessage,
} from '@baton/protocol';
import { AppShareServer } from './AppShareServer.js';
import { WsShareChannel } from './WsShareChannel.js';

/** A test peer on a real socket: collects every binary frame it receives. */
class Peer {
  readonly received: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.received.push(new Uint8Array(data)));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }
  static async open(url: string, ticket: string): Promise<Peer> {
    const ws = new WebSocket(url);
    const peer = new Peer(ws);
    await new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    peer.send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket });
    return peer;
  }
  send(msg: ShareMessage | Uint8Array): void {
    this.ws.send(msg instanceof Uint8Array ? msg : encodeShareMessage(msg));
  }
  decoded(): ShareMessage[] {
    return this.received.map((b) => decodeShareMessage(b));
  }
  async waitFor(pred: (msgs: ShareMessage[]) => boolean, what: string, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.decoded())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await delay(5);
    }
  }
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A relay behind a real WebSocket server; the first frame is `auth`, checked asynchronously like a ticket lookup. */
async function startRelay(options: Partial<ConstructorParameters<typeof AppShareServer>[0]> = {}) {
  const relay = new AppShareServer({ conferenceId: 'c', hostId: 'host', ...options });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: SHARE_LIMITS.maxFrame });
  await new Promise<void>((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    const channel = new WsShareChannel(ws, { lowWater: 64 * 1024 });
    const onAuth = (bytes: Uint8Array): void => {
      channel.off('message', onAuth);
      const msg = decodeShareMessage(bytes);
      if (msg.type !== 'auth') return channel.close(1008, 'auth first');
      // Frames the peer sends meanwhile must wait in the channel, not vanish.
      void delay(30).then(() => (msg.ticket === 'host' ? relay.attachHost(channel) : relay.attachViewer(msg.ticket, channel)));
    };
    channel.on('message', onAuth);
  });
  const { port } = wss.address() as { port: number };
  const peers: Peer[] = [];
  cleanups.push(async () => {
    relay.close();
    for (const p of peers) p.ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  const open = async (ticket: string) => {
    const p = await Peer.open(`ws://127.0.0.1:${port}/ws/share`, ticket);
    peers.push(p);
    return p;
  };
  return { relay, wss, open };
}

const tile = (x: number, y: number, size: number, payload: Uint8Array): ShareMessage => ({
  type: 'tile', x, y, w: size, h: size, encoding: TileEncoding.Png, flags: 0, data: payload,
});
const eqBytes = (a: Uint8Array | undefined, b: Uint8Array) => expect(a && Buffer.from(a).equals(Buffer.from(b))).toBe(true);

describe('AppShareServer over real WebSockets (127.0.0.1)', () => {
  it('relays a host to two viewers byte for byte, replays to a late joiner and forwards only the controller input', async () => {
    const { relay, open } = await startRelay();
    const v1 = await open('v1');
    await until(() => relay.stats().viewers === 1, 'v1 attached');
    const host = await open('host');
    // Sent right after auth, before the relay has attached the host: must not be lost.
    const screen = encodeShareMessage({ type: 'screen', width: 64, height: 32, tileSize: 32 });
    const t0 = encodeShareMessage(tile(0, 0, 32, randomBytes(1000)));
    const t1 = encodeShareMessage(tile(32, 0, 32, randomBytes(2000)));
    const f1 = encodeShareMessage({ type: 'frame', seq: 1, time: 1234.5 });
    for (const b of [screen, t0, t1, f1]) host.send(b);

    await v1.waitFor((m) => m.some((x) => x.type === 'frame'), 'v1 frame 1');
    expect(v1.received.map((b) => Buffer.from(b).toString('hex'))).toEqual([screen, t0, t1, f1].map((b) => Buffer.from(b).toString('hex')));
    await host.waitFor((m) => m.length === 1, 'host ack 1');
    expect(host.decoded()).toEqual([{ type: 'ack', seq: 1 }]);
    v1.send({ type: 'ack', seq: 1 });

    // A late joiner gets the whole screen at once.
    const v2 = await open('v2');
    await v2.waitFor((m) => m.some((x) => x.type === 'frame'), 'v2 replay');
    expect(v2.received).toHaveLength(4);
    eqBytes(v2.received[0], screen);
    const v2tiles = v2.received.slice(1, 3).map((b) => Buffer.from(b).toString('hex')).sort();
    expect(v2tiles).toEqual([t0, t1].map((b) => Buffer.from(b).toString('hex')).sort());
    eqBytes(v2.received[3], f1);
    v2.send({ type: 'ack', seq: 1 });

    // An update reaches both.
    const t1b = encodeShareMessage(tile(32, 0, 32, randomBytes(500)));
    const f2 = encodeShareMessage({ type: 'frame', seq: 2, time: 2000 });
    host.send(t1b);
    host.send(f2);
    for (const v of [v1, v2]) {
      await v.waitFor((m) => m.filter((x) => x.type === 'frame').length === 2, 'frame 2');
      eqBytes(v.received.at(-2), t1b);
      eqBytes(v.received.at(-1), f2);
    }
    await host.waitFor((m) => m.length === 2, 'host ack 2');

    // Input: only the controller's reaches the host, unchanged.
    relay.setController('v1');
    const p1 = encodeShareMessage({ type: 'pointer', x: 10, y: 20, buttons: 1 });
    v2.send({ type: 'pointer', x: 1, y: 1, buttons: 0 });
    v1.send(p1);
    await host.waitFor((m) => m.length === 3, 'forwarded pointer');
    eqBytes(host.received[2], p1);
    await until(() => relay.stats().inputDropped === 1, 'dropped input counted');
    expect(relay.stats()).toMatchObject({ viewers: 2, framesIn: 2, inputForwarded: 1, inputDropped: 1 });

    // A viewer breaking the protocol loses only its own socket.
    v2.send({ type: 'frame', seq: 9, time: 0 });
    await until(() => v2.closed !== null, 'v2 closed');
    expect(v2.closed).toEqual({ code: 1008, reason: "a viewer may not send 'frame' frames" });
    expect(v1.closed).toBeNull();
    expect(host.closed).toBeNull();
    await until(() => relay.stats().viewers === 1, 'v2 forgotten');

    relay.close();
    await until(() => v1.closed !== null && host.closed !== null, 'cascade close');
    expect(v1.closed).toEqual({ code: 1000, reason: 'the share has ended' });
  });

  it('keeps a fast viewer and the host at full pace while a viewer with a stalled socket skips versions', async () => {
    const { relay, open } = await startRelay();
    const fast = await open('fast');
    const slow = await open('slow');
    await until(() => relay.stats().viewers === 2, 'viewers attached');
    // The slow viewer stops reading its socket: the kernel buffers fill, then the relay's send buffer.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    fast.ws.on('message', (data: Buffer) => {
      const m = decodeShareMessage(new Uint8Array(data));
      if (m.type === 'frame') fast.send({ type: 'ack', seq: m.seq });
    });
    const host = await open('host');
    host.send({ type: 'screen', width: 1024, height: 512, tileSize: 256 });
    const latest = new Map<number, Uint8Array>();
    const FRAMES = 30;
    let acked = 0;
    host.ws.on('message', () => acked++);
    for (let seq = 1; seq <= FRAMES; seq++) {
      await until(() => seq - 1 - acked < 2, `host window for frame ${seq}`, 10_000); // host window of 2
      for (let c = 0; c < 8; c++) {
        const t = encodeShareMessage(tile((c % 4) * 256, Math.floor(c / 4) * 256, 256, randomBytes(256 * 1024)));
        latest.set(c, t);
        host.send(t);
      }
      host.send({ type: 'frame', seq, time: seq });
    }
    await until(() => acked === FRAMES, 'all host frames acked', 10_000);
    await fast.waitFor((m) => m.filter((x) => x.type === 'frame').length === FRAMES, 'fast got every frame', 10_000);
    const st = relay.stats();
    expect(st.tilesSkipped).toBeGreaterThan(0);
    expect(st.storeBytes).toBeLessThan(9 * 270 * 1024); // one entry per cell, whatever the backlog

    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    // It reads what was buffered, acks, and is then sent the newest version of each cell.
    slow.ws.on('message', (data: Buffer) => {
      const m = decodeShareMessage(new Uint8Array(data));
      if (m.type === 'frame') slow.send({ type: 'ack', seq: m.seq });
    });
    await slow.waitFor((m) => m.some((x) => x.type === 'frame' && x.seq === FRAMES), 'slow caught up', 10_000);
    const slowFrames = slow.decoded().filter((x) => x.type === 'frame').length;
    expect(slowFrames).toBeLessThan(FRAMES / 2);
    // Its screen now equals the host's latest: the last tile received for each cell is the host's last.
    const lastPerCell = new Map<number, Uint8Array>();
    for (const b of slow.received) {
      const m = decodeShareMessage(b);
      if (m.type === 'tile') lastPerCell.set((m.y / 256) * 4 + m.x / 256, b);
    }
    for (let c = 0; c < 8; c++) eqBytes(lastPerCell.get(c), latest.get(c)!);
    console.log(`stalled viewer: ${slowFrames}/${FRAMES} frames, ${st.tilesSkipped} tile versions skipped, store ${(st.storeBytes / 1024) | 0} KiB`);
  });
});

describe('WsShareChannel', () => {
  it('emits drain when a stalled peer reads again, and closes on text frames with 1003', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', r));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const channels: WsShareChannel[] = [];
    wss.on('connection', (ws) => channels.push(new WsShareChannel(ws, { lowWater: 64 * 1024, maxBuffered: 64 * 1024 * 1024 })));
    const { port } = wss.address() as { port: number };
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    cleanups.push(() => client.terminate());
    let got = 0;
    client.on('message', (d: Buffer) => (got += d.byteLength));
    await new Promise((r) => client.once('open', r));
    await until(() => channels.length === 1, 'server side');
    const ch = channels[0]!;
    let drains = 0;
    ch.on('drain', () => drains++);
    const sock = (client as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    sock.pause();
    const chunk = randomBytes(512 * 1024);
    for (let i = 0; i < 40; i++) ch.send(chunk);
    await delay(100);
    expect(ch.bufferedAmount).toBeGreaterThan(64 * 1024);
    expect(drains).toBe(0);
    sock.resume();
    await until(() => drains === 1, 'drain');
    expect(ch.bufferedAmount).toBeLessThanOrEqual(64 * 1024);
    await until(() => got === 40 * chunk.byteLength, 'all bytes delivered');

    const closed = new Promise<[number, string]>((r) => ch.on('close', (code, reason) => r([code, reason])));
    client.send('hello');
    expect(await closed).toEqual([1003, 'the sharing channel carries binary frames only']);
  });

  it('counts each queued message, and closes a peer that lets more than maxBuffered pile up, saying why', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', r));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const channels: WsShareChannel[] = [];
    wss.on('connection', (ws) => channels.push(new WsShareChannel(ws, { maxBuffered: 4 * 1024 * 1024 })));
    const { port } = wss.address() as { port: number };
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    cleanups.push(() => client.terminate());
    client.on('error', () => {});
    await new Promise((r) => client.once('open', r));
    await until(() => channels.length === 1, 'server side');
    const ch = channels[0]!;
    client.pause(); // a host that never reads its acks
    const closed = new Promise<[number, string]>((r) => ch.on('close', (code, reason) => r([code, reason])));
    // Tiny messages weigh their bookkeeping too: 1,000 of 6 bytes count for more than 6,000 bytes.
    const before = ch.bufferedAmount;
    const tiny = new Uint8Array(6);
    for (let i = 0; i < 1000; i++) ch.send(tiny);
    expect(ch.bufferedAmount - before).toBeGreaterThanOrEqual(1000 * 512);
    const chunk = randomBytes(256 * 1024);
    let peak = 0;
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    for (let i = 0; i < 4000 && !isClosed; i++) {
      ch.send(chunk);
      peak = Math.max(peak, ch.bufferedAmount);
      if (i % 16 === 15) await new Promise((r) => setImmediate(r));
    }
    expect(await closed).toEqual([1008, 'the peer is not reading: over 4194304 bytes queued for it']);
    expect(peak).toBeLessThanOrEqual(4 * 1024 * 1024 + chunk.byteLength + 512);
  });
});

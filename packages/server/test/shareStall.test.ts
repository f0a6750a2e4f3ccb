/**
 * A viewer's catch-up is never one synchronous burst (issue 9, item 2): a hostile host fills an
 * 8192x8192 screen with 262,144 one-cell tiles, a viewer joins late with a socket it does not read,
 * and a participant of another conference pings. The ping must be answered while that catch-up is
 * still under way: the relay sends in bounded slices and yields to the event loop between them.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, TileEncoding, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TestClient, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

const SIDE = 8192;
const CELL = 16;
const CELLS = (SIDE / CELL) ** 2; // 262,144
/** Payload of each tile: enough that the whole catch-up (~55 MB) cannot hide in the kernel's socket buffers. */
const PAYLOAD = 200;

function shareSocket(base: string): WebSocket {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/share`);
  ws.on('error', () => {});
  return ws;
}
/** Resolves once what we sent has mostly left our own buffer. */
function drained(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => void (ws.bufferedAmount < 1 << 20 ? resolve() : setImmediate(check));
    check();
  });
}
const opened = (ws: WebSocket) => new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

describe('a viewer catching up on 262,144 one-cell tiles', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice']);
    alice = h.cookies.alice;
  });
  afterAll(async () => h.dispose());

  it('does not stop another conference from being answered, and still ends with the whole screen', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const { c: agent } = await h.joinAgent(conf, alice);
    expect(await agent.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    const ticketOf = async (c: TestClient) => ((await c.request({ type: 'share.ticket' })) as unknown as { ticket: string }).ticket;

    // The hostile host: one-cell tiles in every cell of the largest screen, then one frame.
    const host = shareSocket(h.url);
    await opened(host);
    host.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: await ticketOf(agent) }));
    host.send(encodeShareMessage({ type: 'screen', width: SIDE, height: SIDE, tileSize: CELL }));
    const data = new Uint8Array(PAYLOAD).fill(7);
    for (let i = 0; i < CELLS; i++) {
      const x = (i % (SIDE / CELL)) * CELL, y = Math.floor(i / (SIDE / CELL)) * CELL;
      host.send(encodeShareMessage({ type: 'tile', x, y, w: CELL, h: CELL, encoding: TileEncoding.Png, flags: 0, data }));
      if (i % 4096 === 4095) await drained(host);
    }
    host.send(encodeShareMessage({ type: 'frame', seq: 1, time: 1 }));
    // Nobody watches yet: the relay acks the frame once it has committed it.
    await new Promise<void>((resolve) => host.on('message', (d: Buffer) => decodeShareMessage(new Uint8Array(d)).type === 'ack' && resolve()));

    // Someone in another conference, who will ping.
    const other = await createConference(h.url, alice, { guests: 'allow' });
    const pinger = new TestClient(h.url, other);
    await pinger.hello({ name: 'Pat' });
    await pinger.next('welcome');

    // The late viewer, on a socket it does not read.
    const vc = new TestClient(h.url, conf);
    await vc.hello({ name: 'Vic' });
    await vc.next('welcome');
    const viewer = shareSocket(h.url);
    await opened(viewer);
    viewer.pause();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    viewer.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: await ticketOf(vc) }));
    const focus = (await h.server.registry.get(conf))!;
    // Wait (a turn of the event loop at a time) until the viewer is attached.
    while ((focus.shareStats()?.viewers ?? 0) < 1) await new Promise((r) => setImmediate(r));

    const t0 = performance.now();
    await pinger.send({ type: 'ping', rid: 'p1' });
    await pinger.next('pong', (m) => m.rid === 'p1', 120_000);
    const rtt = performance.now() - t0;
    const at = focus.shareStats()!;
    console.log(`ping during the catch-up: ${rtt.toFixed(0)} ms; relay had sent ${(at.bytesOut / 2 ** 20).toFixed(1)} MiB; longest event-loop block so far ${(loop.max / 1e6).toFixed(0)} ms`);
    expect(at.catchUps, 'the ping was answered while the catch-up was still under way').toBe(1);

    // The viewer reads again: it gets every tile (a viewer of protocol 7 gets the snapshot in `tiles`
    // batches), then the frame.
    let tiles = 0, batches = 0;
    const done = new Promise<void>((resolve) =>
      viewer.on('message', (d: Buffer) => {
        const m: ShareMessage = decodeShareMessage(new Uint8Array(d));
        if (m.type === 'tile') tiles++;
        if (m.type === 'tiles') (tiles += m.tiles.length), batches++;
        if (m.type === 'frame') resolve();
      }),
    );
    viewer.resume();
    await done;
    loop.disable();
    console.log(`catch-up of ${tiles} tiles (${batches} batches) done; longest event-loop block ${(loop.max / 1e6).toFixed(0)} ms`);
    expect(tiles).toBe(CELLS);
    expect(focus.shareStats()!.catchUps).toBe(0);
    for (const c of [agent, vc, pinger]) c.close();
    host.close();
    viewer.close();
  }, 180_000);
});

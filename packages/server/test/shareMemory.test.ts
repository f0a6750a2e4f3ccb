/**
 * Bounded memory against a sharing viewer that never reads (issue 9, item 2): a real server in a child
 * process (so its RSS is its own), a host on real sockets that sends screens, cursor moves, tiles and
 * frames at the pace a well-behaved second viewer acks, and a viewer that paused its socket. Whatever
 * the host sends, that viewer must cost the server at most its send budget, never a queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, TileEncoding, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TestClient, api, createConference, signUp } from './support.js';
import { startServerProcess, type ServerProcess } from './serverProcess.js';

/** Rounds of frames at a viewer's pace; each sends 1,000 screens, 1,000 cursor moves and a 300-tile frame (~0.6 MB). */
const ROUNDS = 40;
const PER_ROUND = 1000;
/** Then, with only the paused viewer left, this many (screen, cursor move) pairs as fast as the server takes them. */
const FLOOD = 500_000;
/**
 * The server's RSS may grow by at most this much. Measured here under load: ~60 MiB from garbage alone
 * (the same run with no viewer at all), ~100 MiB with the paused viewer; before the fix +440 MiB, about
 * 1 KiB per pair queued for that viewer, without limit.
 */
const BOUND_MIB = 160;

/** A sharing socket on a real ws client: decodes what it receives, waits for messages by predicate. */
class ShareClient {
  readonly ws: WebSocket;
  #waiters: { pred: (m: ShareMessage) => boolean; resolve: (m: ShareMessage) => void }[] = [];
  onMessage: (m: ShareMessage) => void = () => {};
  constructor(base: string) {
    this.ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/share`);
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer) => {
      const m = decodeShareMessage(new Uint8Array(data));
      this.onMessage(m);
      const i = this.#waiters.findIndex((w) => w.pred(m));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
    });
  }
  async auth(ticket: string): Promise<void> {
    await new Promise((resolve, reject) => this.ws.once('open', resolve).once('error', reject));
    this.send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket });
  }
  send(m: ShareMessage): void {
    this.ws.send(encodeShareMessage(m));
  }
  next(pred: (m: ShareMessage) => boolean): Promise<ShareMessage> {
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }
  /** Resolves once what we sent has left our own buffer (the server took it, or stopped taking it). */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => void (this.ws.bufferedAmount < 256 * 1024 || this.ws.readyState !== WebSocket.OPEN ? resolve() : setImmediate(check));
      check();
    });
  }
}

/** Every cell of a w×h screen on a 16 px grid, as tiles with `bytes` of payload each. */
function tiles(w: number, h: number, bytes: number, fill: number): ShareMessage[] {
  const out: ShareMessage[] = [];
  for (let y = 0; y < h; y += 16) {
    for (let x = 0; x < w; x += 16) {
      out.push({ type: 'tile', x, y, w: Math.min(16, w - x), h: Math.min(16, h - y), encoding: TileEncoding.Png, flags: 0, data: new Uint8Array(bytes).fill(fill) });
    }
  }
  return out;
}

describe('a sharing viewer that never reads', () => {
  let server: ServerProcess;
  let url: string;

  beforeAll(async () => {
    server = await startServerProcess('baton-sharemem-');
    url = server.url;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('costs the server at most its send budget while the host streams screens, cursor and frames, and gets the latest screen once it reads', async () => {
    const alice = await signUp(url, 'alice');
    const conf = await createConference(url, alice, { guests: 'allow' });
    const tok = await api(url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, alice);
    const agent = new TestClient(url, conf);
    await agent.hello({ client: 'agent', agentToken: tok.body.token });
    await agent.next('welcome');
    expect(await agent.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    const ticketOf = async (c: TestClient) => ((await c.request({ type: 'share.ticket' })) as unknown as { ticket: string }).ticket;

    const host = new ShareClient(url);
    await host.auth(await ticketOf(agent));
    const W = 320, H = 240; // 300 cells
    host.send({ type: 'screen', width: W, height: H, tileSize: 16 });
    for (const t of tiles(W, H, 64, 1)) host.send(t);
    host.send({ type: 'frame', seq: 1, time: 1 });
    await host.next((m) => m.type === 'ack' && m.seq === 1);

    const join = async (name: string) => {
      const c = new TestClient(url, conf);
      await c.hello({ name });
      await c.next('welcome');
      const s = new ShareClient(url);
      await s.auth(await ticketOf(c));
      await s.next((m) => m.type === 'frame' && m.seq === 1);
      return { c, s };
    };
    // A viewer that acks every frame it draws: it keeps the host at full pace.
    const good = await join('Gus');
    good.s.onMessage = (m) => void (m.type === 'frame' && good.s.send({ type: 'ack', seq: m.seq }));
    // The viewer under test: it has the first screen, then never reads another byte.
    const stuck = await join('Stu');
    stuck.s.ws.pause();

    await new Promise((r) => setImmediate(r));
    const before = server.rssMiB();
    let peak = before;
    let sentBytes = 0;
    const send = (m: ShareMessage): void => {
      const b = encodeShareMessage(m);
      sentBytes += b.byteLength;
      host.ws.send(b);
    };
    for (let round = 0; round < ROUNDS; round++) {
      const seq = round + 2;
      for (let i = 0; i < PER_ROUND; i++) {
        send({ type: 'screen', width: i % 2 ? 64 : 48, height: 48, tileSize: 16 });
        send({ type: 'cursorPos', x: i % 48, y: round % 48, visible: true });
      }
      send({ type: 'screen', width: W, height: H, tileSize: 16 });
      for (const t of tiles(W, H, 2048, round & 0xff)) send(t);
      send({ type: 'frame', seq, time: seq });
      await host.drained();
      await host.next((m) => m.type === 'ack' && m.seq === seq);
      if (round % 10 === 9) peak = Math.max(peak, server.rssMiB());
    }
    const paced = Math.max(peak, server.rssMiB());
    // The well-behaved viewer leaves; the host floods screens and cursor moves at the paused one alone.
    good.s.ws.close();
    for (let i = 0; i < FLOOD; i++) {
      send({ type: 'screen', width: i % 2 ? 64 : 48, height: 48, tileSize: 16 });
      send({ type: 'cursorPos', x: i % 48, y: 7, visible: true });
      if (i % 20_000 === 19_999) {
        await host.drained();
        peak = Math.max(peak, server.rssMiB());
      }
    }
    const last = ROUNDS + 2;
    send({ type: 'screen', width: W, height: H, tileSize: 16 });
    for (const t of tiles(W, H, 64, 9)) send(t);
    send({ type: 'frame', seq: last, time: last });
    await host.drained();
    const during = Math.max(peak, server.rssMiB());
    console.log(
      `server RSS: ${before.toFixed(0)} MiB before, ${paced.toFixed(0)} MiB after ${ROUNDS} paced rounds, ${during.toFixed(0)} MiB peak after the flood; ` +
        `the host sent ${(sentBytes / 2 ** 20).toFixed(0)} MiB in ${ROUNDS * PER_ROUND * 2 + FLOOD * 2} screen/cursor messages and ${ROUNDS} frames of 300 tiles`,
    );
    expect(during - before).toBeLessThan(BOUND_MIB);

    // Once it reads again it is brought to the latest screen and the latest frame.
    let lastScreen: ShareMessage | null = null;
    stuck.s.onMessage = (m) => {
      if (m.type === 'screen') lastScreen = m;
      if (m.type === 'frame') stuck.s.send({ type: 'ack', seq: m.seq });
    };
    const caught = stuck.s.next((m) => m.type === 'frame' && m.seq === last);
    stuck.s.ws.resume();
    await caught;
    expect(lastScreen).toEqual({ type: 'screen', width: W, height: H, tileSize: 16 });
    for (const c of [agent, good.c, stuck.c]) c.close();
    for (const s of [host, good.s, stuck.s]) s.ws.close();
  }, 240_000);
});

/**
 * Abuse limits of the conference socket and the Focus (issue 9, items 3, 5, 6, 7), over real
 * WebSockets against a real server: buffered output per socket, command rate per connection,
 * sharing tickets, chat allowance across rejoins, and conferences nobody is in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CloseCode, PROTOCOL_VERSION, type ServerMessage } from '@baton/protocol';
import { ConferenceConnection } from '../src/gateway/ConferenceConnection.js';
import { TicketBook } from '../src/focus/TicketBook.js';
import { TestClient, createConference, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;

let srv: Server;
let alice: string; // organizer
let bob: string; // signed-in attendee
beforeAll(async () => {
  srv = await testServer({ reconnectGraceMs: 300 });
  alice = await signUp(srv.url, 'alice');
  bob = await signUp(srv.url, 'bob');
});
afterAll(async () => srv?.dispose());

async function join(conf: string, opts: { cookie?: string; name?: string } = {}) {
  const c = new TestClient(srv.url, conf, { cookie: opts.cookie });
  await c.hello(opts.name ? { name: opts.name } : {});
  return c;
}

/** Resolves once `cond` holds, checking after every turn of the event loop's timers. */
async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('one conference socket cannot grow the server or hog it', () => {
  it('a client that does not read is closed with 4008 once its buffered output passes the cap', async () => {
    const CAP = 64 * 1024;
    const conf = await createConference(srv.url, alice);
    // A conference socket of our own, with a small cap and no command limit to speak of, on the real registry and store.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    let tooSlow!: (buffered: number) => void;
    const closedForSlowness = new Promise<number>((r) => (tooSlow = r));
    let serverSocket!: WebSocket;
    wss.on('connection', (socket) => {
      serverSocket = socket;
      new ConferenceConnection({
        socket,
        conferenceId: conf,
        user: null,
        registry: srv.registry,
        store: srv.store,
        address: '127.0.0.1',
        limits: { maxBufferedBytes: CAP, commands: { burst: 1e9, perSecond: 1e9 }, closeGraceMs: 60_000 },
        log: { warn: (obj, msg) => msg?.includes('too slow') && tooSlow((obj as { buffered: number }).buffered), error: () => {} },
      });
    });
    const port = (wss.address() as { port: number }).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const first = new Promise<ServerMessage>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, name: 'Slowpoke' }));
    expect((await first).type).toBe('lobby.wait');

    ws.pause();
    const frame = JSON.stringify({ type: 'ping', rid: 'y'.repeat(64) });
    let closed = false;
    void closedForSlowness.then(() => (closed = true));
    let maxBuffered = 0;
    for (let sent = 0; !closed && sent < 2_000_000; ) {
      for (let i = 0; i < 500; i++, sent++) ws.send(frame);
      await new Promise((r) => setTimeout(r, 1));
      maxBuffered = Math.max(maxBuffered, serverSocket.bufferedAmount);
    }
    const bufferedAtClose = await closedForSlowness;
    maxBuffered = Math.max(maxBuffered, serverSocket.bufferedAmount);
    console.log(`buffered for the slow client: ${bufferedAtClose} bytes at the close, at most ${maxBuffered} (cap ${CAP})`);
    expect(bufferedAtClose).toBeLessThanOrEqual(CAP);
    expect(maxBuffered).toBeLessThanOrEqual(CAP + 1024); // the close frame comes on top

    // Once it reads, the client learns why.
    const closing = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.resume();
    const { code, reason } = await closing;
    expect(code).toBe(CloseCode.TooSlow);
    expect(reason).toMatch(/too slow/);
    // The server stopped reading it; drop it now rather than after the grace given to the closing handshake.
    serverSocket.terminate();
    wss.close();
  });

  it('commands over the rate limit get rate_limited errors, even before hello completes; going on closes with 4009', async () => {
    const conf = await createConference(srv.url, alice);
    const c = new TestClient(srv.url, conf, { cookie: bob });
    await c.opened();
    // hello and 200 pings in one burst: most arrive while the hello is still being handled.
    c.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION }));
    for (let i = 0; i < 200; i++) c.ws.send(JSON.stringify({ type: 'ping', rid: i }));
    const { code, reason } = await c.closed;
    expect(code).toBe(CloseCode.RateLimited);
    expect(reason).toMatch(/too many messages/);
    const limited = c.received.filter((m) => m.type === 'error' && m.code === 'rate_limited');
    const pongs = c.received.filter((m) => m.type === 'pong');
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toMatchObject({ rid: expect.any(Number) });
    // What was queued behind the slow hello is dropped with the connection; the rest was never processed.
    expect(pongs.length + limited.length).toBeLessThan(200);
  });

  it('a client within the limit is served normally', async () => {
    const conf = await createConference(srv.url, alice);
    const c = await join(conf, { cookie: bob });
    await c.next('welcome');
    for (let i = 0; i < 30; i++) await c.send({ type: 'ping', rid: `p${i}` });
    for (let i = 0; i < 30; i++) await c.next('pong', (m) => m.rid === `p${i}`);
    expect(c.received.some((m) => m.type === 'error')).toBe(false);
    c.close();
  });
});

describe('sharing tickets', () => {
  it('issuing is O(1): it looks at no more than a few tickets however many are outstanding', () => {
    // Count every Map entry any iteration visits while tickets are issued (a sweep of the whole table
    // per issue visits n entries each time: 5000 issues would be 12.5 million visits).
    const iteratorProto = Object.getPrototypeOf(new Map()[Symbol.iterator]()) as { next: () => unknown };
    const next = iteratorProto.next;
    let visits = 0;
    const book = new TicketBook();
    const tokens: string[] = [];
    iteratorProto.next = function (this: unknown) {
      visits++;
      return next.call(this);
    };
    try {
      for (let i = 0; i < 5000; i++) tokens.push(book.issue({ conferenceId: 'c', participantId: `p${i}`, role: 'viewer' }));
    } finally {
      iteratorProto.next = next;
    }
    expect(visits).toBeLessThanOrEqual(2 * 5000);
    expect(book.size).toBe(5000);
    expect(book.redeem(tokens[1234]!)).toEqual({ conferenceId: 'c', participantId: 'p1234', role: 'viewer' });
    expect(book.redeem(tokens[1234]!)).toBeUndefined();
  });

  it('expired tickets are dropped as new ones are issued, and never redeem', () => {
    let now = 0;
    const book = new TicketBook({ ttlMs: 1000, now: () => now });
    const old = book.issue({ conferenceId: 'c', participantId: 'a', role: 'viewer' });
    for (let i = 0; i < 50; i++) book.issue({ conferenceId: 'c', participantId: 'a', role: 'viewer' });
    now = 1001;
    const fresh = book.issue({ conferenceId: 'c', participantId: 'b', role: 'host' });
    expect(book.size).toBe(1);
    expect(book.redeem(old)).toBeUndefined();
    expect(book.redeem(fresh)).toMatchObject({ participantId: 'b', role: 'host' });
  });

  it('share.ticket is rate-limited per participant, across a rejoin; a ping elsewhere answers while one viewer floods', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');
    expect(await org.request({ type: 'share.start', kind: 'browser' })).toMatchObject({ type: 'ack' });
    let viewer = await join(conf, { cookie: bob });
    await viewer.next('welcome');
    let granted = 0;
    let refused: ServerMessage | undefined;
    for (let i = 0; i < 60 && !refused; i++) {
      const r = await viewer.request({ type: 'share.ticket' });
      if (r.type === 'ack' && r.ticket) granted++;
      else refused = r;
    }
    expect(refused).toMatchObject({ type: 'error', code: 'rate_limited' });
    expect(granted).toBeGreaterThanOrEqual(10);
    expect(granted).toBeLessThan(60);
    // Leaving and rejoining gives no fresh allowance.
    viewer.close();
    await viewer.closed;
    viewer = await join(conf, { cookie: bob });
    await viewer.next('welcome');
    expect(await viewer.request({ type: 'share.ticket' })).toMatchObject({ type: 'error', code: 'rate_limited' });

    // One viewer floods share.ticket as fast as it can; someone in another conference still gets answers.
    const other = await createConference(srv.url, bob);
    const elsewhere = await join(other, { cookie: bob });
    await elsewhere.next('welcome');
    const frame = JSON.stringify({ type: 'share.ticket' });
    for (let i = 0; i < 100_000; i++) viewer.ws.send(frame);
    await elsewhere.send({ type: 'ping', rid: 'elsewhere' });
    await elsewhere.next('pong', (m) => m.rid === 'elsewhere', 15_000);
    expect((await viewer.closed).code).toBe(CloseCode.RateLimited);
    org.close();
    elsewhere.close();
  });
});

describe('chat limits are kept by who sends, not by seat', () => {
  async function exhaust(c: TestClient): Promise<number> {
    for (let i = 0; i < 40; i++) {
      const r = await c.request({ type: 'chat.send', text: `m${i}` });
      if (r.type === 'error') {
        expect(r.code).toBe('rate_limited');
        return i;
      }
    }
    throw new Error('never rate-limited');
  }

  it('a signed-in user who leaves and rejoins gets no fresh allowance (also when the conference emptied meanwhile)', async () => {
    const conf = await createConference(srv.url, alice);
    let c = await join(conf, { cookie: bob });
    await c.next('welcome');
    expect(await exhaust(c)).toBeGreaterThanOrEqual(4);
    c.close();
    await c.closed;
    // Bob was alone: his leave closed the Focus, and the rejoin makes a fresh one.
    await until(async () => (await srv.registry.get(conf)) === undefined, 'the empty conference to close');
    c = await join(conf, { cookie: bob });
    await c.next('welcome');
    expect(await c.request({ type: 'chat.send', text: 'again' })).toMatchObject({ type: 'error', code: 'rate_limited' });
    c.close();
  });

  it('guests: the same guest rejoining is still limited, and new names from one address share one allowance', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const org = await join(conf, { cookie: alice }); // keeps the conference alive; not needed for the limits
    await org.next('welcome');
    let g = await join(conf, { name: 'Gus' });
    await g.next('welcome');
    await exhaust(g);
    g.close();
    await g.closed;
    g = await join(conf, { name: 'Gus' });
    await g.next('welcome');
    expect(await g.request({ type: 'chat.send', text: 'again' })).toMatchObject({ type: 'error', code: 'rate_limited' });
    g.close();
    await g.closed;

    // Rejoin churn with a new name each time: 914 messages/s got through before; now the address's allowance holds.
    const start = Date.now();
    let accepted = 0;
    for (let k = 0; k < 12; k++) {
      const c = await join(conf, { name: `Churn ${k}` });
      await c.next('welcome');
      for (let i = 0; i < 10; i++) if ((await c.request({ type: 'chat.send', text: `c${k}.${i}` })).type === 'ack') accepted++;
      c.close();
      await c.closed;
    }
    const seconds = (Date.now() - start) / 1000;
    console.log(`guest churn: ${accepted} of 120 messages accepted in ${seconds.toFixed(1)} s through 12 rejoins`);
    // The address's burst (24, less what Gus used) plus its refill (6/s) over the elapsed time.
    expect(accepted).toBeLessThanOrEqual(24 + Math.ceil(6 * seconds) + 1);
    expect(accepted).toBeLessThan(120);
    org.close();
  });
});

describe('conferences nobody is in', () => {
  it('500 refused guest joins leave no live Focus', async () => {
    const confs: string[] = [];
    for (let i = 0; i < 10; i++) confs.push(await createConference(srv.url, alice, { guests: 'deny' }, `deny ${i}`));
    await until(() => srv.registry.size === 0, 'earlier conferences to empty');
    for (let batch = 0; batch < 20; batch++) {
      const clients = Array.from({ length: 25 }, (_, i) => new TestClient(srv.url, confs[(batch * 25 + i) % confs.length]!));
      await Promise.all(clients.map((c) => c.hello({ name: 'Eve' })));
      const closes = await Promise.all(clients.map((c) => c.closed));
      for (const cl of closes) expect(cl.code).toBe(CloseCode.Denied);
    }
    expect(srv.registry.size).toBe(0);
  });

  it('a lobby guest alone who leaves, or who is gone before the join completes, leaves no live Focus', async () => {
    const conf = await createConference(srv.url, alice); // lobby, and no organizer present
    await until(() => srv.registry.size === 0, 'earlier conferences to empty');
    const g = await join(conf, { name: 'Lonely' });
    await g.next('lobby.wait');
    expect(srv.registry.size).toBe(1); // a lobby seat counts while it waits
    g.close();
    await g.closed;
    await until(() => srv.registry.size === 0, 'the Focus to close after the lobby guest left');

    // hello, then gone at once: however far the join got, nothing stays behind.
    for (let i = 0; i < 20; i++) {
      const c = new TestClient(srv.url, conf);
      await c.hello({ name: `Gone ${i}` });
      c.ws.terminate();
    }
    await until(() => srv.registry.size === 0, 'abandoned joins to leave no Focus');
  });
});

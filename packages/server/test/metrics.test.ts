/**
 * /metrics on a real server: refused without the token, parses as Prometheus text, and its numbers
 * move when a participant joins, chats and shares a screen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, TileEncoding, decodeShareMessage, encodeShareMessage } from '@baton/protocol';
import { TestClient, api, createConference, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;
const TOKEN = 'scrape-me-0123456789abcdef';

/**
 * Prometheus text exposition format 0.0.4: `# HELP`/`# TYPE` lines and `name{labels} value` samples.
 * Values are Go floats, so NaN in any case (prom-client writes `Nan` for an event-loop mean not yet measured).
 */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[nN]a[nN]|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]!) && !types.has(family)) throw new Error(`sample without # TYPE: ${line}`);
    samples.set(m[1]! + (m[2] ?? ''), Number(m[3]));
  }
  return samples;
}

async function scrape(base: string, token: string | null = TOKEN) {
  const res = await fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

async function metrics(base: string): Promise<Map<string, number>> {
  const r = await scrape(base);
  expect(r.status).toBe(200);
  return parseMetrics(r.text);
}

const opened = (ws: WebSocket) => new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
function shareSocket(base: string): WebSocket {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/share`);
  ws.on('error', () => {});
  return ws;
}

describe('/metrics', () => {
  let srv: Server;
  let alice: string;
  beforeAll(async () => {
    srv = await testServer({ metricsToken: TOKEN });
    alice = await signUp(srv.url, 'alice');
  });
  afterAll(async () => srv.dispose());

  it('refuses a scrape without the token or with a wrong one', async () => {
    const none = await scrape(srv.url, null);
    expect(none.status).toBe(401);
    expect(none.text).not.toContain('baton_');
    expect((await scrape(srv.url, 'wrong-token-0123456789abcdef')).status).toBe(401);
    expect((await scrape(srv.url, TOKEN.slice(0, -1))).status).toBe(401);
  });

  it('is not served at all when no token is configured', async () => {
    const other = await testServer();
    try {
      const r = await scrape(other.url);
      expect(r.status).toBe(404);
      expect(r.text).not.toContain('baton_');
    } finally {
      await other.dispose();
    }
  });

  it('parses, and counts a join, a chat message and a share', async () => {
    const first = await scrape(srv.url);
    expect(first.status).toBe(200);
    expect(first.type).toContain('text/plain');
    const before = parseMetrics(first.text);
    expect(before.get('baton_conferences')).toBe(0);
    expect(before.get('baton_participants')).toBe(0);
    expect(before.get('baton_chat_messages_total{kind="public"}')).toBe(0);
    expect(before.has('nodejs_eventloop_lag_seconds')).toBe(true);
    // The store is timed: signUp above created a user and a session.
    expect(before.get('baton_store_seconds_count{op="createUser",outcome="ok"}')).toBe(1);

    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const bob = new TestClient(srv.url, conf);
    await bob.hello({ name: 'Bob' });
    await bob.next('welcome');
    expect(await bob.request({ type: 'chat.send', text: 'hello, metrics' })).toMatchObject({ type: 'ack' });

    const joined = await metrics(srv.url);
    expect(joined.get('baton_conferences')).toBe(1);
    expect(joined.get('baton_participants')).toBe(1);
    expect(joined.get('baton_chat_messages_total{kind="public"}')).toBe(1);
    expect(joined.get('baton_media_bytes_total{media="conference",direction="in"}')).toBeGreaterThan(0);
    expect(joined.get('baton_media_bytes_total{media="conference",direction="out"}')).toBeGreaterThan(0);
    expect(joined.get('baton_store_seconds_count{op="appendChat",outcome="ok"}')).toBe(1);

    // A share: an agent hosts one tile and a frame, bob watches.
    const tok = await api(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, alice);
    const agent = new TestClient(srv.url, conf);
    await agent.hello({ client: 'agent', agentToken: tok.body.token });
    await agent.next('welcome');
    expect(await agent.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    const ticketOf = async (c: TestClient) => ((await c.request({ type: 'share.ticket' })) as unknown as { ticket: string }).ticket;
    const host = shareSocket(srv.url);
    await opened(host);
    const acked = new Promise<void>((resolve) => host.on('message', (d: Buffer) => decodeShareMessage(new Uint8Array(d)).type === 'ack' && resolve()));
    host.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: await ticketOf(agent) }));
    host.send(encodeShareMessage({ type: 'screen', width: 64, height: 64, tileSize: 64 }));
    host.send(encodeShareMessage({ type: 'tile', x: 0, y: 0, w: 64, h: 64, encoding: TileEncoding.Png, flags: 0, data: new Uint8Array(300).fill(9) }));
    host.send(encodeShareMessage({ type: 'frame', seq: 1, time: 1 }));
    await acked;
    const viewer = shareSocket(srv.url);
    await opened(viewer);
    const gotFrame = new Promise<void>((resolve) => viewer.on('message', (d: Buffer) => decodeShareMessage(new Uint8Array(d)).type === 'frame' && resolve()));
    viewer.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: await ticketOf(bob) }));
    await gotFrame;

    const sharing = await metrics(srv.url);
    expect(sharing.get('baton_participants')).toBe(2);
    expect(sharing.get('baton_shares')).toBe(1);
    expect(sharing.get('baton_share_viewers')).toBe(1);
    expect(sharing.get('baton_share_frames_in_total')).toBe(1);
    const shareIn = sharing.get('baton_media_bytes_total{media="sharing",direction="in"}')!;
    const shareOut = sharing.get('baton_media_bytes_total{media="sharing",direction="out"}')!;
    expect(shareIn).toBeGreaterThan(300);
    expect(shareOut).toBeGreaterThan(300);
    expect(sharing.has('baton_share_tiles_skipped_total')).toBe(true);

    // The share ends: the live gauges drop, the totals keep what the relay counted.
    const viewerClosed = new Promise((resolve) => viewer.once('close', resolve));
    expect(await agent.request({ type: 'share.stop' })).toMatchObject({ type: 'ack' });
    await viewerClosed;
    const after = await metrics(srv.url);
    expect(after.get('baton_shares')).toBe(0);
    expect(after.get('baton_share_viewers')).toBe(0);
    expect(after.get('baton_media_bytes_total{media="sharing",direction="in"}')).toBeGreaterThanOrEqual(shareIn);
    expect(after.get('baton_media_bytes_total{media="sharing",direction="out"}')).toBeGreaterThanOrEqual(shareOut);
    expect(after.get('baton_share_frames_in_total')).toBe(1);

    host.close();
    agent.close();
    const left = bob.closed;
    bob.close();
    await left;
  });
});

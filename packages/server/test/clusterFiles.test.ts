/**
 * Cluster mode (issue 16) with real NATS and PostgreSQL and three node processes: a shared file, a
 * slide deck and a finished recording, uploaded or made on one node, are served byte-identical by the
 * others, a recording's export too (an upload through a node that is not the meeting's home is relayed to the home), and still
 * after kill -9 of the node that stored them (their bytes are in PostgreSQL, decision 0008).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, TileEncoding, decodeShareMessage, encodeShareMessage, type ServerMessage, type ShareMessage } from '@baton/protocol';
import { api, createConference, signUp, TestClient } from './support.js';
import { clusterView, freshCluster, until, type TestCluster, type TestNode } from './clusterSupport.js';
import { makePdf } from './slideFiles.js';

const cluster = await freshCluster('cluster file tests');
const d = cluster ? describe : describe.skip;

const ticketOf = async (c: TestClient, type: 'file.ticket' | 'slides.ticket' | 'share.ticket') => {
  const ack = (await c.request({ type } as never)) as unknown as { type: string; ticket?: string };
  if (ack.type !== 'ack' || !ack.ticket) throw new Error(`no ${type}: ${JSON.stringify(ack)}`);
  return ack.ticket;
};
/** What the replay page reads from an index (the recording's resource beside it changes with its exports). */
const replayed = (b: { seekPoints: unknown; screenBytes: number; events: unknown }) => JSON.stringify({ seekPoints: b.seekPoints, screenBytes: b.screenBytes, events: b.events });
const bytesOf = async (res: Response) => {
  if (res.status !== 200) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
};

d('cluster: files, slides and recordings on every node', () => {
  let c: TestCluster;
  let home: TestNode, other: TestNode, third: TestNode;
  let cookie = '';
  let org: TestClient;
  const file = { bytes: randomBytes(3 * 1024 * 1024 + 12345), id: '', name: '' };
  const deck = { bytes: Buffer.alloc(0), id: '' };
  const recording = { id: '', index: '', screen: Buffer.alloc(0), video: Buffer.alloc(0) };

  beforeAll(async () => {
    c = cluster!;
    const nodes = await Promise.all([c.start('A'), c.start('B'), c.start('C')]);
    await until(async () => (await clusterView(nodes[0]!)).nodes.length === 3, 'three nodes');
    cookie = await signUp(nodes[0]!.url, 'fiona');
    const conf = await createConference(nodes[0]!.url, cookie, { guests: 'allow' }, 'Shared bytes');
    org = new TestClient(nodes[0]!.url, conf, { cookie });
    await org.hello();
    await org.next('welcome');
    const homeId = (await clusterView(nodes[0]!)).nodes.find((n) => n.conferences.includes(conf))!.id;
    home = nodes.find((n) => n.id === homeId)!;
    [other, third] = nodes.filter((n) => n !== home) as [TestNode, TestNode];
  }, 120_000);
  afterAll(async () => {
    org?.close();
    await c?.dispose();
  }, 60_000);

  it('a file uploaded through a node that is not the home is stored once and served by every node', async () => {
    const t = await ticketOf(org, 'file.ticket');
    const res = await fetch(`${other.url}/api/files?ticket=${encodeURIComponent(t)}&name=report.bin`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: file.bytes });
    expect(res.status, await res.clone().text()).toBe(201);
    const f = (await res.json()) as { id: string; name: string; size: number };
    expect(f).toMatchObject({ name: 'report.bin', size: file.bytes.length });
    Object.assign(file, { id: f.id, name: f.name });
    await org.next('chat.message', (m: Extract<ServerMessage, { type: 'chat.message' }>) => m.message.file?.id === f.id);
    for (const n of [third, other, home]) expect((await bytesOf(await fetch(`${n.url}/api/files/${f.id}/${f.name}`))).equals(file.bytes), n.id).toBe(true);
    // Nothing on the home node's disk: the bytes are in the shared store.
    expect(existsSync(join(home.dataDir, 'files'))).toBe(false);
  });

  it("a slide deck's PDF uploaded through one node is served by the others", async () => {
    deck.bytes = await makePdf(['one', 'two']);
    const t = await ticketOf(org, 'slides.ticket');
    const res = await fetch(`${third.url}/api/slides?ticket=${encodeURIComponent(t)}&name=deck.pdf`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: deck.bytes });
    expect(res.status, await res.clone().text()).toBe(201);
    deck.id = ((await res.json()) as { id: string; pages: number }).id;
    for (const n of [other, home]) expect((await bytesOf(await fetch(`${n.url}/api/slides/${deck.id}/deck.pdf`))).equals(deck.bytes), n.id).toBe(true);
  });

  it('a finished recording (made on the home node) is replayed from another node with the same bytes', async () => {
    expect((await org.request({ type: 'share.start', kind: 'browser' })).type).toBe('ack');
    const host = await openHost(home.url, await ticketOf(org, 'share.ticket'));
    try {
      await host.frame([200, 0, 0]);
      const started = (await org.request({ type: 'recording.start' })) as unknown as { type: string; recordingId: string };
      expect(started.type).toBe('ack');
      recording.id = started.recordingId;
      await host.frame([0, 200, 0]);
      await host.frame([0, 0, 200]);
      expect((await org.request({ type: 'recording.stop' })).type).toBe('ack');
    } finally {
      host.ws.close();
    }
    await until(async () => (await api(other.url, 'GET', `/api/recordings/${recording.id}`, undefined, cookie)).body?.status === 'done', 'the recording to finish');
    const fromHome = await api(home.url, 'GET', `/api/recordings/${recording.id}/index`, undefined, cookie);
    const fromOther = await api(other.url, 'GET', `/api/recordings/${recording.id}/index`, undefined, cookie);
    expect(fromOther.status).toBe(200);
    expect(fromOther.body).toEqual(fromHome.body);
    const screenBytes = (fromHome.body as { screenBytes: number }).screenBytes;
    expect(screenBytes).toBeGreaterThan(0);
    recording.index = replayed(fromHome.body);
    recording.screen = await bytesOf(await fetch(`${home.url}/api/recordings/${recording.id}/screen?from=0&to=${screenBytes}`, { headers: { cookie } }));
    const screen = await bytesOf(await fetch(`${other.url}/api/recordings/${recording.id}/screen?from=0&to=${screenBytes}`, { headers: { cookie } }));
    expect(screen.equals(recording.screen)).toBe(true);
  });

  it('an export made on the home node is listed and downloaded on another', async () => {
    expect((await api(home.url, 'POST', `/api/recordings/${recording.id}/exports`, { format: 'mkv' }, cookie)).status).toBe(202);
    const done = await until(async () => {
      const r = await api(home.url, 'GET', `/api/recordings/${recording.id}/exports/mkv`, undefined, cookie);
      return r.body?.status !== 'running' ? r : null;
    }, 'the export', 120_000);
    expect(done.body).toMatchObject({ status: 'done' });
    recording.video = await bytesOf(await fetch(`${home.url}/api/recordings/${recording.id}/exports/mkv/file`, { headers: { cookie } }));
    const listed = await api(other.url, 'GET', `/api/recordings/${recording.id}`, undefined, cookie);
    expect(listed.body.exports).toEqual([{ format: 'mkv', status: 'done', progress: 1, bytes: recording.video.length }]);
    expect((await bytesOf(await fetch(`${other.url}/api/recordings/${recording.id}/exports/mkv/file`, { headers: { cookie } }))).equals(recording.video)).toBe(true);
  });

  it('after kill -9 of the node that stored them, the file, the deck and the recording are still served', async () => {
    await home.kill();
    for (const n of [third, other]) {
      expect((await bytesOf(await fetch(`${n.url}/api/files/${file.id}/${file.name}`))).equals(file.bytes), n.id).toBe(true);
      expect((await bytesOf(await fetch(`${n.url}/api/slides/${deck.id}/deck.pdf`))).equals(deck.bytes), n.id).toBe(true);
    }
    // The third node never served the recording: it fetches it from the shared store now.
    const index = await api(third.url, 'GET', `/api/recordings/${recording.id}/index`, undefined, cookie);
    expect(index.status).toBe(200);
    expect(replayed(index.body)).toBe(recording.index);
    const screen = await bytesOf(await fetch(`${third.url}/api/recordings/${recording.id}/screen?from=0&to=${recording.screen.length}`, { headers: { cookie } }));
    expect(screen.equals(recording.screen)).toBe(true);
    expect((await bytesOf(await fetch(`${third.url}/api/recordings/${recording.id}/exports/mkv/file`, { headers: { cookie } }))).equals(recording.video)).toBe(true);
    // Deleting it removes it from every node's view (and the shared store).
    expect((await api(third.url, 'DELETE', `/api/recordings/${recording.id}`, undefined, cookie)).status).toBe(204);
    expect((await api(other.url, 'GET', `/api/recordings/${recording.id}`, undefined, cookie)).status).toBe(404);
    const db = new pg.Client({ connectionString: c.pg.url });
    await db.connect();
    try {
      const left = await db.query<{ n: string }>(`select count(*) as n from shared_blobs where bucket = 'recordings'`);
      expect(Number(left.rows[0]!.n)).toBe(0);
    } finally {
      await db.end();
    }
  });
});

/** A browser-kind host on a node's sharing socket; frame() resolves once the server acknowledged it. */
async function openHost(base: string, ticket: string): Promise<{ ws: WebSocket; frame(c: [number, number, number]): Promise<void> }> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/share`);
  await new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const send = (m: ShareMessage) => ws.send(encodeShareMessage(m));
  const acked = new Set<number>();
  const waiting = new Map<number, () => void>();
  ws.on('message', (data: Buffer) => {
    const m = decodeShareMessage(new Uint8Array(data));
    if (m.type !== 'ack') return;
    acked.add(m.seq);
    waiting.get(m.seq)?.();
  });
  send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket });
  send({ type: 'screen', width: 512, height: 256, tileSize: 256 });
  let seq = 0;
  return {
    ws,
    frame(c) {
      const n = ++seq;
      send({ type: 'tile', x: 0, y: 0, w: 256, h: 256, encoding: TileEncoding.Fill, flags: 0, data: new Uint8Array(c) });
      send({ type: 'tile', x: 256, y: 0, w: 256, h: 256, encoding: TileEncoding.Fill, flags: 0, data: new Uint8Array([c[2], c[1], c[0]]) });
      send({ type: 'frame', seq: n, time: Date.now() });
      return acked.has(n) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(n, resolve));
    },
  };
}

/**
 * Cluster mode failures (issue 16 item 4), three node processes on real NATS and PostgreSQL:
 * kill -9 of a conference's home node mid-chat (another node takes over within 10 s, clients come
 * back with their resume tokens to the same seats, every acknowledged chat message is there), and
 * split brain: a home paused past its lease (SIGSTOP) and resumed must not act for the conference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, TileEncoding, decodeShareMessage, encodeShareMessage } from '@baton/protocol';
import { createConference, signUp, TestClient } from './support.js';
import { clusterView, freshCluster, joinThrough, startNodes, until, type JoinOptions, type TestCluster, type TestNode, type Welcome } from './clusterSupport.js';

const cluster = await freshCluster('cluster failover tests');
const d = cluster ? describe : describe.skip;

// Clients back off between attempts; the web client starts at a few hundred ms.
const join = (node: TestNode, conferenceId: string, opts: JoinOptions = {}) => joinThrough(node, conferenceId, opts, 30_000, 250);

const homeOf = async (via: TestNode, id: string) => (await clusterView(via)).nodes.find((n) => n.conferences.includes(id))?.id ?? null;

d('cluster: a home node dies or is paused', () => {
  let c: TestCluster;
  let nodes: TestNode[];
  const byId = (id: string) => nodes.find((n) => n.id === id)!;
  beforeAll(async () => {
    c = cluster!;
    nodes = await startNodes(c, ['A', 'B', 'C']);
    await until(async () => (await clusterView(nodes[0]!)).nodes.length === 3, 'three nodes');
  }, 120_000);
  afterAll(async () => {
    await c?.dispose();
  }, 60_000);

  it('kill -9 of the home mid-chat: another node takes over within 10 s, seats and every acknowledged message kept', async () => {
    const org = await signUp(nodes[0]!.url, 'olga');
    const id = await createConference(nodes[1]!.url, org, { guests: 'allow' });
    // Placed by the first join; its clients then come in through the other two nodes.
    const first = await join(nodes[2]!, id, { cookie: org });
    const homeId = (await until(() => homeOf(nodes[0]!, id), 'a home'))!;
    const home = byId(homeId);
    const [X, Y] = nodes.filter((n) => n !== home) as [TestNode, TestNode];
    // (The first client stays until the others are in: an empty conference ends, and would be placed anew.)
    const o = await join(X, id, { cookie: org });
    const g = await join(Y, id, { name: 'Gwen' });
    const h = await join(home, id, { name: 'Hal' }); // a client on the home node itself
    first.client.close();
    expect(await homeOf(X, id)).toBe(homeId);

    // A share: the organizer's stream goes through X to the home; Gwen watches on Y, through Y's cascade.
    expect((await o.client.request({ type: 'share.start', kind: 'browser' })).type).toBe('ack');
    const ticketOf = async (cl: TestClient) => ((await cl.request({ type: 'share.ticket' })) as unknown as { ticket: string }).ticket;
    const shareSocket = async (node: TestNode, ticket: string) => {
      const ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}/ws/share`);
      const s = { ws, frames: 0, closed: new Promise<number>((r) => ws.on('close', (code) => r(code))) };
      ws.on('message', (d: Buffer) => void (decodeShareMessage(new Uint8Array(d)).type === 'frame' && s.frames++));
      ws.on('error', () => {});
      await new Promise((r) => ws.once('open', r));
      ws.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket }));
      return s;
    };
    const hostShare = await shareSocket(X, await ticketOf(o.client));
    hostShare.ws.send(encodeShareMessage({ type: 'screen', width: 32, height: 16, tileSize: 16 }));
    hostShare.ws.send(encodeShareMessage({ type: 'tile', x: 0, y: 0, w: 16, h: 16, encoding: TileEncoding.Png, flags: 0, data: new Uint8Array(64) }));
    hostShare.ws.send(encodeShareMessage({ type: 'frame', seq: 1, time: 1 }));
    const watching = await shareSocket(Y, await ticketOf(g.client));
    await until(() => watching.frames > 0, 'the frame on Y');
    expect((await clusterView(Y)).cascades.map((x) => x.home)).toEqual([homeId]);

    // Chat goes on from both sides while the home is killed; remember what was acknowledged.
    const ackedTexts = new Set<string>();
    const chatLoop = async (cl: TestClient, who: string, stop: () => boolean) => {
      for (let i = 0; !stop(); i++) {
        const text = `${who} ${i}`;
        const r = await cl.request({ type: 'chat.send', text }).catch(() => null);
        if (r?.type === 'ack') ackedTexts.add(text);
        else break;
      }
    };
    let killed = false;
    const loops = [chatLoop(o.client, 'olga', () => killed), chatLoop(g.client, 'gwen', () => killed)];
    await until(() => ackedTexts.size >= 10, 'ten acknowledged messages', 30_000, 10);
    const t0 = Date.now();
    await home.kill();
    killed = true;
    await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 3000))]);
    expect(ackedTexts.size).toBeGreaterThanOrEqual(10);
    // Y's cascade lost its home: its viewer is told to reconnect, and the cascade is gone.
    expect(await watching.closed).toBe(1012);
    await until(async () => (await clusterView(Y)).cascades.length === 0, 'the cascade on Y closed');
    hostShare.ws.close();

    // The clients see their sockets close and come back with their resume tokens, through any node.
    const [o2, g2, h2] = await Promise.all([
      join(X, id, { cookie: org, resume: o.welcome.resumeToken }),
      join(Y, id, { name: 'Gwen', resume: g.welcome.resumeToken }),
      join(X, id, { name: 'Hal', resume: h.welcome.resumeToken }),
    ]);
    const takeoverMs = Math.max(o2.at, g2.at, h2.at) - t0;
    console.log(`[cluster] takeover after kill -9: every client back in ${takeoverMs} ms (first ${Math.min(o2.at, g2.at, h2.at) - t0} ms)`);
    expect(takeoverMs).toBeLessThan(10_000);
    const newHome = await homeOf(X, id);
    expect(newHome).not.toBe(homeId);
    expect(newHome).toBeTruthy();
    // Same seats: same resume tokens, names, and one roster entry each.
    expect(g2.welcome.resumeToken).toBe(g.welcome.resumeToken);
    expect(h2.welcome.resumeToken).toBe(h.welcome.resumeToken);
    expect(o2.welcome.resumeToken).toBe(o.welcome.resumeToken);
    const names = (w: Welcome) => w.roster.map((p) => p.name).sort();
    expect(names(h2.welcome).length).toBeLessThanOrEqual(3);
    expect(new Set(names(h2.welcome)).size).toBe(names(h2.welcome).length);
    // Every message any client saw acknowledged is in the new home's history.
    const history = new Set(h2.welcome.chat.map((m) => m.text));
    const lost = [...ackedTexts].filter((t) => !history.has(t));
    expect(lost, `acknowledged but lost: ${lost.join(', ')}`).toEqual([]);
    // And the meeting goes on.
    expect((await g2.client.request({ type: 'chat.send', text: 'after the takeover' })).type).toBe('ack');
    await o2.client.next('chat.message', (m) => m.message.text === 'after the takeover', 15_000);
    for (const cl of [o2.client, g2.client, h2.client]) cl.close();
    // Restore three nodes for the next test.
    nodes = nodes.filter((x) => x !== home);
    nodes.push(await c.start(homeId));
    await until(async () => (await clusterView(nodes[0]!)).nodes.length === 3, 'three nodes again');
  }, 120_000);

  it('split brain: a home paused past its lease (SIGSTOP) and resumed does not act for the conference any more', async () => {
    const org = await signUp(nodes[0]!.url, 'sam');
    const id = await createConference(nodes[0]!.url, org, { guests: 'allow' });
    const first = await join(nodes[1]!, id, { cookie: org });
    const homeId = (await until(() => homeOf(nodes[0]!, id), 'a home'))!;
    const home = byId(homeId);
    const [X] = nodes.filter((n) => n !== home) as [TestNode];
    const o = await join(X, id, { cookie: org });
    const p = await join(home, id, { name: 'Pat' }); // connected straight to the node that will be paused
    first.client.close();
    expect(await homeOf(X, id)).toBe(homeId);
    expect((await p.client.request({ type: 'chat.send', text: 'before the pause' })).type).toBe('ack');
    await o.client.next('chat.message', (m) => m.message.text === 'before the pause', 15_000);

    const t0 = Date.now();
    home.proc.kill('SIGSTOP');
    try {
      // The others see its lease expire and move the conference; the relayed client is sent on to the new home.
      const moved = await until(async () => {
        const h = await homeOf(X, id);
        return h && h !== homeId ? h : null;
      }, 'the conference to move', 20_000);
      console.log(`[cluster] paused home: conference moved to ${moved} after ${Date.now() - t0} ms`);
      const closed = await Promise.race([o.client.closed, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
      expect(closed?.code).toBe(1012);
      const o2 = await join(X, id, { cookie: org, resume: o.welcome.resumeToken });
      // Said to the paused node while it sleeps: read by it only once it runs again.
      p.client.ws.send(JSON.stringify({ type: 'chat.send', text: 'from the fenced node', rid: 'late' }));
    } finally {
      home.proc.kill('SIGCONT');
    }
    // Resumed, it finds its lease gone: it closes the socket (1012) without acting on what it read.
    const pClosed = await Promise.race([p.client.closed, new Promise<{ code: number }>((r) => setTimeout(() => r({ code: -1 }), 15_000))]);
    expect(pClosed.code).toBe(1012);
    expect(p.client.received.some((m) => m.type === 'ack' && m.rid === 'late')).toBe(false);
    await until(() => home.log.some((l) => l.includes('lease not valid') || l.includes('lease lost')), 'the resumed node to say it lost its lease', 10_000);
    // The message reached nobody and is not in the store: Pat comes back (to the new home) and it is not in the history.
    const p2 = await join(X, id, { name: 'Pat', resume: p.welcome.resumeToken });
    expect(p2.welcome.resumeToken).toBe(p.welcome.resumeToken);
    const texts = p2.welcome.chat.map((m) => m.text);
    expect(texts).toContain('before the pause');
    expect(texts).not.toContain('from the fenced node');
    // The resumed node takes a fresh lease and serves again (as a relay to the new home).
    await until(async () => (await clusterView(X)).nodes.some((n) => n.id === homeId), 'the resumed node back in the cluster', 15_000);
    const q = await join(home, id, { name: 'Quinn' });
    expect(q.welcome.roster.map((r) => r.name)).toContain('Pat');
    for (const cl of [p2.client, q.client]) cl.close();
  }, 120_000);
});

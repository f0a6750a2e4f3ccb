import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, createConference, signUp, testServer } from './support.js';
import { ServerHarness } from './serverHarness.js';

describe('peer-to-peer decision and signalling through the Focus', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice']);
    alice = h.cookies.alice;
  });
  afterAll(async () => h.dispose());

  async function agent(conf: string) {
    const { c: a, w } = await h.joinAgent(conf, alice, { caps: { p2p: true } });
    expect(await a.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    return { a, self: w.self };
  }

  async function viewer(conf: string, name: string, p2p = true) {
    const v = new TestClient(h.url, conf);
    await v.hello({ name, caps: { p2p } });
    const w = await v.next('welcome');
    return { v, self: w.self };
  }

  it('two capable parties go p2p, signal through the Focus, and a third joiner escalates for good', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow', control: 'anyone' });
    const { a, self: hostId } = await agent(conf);
    expect((await a.next('share.updated')).share).toMatchObject({ hostId, transport: 'server' });
    const { v, self: viewerId } = await viewer(conf, 'Vic');
    expect((await a.next('share.updated', (m) => m.share?.transport === 'p2p')).share?.hostId).toBe(hostId);
    expect((await v.next('share.updated', (m) => m.share?.transport === 'p2p'))).toBeTruthy();

    // Offer from the host, answer from the viewer, both relayed with the sender named.
    expect(await a.request({ type: 'p2p.signal', to: viewerId, data: { kind: 'description', type: 'offer', sdp: 'v=0 offer' } })).toMatchObject({ type: 'ack' });
    expect(await v.next('p2p.signal')).toMatchObject({ from: hostId, data: { type: 'offer', sdp: 'v=0 offer' } });
    await v.request({ type: 'p2p.signal', to: hostId, data: { kind: 'candidate', candidate: 'a=candidate:1 1 UDP 1 127.0.0.1 5000 typ host', mid: '0' } });
    expect(await a.next('p2p.signal')).toMatchObject({ from: viewerId, data: { kind: 'candidate', mid: '0' } });

    const third = await viewer(conf, 'Thea');
    expect((await a.next('share.updated', (m) => m.share?.transport === 'server')).share?.hostId).toBe(hostId);
    await v.next('share.updated', (m) => m.share?.transport === 'server');
    // No more relaying once on the server path.
    expect(await a.request({ type: 'p2p.signal', to: viewerId, data: { kind: 'description', type: 'offer', sdp: 'x' } })).toMatchObject({ type: 'error', code: 'conflict' });
    // Back to two parties: still the server, once and for good.
    third.v.close();
    await a.next('participant.left');
    await new Promise((r) => setTimeout(r, 100));
    expect((await h.server.registry.get(conf))!.snapshot().share?.transport).toBe('server');
    a.close();
    v.close();
  });

  it('a client that cannot do p2p keeps the share on the server', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const { a } = await agent(conf);
    const { v } = await viewer(conf, 'Old', false);
    await new Promise((r) => setTimeout(r, 100));
    expect((await h.server.registry.get(conf))!.snapshot().share?.transport).toBe('server');
    expect(a.received.some((m) => m.type === 'share.updated' && m.share?.transport === 'p2p')).toBe(false);
    a.close();
    v.close();
  });

  it('only the host and its peer may signal, and only each other', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const { a, self: hostId } = await agent(conf);
    const { v, self: viewerId } = await viewer(conf, 'Vic');
    await v.next('share.updated', (m) => m.share?.transport === 'p2p');
    expect(await v.request({ type: 'p2p.signal', to: viewerId, data: { kind: 'failed', reason: 'x' } })).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await v.request({ type: 'p2p.signal', to: 'nobody', data: { kind: 'failed', reason: 'x' } })).toMatchObject({ type: 'error', code: 'not_found' });
    // A peer that gives up on the direct path escalates the share to the server.
    expect(await v.request({ type: 'p2p.signal', to: hostId, data: { kind: 'failed', reason: 'ICE failed' } })).toMatchObject({ type: 'ack' });
    expect((await a.next('share.updated', (m) => m.share?.transport === 'server')).share).toBeTruthy();
    a.close();
    v.close();
  });
});

describe('ICE servers and TURN credentials', () => {
  it('go to admitted participants only, and are fresh on refresh', async () => {
    const secret = 'test-secret-not-for-production';
    const srv = await testServer({ turn: { urls: ['turn:127.0.0.1:3478'], secret, ttlSeconds: 600 }, stunUrls: ['stun:127.0.0.1:3478'] });
    try {
      const { TurnCredentials } = await import('../src/conferencing/TurnCredentials.js');
      const alice = await signUp(srv.url, 'alice');
      const conf = await createConference(srv.url, alice);
      const org = new TestClient(srv.url, conf, { cookie: alice });
      await org.hello();
      const w = await org.next('welcome');
      expect(w.iceServers[0]).toEqual({ urls: ['stun:127.0.0.1:3478'] });
      const turn = w.iceServers[1]!;
      expect(turn.urls).toEqual(['turn:127.0.0.1:3478']);
      expect(turn.username).toMatch(new RegExp(`^\\d+:${w.self}$`));
      expect(TurnCredentials.verify(secret, turn.username!, turn.credential!)).toBe(true);
      const expiry = Number(turn.username!.split(':')[0]) * 1000;
      expect(expiry - Date.now()).toBeGreaterThan(590_000);
      expect(expiry - Date.now()).toBeLessThanOrEqual(600_000);

      const guest = new TestClient(srv.url, conf);
      await guest.hello({ name: 'Lobby Larry' });
      const wait = await guest.next('lobby.wait');
      expect(JSON.stringify(wait)).not.toContain('turn:');
      expect(await guest.request({ type: 'ice.refresh' })).toMatchObject({ type: 'error', code: 'forbidden' });
      const refreshed = await org.request({ type: 'ice.refresh' });
      expect(refreshed.type === 'ack' && refreshed.iceServers?.[1]?.username).toMatch(/^\d+:/);
      org.close();
      guest.close();
    } finally {
      await srv.dispose();
    }
  });
});

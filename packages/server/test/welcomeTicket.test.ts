/**
 * A late joiner's welcome carries a sharing ticket while someone else shares, so its page opens the
 * share without a `share.ticket` round trip first (real server, real sockets). The ticket is a viewer's,
 * single-use; nobody sharing, the host itself and agents get none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, TileEncoding, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TestClient, api, createConference, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;

/** Opens the sharing socket with `ticket`; resolves with the first frame received, or the close. */
function openShare(base: string, ticket: string, send: ShareMessage[] = [], keep = false): Promise<{ first?: ShareMessage; close?: number }> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/share`);
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => {
      ws.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket }));
      for (const m of send) ws.send(encodeShareMessage(m));
    });
    ws.on('message', (d: Buffer) => {
      resolve({ first: decodeShareMessage(new Uint8Array(d)) });
      if (!keep) ws.close();
    });
    ws.on('close', (code) => resolve({ close: code }));
  });
}

describe("a late joiner's welcome carries a sharing ticket", () => {
  let srv: Server;
  let alice: string;
  beforeAll(async () => {
    srv = await testServer();
    alice = await signUp(srv.url, 'alice');
  });
  afterAll(async () => srv.dispose());

  it('while an agent shares: a viewer gets one, which opens the share once; before the share, the agent itself: none', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const early = new TestClient(srv.url, conf);
    await early.hello({ name: 'Early Ed' });
    expect((await early.next('welcome')).shareTicket).toBeUndefined(); // nobody shares yet

    const tok = await api(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, alice);
    const agent = new TestClient(srv.url, conf);
    await agent.hello({ client: 'agent', agentToken: tok.body.token });
    expect((await agent.next('welcome')).shareTicket).toBeUndefined(); // agents ask for their own
    expect(await agent.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    const hostTicket = ((await agent.request({ type: 'share.ticket' })) as unknown as { ticket: string }).ticket;
    // The host's socket stays open (its first frame from the relay is the ack of its frame).
    const host = await openShare(
      srv.url,
      hostTicket,
      [
        { type: 'screen', width: 64, height: 64, tileSize: 64 },
        { type: 'tile', x: 0, y: 0, w: 64, h: 64, encoding: TileEncoding.Fill, flags: 0, data: Uint8Array.of(1, 2, 3) },
        { type: 'frame', seq: 1, time: 1 },
      ],
      true,
    );
    expect(host.first).toMatchObject({ type: 'ack', seq: 1 });

    const late = new TestClient(srv.url, conf);
    await late.hello({ name: 'Late Lena' });
    const welcome = await late.next('welcome');
    expect(welcome.share).not.toBeNull();
    expect(welcome.shareTicket).toEqual(expect.any(String));
    // It is a viewer's ticket: the relay sends the screen.
    expect((await openShare(srv.url, welcome.shareTicket!)).first).toMatchObject({ type: 'screen', width: 64, height: 64 });
    // Single-use.
    expect((await openShare(srv.url, welcome.shareTicket!)).close).not.toBeUndefined();
    for (const c of [early, agent, late]) c.close();
  });
});

/**
 * Private chat messages (issue 11 item 17): delivered to the sender's and the recipient's seats
 * only, never to a third socket, and after a restart still shown to those two parties alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@baton/protocol';
import { TestClient, api, createConference, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;
const chats = (c: TestClient) => c.received.filter((m): m is Extract<ServerMessage, { type: 'chat.message' }> => m.type === 'chat.message');

describe('private chat', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'baton-private-chat-'));
  let srv: Server;
  let alice: string;
  let bob: string;
  let carol: string;
  let conf: string;
  beforeAll(async () => {
    srv = await testServer({ dataDir });
    alice = await signUp(srv.url, 'alice');
    bob = await signUp(srv.url, 'bob');
    carol = await signUp(srv.url, 'carol');
    conf = await createConference(srv.url, alice, { guests: 'allow' });
  });
  afterAll(async () => {
    await srv.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const join = async (opts: { cookie?: string; name?: string }) => {
    const c = new TestClient(srv.url, conf, opts.cookie ? { cookie: opts.cookie } : {});
    await c.hello(opts.name ? { name: opts.name } : {});
    return { c, w: await c.next('welcome') };
  };

  it('reaches both tabs of the sender and every seat of the recipient, and no third socket', async () => {
    const a1 = await join({ cookie: alice });
    const a2 = await join({ cookie: alice });
    const b = await join({ cookie: bob });
    const c = await join({ cookie: carol });
    const g = await join({ name: 'Gus' });
    expect(await a1.c.request({ type: 'chat.send', text: 'psst, bob', to: b.w.self })).toMatchObject({ type: 'ack' });
    // A message to everyone afterwards: once the third parties have it, they would have had the private one.
    await a1.c.request({ type: 'chat.send', text: 'hello all' });
    for (const x of [a1, a2, b]) {
      const m = await x.c.next('chat.message', (m) => m.message.text === 'psst, bob');
      expect(m.message).toMatchObject({ senderName: 'Alice', to: { id: b.w.self, name: 'Bob', user: 'bob' } });
    }
    for (const x of [c, g]) {
      await x.c.next('chat.message', (m) => m.message.text === 'hello all');
      expect(chats(x.c).map((m) => m.message.text)).toEqual([]);
      expect(x.c.received.some((m) => JSON.stringify(m).includes('psst'))).toBe(false);
    }
    // A guest writes privately to another guest: the signed-in users see nothing of it.
    const g2 = await join({ name: 'Gina' });
    await g.c.request({ type: 'chat.send', text: 'guest secret', to: g2.w.self });
    await g2.c.next('chat.message', (m) => m.message.text === 'guest secret');
    await g.c.next('chat.message', (m) => m.message.text === 'guest secret');
    await g.c.request({ type: 'chat.send', text: 'after' });
    for (const x of [a1, a2, b, c]) {
      await x.c.next('chat.message', (m) => m.message.text === 'after');
      expect(x.c.received.some((m) => JSON.stringify(m).includes('guest secret'))).toBe(false);
    }
    // A newcomer's history has the public messages only.
    const late = await join({ name: 'Late' });
    expect(late.w.chat.map((m) => m.text)).toEqual(['hello all', 'after']);
    // Bob's next tab has his private message in its history; carol's has not.
    const b2 = await join({ cookie: bob });
    expect(b2.w.chat.map((m) => m.text)).toEqual(['psst, bob', 'hello all', 'after']);
    const c2 = await join({ cookie: carol });
    expect(c2.w.chat.map((m) => m.text)).toEqual(['hello all', 'after']);
    for (const x of [a1, a2, b, c, g, g2, late, b2, c2]) x.c.close();
  });

  it('refuses a private message to yourself, to your own other tab, to an agent, or to nobody', async () => {
    const a1 = await join({ cookie: alice });
    const a2 = await join({ cookie: alice });
    const tok = await api(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, bob);
    const agent = new TestClient(srv.url, conf);
    await agent.hello({ client: 'agent', agentToken: tok.body.token });
    const wa = await agent.next('welcome');
    expect(await a1.c.request({ type: 'chat.send', text: 'x', to: a1.w.self })).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await a1.c.request({ type: 'chat.send', text: 'x', to: a2.w.self })).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await a1.c.request({ type: 'chat.send', text: 'x', to: wa.self })).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await a1.c.request({ type: 'chat.send', text: 'x', to: 'nobody' })).toMatchObject({ type: 'error', code: 'not_found' });
    for (const c of [a1.c, a2.c, agent]) c.close();
  });

  it('after a restart a private message is in the history of its two parties only', async () => {
    await srv.close();
    srv = await testServer({ dataDir });
    const a = await join({ cookie: alice });
    const b = await join({ cookie: bob });
    const c = await join({ cookie: carol });
    expect(a.w.chat.map((m) => m.text)).toContain('psst, bob');
    expect(b.w.chat.find((m) => m.text === 'psst, bob')?.to).toMatchObject({ user: 'bob' });
    expect(c.w.chat.map((m) => m.text)).toEqual(['hello all', 'after']);
    for (const x of [a, b, c]) x.c.close();
  });
});

/**
 * Issue 9, consent spoofing: user text with control or invisible formatting characters is refused at
 * the server (hello, chat, REST bodies), and control.requested names the requester's account as the
 * server knows it, whatever the requester claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, api, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

const SPOOF = 'Alice (alice) asks to control your screen. Allow? [y/N] \x1b[8m';

describe('hostile user text', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice']);
    alice = h.cookies.alice;
  });
  afterAll(async () => h.dispose());

  it('a join with an escape sequence in the display name is refused and seats nobody', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow', control: 'anyone' });
    const org = new TestClient(h.url, conf, { cookie: alice });
    await org.hello();
    await org.next('welcome');

    const eve = new TestClient(h.url, conf);
    await eve.hello({ name: SPOOF, rid: 'h1' });
    const refused = await eve.nextAny((m) => m.type === 'error' && m.rid === 'h1');
    expect(refused).toMatchObject({ type: 'error', code: 'bad_request' });
    expect((refused as { message: string }).message).toBe(
      'invalid hello: name: name contains U+001B: name may not contain control, line-break or invisible formatting characters',
    );
    for (const name of ['Eve\u202eecilA', 'Al\u200bice', 'Eve\nAlice', 'Eve\x9b2J']) {
      await eve.hello({ name, rid: 'h2' });
      expect(await eve.nextAny((m) => m.type === 'error' && m.rid === 'h2')).toMatchObject({ code: 'bad_request' });
    }
    // A client cannot claim an account in hello either (strict schema).
    await eve.send({ type: 'hello', v: 1, name: 'Eve', user: 'alice', rid: 'h3' });
    expect(await eve.nextAny((m) => m.type === 'error' && m.rid === 'h3')).toMatchObject({ code: 'bad_request' });

    // Still in the handshake: a clean hello joins, and that is the first the organizer hears of it.
    await eve.hello({ name: 'Eve', rid: 'h4' });
    const welcome = await eve.next('welcome');
    const joined = await org.next('participant.joined');
    expect(joined.participant).toMatchObject({ id: welcome.self, name: 'Eve', user: null });
    expect(org.received.filter((m) => m.type === 'participant.joined')).toEqual([]);

    // Chat: newlines pass, an escape sequence is refused and reaches nobody.
    expect(await eve.request({ type: 'chat.send', text: 'hi\x1b]0;pwned\x07' })).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await eve.request({ type: 'chat.send', text: 'line one\nline two' })).toMatchObject({ type: 'ack' });
    expect((await org.next('chat.message')).message.text).toBe('line one\nline two');

    // control.requested: the account comes from the server (null for a guest, the login for a user),
    // apart from the name the participant chose.
    const { c: agent } = await h.joinAgent(conf, alice);
    expect(await agent.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    expect(await eve.request({ type: 'control.request' })).toMatchObject({ type: 'ack' });
    expect(await agent.next('control.requested')).toEqual({ type: 'control.requested', participantId: welcome.self, name: 'Eve', user: null });
    expect(await org.request({ type: 'control.request' })).toMatchObject({ type: 'ack' });
    expect(await agent.next('control.requested')).toMatchObject({ name: 'Alice', user: 'alice' });
    for (const c of [agent, org, eve]) c.close();
  });

  it('REST refuses such text in sign-up names and meeting subjects, with a clear message', async () => {
    const signup = await api(h.url, 'POST', '/api/auth/signup', { username: 'mallory', password: 'correct horse battery', displayName: SPOOF });
    expect(signup.status).toBe(400);
    expect(signup.body.error.message).toContain('name contains U+001B');
    const create = await api(h.url, 'POST', '/api/conferences', { subject: 'Sync\u202e' }, alice);
    expect(create.status).toBe(400);
    expect(create.body.error.message).toContain('subject contains U+202E');
  });
});

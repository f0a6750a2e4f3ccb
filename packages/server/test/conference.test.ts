import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CloseCode, MAX_CONFERENCE_FRAME } from '@baton/protocol';
import { TestClient, api, createConference, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;

describe('conference over real WebSockets', () => {
  let srv: Server;
  let alice: string; // organizer
  let bob: string; // signed-in attendee
  beforeAll(async () => {
    srv = await testServer({ reconnectGraceMs: 400 });
    alice = await signUp(srv.url, 'alice');
    bob = await signUp(srv.url, 'bob');
  });
  afterAll(async () => srv.dispose());

  async function join(conf: string, opts: { cookie?: string; name?: string; resume?: string } = {}) {
    const c = new TestClient(srv.url, conf, { cookie: opts.cookie });
    await c.hello({ ...(opts.name ? { name: opts.name } : {}), ...(opts.resume ? { resume: opts.resume } : {}) });
    return c;
  }

  it('lobby, admission, roster visibility and chat', async () => {
    const conf = await createConference(srv.url, alice);
    const org = await join(conf, { cookie: alice });
    const w = await org.next('welcome');
    expect(w.roster).toHaveLength(1);
    expect(w.roster[0]).toMatchObject({ name: 'Alice', role: 'organizer', user: 'alice', status: 'joined' });
    expect(w.conference.policy).toEqual({ guests: 'lobby', present: 'presenters', control: 'signed-in', audio: 'anyone' });

    const att = await join(conf, { cookie: bob });
    const wb = await att.next('welcome');
    expect(wb.roster.map((p) => p.name).sort()).toEqual(['Alice', 'Bob']);
    await org.next('participant.joined', (m) => m.participant.name === 'Bob');

    const guest = await join(conf, { name: 'Gus' });
    const wait = await guest.next('lobby.wait');
    const knock = await org.next('participant.joined', (m) => m.participant.name === 'Gus');
    expect(knock.participant.status).toBe('lobby');
    // An attendee does not see the lobby, and cannot admit.
    const denied = await att.request({ type: 'lobby.admit', participantId: wait.self });
    expect(denied).toMatchObject({ type: 'error', code: 'forbidden' });
    // A lobby guest cannot chat.
    expect(await guest.request({ type: 'chat.send', text: 'let me in' })).toMatchObject({ type: 'error', code: 'forbidden' });

    expect(await org.request({ type: 'lobby.admit', participantId: wait.self })).toMatchObject({ type: 'ack' });
    const wg = await guest.next('welcome');
    expect(wg.self).toBe(wait.self);
    expect(wg.roster.map((p) => p.name).sort()).toEqual(['Alice', 'Bob', 'Gus']);
    const seen = await att.next('participant.joined', (m) => m.participant.name === 'Gus');
    expect(seen.participant).toMatchObject({ status: 'joined', user: null, role: 'attendee' });
    expect(att.received.some((m) => m.type === 'participant.joined' && m.participant.status === 'lobby')).toBe(false);

    await guest.request({ type: 'chat.send', text: 'hello <b>all</b>' });
    for (const c of [org, att, guest]) {
      const m = await c.next('chat.message');
      expect(m.message).toMatchObject({ senderName: 'Gus', senderUser: null, text: 'hello <b>all</b>' });
    }
    // A late joiner gets the history.
    const late = await join(conf, { cookie: bob });
    const wl = await late.next('welcome');
    expect(wl.chat.map((m) => m.text)).toEqual(['hello <b>all</b>']);
    for (const c of [org, att, guest, late]) c.close();
  });

  it('refuses unauthorized commands with a typed error and changes nothing', async () => {
    const conf = await createConference(srv.url, alice);
    const org = await join(conf, { cookie: alice });
    const wo = await org.next('welcome');
    const att = await join(conf, { cookie: bob });
    const wb = await att.next('welcome');
    const before = (await srv.registry.get(conf))!.snapshot();
    for (const cmd of [
      { type: 'role.set', participantId: wb.self, role: 'organizer' },
      { type: 'participant.remove', participantId: wo.self },
      { type: 'policy.update', policy: { guests: 'allow' } },
      { type: 'control.grant', participantId: wb.self },
    ]) {
      const r = await att.request(cmd);
      expect(r.type, JSON.stringify(cmd)).toBe('error');
    }
    expect((await srv.registry.get(conf))!.snapshot()).toEqual(before);
    // Unknown ids get not_found.
    expect(await org.request({ type: 'participant.remove', participantId: 'nobody' })).toMatchObject({ type: 'error', code: 'not_found' });
    // The owner cannot be removed or demoted, even by another organizer.
    await org.request({ type: 'role.set', participantId: wb.self, role: 'organizer' });
    expect(await att.request({ type: 'participant.remove', participantId: wo.self })).toMatchObject({ type: 'error', code: 'forbidden' });
    org.close();
    att.close();
  });

  it('promotions persist and reach everyone; the organizer removes a participant', async () => {
    const conf = await createConference(srv.url, alice);
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');
    const att = await join(conf, { cookie: bob });
    const wb = await att.next('welcome');
    await org.request({ type: 'role.set', participantId: wb.self, role: 'presenter' });
    expect((await att.next('participant.updated', (m) => m.participant.id === wb.self)).participant.role).toBe('presenter');
    expect((await org.next('participant.updated', (m) => m.participant.id === wb.self)).participant.role).toBe('presenter');
    expect((await srv.store.getRoles(conf)).size).toBe(1);

    expect(await org.request({ type: 'participant.remove', participantId: wb.self })).toMatchObject({ type: 'ack' });
    const closed = await att.closed;
    expect(closed).toEqual({ code: CloseCode.Removed, reason: 'you were removed by the organizer' });
    expect(await org.next('participant.left')).toMatchObject({ participantId: wb.self, reason: 'removed' });
    org.close();
  });

  it('keeps a dropped seat for the grace period without a leave/join flap, then removes it', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');
    const guest = await join(conf, { name: 'Gwen' });
    const wg = await guest.next('welcome');
    await org.next('participant.joined');
    guest.ws.terminate();
    expect((await org.next('participant.updated')).participant).toMatchObject({ id: wg.self, connection: 'reconnecting' });
    const again = await join(conf, { name: 'Gwen', resume: wg.resumeToken });
    const w2 = await again.next('welcome');
    expect(w2.self).toBe(wg.self);
    expect((await org.next('participant.updated')).participant).toMatchObject({ id: wg.self, connection: 'online' });
    await new Promise((r) => setTimeout(r, 600));
    expect(org.received.filter((m) => m.type === 'participant.left' || m.type === 'participant.joined')).toEqual([]);

    again.ws.terminate();
    await org.next('participant.updated');
    expect(await org.next('participant.left', () => true, 3000)).toMatchObject({ participantId: wg.self, reason: 'timeout' });
    // The old token no longer holds a seat: a new join gets a new seat.
    const fresh = await join(conf, { name: 'Gwen', resume: wg.resumeToken });
    expect((await fresh.next('welcome')).self).not.toBe(wg.self);
    fresh.close();
    org.close();
  });

  it('a second connection with the same token replaces the first', async () => {
    const conf = await createConference(srv.url, alice);
    const a = await join(conf, { cookie: alice });
    const w = await a.next('welcome');
    const b = await join(conf, { cookie: alice, resume: w.resumeToken });
    expect((await b.next('welcome')).self).toBe(w.self);
    expect((await a.closed).code).toBe(CloseCode.Replaced);
    b.close();
  });

  it('enforces guest policy and closes unknown conferences', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'deny' });
    const g = await join(conf, { name: 'Nope' });
    expect(await g.closed).toMatchObject({ code: CloseCode.Denied });
    const u = await join('doesnotexist', { name: 'X' });
    expect(await u.closed).toEqual({ code: CloseCode.ConferenceEnded, reason: 'no such conference' });
    const noName = await join(await createConference(srv.url, alice, { guests: 'allow' }));
    expect((await noName.closed).reason).toMatch(/display name/);
  });

  it('bad input closes only that connection, with a stated reason', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');

    const bad = await join(conf, { name: 'Mallory' });
    await bad.next('welcome');
    // Valid JSON but an unknown type or a bad field: a typed error, the connection stays.
    expect(await bad.request({ type: 'launch.missiles' })).toMatchObject({ type: 'error', code: 'bad_request', message: "unknown message type 'launch.missiles'" });
    expect(await bad.request({ type: 'chat.send', text: 'x'.repeat(5000) })).toMatchObject({ type: 'error', code: 'bad_request' });
    await bad.send({ type: 'ping', rid: 'p' });
    expect(await bad.next('pong')).toMatchObject({ rid: 'p' });
    bad.ws.send('{not json');
    expect(await bad.closed).toEqual({ code: CloseCode.PolicyViolation, reason: 'malformed JSON' });

    const big = await join(conf, { name: 'Big' });
    await big.next('welcome');
    big.ws.send(JSON.stringify({ type: 'chat.send', text: 'y'.repeat(MAX_CONFERENCE_FRAME) }));
    expect((await big.closed).code).toBe(CloseCode.TooBig);

    const bin = await join(conf, { name: 'Bin' });
    await bin.next('welcome');
    bin.ws.send(Buffer.from([1, 2, 3]));
    expect((await bin.closed).code).toBe(CloseCode.UnsupportedData);

    const noHello = new TestClient(srv.url, conf);
    await noHello.send({ type: 'chat.send', text: 'hi' });
    expect(await noHello.closed).toEqual({ code: CloseCode.HandshakeFailed, reason: 'the first message must be hello' });

    const oldVersion = new TestClient(srv.url, conf);
    await oldVersion.send({ type: 'hello', v: 999, name: 'Future' });
    expect((await oldVersion.closed).code).toBe(CloseCode.UnsupportedVersion);

    // The organizer's connection and the conference are untouched.
    expect(await org.request({ type: 'chat.send', text: 'still here' })).toMatchObject({ type: 'ack' });
    org.close();
  });

  it('refuses a conference socket from another origin', async () => {
    const conf = await createConference(srv.url, alice);
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/ws/conference/${conf}`, { headers: { origin: 'https://evil.example', cookie: alice } });
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
  });

  it('a failing conference ends alone; the others keep running', async () => {
    const c1 = await createConference(srv.url, alice);
    const c2 = await createConference(srv.url, alice);
    const a1 = await join(c1, { cookie: alice });
    await a1.next('welcome');
    const a2 = await join(c2, { cookie: alice });
    await a2.next('welcome');
    // Make the store fail for conference 1 only, as a broken disk or a bug would.
    const original = srv.store.appendChat.bind(srv.store);
    srv.store.appendChat = async (m) => {
      if (m.conferenceId === c1) throw new Error('disk on fire');
      return original(m);
    };
    try {
      expect(await a1.request({ type: 'chat.send', text: 'boom' })).toMatchObject({ type: 'error', code: 'internal' });
      expect((await a1.closed).code).toBe(CloseCode.InternalError);
      expect(await a2.request({ type: 'chat.send', text: 'fine' })).toMatchObject({ type: 'ack' });
      expect((await a2.next('chat.message')).message.text).toBe('fine');
    } finally {
      srv.store.appendChat = original;
    }
    // Conference 1 can be joined again with a fresh Focus.
    const again = await join(c1, { cookie: alice });
    expect((await again.next('welcome')).roster).toHaveLength(1);
    again.close();
    a2.close();
  });

  it('deleting a conference ends it for everyone', async () => {
    const conf = await createConference(srv.url, alice);
    const a = await join(conf, { cookie: alice });
    await a.next('welcome');
    expect((await api(srv.url, 'DELETE', `/api/conferences/${conf}`, undefined, bob)).status).toBe(403);
    expect((await api(srv.url, 'DELETE', `/api/conferences/${conf}`, undefined, alice)).status).toBe(204);
    expect(await a.closed).toEqual({ code: CloseCode.ConferenceEnded, reason: 'the organizer deleted this meeting' });
    expect((await api(srv.url, 'GET', `/api/conferences/${conf}/preview`)).status).toBe(404);
  });

  it('two joins racing get the same Focus', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const clients = await Promise.all(['A', 'B', 'C', 'D'].map((n) => join(conf, { name: n })));
    const welcomes = await Promise.all(clients.map((c) => c.next('welcome')));
    // Whoever joined last sees all four; all share one roster.
    expect(Math.max(...welcomes.map((w) => w.roster.length))).toBe(4);
    expect(srv.registry.size).toBeGreaterThan(0);
    expect((await srv.registry.get(conf))!.participantCount).toBe(4);
    clients.forEach((c) => c.close());
  });

  it('a live policy change reaches everyone and applies to the lobby', async () => {
    const conf = await createConference(srv.url, alice);
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');
    const g = await join(conf, { name: 'Waiter' });
    await g.next('lobby.wait');
    expect(await org.request({ type: 'policy.update', policy: { guests: 'allow' } })).toMatchObject({ type: 'ack' });
    expect((await org.next('conference.updated')).conference.policy.guests).toBe('allow');
    await g.next('welcome');
    expect((await srv.store.getConference(conf))!.policy.guests).toBe('allow');
    org.close();
    g.close();
  });
});

describe('creating a meeting', () => {
  it('without a subject (left out or blank) the meeting is named after its organizer; a too long one is still refused', async () => {
    const srv = await testServer();
    try {
      const org = await signUp(srv.url, 'olga');
      for (const body of [{}, { subject: '' }, { subject: '   ' }]) {
        const r = await api(srv.url, 'POST', '/api/conferences', body, org);
        expect(r.status).toBe(201);
        expect(r.body).toMatchObject({ subject: "Olga's meeting", organizer: 'olga', organizerName: 'Olga' });
      }
      expect((await api(srv.url, 'POST', '/api/conferences', { subject: 'x'.repeat(201) }, org)).status).toBe(400);
      expect((await api(srv.url, 'POST', '/api/conferences', { subject: 7 }, org)).status).toBe(400);
      expect((await api(srv.url, 'POST', '/api/conferences', { subject: ' Planning ' }, org)).body.subject).toBe('Planning');
    } finally {
      await srv.dispose();
    }
  });
});

describe('invitations', () => {
  it('the organizer invites users and a distribution group; invitees see them with the meeting URL', async () => {
    const srv = await testServer();
    try {
      const org = await signUp(srv.url, 'olga');
      const dan = await signUp(srv.url, 'dan');
      const eve = await signUp(srv.url, 'eve');
      await srv.store.createGroup('eng');
      await srv.store.addGroupMembers('eng', ['eve', 'olga']);
      const conf = await createConference(srv.url, org, {}, 'Planning');
      expect((await api(srv.url, 'POST', `/api/conferences/${conf}/invitations`, { users: ['dan'], groups: ['eng'] }, dan)).status).toBe(403);
      const r = await api(srv.url, 'POST', `/api/conferences/${conf}/invitations`, { users: ['dan'], groups: ['eng'] }, org);
      expect(r.body.invited.sort()).toEqual(['dan', 'eve']); // not the organizer herself
      expect((await api(srv.url, 'POST', `/api/conferences/${conf}/invitations`, { users: ['nobody'] }, org)).body.error.code).toBe('not_found');
      expect((await api(srv.url, 'POST', `/api/conferences/${conf}/invitations`, { groups: ['nogroup'] }, org)).status).toBe(404);
      for (const cookie of [dan, eve]) {
        const inv = (await api(srv.url, 'GET', '/api/invitations', undefined, cookie)).body.invitations;
        expect(inv).toEqual([expect.objectContaining({ conferenceId: conf, subject: 'Planning', invitedBy: 'olga', url: `${srv.url}/m/${conf}` })]);
      }
      expect((await api(srv.url, 'GET', '/api/groups', undefined, dan)).body.groups).toEqual([{ name: 'eng' }]);
    } finally {
      await srv.dispose();
    }
  });

  it('some unknown entries: the others are still invited and the unknown ones named', async () => {
    const srv = await testServer();
    try {
      const org = await signUp(srv.url, 'olga');
      await signUp(srv.url, 'dan');
      await srv.store.createGroup('eng');
      const conf = await createConference(srv.url, org, {}, 'Planning');
      const r = await api(srv.url, 'POST', `/api/conferences/${conf}/invitations`, { users: ['dan', 'nobody'], groups: ['eng', 'nogroup'] }, org);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ invited: ['dan'], notFound: { users: ['nobody'], groups: ['nogroup'] } });
      const none = await api(srv.url, 'POST', `/api/conferences/${conf}/invitations`, { users: ['nobody'], groups: ['nogroup'] }, org);
      expect(none.status).toBe(404);
      expect(none.body.error.message).toBe('no such user: nobody; no such group: nogroup');
    } finally {
      await srv.dispose();
    }
  });

  it('invite suggestions: the organizer only, a few matches, names only, rate-limited', async () => {
    const srv = await testServer();
    try {
      const org = await signUp(srv.url, 'olga');
      const dan = await signUp(srv.url, 'dan');
      for (let i = 0; i < 12; i++) await signUp(srv.url, `dana${i}`);
      await signUp(srv.url, 'x_y');
      await srv.store.createGroup('Danube team');
      await srv.store.createGroup('eng');
      const conf = await createConference(srv.url, org, {}, 'Planning');
      const url = (q: string) => `/api/conferences/${conf}/invite-suggestions?q=${encodeURIComponent(q)}`;

      const r = await api(srv.url, 'GET', url('DAN'), undefined, org);
      expect(r.status).toBe(200);
      expect(r.body.users).toHaveLength(8);
      expect(r.body.users[0]).toEqual({ username: 'dan', displayName: 'Dan' }); // nothing but the two names
      expect(r.body.groups).toEqual([{ name: 'Danube team' }]);
      // By display name too, and LIKE wildcards are plain characters.
      expect((await api(srv.url, 'GET', url('Dana1'), undefined, org)).body.users.map((u: { username: string }) => u.username)).toEqual(['dana1', 'dana10', 'dana11']);
      expect((await api(srv.url, 'GET', url('_'), undefined, org)).body.users.map((u: { username: string }) => u.username)).toEqual(['x_y']);
      expect((await api(srv.url, 'GET', url('%'), undefined, org)).body.users).toEqual([]);
      // The organizer is not suggested to herself.
      expect((await api(srv.url, 'GET', url('olga'), undefined, org)).body.users).toEqual([]);

      expect((await api(srv.url, 'GET', url('dan'))).status).toBe(401); // guests: no session
      expect((await api(srv.url, 'GET', url('dan'), undefined, dan)).status).toBe(403); // not the organizer
      expect((await api(srv.url, 'GET', url(''), undefined, org)).status).toBe(400);
      expect((await api(srv.url, 'GET', url('x'.repeat(65)), undefined, org)).status).toBe(400);

      let status = 200;
      for (let i = 0; i < 60 && status === 200; i++) status = (await api(srv.url, 'GET', url('d'), undefined, org)).status;
      expect(status).toBe(429);
    } finally {
      await srv.dispose();
    }
  });
});

describe('persistence across a restart', () => {
  it('keeps accounts, conferences and chat', async () => {
    const first = await testServer();
    const cookie = await signUp(first.url, 'carol');
    const conf = await createConference(first.url, cookie, {}, 'Survives');
    const c = new TestClient(first.url, conf, { cookie });
    await c.hello();
    await c.next('welcome');
    await c.request({ type: 'chat.send', text: 'remember me' });
    await first.close();

    const second = await testServer({ dataDir: first.dataDir });
    try {
      const me = await api(second.url, 'GET', '/api/me', undefined, cookie);
      expect(me.body.user.username).toBe('carol');
      const c2 = new TestClient(second.url, conf, { cookie });
      await c2.hello();
      const w = await c2.next('welcome');
      expect(w.conference.subject).toBe('Survives');
      expect(w.chat.map((m) => m.text)).toEqual(['remember me']);
      c2.close();
    } finally {
      await second.dispose();
    }
  });
});

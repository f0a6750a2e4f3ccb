/**
 * Issue 15 items 1 and 2 against a real server, a real SMTP server in-process (smtp-server) and the
 * .ics parsed back (node-ical): a weekly meeting for a group mails each member an invitation; a new
 * time raises SEQUENCE and mails the update; deleting mails a CANCEL. The calendar feed, its revocation,
 * who may do what, and the lobby until the organizer opens a scheduled meeting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import ical from 'node-ical';
import { TestClient, api, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;
interface Received {
  to: string[];
  mail: ParsedMail;
}

/** An SMTP server on a free loopback port that keeps every mail by recipient. */
async function startSmtp(port = 0) {
  const mails: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), mail });
          for (const w of waiters.splice(0)) w();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as { port: number }).port,
    mails,
    /** Mails to `address` whose subject starts with `prefix`, once there are `n` of them. */
    async waitFor(address: string, prefix: string, n = 1, timeoutMs = 20_000): Promise<ParsedMail[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = mails.filter((m) => m.to.includes(address) && (m.mail.subject ?? '').startsWith(prefix)).map((m) => m.mail);
        if (found.length >= n) return found;
        if (Date.now() > deadline) throw new Error(`no "${prefix}" mail for ${address}; have: ${mails.map((m) => `${m.to} ${m.mail.subject}`).join(' | ')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, deadline - Date.now()).unref();
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The .ics a mail carries (attachment and text/calendar alternative), parsed, with its METHOD. */
function icsOf(mail: ParsedMail) {
  const file = mail.attachments.find((a) => a.contentType === 'application/ics');
  const alternative = mail.attachments.find((a) => a.contentType === 'text/calendar');
  expect(file, 'an .ics attachment').toBeDefined();
  expect(alternative, 'a text/calendar alternative').toBeDefined();
  const text = file!.content.toString('utf8');
  expect(alternative!.content.toString('utf8')).toBe(text);
  const parsed = ical.sync.parseICS(text);
  const events = Object.values(parsed).filter((c) => c?.type === 'VEVENT') as ical.VEvent[];
  expect(events).toHaveLength(1);
  return { text, event: events[0]!, method: /^METHOD:(\w+)/m.exec(text)?.[1] };
}

const weekly = { start: '2027-01-05T10:00', durationMinutes: 45, timeZone: 'Europe/Berlin', recurrence: { freq: 'weekly', count: 6 } };

describe('scheduled meetings with invitation mail', { timeout: 60_000 }, () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let srv: Server;
  const cookies: Record<string, string> = {};
  let conf = '';

  beforeAll(async () => {
    smtp = await startSmtp();
    srv = await testServer({ smtp: { url: `smtp://127.0.0.1:${smtp.port}`, from: 'Baton <baton@example.test>' } });
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) {
      const r = await api(srv.url, 'POST', '/api/auth/signup', {
        username: name,
        password: 'correct horse battery',
        displayName: name[0]!.toUpperCase() + name.slice(1),
        // erin has no address: invited, but no mail.
        ...(name === 'erin' ? {} : { email: `${name}@example.test` }),
      });
      expect(r.status).toBe(201);
      cookies[name] = r.setCookie!.split(';')[0]!;
    }
    await srv.store.createGroup('eng');
    await srv.store.addGroupMembers('eng', ['bob', 'carol', 'erin']);
  });
  afterAll(async () => {
    await srv?.dispose();
    await smtp?.close();
  });

  it('creates a weekly meeting in a time zone, stored as an RRULE', async () => {
    const r = await api(srv.url, 'POST', '/api/conferences', { subject: 'Weekly sync', schedule: weekly }, cookies.alice);
    expect(r.status).toBe(201);
    conf = r.body.id;
    expect(r.body.schedule).toMatchObject({
      start: '2027-01-05T09:00:00.000Z', // 10:00 in Berlin (CET, UTC+1)
      localStart: '2027-01-05T10:00',
      durationMinutes: 45,
      timeZone: 'Europe/Berlin',
      rrule: 'FREQ=WEEKLY;COUNT=6',
      recurrence: { freq: 'weekly', count: 6 },
      sequence: 0,
      next: { start: '2027-01-05T09:00:00.000Z', end: '2027-01-05T09:45:00.000Z' },
      opened: false,
    });
    const bad = await api(srv.url, 'POST', '/api/conferences', { schedule: { ...weekly, timeZone: 'Mars/Olympus' } }, cookies.alice);
    expect(bad.status).toBe(400);
    const noEnd = await api(srv.url, 'POST', '/api/conferences', { schedule: { ...weekly, recurrence: { freq: 'weekly' } } }, cookies.alice);
    expect(noEnd.status).toBe(400);
  });

  it('inviting a group mails each member with an address a valid invitation .ics', async () => {
    const r = await api(srv.url, 'POST', `/api/conferences/${conf}/invitations`, { users: ['dave'], groups: ['eng'] }, cookies.alice);
    expect(r.status).toBe(200);
    expect(r.body.invited.sort()).toEqual(['bob', 'carol', 'dave', 'erin']);
    for (const who of ['bob', 'carol', 'dave']) {
      const [mail] = await smtp.waitFor(`${who}@example.test`, 'Invitation: Weekly sync');
      expect(mail!.text).toContain(`/m/${conf}`);
      const { event, method, text } = icsOf(mail!);
      expect(method).toBe('REQUEST');
      expect(event.uid).toBe(`${conf}@baton`);
      expect(Number(event.sequence)).toBe(0);
      expect(event.summary).toBe('Weekly sync');
      expect(new Date(event.start).toISOString()).toBe('2027-01-05T09:00:00.000Z');
      expect(new Date(event.end).toISOString()).toBe('2027-01-05T09:45:00.000Z');
      expect(text).toMatch(/^DTSTART;TZID=Europe\/Berlin:20270105T100000\r?$/m);
      expect(text).toContain('BEGIN:VTIMEZONE');
      expect(event.rrule?.toString()).toContain('FREQ=WEEKLY;COUNT=6');
      // The sixth and last occurrence, still 10:00 in Berlin.
      expect(event.rrule!.all().map((d) => d.toISOString()).at(-1)).toBe('2027-02-09T09:00:00.000Z');
      expect(String((event.organizer as { val: string }).val).toLowerCase()).toBe('mailto:alice@example.test');
      const attendees = [event.attendee ?? []].flat().map((a) => String((a as { val: string }).val).toLowerCase());
      expect(attendees.sort()).toEqual(['mailto:bob@example.test', 'mailto:carol@example.test', 'mailto:dave@example.test']);
      expect(text).toMatch(new RegExp(`^URL;VALUE=URI:http://[^\\s]+/m/${conf}\r?$`, 'm'));
      expect(event.location).toContain(`/m/${conf}`);
    }
    // Nobody without an invitation got mail, and nothing went to the organizer.
    expect(smtp.mails.some((m) => m.to.some((a) => a.startsWith('mallory') || a.startsWith('alice')))).toBe(false);
  });

  it('without an address the invitation is still on the dashboard', async () => {
    const r = await api(srv.url, 'GET', '/api/invitations', undefined, cookies.erin);
    expect(r.body.invitations.map((i: { conferenceId: string }) => i.conferenceId)).toContain(conf);
    const up = await api(srv.url, 'GET', '/api/upcoming', undefined, cookies.erin);
    expect(up.body.meetings).toEqual([expect.objectContaining({ id: conf, role: 'invited', start: '2027-01-05T09:00:00.000Z', timeZone: 'Europe/Berlin', recurring: true })]);
  });

  it('a new time raises SEQUENCE and mails the update; a policy change does not', async () => {
    const policyOnly = await api(srv.url, 'PATCH', `/api/conferences/${conf}`, { policy: { guests: 'allow' } }, cookies.alice);
    expect(policyOnly.body.schedule.sequence).toBe(0);
    const r = await api(srv.url, 'PATCH', `/api/conferences/${conf}`, { schedule: { ...weekly, start: '2027-01-05T14:30' } }, cookies.alice);
    expect(r.status).toBe(200);
    expect(r.body.schedule).toMatchObject({ sequence: 1, start: '2027-01-05T13:30:00.000Z' });
    for (const who of ['bob', 'carol', 'dave']) {
      const [mail] = await smtp.waitFor(`${who}@example.test`, 'Updated invitation: Weekly sync');
      const { event, method } = icsOf(mail!);
      expect(method).toBe('REQUEST');
      expect(event.uid).toBe(`${conf}@baton`);
      expect(Number(event.sequence)).toBe(1);
      expect(new Date(event.start).toISOString()).toBe('2027-01-05T13:30:00.000Z');
    }
    expect(smtp.mails.filter((m) => m.mail.subject?.startsWith('Updated')).length).toBe(3);
  });

  it('only the organizer edits, opens or deletes; only organizer and invitees download the .ics', async () => {
    expect((await api(srv.url, 'PATCH', `/api/conferences/${conf}`, { subject: 'Mine now' }, cookies.bob)).status).toBe(403);
    expect((await api(srv.url, 'DELETE', `/api/conferences/${conf}`, undefined, cookies.bob)).status).toBe(403);
    expect((await api(srv.url, 'POST', `/api/conferences/${conf}/open`, undefined, cookies.bob)).status).toBe(403);
    expect((await api(srv.url, 'GET', `/api/conferences/${conf}/ics`, undefined, cookies.mallory)).status).toBe(403);
    expect((await api(srv.url, 'GET', `/api/conferences/${conf}/ics`)).status).toBe(401);
    for (const who of ['alice', 'bob']) {
      const res = await fetch(`${srv.url}/api/conferences/${conf}/ics`, { headers: { cookie: cookies[who]! } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="Weekly-sync.ics"');
      const text = await res.text();
      expect(text).toMatch(/^METHOD:PUBLISH\r?$/m);
      const event = Object.values(ical.sync.parseICS(text)).find((c) => c?.type === 'VEVENT') as ical.VEvent;
      expect(event.uid).toBe(`${conf}@baton`);
      expect(Number(event.sequence)).toBe(1);
    }
  });

  it('a calendar feed URL lists only that user’s meetings, and stops working when revoked or regenerated', async () => {
    const other = await api(srv.url, 'POST', '/api/conferences', { subject: 'Mallory private', schedule: { ...weekly, recurrence: null } }, cookies.mallory);
    expect(other.status).toBe(201);
    expect((await api(srv.url, 'GET', '/api/calendar-feed', undefined, cookies.bob)).body).toEqual({ active: false, createdAt: null });
    const made = await api(srv.url, 'POST', '/api/calendar-feed', undefined, cookies.bob);
    expect(made.status).toBe(201);
    const url = made.body.url as string;
    expect(url).toMatch(/\/calendar\/feed\.ics\?token=[\w-]{40,}$/);
    expect((await api(srv.url, 'GET', '/api/calendar-feed', undefined, cookies.bob)).body.active).toBe(true);
    // Only the hash is stored.
    const token = new URL(url).searchParams.get('token')!;
    expect(await srv.store.getCalendarFeedUser(token)).toBeUndefined();

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
    const events = Object.values(ical.sync.parseICS(await res.text())).filter((c) => c?.type === 'VEVENT') as ical.VEvent[];
    expect(events.map((e) => e.summary)).toEqual(['Weekly sync']);

    // Regenerated: the old URL is gone, the new one works.
    const again = await api(srv.url, 'POST', '/api/calendar-feed', undefined, cookies.bob);
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(again.body.url)).status).toBe(200);
    // Revoked.
    expect((await api(srv.url, 'DELETE', '/api/calendar-feed', undefined, cookies.bob)).status).toBe(204);
    expect((await fetch(again.body.url)).status).toBe(404);
    expect((await fetch(`${srv.url}/calendar/feed.ics?token=${'x'.repeat(43)}`)).status).toBe(404);
    expect((await fetch(`${srv.url}/calendar/feed.ics`)).status).toBe(404);
  });

  it('deleting the meeting mails each invitee a CANCEL', async () => {
    expect((await api(srv.url, 'DELETE', `/api/conferences/${conf}`, undefined, cookies.alice)).status).toBe(204);
    for (const who of ['bob', 'carol', 'dave']) {
      const [mail] = await smtp.waitFor(`${who}@example.test`, 'Cancelled: Weekly sync');
      const { event, method } = icsOf(mail!);
      expect(method).toBe('CANCEL');
      expect(event.status).toBe('CANCELLED');
      expect(event.uid).toBe(`${conf}@baton`);
      expect(Number(event.sequence)).toBe(2);
    }
  });
});

describe('the lobby until the organizer opens a scheduled meeting', { timeout: 60_000 }, () => {
  let srv: Server;
  let alice = '';
  let bob = '';
  const tomorrow = () => {
    const d = new Date(Date.now() + 24 * 3600_000);
    return `${d.toISOString().slice(0, 10)}T${d.toISOString().slice(11, 16)}`;
  };
  beforeAll(async () => {
    srv = await testServer();
    alice = await signUp(srv.url, 'alice');
    bob = await signUp(srv.url, 'bob');
  });
  afterAll(async () => srv?.dispose());

  const schedule = () => ({ start: tomorrow(), durationMinutes: 60, timeZone: 'UTC', recurrence: null });

  it('guests wait with the start time even when guests may join directly, until the organizer opens it', async () => {
    const r = await api(srv.url, 'POST', '/api/conferences', { subject: 'Later', policy: { guests: 'allow' }, schedule: schedule() }, alice);
    const conf = r.body.id as string;
    const guest = new TestClient(srv.url, conf);
    await guest.hello({ name: 'Gus' });
    const wait = await guest.next('lobby.wait');
    expect(wait.conference.schedule).toMatchObject({ start: r.body.schedule.next.start, timeZone: 'UTC', opened: false });
    // A signed-in attendee is not held by the start (policy: lobby for guests only).
    const att = new TestClient(srv.url, conf, { cookie: bob });
    await att.hello();
    await att.next('welcome');
    // Opened from the dashboard: guests may join directly, so the guest goes in.
    const opened = await api(srv.url, 'POST', `/api/conferences/${conf}/open`, undefined, alice);
    expect(opened.body.schedule.opened).toBe(true);
    const welcome = await guest.next('welcome');
    expect(welcome.self).toBe(wait.self);
    expect(welcome.conference.schedule?.opened).toBe(true);
    guest.close();
    att.close();
  });

  it('with the lobby policy, the organizer joining opens it and then admits the guest', async () => {
    const r = await api(srv.url, 'POST', '/api/conferences', { subject: 'Later too', schedule: schedule() }, alice);
    const conf = r.body.id as string;
    const guest = new TestClient(srv.url, conf);
    await guest.hello({ name: 'Gus' });
    const wait = await guest.next('lobby.wait');
    expect(wait.conference.schedule?.opened).toBe(false);
    const org = new TestClient(srv.url, conf, { cookie: alice });
    await org.hello();
    // The organizer sees the guest waiting.
    expect((await org.next('welcome')).roster.find((p) => p.id === wait.self)?.status).toBe('lobby');
    // Told that the meeting is open now; still in the lobby (policy: guests wait).
    const again = await guest.next('lobby.wait');
    expect(again.conference.schedule?.opened).toBe(true);
    expect(await org.request({ type: 'lobby.admit', participantId: wait.self })).toMatchObject({ type: 'ack' });
    await guest.next('welcome');
    // The opening is stored for this occurrence.
    expect((await srv.store.getConference(conf))!.openedAt).not.toBeNull();
    guest.close();
    org.close();
  });

  it('a meeting without a time, or whose occurrences are over, does not hold guests', async () => {
    const r = await api(srv.url, 'POST', '/api/conferences', { policy: { guests: 'allow' }, schedule: { start: '2020-01-01T10:00', durationMinutes: 30, timeZone: 'UTC', recurrence: null } }, alice);
    const guest = new TestClient(srv.url, r.body.id);
    await guest.hello({ name: 'Gus' });
    expect((await guest.next('welcome')).conference.schedule).toBeNull();
    guest.close();
  });
});

describe('invitation mail queued while SMTP is down survives a restart', { timeout: 90_000 }, () => {
  it('is stored, and sent by the restarted server once SMTP is up', async () => {
    // A port nobody listens on yet: SMTP is down.
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'baton-outbox-'));
    const smtpOpt = { url: `smtp://127.0.0.1:${port}`, from: 'Baton <baton@example.test>' };
    let srv = await testServer({ dataDir, smtp: smtpOpt });
    let smtp: Awaited<ReturnType<typeof startSmtp>> | undefined;
    try {
      const alice = await signUp(srv.url, 'alice');
      const r = await api(srv.url, 'POST', '/api/auth/signup', { username: 'bob', password: 'correct horse battery', displayName: 'Bob', email: 'bob@example.test' });
      expect(r.status).toBe(201);
      const conf = await api(srv.url, 'POST', '/api/conferences', { subject: 'While SMTP sleeps', schedule: weekly }, alice);
      expect((await api(srv.url, 'POST', `/api/conferences/${conf.body.id}/invitations`, { users: ['bob'] }, alice)).status).toBe(200);
      // Stored before anything is sent (and the first attempt fails: nothing listens).
      await expect.poll(async () => (await srv.store.listQueuedMail(10)).length, { timeout: 20_000 }).toBe(1);
      await srv.dispose();
      // SMTP comes up on that port; a new server on the same data directory sends what was queued.
      smtp = await startSmtp(port);
      srv = await testServer({ dataDir, smtp: smtpOpt });
      const [mail] = await smtp.waitFor('bob@example.test', 'Invitation: While SMTP sleeps');
      expect(icsOf(mail!).method).toBe('REQUEST');
      await expect.poll(async () => (await srv.store.listQueuedMail(10)).length, { timeout: 20_000 }).toBe(0);
      expect(smtp.mails).toHaveLength(1);
    } finally {
      await srv.dispose();
      await smtp?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

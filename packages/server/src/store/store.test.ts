/**
 * One suite, two engines: every Store method against a real SQLite file and a real PostgreSQL
 * database (created fresh for the run, dropped after). PostgreSQL missing: fail under CI=true,
 * else skip that half loudly (see testing.ts).
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SqliteDatabase from 'better-sqlite3';
import { DEFAULT_POLICY, type MeetingPolicy } from '@baton/protocol';
import { ConflictError, NotFoundError } from '../errors.js';
import { openStore, sqlitePath } from './index.js';
import type { Store, UserRecord } from './Store.js';
import { freshPostgres } from './testing.js';

const pgDb = await freshPostgres('store tests on PostgreSQL (packages/server/src/store/store.test.ts)');
const tmp = mkdtempSync(join(tmpdir(), 'baton-store-'));
afterAll(async () => {
  await pgDb?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const engines = [
  { engine: 'sqlite', url: `sqlite:${join(tmp, 'nested', 'dir', 'baton.sqlite')}` },
  { engine: 'postgres', url: pgDb?.url },
];

const uniq = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;
const hash = () => randomBytes(32).toString('hex');
const policy: MeetingPolicy = { guests: 'allow', present: 'anyone', control: 'never' };

describe.each(engines)('Store on $engine', ({ engine, url }) => {
  if (!url) {
    it.skip(`${engine}: not available, skipped (see warning above)`, () => {});
    return;
  }
  let store: Store;

  beforeAll(async () => {
    store = await openStore(url);
    await store.migrate();
    await store.migrate(); // idempotent
  });
  afterAll(async () => {
    await store.close();
    await store.close(); // safe twice
  });

  const user = (name = uniq('u'), admin = false): Promise<UserRecord> =>
    store.createUser({ username: name, displayName: `Name of ${name}`, passwordHash: 'scrypt$x', admin });
  const conference = async (organizerId: string, id = uniq('c')) =>
    store.createConference({ id, organizerId, subject: `Subject ${id}`, policy: DEFAULT_POLICY });

  describe('users', () => {
    it('creates and reads a user by id and by username', async () => {
      const name = uniq('alice');
      const u = await store.createUser({ username: name, displayName: 'Alice A.', passwordHash: 'h1', admin: true });
      expect(u).toMatchObject({ username: name, displayName: 'Alice A.', passwordHash: 'h1', admin: true });
      expect(u.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(u.createdAt).toISOString()).toBe(u.createdAt);
      expect(await store.getUserById(u.id)).toEqual(u);
      expect(await store.getUserByUsername(name)).toEqual(u);
      expect(await store.getUserById('nope')).toBeUndefined();
      expect(await store.getUserByUsername(uniq('nobody'))).toBeUndefined();
    });

    it('defaults admin to false', async () => {
      const u = await store.createUser({ username: uniq('plain'), displayName: 'P', passwordHash: 'h' });
      expect(u.admin).toBe(false);
      expect((await store.getUserById(u.id))!.admin).toBe(false);
    });

    it('rejects a duplicate username with ConflictError', async () => {
      const name = uniq('dup');
      await user(name);
      const err = await store.createUser({ username: name, displayName: 'x', passwordHash: 'y' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).code).toBe('conflict');
    });

    it('gets several users by username, ignoring unknown and repeated names', async () => {
      const a = await user(uniq('a'));
      const b = await user(uniq('b'));
      const got = await store.getUsersByUsernames([b.username, a.username, uniq('ghost'), a.username]);
      expect(got.map((u) => u.id).sort()).toEqual([a.id, b.id].sort());
      expect(await store.getUsersByUsernames([])).toEqual([]);
    });

    it('remembers a user\'s own phone number (0003), per user, and forgets it', async () => {
      const a = await user(uniq('phone'));
      const b = await user(uniq('phone'));
      expect(await store.getPhoneNumber(a.id)).toBeNull();
      await store.setPhoneNumber(a.id, '+441234567890');
      expect(await store.getPhoneNumber(a.id)).toBe('+441234567890');
      expect(await store.getPhoneNumber(b.id)).toBeNull();
      await store.setPhoneNumber(a.id, null);
      expect(await store.getPhoneNumber(a.id)).toBeNull();
      expect(await store.getPhoneNumber('nope')).toBeNull();
    });

    it('lists users sorted by username', async () => {
      const a = await user(uniq('list'));
      const all = await store.listUsers();
      expect(all.map((u) => u.id)).toContain(a.id);
      const names = all.map((u) => u.username);
      expect(names).toEqual([...names].sort());
    });
  });

  describe('sessions', () => {
    it('resolves a session to its user until it expires', async () => {
      const u = await user();
      const h = hash();
      const now = new Date();
      const expires = new Date(now.getTime() + 60_000);
      await store.createSession(h, u.id, expires);
      expect((await store.getSessionUser(h, now))?.id).toBe(u.id);
      expect((await store.getSessionUser(h, new Date(expires.getTime() - 1)))?.id).toBe(u.id);
      expect(await store.getSessionUser(h, expires)).toBeUndefined();
      expect(await store.getSessionUser(h, new Date(expires.getTime() + 1000))).toBeUndefined();
      expect(await store.getSessionUser(hash(), now)).toBeUndefined();
    });

    it('deletes a session', async () => {
      const u = await user();
      const h = hash();
      await store.createSession(h, u.id, new Date(Date.now() + 60_000));
      await store.deleteSession(h);
      expect(await store.getSessionUser(h, new Date())).toBeUndefined();
      await store.deleteSession(h); // deleting again is harmless
    });

    it('keeps sessions of one user apart', async () => {
      const u = await user();
      const [h1, h2] = [hash(), hash()];
      await store.createSession(h1, u.id, new Date(Date.now() + 60_000));
      await store.createSession(h2, u.id, new Date(Date.now() + 60_000));
      await store.deleteSession(h1);
      expect(await store.getSessionUser(h1, new Date())).toBeUndefined();
      expect((await store.getSessionUser(h2, new Date()))?.id).toBe(u.id);
    });
  });

  describe('groups', () => {
    it('creates a group, rejects a duplicate, and lists groups by name', async () => {
      const name = uniq('team-');
      const g = await store.createGroup(name);
      expect(g).toMatchObject({ name });
      expect(g.id).toBeTruthy();
      await expect(store.createGroup(name)).rejects.toBeInstanceOf(ConflictError);
      const groups = await store.listGroups();
      expect(groups.find((x) => x.name === name)).toEqual(g);
      const names = groups.map((x) => x.name);
      expect(names).toEqual([...names].sort());
    });

    it('adds members (idempotently) and removes them', async () => {
      const name = uniq('g');
      await store.createGroup(name);
      expect(await store.getGroupMembers(name)).toEqual([]);
      const [a, b, c] = [await user(uniq('m')), await user(uniq('m')), await user(uniq('m'))];
      await store.addGroupMembers(name, [a.username, b.username]);
      await store.addGroupMembers(name, [b.username, c.username, c.username]); // b already in: ignored
      const members = await store.getGroupMembers(name);
      expect(members!.map((u) => u.username)).toEqual([a, b, c].map((u) => u.username).sort());
      expect(members!.find((m) => m.id === a.id)).toEqual(a);

      await store.removeGroupMembers(name, [a.username, uniq('ghost')]);
      expect((await store.getGroupMembers(name))!.map((u) => u.id).sort()).toEqual([b.id, c.id].sort());
      await store.removeGroupMembers(name, []);
      expect(await store.getGroupMembers(name)).toHaveLength(2);
    });

    it('throws NotFoundError for an unknown group or user, adding nobody', async () => {
      const name = uniq('g');
      await store.createGroup(name);
      const a = await user();
      const ghost = uniq('ghost');
      const err = await store.addGroupMembers(name, [a.username, ghost]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as Error).message).toContain(ghost);
      expect(await store.getGroupMembers(name)).toEqual([]); // all or nothing
      await expect(store.addGroupMembers(uniq('nogroup'), [a.username])).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.removeGroupMembers(uniq('nogroup'), [a.username])).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.getGroupMembers(uniq('nogroup'))).toBeUndefined();
    });
  });

  describe('conferences', () => {
    it('creates, reads, updates and lists conferences with their organizer', async () => {
      const org = await user();
      const id = uniq('conf');
      const c = await store.createConference({ id, organizerId: org.id, subject: 'Weekly', policy });
      expect(c).toMatchObject({ id, organizerId: org.id, organizerUsername: org.username, subject: 'Weekly', policy });
      expect(c.updatedAt).toBe(c.createdAt);
      expect(await store.getConference(id)).toEqual(c);
      expect(await store.getConference(uniq('none'))).toBeUndefined();

      await new Promise((r) => setTimeout(r, 5));
      const u1 = await store.updateConference(id, { subject: 'Weekly sync' });
      expect(u1).toMatchObject({ subject: 'Weekly sync', policy, createdAt: c.createdAt });
      expect(u1!.updatedAt > c.updatedAt).toBe(true);
      const u2 = await store.updateConference(id, { policy: DEFAULT_POLICY });
      expect(u2).toMatchObject({ subject: 'Weekly sync', policy: DEFAULT_POLICY });
      expect(await store.getConference(id)).toEqual(u2);
      expect(await store.updateConference(uniq('none'), { subject: 'x' })).toBeUndefined();

      const other = await conference(org.id);
      const mine = await store.listConferencesByOrganizer(org.id);
      expect(mine.map((x) => x.id).sort()).toEqual([id, other.id].sort());
      expect(await store.listConferencesByOrganizer((await user()).id)).toEqual([]);
    });

    it('rejects a duplicate conference id and an unknown organizer', async () => {
      const org = await user();
      const c = await conference(org.id);
      await expect(conference(org.id, c.id)).rejects.toBeInstanceOf(ConflictError);
      await expect(conference('no-such-user')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('deleteConference removes the conference with its chat, invitations, roles and agent tokens', async () => {
      const org = await user();
      const guest = await user();
      const c = await conference(org.id);
      await store.appendChat({ conferenceId: c.id, senderId: 'p1', senderName: 'Al', senderUser: org.username, text: 'hi' });
      await store.addInvitations(c.id, [guest.id], org.id);
      await store.setRole(c.id, guest.id, 'presenter');
      const tok = hash();
      await store.createAgentToken(tok, { conferenceId: c.id, userId: org.id }, new Date(Date.now() + 60_000));

      expect(await store.deleteConference(c.id)).toBe(true);
      expect(await store.getConference(c.id)).toBeUndefined();
      expect(await store.listChat(c.id, 10)).toEqual([]);
      expect(await store.listInvitationsForUser(guest.id)).toEqual([]);
      expect((await store.getRoles(c.id)).size).toBe(0);
      expect(await store.consumeAgentToken(tok, new Date())).toBeUndefined();
      expect(await store.deleteConference(c.id)).toBe(false);

      // The same id can be used again, and starts empty.
      await conference(org.id, c.id);
      expect(await store.listChat(c.id, 10)).toEqual([]);
      expect(await store.listInvitationsForUser(guest.id)).toEqual([]);
    });

    it('deleting one conference leaves the others alone', async () => {
      const org = await user();
      const [a, b] = [await conference(org.id), await conference(org.id)];
      await store.appendChat({ conferenceId: b.id, senderId: 'p', senderName: 'P', senderUser: null, text: 'stays' });
      await store.setRole(b.id, org.id, 'organizer');
      expect(await store.deleteConference(a.id)).toBe(true);
      expect(await store.getConference(b.id)).toBeDefined();
      expect((await store.listChat(b.id, 5)).map((m) => m.text)).toEqual(['stays']);
      expect(await store.getRoles(b.id)).toEqual(new Map([[org.id, 'organizer']]));
    });
  });

  describe('invitations', () => {
    it('invites users once and lists their invitations, newest first', async () => {
      const org = await user();
      const [x, y] = [await user(), await user()];
      const c1 = await conference(org.id);
      const c2 = await conference(org.id);
      expect((await store.addInvitations(c1.id, [x.id, y.id, x.id], org.id)).sort()).toEqual([x.id, y.id].sort());
      expect(await store.addInvitations(c1.id, [x.id], org.id)).toEqual([]); // re-invite: no-op
      expect(await store.addInvitations(c1.id, [], org.id)).toEqual([]);
      await new Promise((r) => setTimeout(r, 5));
      expect(await store.addInvitations(c2.id, [x.id], org.id)).toEqual([x.id]);

      const inv = await store.listInvitationsForUser(x.id);
      expect(inv).toHaveLength(2);
      expect(inv[0]).toMatchObject({ conferenceId: c2.id, subject: c2.subject, userId: x.id, invitedByUsername: org.username });
      expect(inv[1]).toMatchObject({ conferenceId: c1.id, subject: c1.subject });
      expect(new Date(inv[0]!.createdAt).toISOString()).toBe(inv[0]!.createdAt);
      expect((await store.listInvitationsForUser(y.id)).map((i) => i.conferenceId)).toEqual([c1.id]);
      expect(await store.listInvitationsForUser(org.id)).toEqual([]);
    });

    it('reports an unknown conference or user as NotFoundError', async () => {
      const org = await user();
      const c = await conference(org.id);
      await expect(store.addInvitations(uniq('none'), [org.id], org.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.addInvitations(c.id, ['no-such-user'], org.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('shows the updated subject in invitations', async () => {
      const org = await user();
      const x = await user();
      const c = await conference(org.id);
      await store.addInvitations(c.id, [x.id], org.id);
      await store.updateConference(c.id, { subject: 'Renamed' });
      expect((await store.listInvitationsForUser(x.id))[0]!.subject).toBe('Renamed');
    });
  });

  describe('chat', () => {
    it('appends messages with increasing ids and lists the last N oldest-first', async () => {
      const org = await user();
      const c = await conference(org.id);
      const other = await conference(org.id);
      const sent = [];
      for (let i = 0; i < 7; i++) {
        sent.push(
          await store.appendChat({ conferenceId: c.id, senderId: `p${i % 2}`, senderName: i % 2 ? 'Guest' : 'Org', senderUser: i % 2 ? null : org.username, text: `m${i}` }),
        );
        if (i === 3) await store.appendChat({ conferenceId: other.id, senderId: 'q', senderName: 'Q', senderUser: null, text: 'elsewhere' });
      }
      for (let i = 1; i < sent.length; i++) expect(sent[i]!.id).toBeGreaterThan(sent[i - 1]!.id);
      expect(sent[0]).toMatchObject({ conferenceId: c.id, senderId: 'p0', senderName: 'Org', senderUser: org.username, text: 'm0' });
      expect(sent[1]!.senderUser).toBeNull();
      expect(typeof sent[0]!.id).toBe('number');

      const last3 = await store.listChat(c.id, 3);
      expect(last3.map((m) => m.text)).toEqual(['m4', 'm5', 'm6']);
      expect(last3[2]).toEqual(sent[6]);
      expect((await store.listChat(c.id, 100)).map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
      expect(await store.listChat(c.id, 0)).toEqual([]);
      expect((await store.listChat(other.id, 10)).map((m) => m.text)).toEqual(['elsewhere']);
    });

    it('keeps text verbatim (unicode, quotes, newlines)', async () => {
      const org = await user();
      const c = await conference(org.id);
      const text = `it's "quoted" \\ ; DROP TABLE users; -- 👋 ünïcödé\nsecond line`;
      await store.appendChat({ conferenceId: c.id, senderId: 'p', senderName: 'Zoë', senderUser: null, text });
      expect((await store.listChat(c.id, 1))[0]).toMatchObject({ text, senderName: 'Zoë' });
    });

    it('rejects chat for an unknown conference', async () => {
      await expect(store.appendChat({ conferenceId: uniq('none'), senderId: 'p', senderName: 'P', senderUser: null, text: 'x' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  describe('roles', () => {
    it('sets, overwrites and reads roles per conference', async () => {
      const org = await user();
      const [a, b] = [await user(), await user()];
      const c = await conference(org.id);
      const other = await conference(org.id);
      expect((await store.getRoles(c.id)).size).toBe(0);
      await store.setRole(c.id, a.id, 'presenter');
      await store.setRole(c.id, b.id, 'attendee');
      await store.setRole(c.id, a.id, 'organizer');
      await store.setRole(other.id, b.id, 'presenter');
      expect(await store.getRoles(c.id)).toEqual(new Map([[a.id, 'organizer'], [b.id, 'attendee']]));
      expect(await store.getRoles(other.id)).toEqual(new Map([[b.id, 'presenter']]));
      await expect(store.setRole(uniq('none'), a.id, 'presenter')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('lobby admissions', () => {
    it('saves, extends, lists the unexpired ones of a conference, and deletes one or all', async () => {
      const org = await user();
      const invited = await user();
      const [c, other] = [await conference(org.id), await conference(org.id)];
      const [g, u, x] = [hash(), hash(), hash()];
      const now = Date.now();
      await store.saveAdmission({ tokenHash: g, conferenceId: c.id, userId: null, name: 'Guest Gail' }, new Date(now + 60_000));
      await store.saveAdmission({ tokenHash: u, conferenceId: c.id, userId: invited.id, name: 'Ursula' }, new Date(now + 1_000));
      await store.saveAdmission({ tokenHash: x, conferenceId: other.id, userId: null, name: 'Elsewhere' }, new Date(now + 60_000));
      const list = await store.listAdmissions(c.id, new Date(now));
      expect(list.map((a) => a.name).sort()).toEqual(['Guest Gail', 'Ursula']);
      expect(list.find((a) => a.tokenHash === u)).toMatchObject({ conferenceId: c.id, userId: invited.id });
      // Expired ones are not listed; extending (or saving again) moves the expiry.
      expect((await store.listAdmissions(c.id, new Date(now + 5_000))).map((a) => a.tokenHash)).toEqual([g]);
      await store.extendAdmissions(c.id, [u], new Date(now + 120_000));
      expect((await store.listAdmissions(c.id, new Date(now + 90_000))).map((a) => a.tokenHash)).toEqual([u]);
      await store.saveAdmission({ tokenHash: g, conferenceId: c.id, userId: null, name: 'Guest Gail' }, new Date(now + 120_000));
      expect(await store.listAdmissions(c.id, new Date(now + 90_000))).toHaveLength(2);
      // extend touches only that conference's rows
      await store.extendAdmissions(other.id, [u], new Date(now + 999_000));
      expect(await store.listAdmissions(c.id, new Date(now + 500_000))).toEqual([]);

      await store.deleteAdmission(g);
      expect((await store.listAdmissions(c.id, new Date(now))).map((a) => a.tokenHash)).toEqual([u]);
      await store.deleteAdmissions(c.id);
      expect(await store.listAdmissions(c.id, new Date(now))).toEqual([]);
      expect(await store.listAdmissions(other.id, new Date(now))).toHaveLength(1);
      await expect(store.saveAdmission({ tokenHash: hash(), conferenceId: 'nope', userId: null, name: 'N' }, new Date(now + 1000))).rejects.toBeInstanceOf(NotFoundError);
      // Deleting the conference takes its admissions with it.
      expect(await store.deleteConference(other.id)).toBe(true);
      expect(await store.listAdmissions(other.id, new Date(now))).toEqual([]);
    });
  });

  describe('recordings', () => {
    it('creates, finishes, shares, lists by owner and share, and deletes', async () => {
      const org = await user();
      const other = await user();
      const stranger = await user();
      const c = await conference(org.id);
      const id = uniq('r');
      await store.createRecording({ id, conferenceId: c.id, subject: c.subject, organizerId: org.id, startedBy: org.id, startedAt: '2026-01-02T03:04:05.000Z' });
      expect((await store.listUnfinishedRecordings()).map((r) => r.id)).toContain(id);
      await store.finishRecording(id, { endedAt: '2026-01-02T04:04:05.000Z', durationMs: 3_600_000, bytes: 5 * 2 ** 32, status: 'done', note: null, hasAudio: false });
      const r = await store.getRecording(id);
      expect(r).toMatchObject({ id, organizerUsername: org.username, startedByUsername: org.username, status: 'done', durationMs: 3_600_000, bytes: 5 * 2 ** 32, hasAudio: false });
      expect((await store.listUnfinishedRecordings()).map((x) => x.id)).not.toContain(id);
      expect((await store.listRecordingsForUser(other.id)).map((x) => x.id)).not.toContain(id);
      await store.shareRecording(id, [other.id, other.id]);
      await store.shareRecording(id, [other.id]);
      expect(await store.listRecordingShares(id)).toEqual([other.username]);
      expect(await store.isRecordingSharedWith(id, other.id)).toBe(true);
      expect(await store.isRecordingSharedWith(id, stranger.id)).toBe(false);
      expect((await store.listRecordingsForUser(other.id)).map((x) => x.id)).toEqual([id]);
      expect((await store.listRecordingsForUser(org.id)).map((x) => x.id)).toContain(id);
      expect((await store.listRecordingsBefore('2026-01-03T00:00:00.000Z')).map((x) => x.id)).toContain(id);
      expect((await store.listRecordingsBefore('2026-01-01T00:00:00.000Z')).map((x) => x.id)).not.toContain(id);
      // The recording outlives its meeting.
      await store.deleteConference(c.id);
      expect(await store.getRecording(id)).toBeDefined();
      await store.unshareRecording(id, [other.id]);
      expect(await store.listRecordingShares(id)).toEqual([]);
      expect(await store.deleteRecording(id)).toBe(true);
      expect(await store.getRecording(id)).toBeUndefined();
      expect(await store.deleteRecording(id)).toBe(false);
    });
  });

  describe('slide decks', () => {
    it('creates, lists, shows one deck at a page (one at a time), and goes with its meeting', async () => {
      const org = await user();
      const c = await conference(org.id);
      const other = await conference(org.id);
      const base = { conferenceId: c.id, sha256: 'a'.repeat(64), name: 'Deck.pdf', pages: 12, size: 5 * 2 ** 32, converted: false, uploaderName: 'Org', uploaderUser: org.username };
      const a = await store.createSlideDeck({ ...base, id: uniq('d') });
      // Decks list oldest first by created_at (milliseconds): b must not share a's millisecond.
      const t = Date.now();
      while (Date.now() === t) await new Promise((r) => setImmediate(r));
      const b = await store.createSlideDeck({ ...base, id: uniq('d'), name: 'Talk.pptx', converted: true, uploaderUser: null });
      expect(a).toMatchObject({ page: 1, shownAt: null, size: 5 * 2 ** 32 });
      expect((await store.listSlideDecks(c.id)).map((d) => d.id)).toEqual([a.id, b.id]);
      await store.showSlideDeck(c.id, { deckId: a.id, page: 7 });
      await store.showSlideDeck(c.id, { deckId: b.id, page: 2 });
      const [da, db] = await store.listSlideDecks(c.id);
      expect(da).toMatchObject({ page: 7, shownAt: null });
      expect(db).toMatchObject({ page: 2, converted: true, uploaderUser: null });
      expect(db!.shownAt).not.toBeNull();
      // Another meeting's call cannot show this meeting's deck.
      await store.showSlideDeck(other.id, { deckId: a.id, page: 3 });
      expect((await store.getSlideDeck(a.id))!.page).toBe(7);
      await store.showSlideDeck(c.id, null);
      expect((await store.listSlideDecks(c.id)).every((d) => d.shownAt === null)).toBe(true);
      await expect(store.createSlideDeck({ ...base, id: uniq('d'), conferenceId: 'nope' })).rejects.toThrow(/unknown conference/);
      await store.deleteConference(c.id);
      expect(await store.listSlideDecks(c.id)).toEqual([]);
      expect(await store.getSlideDeck(a.id)).toBeUndefined();
    });
  });

  describe('mail outbox', () => {
    it('keeps queued mail until deleted; each free mail is claimed by one caller only; released mail is free again', async () => {
      const a = uniq('m');
      const b = uniq('m');
      const future = '2999-01-01T00:00:00.000Z';
      await store.queueMail({ id: a, mail: JSON.stringify({ to: 'a@example.test', subject: 'A', text: 'ä' }), attempts: 0, notBefore: '2026-01-01T00:00:00.000Z', leaseUntil: future, createdAt: '2026-01-01T00:00:01.000Z' });
      await store.queueMail({ id: b, mail: '{"to":"b@example.test"}', attempts: 0, notBefore: '2026-01-01T00:00:00.000Z', leaseUntil: '2026-01-01T00:10:00.000Z', createdAt: '2026-01-01T00:00:02.000Z' });
      const rows = (await store.listQueuedMail(1000)).filter((r) => r.id === a || r.id === b);
      expect(rows.map((r) => r.id)).toEqual([a, b]);
      expect(rows[0]).toEqual({ id: a, mail: JSON.stringify({ to: 'a@example.test', subject: 'A', text: 'ä' }), attempts: 0, notBefore: '2026-01-01T00:00:00.000Z', leaseUntil: future, createdAt: '2026-01-01T00:00:01.000Z' });
      // b's lease ended; a is still held. Two callers race for it: one gets it.
      const now = '2026-06-01T00:00:00.000Z';
      const [first, second] = await Promise.all([store.claimQueuedMail(now, '2026-06-01T00:15:00.000Z', 1000), store.claimQueuedMail(now, '2026-06-01T00:16:00.000Z', 1000)]);
      const claimed = [...first, ...second].map((r) => r.id).filter((id) => id === a || id === b);
      expect(claimed).toEqual([b]);
      expect((await store.claimQueuedMail(now, future, 1000)).map((r) => r.id)).not.toContain(b);
      await store.updateQueuedMail(b, 2, '2026-06-01T00:01:00.000Z', '2026-06-01T00:20:00.000Z');
      expect((await store.listQueuedMail(1000)).find((r) => r.id === b)).toMatchObject({ attempts: 2, notBefore: '2026-06-01T00:01:00.000Z', leaseUntil: '2026-06-01T00:20:00.000Z' });
      await store.releaseQueuedMail([a, b]);
      const again = (await store.claimQueuedMail(now, future, 1000)).map((r) => r.id);
      expect(again).toContain(a);
      expect(again).toContain(b);
      await store.deleteQueuedMail(a);
      await store.deleteQueuedMail(a);
      await store.deleteQueuedMail(b);
      expect((await store.listQueuedMail(1000)).map((r) => r.id).filter((id) => id === a || id === b)).toEqual([]);
      await store.releaseQueuedMail([]);
    });
  });

  describe('agent tokens', () => {
    it('consumes a token exactly once', async () => {
      const org = await user();
      const c = await conference(org.id);
      const tok = hash();
      await store.createAgentToken(tok, { conferenceId: c.id, userId: org.id }, new Date(Date.now() + 60_000));
      expect(await store.consumeAgentToken(tok, new Date())).toEqual({ conferenceId: c.id, userId: org.id });
      expect(await store.consumeAgentToken(tok, new Date())).toBeUndefined();
      expect(await store.consumeAgentToken(hash(), new Date())).toBeUndefined();
    });

    it('hands a token to exactly one of several concurrent consumers', async () => {
      const org = await user();
      const c = await conference(org.id);
      const tok = hash();
      await store.createAgentToken(tok, { conferenceId: c.id, userId: org.id }, new Date(Date.now() + 60_000));
      const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeAgentToken(tok, new Date())));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('does not honour an expired token', async () => {
      const org = await user();
      const c = await conference(org.id);
      const tok = hash();
      const expires = new Date(Date.now() + 60_000);
      await store.createAgentToken(tok, { conferenceId: c.id, userId: org.id }, expires);
      expect(await store.consumeAgentToken(tok, new Date(expires.getTime() + 1))).toBeUndefined();
      expect(await store.consumeAgentToken(tok, new Date())).toBeUndefined(); // and it is gone
    });

    it('rejects a token for an unknown conference', async () => {
      const org = await user();
      await expect(store.createAgentToken(hash(), { conferenceId: uniq('none'), userId: org.id }, new Date(Date.now() + 1000))).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  describe('schedules, e-mail and calendar feeds (issue 15)', () => {
    const weekly = { startsAt: '2027-01-05T09:00:00.000Z', durationMinutes: 45, timeZone: 'Europe/Berlin', rrule: 'FREQ=WEEKLY;COUNT=6' };

    it('keeps an optional e-mail address on users', async () => {
      const u = await store.createUser({ username: uniq('mail'), displayName: 'M', passwordHash: 'h', email: 'm@example.test' });
      expect(u.email).toBe('m@example.test');
      expect((await store.getUserById(u.id))!.email).toBe('m@example.test');
      await store.setEmail(u.id, null);
      expect((await store.getUserById(u.id))!.email).toBeNull();
      expect((await user()).email).toBeNull();
    });

    it('stores a schedule, raises the sequence atomically and records the opening', async () => {
      const o = await user();
      const c = await store.createConference({ id: uniq('s'), organizerId: o.id, subject: 'S', policy: DEFAULT_POLICY, schedule: weekly });
      expect(c).toMatchObject({ schedule: weekly, sequence: 0, openedAt: null });
      expect((await conference(o.id)).schedule).toBeNull();
      await Promise.all([store.updateConference(c.id, { bumpSequence: true }), store.updateConference(c.id, { bumpSequence: true })]);
      expect((await store.getConference(c.id))!.sequence).toBe(2);
      const moved = { ...weekly, startsAt: '2027-01-05T13:30:00.000Z', rrule: null };
      const at = new Date().toISOString();
      expect(await store.updateConference(c.id, { schedule: moved, openedAt: at })).toMatchObject({ schedule: moved, openedAt: at, sequence: 2 });
      expect((await store.updateConference(c.id, { schedule: null }))!.schedule).toBeNull();
    });

    it('lists invitees and the scheduled meetings a user organizes or is invited to', async () => {
      const [o, a, b] = [await user(), await user(), await user()];
      const s1 = await store.createConference({ id: uniq('s'), organizerId: o.id, subject: 'S1', policy: DEFAULT_POLICY, schedule: weekly });
      const plain = await conference(o.id);
      await store.addInvitations(s1.id, [a.id, b.id], o.id);
      await store.addInvitations(plain.id, [a.id], o.id);
      expect((await store.listInvitees(s1.id)).map((u) => u.id).sort()).toEqual([a.id, b.id].sort());
      expect((await store.listScheduledFor(o.id)).map((x) => [x.conference.id, x.role])).toEqual([[s1.id, 'organizer']]);
      expect((await store.listScheduledFor(a.id)).map((x) => [x.conference.id, x.role])).toEqual([[s1.id, 'invited']]);
    });

    it('keeps one calendar feed per user by token hash; replaced, then revoked', async () => {
      const u = await user();
      const [h1, h2] = [hash(), hash()];
      expect(await store.getCalendarFeed(u.id)).toBeUndefined();
      const made = await store.setCalendarFeed(u.id, h1);
      expect(await store.getCalendarFeed(u.id)).toEqual(made);
      expect((await store.getCalendarFeedUser(h1))!.id).toBe(u.id);
      await store.setCalendarFeed(u.id, h2);
      expect(await store.getCalendarFeedUser(h1)).toBeUndefined();
      expect((await store.getCalendarFeedUser(h2))!.id).toBe(u.id);
      expect(await store.deleteCalendarFeed(u.id)).toBe(true);
      expect(await store.deleteCalendarFeed(u.id)).toBe(false);
      expect(await store.getCalendarFeedUser(h2)).toBeUndefined();
    });
  });

  describe('durability', () => {
    it('keeps data across closing and reopening the store', async () => {
      const name = uniq('durable');
      const group = uniq('dg');
      const tok = hash();
      const sess = hash();
      const expires = new Date(Date.now() + 3_600_000);
      let userId: string;
      let confId: string;
      {
        const s = await openStore(url);
        await s.migrate();
        const u = await s.createUser({ username: name, displayName: 'Durable', passwordHash: 'ph', admin: true });
        userId = u.id;
        confId = uniq('dc');
        await s.createConference({ id: confId, organizerId: u.id, subject: 'Kept', policy });
        await s.appendChat({ conferenceId: confId, senderId: 'p', senderName: 'D', senderUser: name, text: 'persisted' });
        await s.setRole(confId, u.id, 'organizer');
        await s.createGroup(group);
        await s.addGroupMembers(group, [name]);
        await s.addInvitations(confId, [u.id], u.id);
        await s.createSession(sess, u.id, expires);
        await s.createAgentToken(tok, { conferenceId: confId, userId: u.id }, expires);
        await s.close();
      }
      {
        const s = await openStore(url);
        await s.migrate();
        expect(await s.getUserByUsername(name)).toMatchObject({ id: userId, displayName: 'Durable', passwordHash: 'ph', admin: true });
        expect(await s.getConference(confId)).toMatchObject({ subject: 'Kept', policy, organizerUsername: name });
        expect((await s.listChat(confId, 10)).map((m) => m.text)).toEqual(['persisted']);
        expect(await s.getRoles(confId)).toEqual(new Map([[userId, 'organizer']]));
        expect((await s.getGroupMembers(group))!.map((u) => u.username)).toEqual([name]);
        expect((await s.listInvitationsForUser(userId)).map((i) => i.conferenceId)).toEqual([confId]);
        expect((await s.getSessionUser(sess, new Date()))?.id).toBe(userId);
        expect(await s.consumeAgentToken(tok, new Date())).toEqual({ conferenceId: confId, userId });
        await s.close();
      }
    });
  });
});

describe('openStore', () => {
  it('creates the parent directory and puts a SQLite file in WAL mode', async () => {
    const file = join(tmp, 'a', 'b', 'wal.sqlite');
    const s = await openStore(`sqlite:${file}`);
    await s.migrate();
    await s.createUser({ username: 'w', displayName: 'W', passwordHash: 'h' });
    expect(existsSync(file)).toBe(true);
    await s.close();
    const raw = new SqliteDatabase(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('opens a private in-memory SQLite store', async () => {
    const a = await openStore('sqlite::memory:');
    const b = await openStore('sqlite::memory:');
    await a.migrate();
    await b.migrate();
    await a.createUser({ username: 'mem', displayName: 'M', passwordHash: 'h' });
    expect(await a.getUserByUsername('mem')).toBeDefined();
    expect(await b.getUserByUsername('mem')).toBeUndefined();
    await a.close();
    await b.close();
  });

  it('parses sqlite URLs and rejects unknown schemes', async () => {
    expect(sqlitePath('sqlite:data/x.sqlite')).toBe('data/x.sqlite');
    expect(sqlitePath('sqlite:///abs/x.sqlite')).toBe('/abs/x.sqlite');
    expect(sqlitePath('sqlite::memory:')).toBe(':memory:');
    expect(() => sqlitePath('sqlite:')).toThrow(/no path/);
    await expect(openStore('mysql://u:secret@h/db')).rejects.toThrow(/unsupported store URL "mysql:\/\/\*\*\*@h\/db"/);
  });
});

/**
 * LobbyManager's persisted admissions against a real SQLite store: saved on admission under the
 * token's hash, extended while the seat lives (short TTL here), taken back once by the same token and
 * user only, revoked when the seat goes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '@baton/protocol';
import { openStore } from '../store/index.js';
import type { ConferenceRecord, Store } from '../store/Store.js';
import { hashToken } from '../auth/tokens.js';
import { LobbyManager } from './LobbyManager.js';
import { RosterManager } from './RosterManager.js';
import type { ParticipantLink } from './Seat.js';

const link: ParticipantLink = { send() {}, close() {} };

describe('LobbyManager admissions', () => {
  let dir: string;
  let store: Store;
  let record: ConferenceRecord;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'baton-lobby-'));
    store = await openStore(`sqlite:${path.join(dir, 'b.sqlite')}`);
    await store.migrate();
    const org = await store.createUser({ username: 'olga', displayName: 'Olga', passwordHash: 'x' });
    record = await store.createConference({ id: 'c1', organizerId: org.id, subject: 'S', policy: { ...DEFAULT_POLICY, guests: 'lobby' } });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const lobby = () => new LobbyManager({ conferenceId: 'c1', store, roster: new RosterManager(), roles: new Map(), graceMs: 0, admissionTtlMs: 1500 });

  it('extends a live admission, restores it once for the same token, and revokes it when the seat goes', async () => {
    const a = lobby();
    const out = a.handleJoin({ user: null, name: 'Gail', client: 'web', link }, record);
    expect(out.seat.status).toBe('lobby');
    a.handleAdmit(out.seat);
    const hash = hashToken(out.seat.resumeToken);
    await expect.poll(async () => (await store.listAdmissions('c1', new Date())).map((x) => x.tokenHash)).toEqual([hash]);
    const first = (await store.listAdmissions('c1', new Date()))[0]!.expiresAt;
    // Refreshed every TTL/2 while the seat lives, so it outlives its first expiry.
    await expect.poll(async () => (await store.listAdmissions('c1', new Date()))[0]?.expiresAt ?? '', { timeout: 15_000 }).not.toBe(first);
    await new Promise((r) => setTimeout(r, 1600));
    expect(await store.listAdmissions('c1', new Date())).toHaveLength(1);
    a.close();

    // A fresh manager (after a restart) loads it: the same token goes straight in, once.
    const b = lobby();
    await b.load();
    const wrong = b.handleJoin({ user: null, name: 'Gail', resume: 'not-the-token', client: 'web', link }, record);
    expect(wrong).toMatchObject({ kind: 'new', seat: { status: 'lobby' } });
    expect((wrong as { note?: string }).note).toContain('could not be restored');
    const back = b.handleJoin({ user: null, name: 'Someone else', resume: out.seat.resumeToken, client: 'web', link }, record);
    expect(back.seat).toMatchObject({ status: 'joined', name: 'Gail', resumeToken: out.seat.resumeToken });
    const again = b.handleJoin({ user: null, name: 'Gail', resume: out.seat.resumeToken, client: 'web', link }, record);
    expect(again.seat.status).toBe('lobby'); // taken already (a live seat is found by the roster, not here)
    b.handleGone(back.seat);
    await expect.poll(async () => (await store.listAdmissions('c1', new Date())).length).toBe(0);
    b.close();
  });
});

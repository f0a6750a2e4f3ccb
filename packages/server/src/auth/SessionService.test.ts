import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/index.js';
import type { Store, UserRecord } from '../store/Store.js';
import { DEFAULT_SESSION_LIFETIME_MS, SessionService } from './SessionService.js';
import { hashToken } from './tokens.js';

describe('SessionService (real in-memory SQLite store)', () => {
  let store: Store;
  let user: UserRecord;
  let clock: Date;

  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    await store.migrate();
    user = await store.createUser({ username: 'ann', displayName: 'Ann', passwordHash: 'x' });
    clock = new Date('2030-01-01T00:00:00.000Z');
  });
  afterEach(() => store.close());

  it('creates a session whose token resolves to the user, storing only its hash', async () => {
    const sessions = new SessionService(store, { now: () => clock });
    const { token, expiresAt } = await sessions.create(user.id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt.getTime() - clock.getTime()).toBe(DEFAULT_SESSION_LIFETIME_MS);
    expect(DEFAULT_SESSION_LIFETIME_MS).toBe(30 * 24 * 3600 * 1000);
    expect((await sessions.resolve(token))?.id).toBe(user.id);
    expect((await store.getSessionUser(hashToken(token), clock))?.id).toBe(user.id);
    expect(await store.getSessionUser(token, clock)).toBeUndefined(); // the raw token is not a key
  });

  it('resolves nothing for a missing, unknown or expired token', async () => {
    const sessions = new SessionService(store, { lifetimeMs: 1000, now: () => clock });
    const { token } = await sessions.create(user.id);
    expect(await sessions.resolve(undefined)).toBeUndefined();
    expect(await sessions.resolve('')).toBeUndefined();
    expect(await sessions.resolve('not-a-token')).toBeUndefined();
    clock = new Date(clock.getTime() + 999);
    expect((await sessions.resolve(token))?.id).toBe(user.id);
    clock = new Date(clock.getTime() + 1);
    expect(await sessions.resolve(token)).toBeUndefined();
  });

  it('destroys a session', async () => {
    const sessions = new SessionService(store);
    const a = await sessions.create(user.id);
    const b = await sessions.create(user.id);
    await sessions.destroy(a.token);
    await sessions.destroy(undefined);
    expect(await sessions.resolve(a.token)).toBeUndefined();
    expect((await sessions.resolve(b.token))?.id).toBe(user.id);
  });
});

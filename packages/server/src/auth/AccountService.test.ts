import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, ConflictError, UnauthenticatedError } from '../errors.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/Store.js';
import { AccountService } from './AccountService.js';
import { verifyPassword } from './passwords.js';

describe('AccountService (real in-memory SQLite store)', () => {
  let store: Store;
  let accounts: AccountService;

  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    await store.migrate();
    accounts = new AccountService(store);
  });
  afterEach(() => store.close());

  it('signs up a user with a scrypt hash, normalizing the username', async () => {
    const u = await accounts.signUp({ username: '  Alice ', password: 'password-1', displayName: 'Alice Liddell' });
    expect(u).toMatchObject({ username: 'alice', displayName: 'Alice Liddell', admin: false });
    expect(u.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('password-1', u.passwordHash)).toBe(true);
    expect(await store.getUserByUsername('alice')).toEqual(u);
  });

  it('defaults the display name to the username and can make an admin', async () => {
    const u = await accounts.signUp({ username: 'root', password: 'password-1', admin: true });
    expect(u).toMatchObject({ displayName: 'root', admin: true });
  });

  it('rejects a taken username with ConflictError', async () => {
    await accounts.signUp({ username: 'bob', password: 'password-1' });
    await expect(accounts.signUp({ username: 'BOB', password: 'password-2' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('rejects invalid input with BadRequestError', async () => {
    await expect(accounts.signUp({ username: 'x', password: 'password-1' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(accounts.signUp({ username: 'has space', password: 'password-1' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(accounts.signUp({ username: 'carol', password: 'short' })).rejects.toThrow(/at least 8/);
    await expect(accounts.signUp({ username: 'carol', password: 'password-1', displayName: '   ' })).rejects.toBeInstanceOf(BadRequestError);
    expect(await store.getUserByUsername('carol')).toBeUndefined();
  });

  it('signs in with the right password only, with one message for every failure', async () => {
    const u = await accounts.signUp({ username: 'dave', password: 'password-1' });
    expect((await accounts.signIn('dave', 'password-1')).id).toBe(u.id);
    expect((await accounts.signIn(' Dave', 'password-1')).id).toBe(u.id);
    const failures = await Promise.all([
      accounts.signIn('dave', 'password-2').catch((e: unknown) => e),
      accounts.signIn('nobody', 'password-1').catch((e: unknown) => e),
      accounts.signIn('!!', 'password-1').catch((e: unknown) => e),
    ]);
    for (const e of failures) {
      expect(e).toBeInstanceOf(UnauthenticatedError);
      expect((e as Error).message).toBe('wrong username or password');
    }
  });

  it('does about as much work for an unknown user as for a wrong password', async () => {
    await accounts.signUp({ username: 'erin', password: 'password-1' });
    // CPU time of this process (scrypt runs on libuv's pool threads, which it counts), not wall-clock time:
    // the work done is what leaks an account's existence, and it does not change when the machine is busy.
    const time = async (name: string) => {
      const t0 = process.cpuUsage();
      await accounts.signIn(name, 'wrong-password').catch(() => {});
      const d = process.cpuUsage(t0);
      return (d.user + d.system) / 1000;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time('erin'));
      unknown.push(await time('frank'));
    }
    const [k, u] = [median(known), median(unknown)];
    console.log(`signIn median CPU: wrong password ${k.toFixed(1)} ms, unknown user ${u.toFixed(1)} ms`);
    // Without the dummy verify an unknown user answers in well under a millisecond.
    expect(u).toBeGreaterThan(k * 0.4);
    expect(u).toBeLessThan(k * 2.5);
  });
});

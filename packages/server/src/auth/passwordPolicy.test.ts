import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../errors.js';
import { openStore } from '../store/index.js';
import { AccountService } from './AccountService.js';
import { passwordWeakness } from './passwordPolicy.js';

describe('password policy', () => {
  it('refuses the most common passwords, also with digits or symbols around them, other case or leetspeak', () => {
    for (const pw of ['password', 'Password1!', 'password-1', '12345678', 'qwertyuiop', 'iloveyou2024', 'P@ssw0rd', 'p4ssw0rd', 'letmein!!', '1q2w3e4r', 'abcd1234']) {
      expect(passwordWeakness(pw), pw).toMatch(/most common passwords/);
    }
  });

  it('refuses very low-entropy passwords: repeats, sequences, keyboard rows, the username', () => {
    for (const pw of ['aaaaaaaa', 'abababab', '11112222', 'abcabcabc', 'kjhgfdsa', 'mnbvcxzlkjh', 'zyxwvuts', '98769876']) {
      expect(passwordWeakness(pw), pw).toMatch(/too easy to guess/);
    }
    expect(passwordWeakness('maximilian1', 'maximilian')).toMatch(/too close to your username/);
  });

  it('accepts ordinary good passwords', () => {
    for (const pw of ['correct horse battery', 'bob password 1', 'bench-password-1', 'Tr0ub4dor&3', 's3cret-pass', 'café-pässe', 'mydog rex']) {
      expect(passwordWeakness(pw, 'alice'), pw).toBeNull();
    }
  });

  it('AccountService applies it only when asked (self-service sign-up), with the reason as the error', async () => {
    const store = await openStore('sqlite::memory:');
    await store.migrate();
    try {
      const strict = new AccountService(store, { passwordPolicy: true });
      const err = await strict.signUp({ username: 'alice', password: 'Password123' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as Error).message).toMatch(/most common passwords/);
      expect(await store.getUserByUsername('alice')).toBeUndefined();
      await expect(strict.signUp({ username: 'alice', password: 'correct horse battery' })).resolves.toMatchObject({ username: 'alice' });
      // The operator's CLI path keeps only the length rule.
      await expect(new AccountService(store).signUp({ username: 'bob', password: 'password-1' })).resolves.toMatchObject({ username: 'bob' });
    } finally {
      await store.close();
    }
  });
});

import { scryptSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, SCRYPT_PARAMS, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('encodes scrypt$N$r$p$salt$hash with a 16-byte salt', async () => {
    const h = await hashPassword('correct horse battery staple');
    const parts = h.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(parts[4]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(parts[5]!, 'base64').length).toBeGreaterThanOrEqual(32);
    expect(SCRYPT_PARAMS).toEqual({ N: 16384, r: 8, p: 1 });
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const h = await hashPassword('s3cret-pass');
    expect(await verifyPassword('s3cret-pass', h)).toBe(true);
    expect(await verifyPassword('s3cret-pasS', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('salts every hash differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('reads the cost parameters from the stored hash', async () => {
    // A hash made elsewhere with other parameters still verifies.
    const salt = randomBytes(16);
    const key = scryptSync('old-password', salt, 64, { N: 1024, r: 4, p: 2 });
    const encoded = `scrypt$1024$4$2$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPassword('old-password', encoded)).toBe(true);
    expect(await verifyPassword('other', encoded)).toBe(false);
  });

  it('treats a tampered or malformed hash as a mismatch', async () => {
    const h = await hashPassword('pw-12345');
    const parts = h.split('$');
    const flipped = Buffer.from(parts[5]!, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    expect(await verifyPassword('pw-12345', [...parts.slice(0, 5), flipped.toString('base64')].join('$'))).toBe(false);
    for (const bad of ['', 'plain', 'bcrypt$1$2$3$4$5', 'scrypt$16384$8$1$salt', 'scrypt$1000$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==', 'scrypt$4194304$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==', 'scrypt$16384$8$1$$AAAA']) {
      expect(await verifyPassword('pw-12345', bad)).toBe(false);
    }
  });

  it('normalizes unicode so composed and decomposed forms match', async () => {
    const h = await hashPassword('caf\u00e9-p\u00e4ss');
    expect(await verifyPassword('cafe\u0301-pa\u0308ss', h)).toBe(true);
  });
});

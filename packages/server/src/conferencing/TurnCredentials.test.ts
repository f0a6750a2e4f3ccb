import { describe, expect, it } from 'vitest';
import { TurnCredentials } from './TurnCredentials.js';

const URLS = ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'];

describe('TurnCredentials', () => {
  it('signs with HMAC-SHA1 + base64 (RFC 2202 test case 2)', () => {
    // HMAC-SHA1("Jefe", "what do ya want for nothing?") = effcdf6ae5eb2fa2d27416d5f184df9c259a7c79
    expect(TurnCredentials.sign('Jefe', 'what do ya want for nothing?')).toBe(Buffer.from('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', 'hex').toString('base64'));
  });

  it('issues "<expiry>:<participant>" with the credential coturn expects', () => {
    // Vector computed outside Node: printf '%s' '1700003600:p-alice' | openssl dgst -sha1 -hmac north-wind-secret -binary | base64
    const creds = new TurnCredentials({ secret: 'north-wind-secret', urls: URLS, ttlSeconds: 3600, now: () => 1_700_000_000_250 });
    const c = creds.issue('p-alice');
    expect(c).toEqual({
      urls: URLS,
      username: '1700003600:p-alice',
      credential: '5qK/sDkWCz5ehLbOPovWbE2fK3A=',
      expiresAt: '2023-11-14T23:13:20.000Z',
    });
  });

  it('puts now + ttl in the username, default ttl one hour', () => {
    let t = 1_800_000_000_000;
    const creds = new TurnCredentials({ secret: 's3cret', urls: URLS, now: () => t });
    expect(creds.ttlSeconds).toBe(3600);
    expect(creds.issue('bob').username).toBe('1800003600:bob');
    t += 90_000;
    const later = creds.issue('bob');
    expect(later.username).toBe('1800003690:bob');
    expect(Date.parse(later.expiresAt)).toBe(1_800_003_690_000);
    // The returned URL list is a copy: a caller mutating it does not change later credentials.
    later.urls.push('turn:evil.example:3478');
    expect(creds.issue('bob').urls).toEqual(URLS);
  });

  it('verify accepts a fresh credential until its expiry second, then refuses it', () => {
    const now = 1_700_000_000_000;
    const c = new TurnCredentials({ secret: 'k', urls: URLS, ttlSeconds: 60, now: () => now }).issue('carol');
    expect(TurnCredentials.verify('k', c.username, c.credential, now)).toBe(true);
    expect(TurnCredentials.verify('k', c.username, c.credential, now + 60_000)).toBe(true);
    expect(TurnCredentials.verify('k', c.username, c.credential, now + 61_000)).toBe(false);
  });

  it('verify refuses a wrong secret, a tampered username or credential, and malformed usernames', () => {
    const now = 1_700_000_000_000;
    const c = new TurnCredentials({ secret: 'right', urls: URLS, now: () => now }).issue('dave');
    expect(TurnCredentials.verify('wrong', c.username, c.credential, now)).toBe(false);
    const [expiry] = c.username.split(':');
    // Stretching the expiry invalidates the signature.
    expect(TurnCredentials.verify('right', `${Number(expiry) + 3600}:dave`, c.credential, now)).toBe(false);
    expect(TurnCredentials.verify('right', `${expiry}:mallory`, c.credential, now)).toBe(false);
    expect(TurnCredentials.verify('right', c.username, c.credential.slice(1), now)).toBe(false);
    expect(TurnCredentials.verify('right', 'dave', TurnCredentials.sign('right', 'dave'), now)).toBe(false);
    expect(TurnCredentials.verify('right', 'abc:dave', TurnCredentials.sign('right', 'abc:dave'), now)).toBe(false);
  });

  it('rejects bad options and participant ids', () => {
    expect(() => new TurnCredentials({ secret: '', urls: URLS })).toThrow(/secret/);
    expect(() => new TurnCredentials({ secret: 'x', urls: [] })).toThrow(/URL/);
    expect(() => new TurnCredentials({ secret: 'x', urls: ['http://turn.example.org'] })).toThrow(/not a TURN/);
    expect(() => new TurnCredentials({ secret: 'x', urls: URLS, ttlSeconds: 0 })).toThrow(/ttl/);
    expect(() => new TurnCredentials({ secret: 'x', urls: URLS, ttlSeconds: 1.5 })).toThrow(/ttl/);
    const creds = new TurnCredentials({ secret: 'x', urls: URLS });
    expect(() => creds.issue('')).toThrow(/participant/);
    expect(() => creds.issue('has space')).toThrow(/participant/);
    expect(() => creds.issue('x'.repeat(129))).toThrow(/participant/);
  });
});

/** The SMTP flags of loadConfig (--smtp-url, --smtp-from, BATON_SMTP_*). */
import { describe, expect, it } from 'vitest';
import { loadConfig, type ServerConfig } from './config.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(argv, env) as ServerConfig;

describe('loadConfig: invitation mail', () => {
  it('no SMTP URL: no mail', () => {
    expect(load([]).smtp).toBeNull();
  });

  it('flags over environment; From derived from the public URL when not given', () => {
    expect(load(['--smtp-url', 'smtp://u:p@mail.example.org:587', '--smtp-from', 'Baton <baton@example.org>']).smtp).toEqual({
      url: 'smtp://u:p@mail.example.org:587',
      from: 'Baton <baton@example.org>',
    });
    expect(load([], { BATON_SMTP_URL: 'smtps://mail.example.org:465', BATON_PUBLIC_URL: 'https://meet.example.org' }).smtp).toEqual({
      url: 'smtps://mail.example.org:465',
      from: 'baton@meet.example.org',
    });
  });

  it('refuses a bad URL or a missing From without echoing the URL (it may hold a password)', () => {
    expect(() => load(['--smtp-url', 'http://u:s3cret@mail.example.org'])).toThrow(/--smtp-url must look like/);
    expect(() => load(['--smtp-url', 'http://u:s3cret@mail.example.org'])).not.toThrow(/s3cret/);
    expect(() => load(['--smtp-url', 'smtp://u:s3cret@mail.example.org'])).toThrow(/needs --smtp-from/);
    expect(() => load(['--smtp-url', 'smtp://mail.example.org', '--smtp-from', 'not an address'])).toThrow(/not an address/);
  });
});

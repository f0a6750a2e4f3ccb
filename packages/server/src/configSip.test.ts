/** The SIP flags of loadConfig (--sip-*, BATON_SIP_*), validated with zod. */
import { describe, expect, it } from 'vitest';
import { loadConfig, type ServerConfig } from './config.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(argv, env) as ServerConfig;

describe('loadConfig: SIP dial-out', () => {
  it('no trunk: no dial-out', () => {
    expect(load([]).sip).toBeNull();
  });

  it('a trunk with defaults, flags over environment', () => {
    expect(load(['--sip-trunk', 'sip:trunk.example.org:5060'])).toMatchObject({
      sip: { trunk: 'sip:trunk.example.org:5060', username: null, password: null, from: null, numberFormat: '+{number}', address: '0.0.0.0', port: 0, noAnswerSeconds: 45 },
    });
    const c = load(['--sip-trunk', 'sip:10.0.0.9', '--sip-number-format', '00{number}'], { BATON_SIP_TRUNK: 'sip:other', BATON_SIP_USERNAME: 'u', BATON_SIP_PASSWORD: 'p', BATON_SIP_FROM: 'sip:baton@example.org', BATON_SIP_ADDRESS: '10.0.0.2', BATON_SIP_PORT: '5070', BATON_SIP_NO_ANSWER: '30' });
    expect(c.sip).toEqual({ trunk: 'sip:10.0.0.9', username: 'u', password: 'p', from: 'sip:baton@example.org', numberFormat: '00{number}', address: '10.0.0.2', port: 5070, noAnswerSeconds: 30 });
  });

  it('refuses what is not right, saying which flag', () => {
    expect(() => load(['--sip-trunk', 'http://x'])).toThrow(/--sip-trunk must look like sip:host/);
    expect(() => load(['--sip-trunk', 'sip:x', '--sip-username', 'u'])).toThrow(/--sip-username and --sip-password go together/);
    expect(() => load(['--sip-trunk', 'sip:x', '--sip-number-format', '9'])).toThrow(/must contain \{number\}/);
    expect(() => load(['--sip-trunk', 'sip:x', '--sip-address', 'eth0'])).toThrow(/--sip-address must be an IPv4 address/);
    expect(() => load(['--sip-trunk', 'sip:x', '--sip-no-answer', '2'])).toThrow(/SIP configuration/);
    expect(() => load(['--sip-trunk', 'sip:x', '--sip-from', 'baton'])).toThrow(/--sip-from must be a SIP URI/);
  });
});

/** The audio flags of loadConfig: --audio, --janus-url, --janus-secret and their environment variables. */
import { describe, expect, it } from 'vitest';
import { loadConfig, type ServerConfig } from './config.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(argv, env) as ServerConfig;

describe('loadConfig: audio', () => {
  it('defaults to auto: run Janus when it is installed', () => {
    expect(load([]).audio).toEqual({ mode: 'auto', janusUrl: null, janusSecret: null });
  });

  it('takes flags over environment variables', () => {
    expect(load([], { BATON_AUDIO: 'off' }).audio?.mode).toBe('off');
    expect(load(['--audio', 'auto'], { BATON_AUDIO: 'off' }).audio?.mode).toBe('auto');
    expect(load(['--janus-url', 'ws://10.0.0.5:8188', '--janus-secret', 's3cret'], { BATON_JANUS_URL: 'ws://other:1' }).audio).toEqual({ mode: 'auto', janusUrl: 'ws://10.0.0.5:8188', janusSecret: 's3cret' });
    expect(load([], { BATON_JANUS_URL: 'wss://janus.example.org/ws', BATON_JANUS_SECRET: 'x' }).audio).toEqual({ mode: 'auto', janusUrl: 'wss://janus.example.org/ws', janusSecret: 'x' });
  });

  it('refuses a bad mode or a Janus URL that is not a WebSocket URL', () => {
    expect(() => load(['--audio', 'on'])).toThrow(/--audio must be auto or off/);
    expect(() => load(['--janus-url', 'http://127.0.0.1:8088/janus'])).toThrow(/invalid Janus URL/);
    expect(() => load(['--janus-url', 'ws://has space'])).toThrow(/invalid Janus URL/);
  });
});

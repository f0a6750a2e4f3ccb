/**
 * The link to an external Janus (--janus-url), with real parts: Janus started by scripts/audio.sh on
 * a free port with an API secret; the service must come up with the right secret only, create and
 * destroy AudioBridge rooms, say `down` when Janus dies and `up` again when it is back. Also the
 * factory: allocateAudio() only when audio is configured.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JanusAudioService } from './JanusAudioService.js';
import { findJanus, freePort } from './JanusProcess.js';
import { ConferencingServerFactory } from '../conferencing/ConferencingServerFactory.js';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts/audio.sh');
const haveJanus = findJanus() !== null;
if (!haveJanus) {
  if (process.env.CI === 'true') throw new Error('janus is missing (scripts/audio.sh install); CI=true needs it');
  console.warn('\n*** SKIPPING JanusAudioService.test.ts: janus is not installed (scripts/audio.sh install) ***\n');
}

const SECRET = 'test-secret-0123456789abcdef';
const once = (svc: JanusAudioService, ev: 'up' | 'down') => new Promise<void>((resolve) => svc.on(ev, () => resolve()));

describe.skipIf(!haveJanus)('JanusAudioService against Janus run by scripts/audio.sh', () => {
  let dir: string;
  let port: number;
  const audio = (...args: string[]) => execFileSync(SCRIPT, [...args, '--dir', dir], { encoding: 'utf8' });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'baton-janus-'));
    port = await freePort();
    audio('start', '--secret', SECRET, '--port', String(port), '--debug-level', '3');
  });
  afterAll(() => {
    if (dir) {
      audio('stop');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a wrong API secret, works with the right one: rooms are created and destroyed', async () => {
    const url = `ws://127.0.0.1:${port}`;
    let refused!: (reason: string) => void;
    const refusal = new Promise<string>((r) => (refused = r));
    const wrong = new JanusAudioService({ url: () => url, apiSecret: 'not-the-secret-at-all', log: { info() {}, warn: (o) => refused(JSON.stringify(o)) } });
    let wrongUp = false;
    wrong.on('up', () => (wrongUp = true));
    wrong.start();
    expect(await refusal).toMatch(/unauthorized/i);
    expect(wrongUp).toBe(false);
    wrong.close();
    const svc = new JanusAudioService({ url: () => url, apiSecret: SECRET });
    const up = once(svc, 'up');
    svc.start();
    await up;
    await svc.createRoom(4242, 'test');
    await expect(svc.createRoom(4242, 'again')).rejects.toThrow(); // the room exists
    await svc.destroyRoom(4242);
    await svc.createRoom(4242, 'after destroy');
    await svc.destroyRoom(4242);
    svc.close();
  });

  it('says down when Janus dies and up when it is back', async () => {
    const url = `ws://127.0.0.1:${port}`;
    const svc = new JanusAudioService({ url: () => url, apiSecret: SECRET });
    const up = once(svc, 'up');
    svc.start();
    await up;
    const down = once(svc, 'down');
    audio('stop');
    await down;
    expect(svc.ready).toBe(false);
    await expect(svc.attach()).rejects.toThrow(/down/);
    const back = once(svc, 'up');
    audio('start', '--secret', SECRET, '--port', String(port), '--debug-level', '3');
    await back;
    await svc.createRoom(7, 'after restart');
    svc.close();
  });

  it('the factory allocates an audio server only when audio is configured', async () => {
    const off = new ConferencingServerFactory({ audio: { mode: 'off', dir } });
    expect(off.audioStatus).toBe('unconfigured');
    expect(off.allocateAudio('c1')).toBeNull();
    off.close();
    const ext = new ConferencingServerFactory({ audio: { mode: 'auto', janusUrl: `ws://127.0.0.1:${port}`, janusSecret: SECRET, dir } });
    if (ext.audioStatus !== 'ready') await new Promise<void>((r) => ext.on('audioStatus', (s) => s === 'ready' && r()));
    const server = ext.allocateAudio('c2')!;
    expect(server.ready).toBe(true);
    // Not SDP: a clear error, nothing crashes, nobody is in the audio.
    await expect(server.handleJoin('p1', 'Pat', 'v=0\r\nnot really sdp\r\n', false)).rejects.toThrow(/refused this offer|audio could not start/);
    expect(server.participants()).toEqual([]);
    expect(ext.liveServers).toBe(1);
    ext.close();
    expect(ext.liveServers).toBe(0);
  });
});

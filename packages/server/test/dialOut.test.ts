/**
 * Dial-out through the Focus with real parts, no browser: the server runs its own Janus and its SIP
 * trunk is a telephone on loopback (baresip answering, or a sipp that answers 486, or nothing at
 * all). Checks what the roster (audio.updated phones) and the dialler (notices) are told for
 * answered, busy, a trunk that is down, the mixer dying mid-call and the audio policy turning off;
 * and that bad numbers and unauthorized callers are refused in words. The sound itself is checked in
 * tests/e2e/dialout.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioState, PhoneLeg } from '@baton/protocol';
import { findJanus } from '../src/audio/JanusProcess.js';
import { TestClient, createConference, signUp, testServer } from './support.js';
import { haveBaresip, haveSipp, startBaresip, startSipp, type Baresip } from '../../../tests/support/phone.js';

const ready = findJanus() !== null && haveBaresip && haveSipp;
if (!ready) {
  if (process.env.CI === 'true') throw new Error('dial-out tests need janus, baresip and sipp (scripts/system-deps.sh)');
  console.warn('\n*** SKIPPING packages/server/test/dialOut.test.ts: janus, baresip or sipp missing (scripts/system-deps.sh) ***\n');
}

const NUMBER = '+441234567890';
const PASSWORD = 'correct horse battery staple 42';
const sipConfig = (port: number) => ({ trunk: `sip:127.0.0.1:${port}`, username: null, password: null, from: null, numberFormat: '+{number}', address: '127.0.0.2', port: 0, noAnswerSeconds: 10 });
const phoneOf = (a: AudioState, id: string): PhoneLeg | undefined => a.phones?.find((p) => p.id === id);
const state = (c: TestClient, pred: (a: AudioState) => boolean) => c.next('audio.updated', (m) => pred(m.audio), 20_000).then((m) => m.audio);
/** Forget the audio states received so far: the next state() sees only what follows. */
const drain = (c: TestClient) => c.received.splice(0, c.received.length, ...c.received.filter((m) => m.type !== 'audio.updated'));

async function serverWith(trunkPort: number) {
  const srv = await testServer({ audio: { mode: 'auto', janusUrl: null, janusSecret: null }, sip: sipConfig(trunkPort) });
  await new Promise<void>((resolve) => (srv.conferencing.audioStatus === 'ready' ? resolve() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && resolve())));
  return srv;
}

async function meeting(srv: { url: string }, cookie: string, policy: Record<string, string> = {}) {
  const id = await createConference(srv.url, cookie, { guests: 'allow', ...policy });
  const org = new TestClient(srv.url, id, { cookie });
  await org.hello();
  const welcome = await org.next('welcome');
  const guest = new TestClient(srv.url, id);
  await guest.hello({ name: 'Gus' });
  await guest.next('welcome');
  return { org, guest, welcome };
}

describe.skipIf(!ready)('dial-out through the Focus to baresip', () => {
  let srv: Awaited<ReturnType<typeof testServer>>;
  let phone: Baresip;
  let cookie: string;
  beforeAll(async () => {
    phone = await startBaresip(440, NUMBER);
    srv = await serverWith(phone.port);
    cookie = await signUp(srv.url, 'olga', PASSWORD);
  }, 60_000);
  afterAll(async () => {
    await srv?.dispose();
    await phone?.stop();
  });

  it('refuses what is not a number, and callers the policy does not allow, in words', async () => {
    const { org, guest, welcome } = await meeting(srv, cookie);
    expect(welcome.audio?.dialOut).toBe(true);
    expect(await org.request({ type: 'audio.dial', number: 'call me maybe' })).toMatchObject({ type: 'error', code: 'bad_request', message: expect.stringMatching(/not a phone number/) });
    expect(await org.request({ type: 'audio.dial', number: '+12' })).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await org.request({ type: 'audio.dial', mine: true })).toMatchObject({ type: 'error', code: 'bad_request', message: expect.stringMatching(/no phone number saved/) });
    expect(await guest.request({ type: 'audio.dial', mine: true, number: NUMBER })).toMatchObject({ type: 'error', code: 'policy', message: expect.stringMatching(/sign in/) });
    expect(await guest.request({ type: 'audio.dial', number: NUMBER })).toMatchObject({ type: 'error', code: 'forbidden' });
    org.close();
    guest.close();
  });

  it('answered: the roster shows the masked number in the call; mute; the mixer dies: failed, the phone gets BYE', async () => {
    const { org, guest } = await meeting(srv, cookie);
    const ack = await org.request({ type: 'audio.dial', number: '+44 (1234) 567-890' });
    expect(ack).toMatchObject({ type: 'ack', callId: expect.stringMatching(/^phone-/) });
    const callId = (ack as { callId: string }).callId;
    const answered = await state(guest, (a) => phoneOf(a, callId)?.state === 'answered' && a.participants.some((p) => p.id === callId && p.connected));
    expect(phoneOf(answered, callId)).toMatchObject({ masked: '+44••••••7890', owner: null, name: '+44••••••7890' });
    expect(JSON.stringify(answered)).not.toContain('567890'); // the whole number never reaches the roster
    expect((await org.next('notice', (n) => n.code === 'phone.answered', 10_000)).text).toMatch(/answered/);
    // The guest may not mute it (not an organizer, not theirs); the organizer who dialled it may.
    expect(await guest.request({ type: 'audio.mute', participantId: callId, muted: true })).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await org.request({ type: 'audio.mute', participantId: callId, muted: true })).toMatchObject({ type: 'ack' });
    await state(guest, (a) => a.participants.find((p) => p.id === callId)?.muted === true);
    expect(await guest.request({ type: 'audio.hangup', callId })).toMatchObject({ type: 'error', code: 'forbidden' });
    // Janus dies: the leg cannot go on.
    srv.conferencing.janus!.kill('SIGKILL');
    const failed = await state(org, (a) => phoneOf(a, callId)?.state === 'failed');
    expect(phoneOf(failed, callId)!.detail).toMatch(/mixer/);
    expect((await org.next('notice', (n) => n.code === 'phone.failed', 10_000)).text).toMatch(/mixer/);
    await phone.waitFor(/terminated|closed/i);
    await new Promise<void>((resolve) => (srv.conferencing.audioStatus === 'ready' ? resolve() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && resolve())));
    org.close();
    guest.close();
  }, 60_000);

  it('"my phone" is remembered; turning the audio policy off hangs every phone up', async () => {
    const { org, welcome } = await meeting(srv, cookie);
    const first = await org.request({ type: 'audio.dial', mine: true, number: NUMBER });
    expect(first).toMatchObject({ type: 'ack' });
    const id1 = (first as { callId: string }).callId;
    const a1 = await state(org, (a) => phoneOf(a, id1)?.state === 'answered');
    expect(phoneOf(a1, id1)).toMatchObject({ name: 'Olga (phone)', owner: welcome.self, dialer: welcome.self });
    expect(await org.request({ type: 'audio.dial', mine: true })).toMatchObject({ type: 'error', code: 'conflict', message: expect.stringMatching(/already in the call/) });
    expect(await org.request({ type: 'audio.hangup', callId: id1 })).toMatchObject({ type: 'ack' });
    await state(org, (a) => phoneOf(a, id1)?.state === 'ended');
    // No number: the remembered one.
    const second = await org.request({ type: 'audio.dial', mine: true });
    expect(second).toMatchObject({ type: 'ack' });
    const id2 = (second as { callId: string }).callId;
    await state(org, (a) => phoneOf(a, id2)?.state === 'answered');
    expect(await org.request({ type: 'policy.update', policy: { audio: 'off' } }).then((m) => m.type)).toBe('ack');
    const off = await state(org, (a) => phoneOf(a, id2)?.state === 'ended');
    expect(off.added).toBe(false);
    expect(phoneOf(off, id2)!.detail).toMatch(/turned off/);
    org.close();
  }, 60_000);
});

const BUSY = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy">
  <recv request="INVITE" />
  <send><![CDATA[
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="ACK" />
</scenario>`;

describe.skipIf(!ready)('dial-out through the Focus: busy, then a trunk that is down', () => {
  it('486 shows as busy; with nothing listening the call fails saying so', async () => {
    const sipp = await startSipp(BUSY);
    const srv = await serverWith(sipp.port);
    try {
      const cookie = await signUp(srv.url, 'olga', PASSWORD);
      const { org } = await meeting(srv, cookie);
      const ack = await org.request({ type: 'audio.dial', number: NUMBER });
      const id = (ack as { callId: string }).callId;
      const busy = await state(org, (a) => phoneOf(a, id)?.state === 'busy');
      expect(phoneOf(busy, id)!.detail).toMatch(/486/);
      expect((await org.next('notice', (n) => n.code === 'phone.busy', 10_000)).text).toMatch(/busy/);
      expect(await sipp.exited).toBe(0);
      // The ended leg leaves the roster after a few seconds.
      drain(org);
      await state(org, (a) => !phoneOf(a, id));
      // sipp is gone: the same trunk port now refuses.
      const ack2 = await org.request({ type: 'audio.dial', number: NUMBER });
      const id2 = (ack2 as { callId: string }).callId;
      const down = await state(org, (a) => phoneOf(a, id2)?.state === 'failed');
      expect(phoneOf(down, id2)!.detail).toMatch(/refused|nothing listening/);
      // A redial loop is cut off: at most 6 calls a minute per participant (2 placed so far).
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) codes.push(((await org.request({ type: 'audio.dial', number: NUMBER })) as { type: string; code?: string }).code ?? 'ack');
      expect(codes).toEqual(['ack', 'ack', 'ack', 'ack', 'rate_limited']);
      org.close();
    } finally {
      await sipp.stop();
      await srv.dispose();
    }
  }, 60_000);
});

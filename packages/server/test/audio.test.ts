/**
 * Audio through the Focus with real parts (a server running its own Janus, real sockets), no
 * browser: what each participant is told, bad SDP, the audio policy, and the room's lifetime (one
 * per conference on first use, gone when the conference ends). A server without audio says so.
 * The media path itself is checked with two browsers in tests/e2e/audio.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findJanus } from '../src/audio/JanusProcess.js';
import { TestClient, api, createConference, signUp, testServer } from './support.js';

const haveJanus = findJanus() !== null;
if (!haveJanus) {
  if (process.env.CI === 'true') throw new Error('janus is missing (scripts/audio.sh install); CI=true needs it');
  console.warn('\n*** SKIPPING packages/server/test/audio.test.ts: janus is not installed (scripts/audio.sh install) ***\n');
}

const PASSWORD = 'correct horse battery staple 42';
/** Looks like an offer to the protocol (v=0, m=audio) but is no SDP Janus can use. */
const BOGUS_OFFER = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nthis is not sdp\r\n';

describe.skipIf(!haveJanus)('audio through the Focus (server runs Janus)', () => {
  let srv: Awaited<ReturnType<typeof testServer>>;
  let cookie: string;

  beforeAll(async () => {
    srv = await testServer({ audio: { mode: 'auto', janusUrl: null, janusSecret: null } });
    await new Promise<void>((resolve) => (srv.conferencing.audioStatus === 'ready' ? resolve() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && resolve())));
    cookie = await signUp(srv.url, 'olga', PASSWORD);
  }, 60_000);
  afterAll(async () => srv?.dispose());

  async function meeting(policy: Record<string, string> = {}) {
    const id = await createConference(srv.url, cookie, { guests: 'allow', ...policy });
    const org = new TestClient(srv.url, id, { cookie });
    await org.hello();
    const welcome = await org.next('welcome');
    const guest = new TestClient(srv.url, id);
    await guest.hello({ name: 'Gus' });
    await guest.next('welcome');
    return { id, org, guest, welcome };
  }

  it('welcome carries the audio state; adding audio tells everyone and allocates one room', async () => {
    const { org, guest, welcome } = await meeting();
    expect(welcome.audio).toEqual({ service: 'ready', added: false, participants: [] });
    const before = srv.conferencing.liveServersOf('audio');
    expect(await guest.request({ type: 'audio.add' })).toMatchObject({ type: 'ack' });
    for (const c of [org, guest]) expect((await c.next('audio.updated', (m) => m.audio.added)).audio).toEqual({ service: 'ready', added: true, participants: [] });
    expect(srv.conferencing.liveServersOf('audio')).toBe(before + 1);
    // Adding again changes nothing and allocates nothing.
    expect(await org.request({ type: 'audio.add' })).toMatchObject({ type: 'ack' });
    expect(srv.conferencing.liveServersOf('audio')).toBe(before + 1);
    // Everyone leaves: the conference ends and its audio room with it.
    org.close();
    guest.close();
    await expect.poll(() => srv.conferencing.liveServersOf('audio'), { timeout: 15_000 }).toBe(before);
  });

  it('an SDP that is not SDP gets a clear error; the connection and the conference live on', async () => {
    const { org, guest } = await meeting();
    const notSdp = await guest.request({ type: 'audio.join', sdp: 'hello, I am not SDP', listenOnly: false });
    expect(notSdp).toMatchObject({ type: 'error', code: 'bad_request' });
    expect((notSdp as { message: string }).message).toMatch(/not an SDP offer/);
    const bogus = await guest.request({ type: 'audio.join', sdp: BOGUS_OFFER, listenOnly: false });
    expect(bogus).toMatchObject({ type: 'error', code: 'bad_request' });
    expect((bogus as { message: string }).message).toMatch(/refused this offer/);
    // Nobody ended up in the audio, and the conference still works for both.
    const state = await org.next('audio.updated', (m) => m.audio.added);
    expect(state.audio.participants).toEqual([]);
    expect(await guest.request({ type: 'chat.send', text: 'still here' })).toMatchObject({ type: 'ack' });
    expect(await org.request({ type: 'audio.leave' })).toMatchObject({ type: 'error', code: 'conflict' });
    org.close();
    guest.close();
  });

  it('the audio policy: presenters (attendees only listen), off (nothing), changed live', async () => {
    const { id, org, guest } = await meeting({ audio: 'presenters' });
    expect(await guest.request({ type: 'audio.add' })).toMatchObject({ type: 'error', code: 'policy' });
    // Nobody added audio yet, so an attendee cannot even listen.
    expect(await guest.request({ type: 'audio.join', sdp: BOGUS_OFFER, listenOnly: true })).toMatchObject({ type: 'error', code: 'not_found' });
    expect(await org.request({ type: 'audio.add' })).toMatchObject({ type: 'ack' });
    expect(await org.request({ type: 'policy.update', policy: { audio: 'off' } })).toMatchObject({ type: 'ack' });
    // Off ends the audio for everyone.
    expect((await guest.next('audio.updated', (m) => !m.audio.added)).audio.added).toBe(false);
    expect(await org.request({ type: 'audio.add' })).toMatchObject({ type: 'error', code: 'policy' });
    expect((await org.next('conference.updated')).conference.policy.audio).toBe('off');
    expect((await api(srv.url, 'GET', `/api/conferences/${id}`, undefined, cookie)).body.policy.audio).toBe('off');
    org.close();
    guest.close();
  });
});

describe('a server without audio', () => {
  it('says unconfigured in the welcome and refuses audio commands clearly', async () => {
    const srv = await testServer({ audio: { mode: 'off', janusUrl: null, janusSecret: null } });
    try {
      const cookie = await signUp(srv.url, 'nora', PASSWORD);
      const id = await createConference(srv.url, cookie);
      const org = new TestClient(srv.url, id, { cookie });
      await org.hello();
      expect((await org.next('welcome')).audio).toEqual({ service: 'unconfigured', added: false, participants: [] });
      const r = await org.request({ type: 'audio.add' });
      expect(r).toMatchObject({ type: 'error', code: 'conflict' });
      expect((r as { message: string }).message).toBe('audio is not configured on this server');
      org.close();
    } finally {
      await srv.dispose();
    }
  });
});

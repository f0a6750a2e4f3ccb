/**
 * Audio legs without a browser: each participant's WebRTC leg is a libdatachannel peer
 * (node-datachannel) with one Opus send-receive track, joined through the Focus to the server's
 * own Janus. Checks what the roster and each participant are told when an organizer mutes or
 * removes someone, when a demotion takes away the right to talk (audio: presenters), when the
 * policy turns audio off, and when Janus dies (legs cleared, `audio.dropped`, then ready again).
 * The sound itself is checked with two browsers in tests/e2e/audio.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ndc from 'node-datachannel';
import type { AudioState } from '@baton/protocol';
import { findJanus } from '../src/audio/JanusProcess.js';
import { TestClient, createConference, signUp, testServer } from './support.js';

const haveJanus = findJanus() !== null;
if (!haveJanus) {
  if (process.env.CI === 'true') throw new Error('janus is missing (scripts/audio.sh install); CI=true needs it');
  console.warn('\n*** SKIPPING packages/server/test/audioLegs.test.ts: janus is not installed (scripts/audio.sh install) ***\n');
}

/** One WebRTC audio leg: offer once gathering is complete (as the web client does), then the answer. */
class Leg {
  readonly pc = new ndc.PeerConnection('leg', { iceServers: [] });
  readonly connected: Promise<void>;
  constructor() {
    const audio = new ndc.Audio('0', 'SendRecv');
    audio.addOpusCodec(111);
    audio.addSSRC(Math.floor(Math.random() * 2 ** 31), 'baton-test');
    this.pc.addTrack(audio);
    this.connected = new Promise((resolve) => this.pc.onStateChange((s) => s === 'connected' && resolve()));
  }
  async offer(): Promise<string> {
    const gathered = new Promise<void>((resolve) => this.pc.onGatheringStateChange((s) => s === 'complete' && resolve()));
    this.pc.setLocalDescription();
    await gathered;
    return this.pc.localDescription()!.sdp;
  }
  async join(client: TestClient, listenOnly = false): Promise<void> {
    const ack = await client.request({ type: 'audio.join', sdp: await this.offer(), listenOnly });
    if (ack.type !== 'ack' || !ack.sdp) throw new Error(`join refused: ${JSON.stringify(ack)}`);
    this.pc.setRemoteDescription(ack.sdp, 'answer');
    await this.connected;
  }
  close() {
    this.pc.close();
  }
}

const PASSWORD = 'correct horse battery staple 42';

describe.skipIf(!haveJanus)('audio legs through the Focus (libdatachannel peers, real Janus)', () => {
  let srv: Awaited<ReturnType<typeof testServer>>;
  let cookie: string;
  const legs: Leg[] = [];
  const leg = () => {
    const l = new Leg();
    legs.push(l);
    return l;
  };
  const state = (c: TestClient, pred: (a: AudioState) => boolean) => c.next('audio.updated', (m) => pred(m.audio), 15_000).then((m) => m.audio);
  /** Forget the audio states received so far: the next state() sees only what follows an action. */
  const drain = (...cs: TestClient[]) => cs.forEach((c) => c.received.splice(0, c.received.length, ...c.received.filter((m) => m.type !== 'audio.updated')));
  const member = (a: AudioState, id: string) => a.participants.find((p) => p.id === id);

  beforeAll(async () => {
    srv = await testServer({ audio: { mode: 'auto', janusUrl: null, janusSecret: null } });
    await new Promise<void>((resolve) => (srv.conferencing.audioStatus === 'ready' ? resolve() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && resolve())));
    cookie = await signUp(srv.url, 'olga', PASSWORD);
  }, 60_000);
  afterAll(async () => {
    legs.forEach((l) => l.close());
    await srv?.dispose();
  });

  async function meeting(policy: Record<string, string> = {}) {
    const id = await createConference(srv.url, cookie, { guests: 'allow', ...policy });
    const org = new TestClient(srv.url, id, { cookie });
    await org.hello();
    const orgId = (await org.next('welcome')).self;
    const guest = new TestClient(srv.url, id);
    await guest.hello({ name: 'Gus' });
    const guestId = (await guest.next('welcome')).self;
    return { org, guest, orgId, guestId };
  }

  it('an organizer mutes (never unmutes) and removes a participant; each is told', async () => {
    const { org, guest, orgId, guestId } = await meeting();
    await leg().join(org);
    await leg().join(guest);
    await state(org, (a) => member(a, guestId)?.connected === true && member(a, orgId)?.connected === true);
    drain(org, guest);
    expect(await org.request({ type: 'audio.mute', participantId: guestId, muted: true })).toMatchObject({ type: 'ack' });
    expect((await guest.next('notice', (n) => n.code === 'audio.muted')).text).toContain('muted you');
    expect(member(await state(org, (a) => member(a, guestId)?.muted === true), guestId)?.speaking).toBe(false);
    expect(await org.request({ type: 'audio.mute', participantId: guestId, muted: false })).toMatchObject({ type: 'error', code: 'forbidden' });
    // The guest may unmute themselves.
    expect(await guest.request({ type: 'audio.mute', muted: false })).toMatchObject({ type: 'ack' });
    await state(org, (a) => member(a, guestId)?.muted === false);
    expect(await guest.request({ type: 'audio.remove', participantId: orgId })).toMatchObject({ type: 'error', code: 'forbidden' });
    drain(org, guest);
    expect(await org.request({ type: 'audio.remove', participantId: guestId })).toMatchObject({ type: 'ack' });
    await guest.next('notice', (n) => n.code === 'audio.removed');
    const after = await state(org, (a) => !member(a, guestId));
    expect(after.participants.map((p) => p.id)).toEqual([orgId]);
    org.close();
    guest.close();
  }, 60_000);

  it('audio: presenters: a promoted guest talks, a demoted one is muted and told; policy off ends the audio', async () => {
    const { org, guest, guestId } = await meeting({ audio: 'presenters' });
    await leg().join(org);
    expect(await guest.request({ type: 'role.set', participantId: guestId, role: 'presenter' })).toMatchObject({ type: 'error' });
    expect(await org.request({ type: 'role.set', participantId: guestId, role: 'presenter' })).toMatchObject({ type: 'ack' });
    await leg().join(guest);
    await state(org, (a) => member(a, guestId)?.connected === true && !member(a, guestId)!.muted);
    drain(org, guest);
    expect(await org.request({ type: 'role.set', participantId: guestId, role: 'attendee' })).toMatchObject({ type: 'ack' });
    expect((await guest.next('notice', (n) => n.code === 'audio.muted')).text).toContain('only presenters');
    await state(org, (a) => member(a, guestId)?.muted === true);
    // An attendee under this policy cannot unmute.
    expect(await guest.request({ type: 'audio.mute', muted: false })).toMatchObject({ type: 'error', code: 'policy' });
    expect(await org.request({ type: 'policy.update', policy: { audio: 'off' } })).toMatchObject({ type: 'ack' });
    const off = await state(guest, (a) => !a.added);
    expect(off.participants).toEqual([]);
    org.close();
    guest.close();
  }, 60_000);

  it('sharing starts inside a running audio call, and audio is added to a running share, without disturbing either', async () => {
    const { org, guest, orgId, guestId } = await meeting({ present: 'anyone' });
    // Audio first, then a share.
    const orgLeg = leg();
    await orgLeg.join(org);
    await leg().join(guest);
    await state(org, (a) => member(a, guestId)?.connected === true && member(a, orgId)?.connected === true);
    drain(org, guest);
    expect(await guest.request({ type: 'share.start', kind: 'browser' })).toMatchObject({ type: 'ack' });
    expect((await org.next('share.updated', (m) => m.share?.hostId === guestId)).share?.kind).toBe('browser');
    expect(await guest.request({ type: 'share.ticket' })).toMatchObject({ type: 'ack' });
    // The audio legs did not notice: no audio change was broadcast, the leg is still connected.
    expect(org.received.filter((m) => m.type === 'audio.updated')).toEqual([]);
    expect(orgLeg.pc.state()).toBe('connected');
    org.close();
    guest.close();

    // A share first, then audio.
    const m2 = await meeting({ present: 'anyone' });
    expect(await m2.guest.request({ type: 'share.start', kind: 'browser' })).toMatchObject({ type: 'ack' });
    await m2.org.next('share.updated', (m) => m.share?.hostId === m2.guestId);
    await leg().join(m2.org);
    await state(m2.guest, (a) => a.added && member(a, m2.orgId)?.connected === true);
    expect(await m2.org.request({ type: 'share.ticket' })).toMatchObject({ type: 'ack' });
    expect(m2.org.received.filter((m) => m.type === 'share.updated' && m.share === null)).toEqual([]);
    m2.org.close();
    m2.guest.close();
  }, 60_000);

  it('Janus dies: legs are cleared and everyone is told; the mixer is ready again and takes new legs', async () => {
    const { org, guest, orgId, guestId } = await meeting();
    await leg().join(org);
    await leg().join(guest);
    await state(org, (a) => member(a, guestId)?.connected === true && member(a, orgId)?.connected === true);
    drain(org, guest);
    srv.conferencing.janus!.kill('SIGKILL');
    const down = await state(org, (a) => a.service === 'down');
    expect(down.participants).toEqual([]);
    await guest.next('notice', (n) => n.code === 'audio.dropped');
    await state(org, (a) => a.service === 'ready' && a.added);
    await leg().join(guest);
    await state(org, (a) => member(a, guestId)?.connected === true);
    org.close();
    guest.close();
  }, 60_000);
});

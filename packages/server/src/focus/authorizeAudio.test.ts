/**
 * Authorization of every audio command x every role (signed in or guest, web or agent) x every audio
 * policy x the audio's state (mixer configured or not, audio added or not, actor/target in the audio,
 * listen-only). Expectations are written from the product rules, not from authorize()'s structure:
 *
 * - policy off: nothing. presenters: presenters and organizers talk and add audio; attendees may
 *   only listen, once someone added it. anyone: everyone.
 * - no mixer on the server: add and join fail. Only web clients join (the agent has no microphone UI).
 * - leave and self-mute need you in the audio; unmuting needs a microphone leg and the right to talk.
 * - organizers mute others (only ever to muted: privacy) and remove them; nobody else does.
 */
import { describe, expect, it } from 'vitest';
import { Role, type AudioPolicy, type MeetingPolicy } from '@baton/protocol';
import { authorize, type ActorView, type AudioAuthzView, type Command } from './authorize.js';
import { BatonError } from '../errors.js';

const AUDIO_POLICIES: AudioPolicy[] = ['anyone', 'presenters', 'off'];
const base: Omit<MeetingPolicy, 'audio'> = { guests: 'allow', present: 'presenters', control: 'signed-in' };

function actors(): ActorView[] {
  const out: ActorView[] = [];
  for (const role of [Role.Attendee, Role.Presenter, Role.Organizer])
    for (const signedIn of [true, false])
      for (const client of ['web', 'agent'] as const) {
        if (role === Role.Organizer && !signedIn) continue;
        out.push({ id: 'A', role, signedIn, owner: role === Role.Organizer, status: 'joined', client });
      }
  return out;
}
const TARGET: ActorView = { id: 'T', role: Role.Attendee, signedIn: false, owner: false, status: 'joined', client: 'web' };

type Member = { listenOnly: boolean; muted: boolean };
function view(service: AudioAuthzView['service'], added: boolean, members: Record<string, Member>): AudioAuthzView {
  return { service, added, members: new Map(Object.entries(members)) };
}

function allowed(cmd: Command, actor: ActorView, policy: MeetingPolicy, audio: AudioAuthzView | undefined, target?: ActorView): boolean {
  try {
    authorize(cmd, { actor, policy, share: null, target, audio });
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(BatonError);
    return false;
  }
}

const offer = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const mic: Member = { listenOnly: false, muted: false };
const ears: Member = { listenOnly: true, muted: true };

describe('authorize: audio commands', () => {
  for (const rule of AUDIO_POLICIES) {
    const policy: MeetingPolicy = { ...base, audio: rule };
    it(`policy audio=${rule}: add and join`, () => {
      for (const actor of actors()) {
        const talks = rule === 'anyone' || (rule === 'presenters' && actor.role >= Role.Presenter);
        const web = actor.client === 'web';
        for (const added of [false, true]) {
          const v = view('ready', added, {});
          expect(allowed({ type: 'audio.add' }, actor, policy, v)).toBe(talks && web);
          expect(allowed({ type: 'audio.join', sdp: offer, listenOnly: false }, actor, policy, v)).toBe(talks && web);
          // Listening: anyone the policy lets into audio at all, once it exists (a talker may also add it).
          expect(allowed({ type: 'audio.join', sdp: offer, listenOnly: true }, actor, policy, v)).toBe(rule !== 'off' && web && (added || talks));
          // A mixer that is down still takes the command (the audio server answers "restarting").
          expect(allowed({ type: 'audio.add' }, actor, policy, view('down', added, {}))).toBe(talks && web);
          // No mixer on this server: never.
          expect(allowed({ type: 'audio.add' }, actor, policy, view('unconfigured', added, {}))).toBe(false);
          expect(allowed({ type: 'audio.join', sdp: offer, listenOnly: true }, actor, policy, undefined)).toBe(false);
        }
      }
    });

    it(`policy audio=${rule}: leave and self-mute`, () => {
      for (const actor of actors()) {
        const talks = rule === 'anyone' || (rule === 'presenters' && actor.role >= Role.Presenter);
        const on = rule !== 'off';
        const outside = view('ready', true, {});
        const withMic = view('ready', true, { A: mic });
        const listening = view('ready', true, { A: ears });
        expect(allowed({ type: 'audio.leave' }, actor, policy, outside)).toBe(false);
        expect(allowed({ type: 'audio.leave' }, actor, policy, withMic)).toBe(on);
        expect(allowed({ type: 'audio.mute', muted: true }, actor, policy, outside)).toBe(false);
        expect(allowed({ type: 'audio.mute', muted: true }, actor, policy, withMic)).toBe(on);
        expect(allowed({ type: 'audio.mute', muted: false }, actor, policy, withMic)).toBe(talks);
        expect(allowed({ type: 'audio.mute', muted: true, participantId: 'A' }, actor, policy, withMic, actor)).toBe(on);
        // Listen-only legs have no microphone to unmute.
        expect(allowed({ type: 'audio.mute', muted: true }, actor, policy, listening)).toBe(on);
        expect(allowed({ type: 'audio.mute', muted: false }, actor, policy, listening)).toBe(false);
      }
    });

    it(`policy audio=${rule}: muting and removing others`, () => {
      for (const actor of actors()) {
        const org = actor.role >= Role.Organizer && rule !== 'off';
        const both = view('ready', true, { A: mic, T: mic });
        const onlyMe = view('ready', true, { A: mic });
        expect(allowed({ type: 'audio.mute', muted: true, participantId: 'T' }, actor, policy, both, TARGET)).toBe(org);
        // Privacy: nobody unmutes someone else, organizers included.
        expect(allowed({ type: 'audio.mute', muted: false, participantId: 'T' }, actor, policy, both, TARGET)).toBe(false);
        expect(allowed({ type: 'audio.remove', participantId: 'T' }, actor, policy, both, TARGET)).toBe(org);
        // The target must be in the audio, and known.
        expect(allowed({ type: 'audio.mute', muted: true, participantId: 'T' }, actor, policy, onlyMe, TARGET)).toBe(false);
        expect(allowed({ type: 'audio.remove', participantId: 'T' }, actor, policy, onlyMe, TARGET)).toBe(false);
        expect(allowed({ type: 'audio.remove', participantId: 'x' }, actor, policy, both, undefined)).toBe(false);
        // Removing yourself is audio.leave.
        expect(allowed({ type: 'audio.remove', participantId: 'A' }, actor, policy, both, actor)).toBe(false);
      }
    });
  }

  it('nobody in the lobby does anything with audio', () => {
    const lobby: ActorView = { id: 'A', role: Role.Attendee, signedIn: false, owner: false, status: 'lobby', client: 'web' };
    const v = view('ready', true, { A: mic });
    for (const rule of AUDIO_POLICIES) {
      const policy: MeetingPolicy = { ...base, audio: rule };
      expect(allowed({ type: 'audio.add' }, lobby, policy, v)).toBe(false);
      expect(allowed({ type: 'audio.join', sdp: offer, listenOnly: true }, lobby, policy, v)).toBe(false);
      expect(allowed({ type: 'audio.mute', muted: true }, lobby, policy, v)).toBe(false);
    }
  });

  it('a meeting stored before audio existed (no audio key) behaves as audio=anyone', () => {
    const actor = actors().find((a) => a.role === Role.Attendee && a.client === 'web')!;
    expect(allowed({ type: 'audio.add' }, actor, base as MeetingPolicy, view('ready', false, {}))).toBe(true);
  });
});

/**
 * Telephones (audio.dial, audio.hangup, muting a phone leg) x role x signed-in x client x audio policy
 * x dial-out policy x trunk. Rules: a phone is a microphone, so only who may talk dials one; "my phone"
 * needs a signed-in user unless dialOut=anyone (calls cost money; guests are anonymous); other
 * numbers are the organizers' unless dialOut=anyone; only the web client dials; no trunk, no mixer or
 * a mixer restarting: nobody. Hang-up: the phone's owner, whoever dialled it, or an organizer. A
 * phone leg is muted and unmuted by its owner (or its dialler when it is someone else's number);
 * organizers may only mute it.
 */
describe('authorize: telephones', () => {
  const phones = (m: Record<string, { owner: string | null; dialer: string; active: boolean }>) => new Map(Object.entries(m));
  const withTrunk = (phonesMap = phones({}), members: Record<string, Member> = {}): AudioAuthzView => ({ ...view('ready', true, members), dialOut: true, phones: phonesMap });
  for (const rule of AUDIO_POLICIES)
    for (const dialOut of ['organizer', 'anyone'] as const) {
      const policy: MeetingPolicy = { ...base, audio: rule, dialOut };
      it(`audio=${rule} dialOut=${dialOut}: dial my phone, dial a number`, () => {
        for (const actor of actors()) {
          const talks = rule === 'anyone' || (rule === 'presenters' && actor.role >= Role.Presenter);
          const web = actor.client === 'web';
          const org = actor.role >= Role.Organizer;
          const anyone = dialOut === 'anyone';
          const v = withTrunk();
          // My phone: a remembered number (no number given) only for signed-in users.
          expect(allowed({ type: 'audio.dial', mine: true }, actor, policy, v)).toBe(talks && web && actor.signedIn);
          expect(allowed({ type: 'audio.dial', mine: true, number: '+441234567890' }, actor, policy, v)).toBe(talks && web && (actor.signedIn || anyone));
          // Someone else's number.
          expect(allowed({ type: 'audio.dial', mine: false, number: '+441234567890' }, actor, policy, v)).toBe(talks && web && (org || anyone));
          expect(allowed({ type: 'audio.dial', mine: false }, actor, policy, v)).toBe(false);
          // No trunk, no mixer, mixer restarting: nobody dials.
          expect(allowed({ type: 'audio.dial', mine: true, number: '+441234567890' }, actor, policy, { ...v, dialOut: false })).toBe(false);
          expect(allowed({ type: 'audio.dial', mine: true, number: '+441234567890' }, actor, policy, { ...v, service: 'unconfigured' })).toBe(false);
          expect(allowed({ type: 'audio.dial', mine: true, number: '+441234567890' }, actor, policy, { ...v, service: 'down' })).toBe(false);
          expect(allowed({ type: 'audio.dial', mine: true, number: '+441234567890' }, actor, policy, undefined)).toBe(false);
        }
      });

      it(`audio=${rule} dialOut=${dialOut}: hang up and mute phones`, () => {
        for (const actor of actors()) {
          const on = rule !== 'off';
          const talks = rule === 'anyone' || (rule === 'presenters' && actor.role >= Role.Presenter);
          const org = actor.role >= Role.Organizer;
          const legs = phones({
            'phone-mine': { owner: 'A', dialer: 'A', active: true },
            'phone-dialled': { owner: null, dialer: 'A', active: true },
            'phone-theirs': { owner: 'T', dialer: 'T', active: true },
            'phone-gone': { owner: 'A', dialer: 'A', active: false },
          });
          const members = { 'phone-mine': mic, 'phone-dialled': mic, 'phone-theirs': mic };
          const v = withTrunk(legs, members);
          expect(allowed({ type: 'audio.hangup', callId: 'phone-mine' }, actor, policy, v)).toBe(on);
          expect(allowed({ type: 'audio.hangup', callId: 'phone-dialled' }, actor, policy, v)).toBe(on);
          expect(allowed({ type: 'audio.hangup', callId: 'phone-theirs' }, actor, policy, v)).toBe(on && org);
          expect(allowed({ type: 'audio.hangup', callId: 'phone-gone' }, actor, policy, v)).toBe(false);
          expect(allowed({ type: 'audio.hangup', callId: 'phone-unknown' }, actor, policy, v)).toBe(false);
          // My own phone (or a number I dialled): mute and unmute (unmute only if I may talk).
          for (const id of ['phone-mine', 'phone-dialled']) {
            expect(allowed({ type: 'audio.mute', muted: true, participantId: id }, actor, policy, v)).toBe(on);
            expect(allowed({ type: 'audio.mute', muted: false, participantId: id }, actor, policy, v)).toBe(talks);
          }
          // Someone else's phone: organizers mute, nobody unmutes.
          expect(allowed({ type: 'audio.mute', muted: true, participantId: 'phone-theirs' }, actor, policy, v)).toBe(on && org);
          expect(allowed({ type: 'audio.mute', muted: false, participantId: 'phone-theirs' }, actor, policy, v)).toBe(false);
        }
      });
    }
});

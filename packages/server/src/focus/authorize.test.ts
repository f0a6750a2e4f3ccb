/**
 * Authorization over every command x every role x every policy setting (and sharing states).
 * The expectations are written from the product rules, independently of authorize()'s structure.
 */
import { describe, expect, it } from 'vitest';
import { Role, type MeetingPolicy, type ShareState } from '@baton/protocol';
import { authorize, type ActorView, type Command } from './authorize.js';
import { BatonError } from '../errors.js';

const ROLES = [Role.Attendee, Role.Presenter, Role.Organizer] as const;
const policies: MeetingPolicy[] = [];
for (const guests of ['deny', 'lobby', 'allow'] as const)
  for (const present of ['organizer', 'presenters', 'anyone'] as const)
    for (const control of ['never', 'signed-in', 'anyone'] as const) policies.push({ guests, present, control });

const TARGET: ActorView = { id: 'T', role: Role.Attendee, signedIn: true, owner: false, status: 'joined', client: 'web' };
const GUEST_TARGET: ActorView = { ...TARGET, id: 'G', signedIn: false };
const LOBBY_TARGET: ActorView = { ...TARGET, id: 'L', signedIn: false, status: 'lobby' };
const OWNER_TARGET: ActorView = { ...TARGET, id: 'O', role: Role.Organizer, owner: true };

function shareBy(hostId: string, kind: 'agent' | 'browser', controllerId: string | null = null): ShareState {
  return { hostId, kind, controllerId, requests: [], transport: 'server' };
}

function allowed(cmd: Command, actor: ActorView, policy: MeetingPolicy, share: ShareState | null, target?: ActorView): boolean {
  try {
    authorize(cmd, { actor, policy, share, target });
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(BatonError); // always a typed error
    return false;
  }
}

function actors(): ActorView[] {
  const out: ActorView[] = [];
  for (const role of ROLES)
    for (const signedIn of [true, false])
      for (const client of ['web', 'agent'] as const) {
        if (role === Role.Organizer && !signedIn) continue; // guests are never organizers
        out.push({ id: 'A', role, signedIn, owner: role === Role.Organizer, status: 'joined', client });
      }
  return out;
}

describe('authorize', () => {
  it('a lobby participant may do nothing', () => {
    const lobby: ActorView = { id: 'A', role: Role.Attendee, signedIn: false, owner: false, status: 'lobby', client: 'web' };
    for (const policy of policies) {
      expect(allowed({ type: 'chat.send', text: 'x' }, lobby, policy, null)).toBe(false);
      expect(allowed({ type: 'conference.end' }, { ...lobby, role: Role.Organizer, signedIn: true }, policy, null)).toBe(false);
      expect(allowed({ type: 'share.start', kind: 'browser' }, lobby, policy, null)).toBe(false);
      expect(allowed({ type: 'control.request' }, lobby, policy, shareBy('H', 'agent'))).toBe(false);
    }
  });

  it('moderation commands: organizers only, under every policy', () => {
    for (const policy of policies)
      for (const actor of actors()) {
        const org = actor.role >= Role.Organizer;
        expect(allowed({ type: 'role.set', participantId: 'T', role: 'presenter' }, actor, policy, null, TARGET)).toBe(org);
        expect(allowed({ type: 'participant.remove', participantId: 'T' }, actor, policy, null, TARGET)).toBe(org);
        expect(allowed({ type: 'lobby.admit', participantId: 'L' }, actor, policy, null, LOBBY_TARGET)).toBe(org);
        expect(allowed({ type: 'lobby.deny', participantId: 'L' }, actor, policy, null, LOBBY_TARGET)).toBe(org);
        expect(allowed({ type: 'policy.update', policy: { control: 'anyone' } }, actor, policy, null)).toBe(org);
        // Ending the meeting for all, also while someone (maybe this actor) shares.
        expect(allowed({ type: 'conference.end' }, actor, policy, null)).toBe(org);
        expect(allowed({ type: 'conference.end' }, actor, policy, shareBy('A', 'agent'))).toBe(org);
        // Never on the owner, never a guest to organizer, admit only who is in the lobby, unknown ids fail.
        expect(allowed({ type: 'participant.remove', participantId: 'O' }, actor, policy, null, OWNER_TARGET)).toBe(false);
        expect(allowed({ type: 'role.set', participantId: 'O', role: 'attendee' }, actor, policy, null, OWNER_TARGET)).toBe(false);
        expect(allowed({ type: 'role.set', participantId: 'G', role: 'organizer' }, actor, policy, null, GUEST_TARGET)).toBe(false);
        expect(allowed({ type: 'role.set', participantId: 'G', role: 'presenter' }, actor, policy, null, GUEST_TARGET)).toBe(org);
        expect(allowed({ type: 'lobby.admit', participantId: 'T' }, actor, policy, null, TARGET)).toBe(false);
        expect(allowed({ type: 'participant.remove', participantId: 'x' }, actor, policy, null, undefined)).toBe(false);
      }
  });

  it('chat: every joined participant', () => {
    for (const policy of policies) for (const actor of actors()) expect(allowed({ type: 'chat.send', text: 'hi' }, actor, policy, null)).toBe(true);
  });

  it('share.start follows the present policy and the client kind', () => {
    for (const policy of policies)
      for (const actor of actors())
        for (const kind of ['agent', 'browser'] as const) {
          const byRole = policy.present === 'anyone' || (policy.present === 'presenters' ? actor.role >= Role.Presenter : actor.role >= Role.Organizer);
          const byClient = (kind === 'agent') === (actor.client === 'agent');
          expect(allowed({ type: 'share.start', kind }, actor, policy, null), `${JSON.stringify(policy)} ${JSON.stringify(actor)} ${kind}`).toBe(byRole && byClient);
          // Never while someone else shares.
          expect(allowed({ type: 'share.start', kind }, actor, policy, shareBy('H', 'agent'))).toBe(false);
        }
  });

  it('share.stop: the host or an organizer', () => {
    for (const policy of policies)
      for (const actor of actors()) {
        expect(allowed({ type: 'share.stop' }, actor, policy, shareBy('A', 'agent'))).toBe(true);
        expect(allowed({ type: 'share.stop' }, actor, policy, shareBy('H', 'agent'))).toBe(actor.role >= Role.Organizer);
        expect(allowed({ type: 'share.stop' }, actor, policy, null)).toBe(false);
      }
  });

  it('control.request follows the control policy; browser shares and the host itself are refused', () => {
    for (const policy of policies)
      for (const actor of actors()) {
        const byPolicy = policy.control === 'anyone' || (policy.control === 'signed-in' && actor.signedIn);
        expect(allowed({ type: 'control.request' }, actor, policy, shareBy('H', 'agent'))).toBe(byPolicy);
        expect(allowed({ type: 'control.request' }, actor, policy, shareBy('H', 'browser'))).toBe(false);
        expect(allowed({ type: 'control.request' }, actor, policy, shareBy('A', 'agent'))).toBe(false);
        expect(allowed({ type: 'control.request' }, actor, policy, null)).toBe(false);
        expect(allowed({ type: 'control.request' }, actor, policy, shareBy('H', 'agent', 'A'))).toBe(false);
      }
  });

  it('control.grant and deny: only the host, and grant only within the policy', () => {
    for (const policy of policies)
      for (const actor of actors())
        for (const target of [TARGET, GUEST_TARGET]) {
          const mayControl = policy.control === 'anyone' || (policy.control === 'signed-in' && target.signedIn);
          expect(allowed({ type: 'control.grant', participantId: target.id }, actor, policy, shareBy('A', 'agent'), target)).toBe(mayControl);
          expect(allowed({ type: 'control.grant', participantId: target.id }, actor, policy, shareBy('H', 'agent'), target)).toBe(false);
          expect(allowed({ type: 'control.deny', participantId: target.id }, actor, policy, shareBy('A', 'agent'), target)).toBe(true);
          expect(allowed({ type: 'control.deny', participantId: target.id }, actor, policy, shareBy('H', 'agent'), target)).toBe(false);
        }
  });

  it('control.revoke: the host or an organizer; control.release: only the controller', () => {
    for (const policy of policies)
      for (const actor of actors()) {
        expect(allowed({ type: 'control.revoke' }, actor, policy, shareBy('A', 'agent', 'T'))).toBe(true);
        expect(allowed({ type: 'control.revoke' }, actor, policy, shareBy('H', 'agent', 'T'))).toBe(actor.role >= Role.Organizer);
        expect(allowed({ type: 'control.release' }, actor, policy, shareBy('H', 'agent', 'A'))).toBe(true);
        expect(allowed({ type: 'control.release' }, actor, policy, shareBy('H', 'agent', 'T'))).toBe(false);
      }
  });

  it("share.stop and control.revoke: the sharing user's own other seats too, never another user's or a guest's", () => {
    const agentHost: ActorView = { id: 'H', role: Role.Attendee, signedIn: true, owner: false, status: 'joined', client: 'agent', userId: 'u-alice' };
    const run = (cmd: Command, actor: ActorView, policy: MeetingPolicy, shareHost: ActorView | undefined) => {
      try {
        authorize(cmd, { actor, policy, share: shareBy('H', 'agent', 'T'), shareHost });
        return true;
      } catch (e) {
        expect(e).toBeInstanceOf(BatonError);
        return false;
      }
    };
    for (const policy of policies)
      for (const role of [Role.Attendee, Role.Presenter]) {
        const page: ActorView = { id: 'P', role, signedIn: true, owner: false, status: 'joined', client: 'web', userId: 'u-alice' };
        for (const cmd of [{ type: 'share.stop' }, { type: 'control.revoke' }] as Command[]) {
          // The host's meeting page (same user as the agent's seat) runs the share.
          expect(run(cmd, page, policy, agentHost)).toBe(true);
          // Another user, a guest (no user id), a page still in the lobby, or no known host seat: no.
          expect(run(cmd, { ...page, userId: 'u-bob' }, policy, agentHost)).toBe(false);
          expect(run(cmd, { ...page, signedIn: false, userId: null }, policy, { ...agentHost, userId: null })).toBe(false);
          expect(run(cmd, { ...page, status: 'lobby' }, policy, agentHost)).toBe(false);
          expect(run(cmd, page, policy, undefined)).toBe(false);
          // A host seat that is not the sharing seat proves nothing.
          expect(run(cmd, page, policy, { ...agentHost, id: 'X' })).toBe(false);
        }
        // Grant stays with the sharing seat (the agent asks its local user), even for the same user's page.
        expect(run({ type: 'control.grant', participantId: 'T' }, page, policy, agentHost)).toBe(false);
      }
  });

  it('control.cancel: only a participant with a pending request', () => {
    for (const actor of actors()) {
      const share = { ...shareBy('H', 'agent'), requests: ['A'] };
      expect(allowed({ type: 'control.cancel' }, actor, policies[0]!, share)).toBe(true);
      expect(allowed({ type: 'control.cancel' }, actor, policies[0]!, { ...share, requests: ['T'] })).toBe(false);
      expect(allowed({ type: 'control.cancel' }, actor, policies[0]!, null)).toBe(false);
    }
  });

  it('share.ticket needs an active share', () => {
    for (const actor of actors()) {
      expect(allowed({ type: 'share.ticket' }, actor, policies[0]!, shareBy('H', 'agent'))).toBe(true);
      expect(allowed({ type: 'share.ticket' }, actor, policies[0]!, null)).toBe(false);
    }
  });

  it('polls: created, closed and published per the polls policy, from the page; anyone in the meeting votes', () => {
    const draft = { question: 'Q', options: ['a', 'b'], multiple: false, anonymous: true };
    const run = [{ type: 'poll.create', poll: draft }, { type: 'poll.close', pollId: 'p' }, { type: 'poll.publish', pollId: 'p' }] as const;
    for (const polls of [undefined, 'organizer', 'presenters', 'anyone'] as const) {
      const policy: MeetingPolicy = { ...policies[0]!, ...(polls ? { polls } : {}) };
      for (const actor of actors()) {
        const may = actor.client === 'web' && (polls === 'anyone' || (polls === 'organizer' ? actor.role >= Role.Organizer : actor.role >= Role.Presenter));
        for (const cmd of run) expect(allowed(cmd as Command, actor, policy, null)).toBe(may);
        expect(allowed({ type: 'poll.vote', pollId: 'p', choices: [0] }, actor, policy, null)).toBe(actor.client === 'web');
      }
    }
  });

  it('stage.set: whoever may present, from the meeting page', () => {
    for (const policy of policies)
      for (const actor of actors()) {
        const presents = policy.present === 'anyone' || (policy.present === 'organizer' ? actor.role >= Role.Organizer : actor.role >= Role.Presenter);
        for (const view of ['screen', 'whiteboard', 'slides'] as const) {
          expect(allowed({ type: 'stage.set', view }, actor, policy, null)).toBe(actor.client === 'web' && presents);
        }
      }
  });

  it('whiteboard: anyone draws by default, presenters and organizers under whiteboard: presenters; everyone on a page may sync', () => {
    for (const whiteboard of [undefined, 'anyone', 'presenters'] as const) {
      const policy: MeetingPolicy = { ...policies[0]!, ...(whiteboard ? { whiteboard } : {}) };
      for (const actor of actors()) {
        const may = actor.client === 'web' && (whiteboard !== 'presenters' || actor.role >= Role.Presenter);
        expect(allowed({ type: 'wb.update', update: 'AAAA' }, actor, policy, null)).toBe(may);
        expect(allowed({ type: 'wb.sync' }, actor, policy, null)).toBe(actor.client === 'web');
      }
    }
  });

  it('Q&A: asking and upvoting per the qa policy, marking by presenters and organizers', () => {
    for (const qa of [undefined, 'anyone', 'signed-in', 'off'] as const) {
      const policy: MeetingPolicy = { ...policies[0]!, ...(qa ? { qa } : {}) };
      for (const actor of actors()) {
        const may = actor.client === 'web' && qa !== 'off' && (qa !== 'signed-in' || actor.signedIn);
        expect(allowed({ type: 'qa.ask', text: 'why?', anonymous: true }, actor, policy, null)).toBe(may);
        expect(allowed({ type: 'qa.vote', questionId: 'q', up: true }, actor, policy, null)).toBe(may);
        expect(allowed({ type: 'qa.mark', questionId: 'q', state: 'answered' }, actor, policy, null)).toBe(actor.role >= Role.Presenter);
      }
    }
  });

  it("share.switch and share.setPaused: only the sharing user's own other seats (its pages), for an agent share; share.sources and share.pause: only the sharing agent", () => {
    const agentHost: ActorView = { id: 'H', role: Role.Attendee, signedIn: true, owner: false, status: 'joined', client: 'agent', userId: 'u-alice' };
    const run = (cmd: Command, actor: ActorView, policy: MeetingPolicy, share: ShareState | null, shareHost: ActorView | undefined = agentHost) => {
      try {
        authorize(cmd, { actor, policy, share, shareHost });
        return true;
      } catch (e) {
        expect(e).toBeInstanceOf(BatonError);
        return false;
      }
    };
    const sw: Command = { type: 'share.switch', source: 'monitor:left' };
    const sources: Command = { type: 'share.sources', sources: [], current: 'screen' };
    for (const policy of policies)
      for (const role of ROLES) {
        const page: ActorView = { id: 'P', role, signedIn: true, owner: role === Role.Organizer, status: 'joined', client: 'web', userId: 'u-alice' };
        expect(run(sw, page, policy, shareBy('H', 'agent'))).toBe(true);
        // Organizers of another account, guests, lobby pages, the agent itself, a browser share: no.
        expect(run(sw, { ...page, userId: 'u-bob' }, policy, shareBy('H', 'agent'))).toBe(false);
        expect(run(sw, { ...page, signedIn: false, userId: null }, policy, shareBy('H', 'agent'), { ...agentHost, userId: null })).toBe(false);
        expect(run(sw, { ...page, status: 'lobby' }, policy, shareBy('H', 'agent'))).toBe(false);
        expect(run(sw, agentHost, policy, shareBy('H', 'agent'))).toBe(false);
        expect(run(sw, page, policy, shareBy('H', 'browser'))).toBe(false);
        expect(run(sw, page, policy, null)).toBe(false);
        // Pause and resume from a page: the same rule as switching.
        for (const paused of [true, false]) {
          const sp: Command = { type: 'share.setPaused', paused };
          expect(run(sp, page, policy, shareBy('H', 'agent'))).toBe(true);
          expect(run(sp, { ...page, userId: 'u-bob' }, policy, shareBy('H', 'agent'))).toBe(false);
          expect(run(sp, { ...page, signedIn: false, userId: null }, policy, shareBy('H', 'agent'), { ...agentHost, userId: null })).toBe(false);
          expect(run(sp, { ...page, status: 'lobby' }, policy, shareBy('H', 'agent'))).toBe(false);
          expect(run(sp, agentHost, policy, shareBy('H', 'agent'))).toBe(false);
          expect(run(sp, page, policy, shareBy('H', 'browser'))).toBe(false);
          expect(run(sp, page, policy, null)).toBe(false);
        }
        for (const cmd of [sources, { type: 'share.pause', paused: true } as Command]) {
          expect(run(cmd, agentHost, policy, shareBy('H', 'agent'))).toBe(true);
          expect(run(cmd, page, policy, shareBy('H', 'agent'))).toBe(false);
          expect(run(cmd, { ...agentHost, id: 'X' }, policy, shareBy('H', 'agent'))).toBe(false);
          expect(run(cmd, agentHost, policy, null)).toBe(false);
        }
      }
  });

  it('annotation: the presenter by default, viewers once allowed; clear all for presenters; never the agent', () => {
    const screen = { kind: 'screen' } as const;
    const add: Command = { type: 'annotation.add', surface: screen, mark: { tool: 'pen', points: [[1, 1]] } };
    const laser: Command = { type: 'annotation.laser', surface: screen, points: [[1, 1]] };
    const slide: Command = { type: 'annotation.add', surface: { kind: 'slide', deckId: 'd', page: 1 }, mark: { tool: 'pen', points: [[1, 1]] } };
    const mine: Command = { type: 'annotation.clear', scope: 'mine' };
    const all: Command = { type: 'annotation.clear', scope: 'all' };
    const allow: Command = { type: 'annotation.allow', viewers: true };
    // An attendee shares its desktop through its agent (policy present: anyone): its meeting page presents.
    const agentSeat: ActorView = { id: 'H', role: Role.Attendee, signedIn: true, owner: false, status: 'joined', client: 'agent', userId: 'u-h' };
    const hostPage: ActorView = { ...agentSeat, id: 'HP', client: 'web' };
    const share = shareBy('H', 'agent');
    for (const annotate of [undefined, 'presenters', 'anyone'] as const)
      for (const base of policies) {
        const policy: MeetingPolicy = { ...base, ...(annotate ? { annotate } : {}) };
        const open = annotate === 'anyone';
        for (const actor of actors()) {
          const presenter = actor.role >= Role.Presenter;
          const web = actor.client === 'web';
          expect(allowed(add, actor, policy, share)).toBe(web && (presenter || open));
          expect(allowed(laser, actor, policy, share)).toBe(web && (presenter || open));
          expect(allowed(slide, actor, policy, null)).toBe(web && (presenter || open));
          // The screen needs a share.
          expect(allowed(add, actor, policy, null)).toBe(false);
          expect(allowed(mine, actor, policy, share)).toBe(web);
          expect(allowed(all, actor, policy, share)).toBe(web && presenter);
          expect(allowed(allow, actor, policy, share)).toBe(web && presenter);
        }
        const run = (cmd: Command, actor: ActorView) => {
          try {
            authorize(cmd, { actor, policy, share, shareHost: agentSeat });
            return true;
          } catch {
            return false;
          }
        };
        expect(run(add, hostPage)).toBe(true);
        expect(run(all, hostPage)).toBe(true);
        expect(run(allow, hostPage)).toBe(true);
        expect(run(add, agentSeat)).toBe(false);
        // Another attendee's page is no presenter.
        const other: ActorView = { ...hostPage, id: 'X', userId: 'u-x' };
        expect(run(add, other)).toBe(open);
        expect(run(all, other)).toBe(false);
        expect(run(allow, other)).toBe(false);
      }
  });
});

/**
 * Who may do what in a conference: one pure function over the sender, the target, the meeting
 * policy and the sharing state. The Focus calls it before every command; nothing else decides.
 * Kept pure so that the unit test can walk every command x role x policy.
 */
import { Role, annotatePolicy, whiteboardPolicy, audioPolicy, dialOutPolicy, filesPolicy, pollsPolicy, qaPolicy, recordingPolicy, type ClientMessage, type MeetingPolicy, type RoleName, type ShareState, roleFromName } from '@baton/protocol';
import { BatonError, ForbiddenError, NotFoundError, ConflictError, BadRequestError } from '../errors.js';

export interface ActorView {
  id: string;
  role: Role;
  signedIn: boolean;
  /** Owner of the conference record (cannot be demoted or removed). */
  owner: boolean;
  status: 'lobby' | 'joined';
  client: 'web' | 'agent';
  /** The account the server authenticated for this seat (null: a guest); never a client's claim. */
  userId?: string | null;
}

export interface AuthzContext {
  actor: ActorView;
  /** The participant a command names, if any; undefined when the id is unknown. */
  target?: ActorView | undefined;
  policy: MeetingPolicy;
  share: ShareState | null;
  /** The sharing seat, when someone shares: its user's other seats run the share from their pages. */
  shareHost?: ActorView | undefined;
  /** The conference's audio, for audio.* commands (absent: no audio on this server). */
  audio?: AudioAuthzView | undefined;
  /** Recording: whether this server can record (absent: it cannot), and whether it is recording now. */
  recording?: { available: boolean; active: boolean } | undefined;
}

export interface AudioAuthzView {
  service: 'unconfigured' | 'down' | 'ready';
  /** Someone added audio to this meeting. */
  added: boolean;
  /** Who is in the audio now. */
  members: ReadonlyMap<string, { listenOnly: boolean; muted: boolean }>;
  /** A SIP trunk is configured (telephones can be dialled). */
  dialOut?: boolean;
  /** Telephone legs: whose phone (owner, null: someone else's number), who dialled it, still live. */
  phones?: ReadonlyMap<string, { owner: string | null; dialer: string; active: boolean }>;
}

const NO_AUDIO_VIEW: AudioAuthzView = { service: 'unconfigured', added: false, members: new Map() };
const NO_PHONES: ReadonlyMap<string, { owner: string | null; dialer: string; active: boolean }> = new Map();

/** May this participant talk in the meeting's audio under this policy? (`presenters`: others listen.) */
export function mayTalk(actor: Pick<ActorView, 'role'>, policy: MeetingPolicy): boolean {
  switch (audioPolicy(policy)) {
    case 'anyone': return true;
    case 'presenters': return actor.role >= Role.Presenter;
    case 'off': return false;
  }
}

function authorizeAudio(cmd: Extract<Command, { type: `audio.${string}` }>, ctx: AuthzContext): void {
  const { actor, policy } = ctx;
  const audio = ctx.audio ?? NO_AUDIO_VIEW;
  const talkPolicy = () => new ForbiddenError('the meeting policy lets only presenters talk; join listen-only', 'policy');
  if (audioPolicy(policy) === 'off') throw new ForbiddenError('the meeting policy does not allow audio', 'policy');
  switch (cmd.type) {
    case 'audio.add':
    case 'audio.join':
      if (audio.service === 'unconfigured') throw new ConflictError('audio is not configured on this server');
      if (cmd.type === 'audio.add' || !cmd.listenOnly) {
        if (!mayTalk(actor, policy)) throw talkPolicy();
      } else if (!audio.added && !mayTalk(actor, policy)) throw new NotFoundError('nobody has added audio to this meeting');
      if (actor.client !== 'web') throw new BadRequestError('only the web client joins audio');
      return;
    case 'audio.leave':
      if (!audio.members.has(actor.id)) throw new ConflictError('you are not in the audio');
      return;
    case 'audio.mute': {
      const phone = cmd.participantId !== undefined ? (audio.phones ?? NO_PHONES).get(cmd.participantId) : undefined;
      if (phone) {
        // A phone is its owner's (or its dialler's) microphone: they mute and unmute it; organizers only mute.
        const mine = phone.owner === actor.id || (phone.owner === null && phone.dialer === actor.id);
        if (!audio.members.has(cmd.participantId!)) throw new ConflictError('that phone is not in the audio yet');
        if (mine) {
          if (!cmd.muted && !mayTalk(actor, policy)) throw talkPolicy();
          return;
        }
        needOrganizer(actor, 'mute a phone');
        if (!cmd.muted) throw new ForbiddenError('nobody can unmute someone else; ask them to unmute');
        return;
      }
      if (cmd.participantId === undefined || cmd.participantId === actor.id) {
        const me = audio.members.get(actor.id);
        if (!me) throw new ConflictError('you are not in the audio');
        if (!cmd.muted && me.listenOnly) throw new BadRequestError('you joined listen-only; join with a microphone to talk');
        if (!cmd.muted && !mayTalk(actor, policy)) throw talkPolicy();
        return;
      }
      needOrganizer(actor, 'mute others');
      // Privacy: a microphone is only ever opened by its owner.
      if (!cmd.muted) throw new ForbiddenError('nobody can unmute someone else; ask them to unmute');
      const target = ctx.target;
      if (!target || !audio.members.has(target.id)) throw new NotFoundError(`participant ${cmd.participantId} is not in the audio`);
      return;
    }
    case 'audio.remove': {
      needOrganizer(actor, 'remove participants from the audio');
      const target = ctx.target;
      if (target?.id === actor.id) throw new BadRequestError('use audio.leave, not remove, for yourself');
      if (!target || !audio.members.has(target.id)) throw new NotFoundError(`participant ${cmd.participantId} is not in the audio`);
      return;
    }
    case 'audio.dial': {
      if (audio.service === 'unconfigured') throw new ConflictError('audio is not configured on this server');
      if (!audio.dialOut) throw new ConflictError('this server has no SIP trunk: telephones cannot be dialled');
      if (audio.service === 'down') throw new ConflictError('the audio mixer is restarting; try again in a moment');
      if (actor.client !== 'web') throw new BadRequestError('only the web client dials phones');
      // A phone is a microphone: whoever may not talk may not bring one in.
      if (!mayTalk(actor, policy)) throw talkPolicy();
      const anyone = dialOutPolicy(policy) === 'anyone';
      if (cmd.mine) {
        // Calls cost money: anonymous guests dial only when the organizer lets anyone dial.
        if (!actor.signedIn && !anyone) throw new ForbiddenError('sign in to have the meeting call your phone', 'policy');
        if (!actor.signedIn && !cmd.number) throw new BadRequestError('enter your phone number');
        return;
      }
      if (!anyone) needOrganizer(actor, "call other people's phones");
      if (!cmd.number) throw new BadRequestError('give the number to call');
      return;
    }
    case 'audio.hangup': {
      const phone = (audio.phones ?? NO_PHONES).get(cmd.callId);
      if (!phone || !phone.active) throw new NotFoundError('that phone is not in the call');
      if (phone.owner === actor.id || phone.dialer === actor.id) return;
      needOrganizer(actor, 'hang up other people\'s phones');
      return;
    }
  }
}

/** Command types that go through authorize(); hello and ping are handled by the gateway. */
export type Command = Exclude<ClientMessage, { type: 'hello' | 'ping' | 'leave' }>;

export const BROWSER_CONTROL_MESSAGE = 'this host shares from a browser; control needs the Baton agent';

/** May this participant present under this policy? */
export function mayPresent(actor: ActorView, policy: MeetingPolicy): boolean {
  switch (policy.present) {
    case 'organizer': return actor.role >= Role.Organizer;
    case 'presenters': return actor.role >= Role.Presenter;
    case 'anyone': return true;
  }
}

/** May this participant create polls (and run them: see results while they are open) under this policy? */
export function mayRunPolls(actor: Pick<ActorView, 'role'>, policy: MeetingPolicy): boolean {
  switch (pollsPolicy(policy)) {
    case 'organizer': return actor.role >= Role.Organizer;
    case 'presenters': return actor.role >= Role.Presenter;
    case 'anyone': return true;
  }
}

/** May this participant draw on the whiteboard under this policy? */
export function mayDraw(actor: Pick<ActorView, 'role'>, policy: MeetingPolicy): boolean {
  return whiteboardPolicy(policy) === 'anyone' || actor.role >= Role.Presenter;
}

/** May this participant share files with the meeting under this policy? */
export function mayShareFiles(actor: Pick<ActorView, 'role'>, policy: MeetingPolicy): boolean {
  switch (filesPolicy(policy)) {
    case 'anyone': return true;
    case 'presenters': return actor.role >= Role.Presenter;
    case 'off': return false;
  }
}

/**
 * Does this participant present: it runs the share (its own seat, or its account's other seats), or is a
 * presenter or organizer. Presenters may always annotate, clear everyone's marks and let viewers annotate.
 */
export function presents(actor: ActorView, ctx: Pick<AuthzContext, 'share' | 'shareHost'>): boolean {
  return actor.role >= Role.Presenter || runsShare(actor, ctx);
}

/** May this participant draw marks and point the laser under this policy? */
export function mayAnnotate(actor: ActorView, policy: MeetingPolicy, ctx: Pick<AuthzContext, 'share' | 'shareHost'>): boolean {
  return presents(actor, ctx) || annotatePolicy(policy) === 'anyone';
}

/** May this participant be given control of a shared desktop under this policy? */
export function mayControl(actor: ActorView, policy: MeetingPolicy): boolean {
  switch (policy.control) {
    case 'never': return false;
    case 'signed-in': return actor.signedIn;
    case 'anyone': return true;
  }
}

/**
 * Does this seat run the current share: the sharing seat itself, or another joined seat of the same
 * signed-in user (the host's meeting page next to its agent). Decided on the server's user ids only.
 */
export function runsShare(actor: ActorView, ctx: Pick<AuthzContext, 'share' | 'shareHost'>): boolean {
  const { share, shareHost } = ctx;
  if (!share) return false;
  if (share.hostId === actor.id) return true;
  return (
    actor.status === 'joined' &&
    actor.userId !== undefined &&
    actor.userId !== null &&
    shareHost !== undefined &&
    shareHost.id === share.hostId &&
    shareHost.userId === actor.userId
  );
}

function needTarget(ctx: AuthzContext, cmd: { participantId: string }): ActorView {
  if (!ctx.target) throw new NotFoundError(`no participant ${cmd.participantId}`);
  return ctx.target;
}

function needOrganizer(actor: ActorView, what: string): void {
  if (actor.role < Role.Organizer) throw new ForbiddenError(`only an organizer may ${what}`);
}

function needJoined(target: ActorView): void {
  if (target.status !== 'joined') throw new NotFoundError(`participant ${target.id} is not in the conference`);
}

/** Throws a typed BatonError when the command is not allowed; returns normally when it is. */
export function authorize(cmd: Command, ctx: AuthzContext): void {
  const { actor, policy, share } = ctx;
  if (actor.status === 'lobby') throw new ForbiddenError('you are waiting in the lobby');

  switch (cmd.type) {
    case 'chat.send': {
      if (cmd.to === undefined) return;
      // A private message goes to another person in the meeting (all of a signed-in user's seats).
      const target = ctx.target;
      if (!target || target.status !== 'joined') throw new NotFoundError(`no participant ${cmd.to}`);
      if (target.client !== 'web') throw new BadRequestError('send a private message to the person, not to their agent');
      const sameUser = actor.userId !== undefined && actor.userId !== null && actor.userId === target.userId;
      if (target.id === actor.id || sameUser) throw new BadRequestError('you cannot send a private message to yourself');
      return;
    }

    case 'role.set': {
      needOrganizer(actor, 'change roles');
      const target = needTarget(ctx, cmd);
      needJoined(target);
      if (target.owner) throw new ForbiddenError("the conference owner's role cannot be changed");
      if (roleFromName(cmd.role as RoleName) === Role.Organizer && !target.signedIn) {
        throw new ForbiddenError('a guest cannot be made an organizer');
      }
      return;
    }

    case 'lobby.admit':
    case 'lobby.deny': {
      needOrganizer(actor, 'admit or deny lobby guests');
      const target = needTarget(ctx, cmd);
      if (target.status !== 'lobby') throw new NotFoundError(`participant ${target.id} is not in the lobby`);
      return;
    }

    case 'participant.remove': {
      needOrganizer(actor, 'remove participants');
      const target = needTarget(ctx, cmd);
      if (target.id === actor.id) throw new BadRequestError('use leave, not remove, for yourself');
      if (target.owner) throw new ForbiddenError('the conference owner cannot be removed');
      return;
    }

    case 'policy.update':
      needOrganizer(actor, 'change the meeting policy');
      return;

    case 'conference.end':
      needOrganizer(actor, 'end the meeting for everyone');
      return;

    case 'share.start':
      if (!mayPresent(actor, policy)) throw new ForbiddenError(`the meeting policy lets ${policy.present === 'organizer' ? 'only the organizer' : 'only presenters'} share`, 'policy');
      if (cmd.kind === 'agent' && actor.client !== 'agent') throw new BadRequestError('desktop sharing with control needs the Baton agent');
      if (cmd.kind === 'browser' && actor.client !== 'web') throw new BadRequestError('the agent shares with kind "agent"');
      if (share && share.hostId !== actor.id) throw new ConflictError('someone else is sharing; ask them to stop first');
      return;

    case 'share.stop':
      if (!share) throw new NotFoundError('nobody is sharing');
      if (!runsShare(actor, ctx) && actor.role < Role.Organizer) throw new ForbiddenError('only the host or an organizer may stop sharing');
      return;

    case 'share.ticket':
      if (!share) throw new NotFoundError('nobody is sharing');
      return;

    case 'share.sources':
    case 'share.pause':
      // Only the sharing agent describes and pauses its own share.
      if (!share || share.hostId !== actor.id || share.kind !== 'agent') throw new ForbiddenError('only the sharing agent reports its sources and pauses');
      return;

    case 'share.switch':
      // The host's own account, from one of its meeting pages: what to share is the host's choice, like
      // starting the share; it grants nobody control. Organizers and everyone else may not.
      if (!share) throw new NotFoundError('nobody is sharing');
      if (share.kind !== 'agent') throw new BadRequestError('only an agent share can switch its source');
      if (share.hostId === actor.id || !runsShare(actor, ctx)) throw new ForbiddenError('only the host, from its own meeting page, switches what is shared');
      return;

    case 'share.setPaused':
      // Pausing is the host's own choice too, like switching: only the sharing account's own pages.
      if (!share) throw new NotFoundError('nobody is sharing');
      if (share.kind !== 'agent') throw new BadRequestError('only an agent share can be paused');
      if (share.hostId === actor.id || !runsShare(actor, ctx)) throw new ForbiddenError('only the host, from its own meeting page, pauses the share');
      return;

    case 'control.request':
      if (!share) throw new NotFoundError('nobody is sharing');
      if (share.hostId === actor.id) throw new BadRequestError('you are the host');
      if (share.kind === 'browser') throw new ForbiddenError(BROWSER_CONTROL_MESSAGE, 'policy');
      if (policy.control === 'never') throw new ForbiddenError('the meeting policy does not allow remote control', 'policy');
      if (!mayControl(actor, policy)) throw new ForbiddenError('the meeting policy gives control only to signed-in participants', 'policy');
      if (share.controllerId === actor.id) throw new ConflictError('you already have control');
      return;

    case 'control.release':
      if (!share || share.controllerId !== actor.id) throw new ConflictError('you do not have control');
      return;

    case 'control.cancel':
      if (!share || !share.requests.includes(actor.id)) throw new ConflictError('you have not asked for control');
      return;

    case 'control.grant':
    case 'control.deny': {
      if (!share) throw new NotFoundError('nobody is sharing');
      if (share.hostId !== actor.id) throw new ForbiddenError('only the host decides who controls its desktop');
      const target = needTarget(ctx, cmd);
      needJoined(target);
      if (cmd.type === 'control.grant') {
        if (target.id === actor.id) throw new BadRequestError('the host already controls its own desktop');
        if (!mayControl(target, policy)) throw new ForbiddenError('the meeting policy does not allow this participant to control', 'policy');
      }
      return;
    }

    case 'control.revoke':
      if (!share) throw new NotFoundError('nobody is sharing');
      if (!runsShare(actor, ctx) && actor.role < Role.Organizer) throw new ForbiddenError('only the host or an organizer may revoke control');
      return;

    case 'p2p.signal': {
      if (!share || share.transport !== 'p2p') throw new ConflictError('this share is not peer-to-peer');
      const target = ctx.target;
      if (!target || target.status !== 'joined') throw new NotFoundError(`no participant ${cmd.to}`);
      if (target.id === actor.id) throw new BadRequestError('cannot signal yourself');
      if (share.hostId !== actor.id && share.hostId !== target.id) throw new ForbiddenError('only the host and its peer set up a direct path');
      return;
    }

    case 'ice.refresh':
      return;

    case 'audio.add':
    case 'audio.join':
    case 'audio.leave':
    case 'audio.mute':
    case 'audio.remove':
    case 'audio.dial':
    case 'audio.hangup':
      return authorizeAudio(cmd, ctx);

    case 'hand.raise':
    case 'reaction.send':
      if (actor.client !== 'web') throw new BadRequestError('only people raise hands and react, not the agent');
      return;

    case 'hand.lower': {
      if (cmd.participantId === undefined || cmd.participantId === actor.id) return;
      const target = needTarget(ctx, { participantId: cmd.participantId });
      // Your own hand from any of your seats; anyone else's only as an organizer.
      const sameUser = actor.userId !== undefined && actor.userId !== null && actor.userId === target.userId;
      if (!sameUser) needOrganizer(actor, "lower someone else's hand");
      return;
    }

    case 'poll.create':
    case 'poll.close':
    case 'poll.publish':
      if (actor.client !== 'web') throw new BadRequestError('polls are run from the meeting page');
      if (!mayRunPolls(actor, policy)) {
        const who = pollsPolicy(policy) === 'organizer' ? 'only organizers' : 'only presenters and organizers';
        throw new ForbiddenError(`the meeting policy lets ${who} run polls`, 'policy');
      }
      return;

    case 'poll.vote':
      if (actor.client !== 'web') throw new BadRequestError('people vote, not the agent');
      return;

    case 'qa.ask':
    case 'qa.vote': {
      if (actor.client !== 'web') throw new BadRequestError('questions are asked from the meeting page');
      const qa = qaPolicy(policy);
      if (qa === 'off') throw new ForbiddenError('questions are turned off in this meeting', 'policy');
      if (qa === 'signed-in' && !actor.signedIn) throw new ForbiddenError('sign in to ask or upvote questions', 'policy');
      return;
    }

    case 'file.ticket':
      if (actor.client !== 'web') throw new BadRequestError('files are shared from the meeting page');
      if (!mayShareFiles(actor, policy)) {
        throw new ForbiddenError(filesPolicy(policy) === 'off' ? 'sharing files is turned off in this meeting' : 'the meeting policy lets only presenters and organizers share files', 'policy');
      }
      return;

    case 'file.delete':
      // Whose file it is, the data server checks (its sharer or an organizer).
      if (actor.client !== 'web') throw new BadRequestError('files are removed from the meeting page');
      return;

    case 'slides.ticket':
    case 'slides.page':
    case 'slides.stop':
      if (actor.client !== 'web') throw new BadRequestError('slides are presented from the meeting page');
      if (!mayPresent(actor, policy)) throw new ForbiddenError(`the meeting policy lets ${policy.present === 'organizer' ? 'only the organizer' : 'only presenters'} present slides`, 'policy');
      return;

    case 'qa.mark':
      if (actor.role < Role.Presenter) throw new ForbiddenError('only presenters and organizers mark questions');
      return;

    case 'annotation.add':
    case 'annotation.laser':
      if (actor.client !== 'web') throw new BadRequestError('marks are drawn from the meeting page');
      if (cmd.surface.kind === 'screen' && !share) throw new NotFoundError('nobody is sharing a screen to annotate');
      if (!mayAnnotate(actor, policy, ctx)) throw new ForbiddenError('only the presenter may annotate; the presenter can let viewers annotate', 'policy');
      return;

    case 'annotation.clear':
      if (actor.client !== 'web') throw new BadRequestError('marks are cleared from the meeting page');
      // Your own marks, always; everyone's only as the presenter, a presenter or an organizer.
      if (cmd.scope === 'all' && !presents(actor, ctx)) throw new ForbiddenError("only the presenter may clear everyone's marks; clear your own instead");
      return;

    case 'annotation.allow':
      if (actor.client !== 'web') throw new BadRequestError('annotation is allowed from the meeting page');
      if (!presents(actor, ctx)) throw new ForbiddenError('only the presenter decides who may annotate');
      return;

    case 'recording.start':
    case 'recording.stop': {
      needOrganizer(actor, cmd.type === 'recording.start' ? 'start recording' : 'stop recording');
      if (actor.client !== 'web') throw new BadRequestError('recording is started from the meeting page');
      const rec = ctx.recording ?? { available: false, active: false };
      if (cmd.type === 'recording.stop') {
        if (!rec.active) throw new ConflictError('the meeting is not being recorded');
        return;
      }
      if (recordingPolicy(policy) === 'off') throw new ForbiddenError('the meeting policy does not allow recording', 'policy');
      if (!rec.available) throw new ConflictError('this server does not record meetings');
      if (!actor.signedIn) throw new ForbiddenError('sign in to record');
      if (rec.active) throw new ConflictError('the meeting is already being recorded');
      return;
    }

    case 'stage.set':
      // The stage is the presenter's: whoever may present a screen chooses what everyone sees.
      if (actor.client !== 'web') throw new BadRequestError('the stage is switched from the meeting page');
      if (!mayPresent(actor, policy)) throw new ForbiddenError(`the meeting policy lets ${policy.present === 'organizer' ? 'only the organizer' : 'only presenters and organizers'} switch the stage`, 'policy');
      return;

    case 'wb.update':
      if (actor.client !== 'web') throw new BadRequestError('the whiteboard is drawn on from the meeting page');
      if (!mayDraw(actor, policy)) throw new ForbiddenError('the meeting policy lets only presenters and organizers draw on the whiteboard', 'policy');
      return;

    case 'wb.sync':
      if (actor.client !== 'web') throw new BadRequestError('the whiteboard is shown on the meeting page');
      return;

    default: {
      const never: never = cmd;
      throw new BatonError('bad_request', `unknown command ${(never as { type: string }).type}`);
    }
  }
}

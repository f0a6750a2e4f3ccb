import { z } from 'zod';
import { FilesPolicy, PollsPolicy, QaPolicy } from './data.js';
import { AnnotatePolicy } from './annotation.js';
import { WhiteboardPolicy } from './whiteboard.js';

/** Whether anonymous guests may join: not at all, through the lobby, or straight in. */
export const GuestPolicy = z.enum(['deny', 'lobby', 'allow']);
export type GuestPolicy = z.infer<typeof GuestPolicy>;

/** Who may share a screen: only the organizer, organizer and presenters, or anyone. */
export const PresentPolicy = z.enum(['organizer', 'presenters', 'anyone']);
export type PresentPolicy = z.infer<typeof PresentPolicy>;

/** Whether control of a shared desktop may be given, and to whom. */
export const ControlPolicy = z.enum(['never', 'signed-in', 'anyone']);
export type ControlPolicy = z.infer<typeof ControlPolicy>;

/** Who may talk in the meeting's audio: anyone, only presenters and organizers (others may listen), or nobody. */
export const AudioPolicy = z.enum(['anyone', 'presenters', 'off']);
export type AudioPolicy = z.infer<typeof AudioPolicy>;

/**
 * Who waits in the lobby: `guests` (per the guest policy), or `uninvited`: also every signed-in user
 * who is not the owner, a presenter or organizer, or invited (directly or through a group); guests
 * who may join then always wait.
 */
export const LobbyPolicy = z.enum(['guests', 'uninvited']);
export type LobbyPolicy = z.infer<typeof LobbyPolicy>;

/** Who may dial other people's telephones into the audio (costs money): organizers, or anyone who may talk. */
export const DialOutPolicy = z.enum(['organizer', 'anyone']);
export type DialOutPolicy = z.infer<typeof DialOutPolicy>;

/** Who may record the meeting: organizers, or nobody. */
export const RecordingPolicy = z.enum(['organizer', 'off']);
export type RecordingPolicy = z.infer<typeof RecordingPolicy>;

export const MeetingPolicy = z.object({
  guests: GuestPolicy,
  present: PresentPolicy,
  control: ControlPolicy,
  /** Absent in records stored before audio existed: read it with audioPolicy(). */
  audio: AudioPolicy.optional(),
  /** Absent in records stored before it existed: read it with lobbyPolicy(). */
  lobby: LobbyPolicy.optional(),
  /** Absent: `organizer`; read it with dialOutPolicy(). */
  dialOut: DialOutPolicy.optional(),
  /** Who creates polls; absent: `presenters` (read it with pollsPolicy()). */
  polls: PollsPolicy.optional(),
  /** Who asks questions; absent: `anyone` (read it with qaPolicy()). */
  qa: QaPolicy.optional(),
  /** Who shares files; absent: `anyone` (read it with filesPolicy()). */
  files: FilesPolicy.optional(),
  /** Absent: `organizer`; read it with recordingPolicy(). */
  recording: RecordingPolicy.optional(),
  /** Who may annotate the shared screen and slides; absent: `presenters` (read it with annotatePolicy()). */
  annotate: AnnotatePolicy.optional(),
  /** Who draws on the whiteboard; absent: `anyone` (read it with whiteboardPolicy()). */
  whiteboard: WhiteboardPolicy.optional(),
});
export type MeetingPolicy = z.infer<typeof MeetingPolicy>;

/** Safe defaults: guests wait in the lobby, control only to signed-in participants. */
export const DEFAULT_POLICY: MeetingPolicy = Object.freeze({
  guests: 'lobby',
  present: 'presenters',
  control: 'signed-in',
  audio: 'anyone',
});

/** The audio policy, defaulting to `anyone` for meetings created before it existed. */
export function audioPolicy(policy: MeetingPolicy): AudioPolicy {
  return policy.audio ?? 'anyone';
}

/** The dial-out policy, defaulting to `organizer`. */
export function dialOutPolicy(policy: MeetingPolicy): DialOutPolicy {
  return policy.dialOut ?? 'organizer';
}

/** Who creates polls, defaulting to `presenters`. */
export function pollsPolicy(policy: MeetingPolicy): PollsPolicy {
  return policy.polls ?? 'presenters';
}

/** Who shares files, defaulting to `anyone`. */
export function filesPolicy(policy: MeetingPolicy): FilesPolicy {
  return policy.files ?? 'anyone';
}

/** Who asks questions, defaulting to `anyone`. */
export function qaPolicy(policy: MeetingPolicy): QaPolicy {
  return policy.qa ?? 'anyone';
}

/** The recording policy, defaulting to `organizer`. */
export function recordingPolicy(policy: MeetingPolicy): RecordingPolicy {
  return policy.recording ?? 'organizer';
}

/** Who annotates, defaulting to `presenters` (the presenter lets viewers annotate with `anyone`). */
export function annotatePolicy(policy: MeetingPolicy): AnnotatePolicy {
  return policy.annotate ?? 'presenters';
}

/** Who draws on the whiteboard, defaulting to `anyone`. */
export function whiteboardPolicy(policy: MeetingPolicy): WhiteboardPolicy {
  return policy.whiteboard ?? 'anyone';
}

/** The lobby policy, defaulting to `guests` (the behaviour before it existed). */
export function lobbyPolicy(policy: MeetingPolicy): LobbyPolicy {
  return policy.lobby ?? 'guests';
}

/** Does a newcomer wait in the lobby? `trusted`: the owner, or a signed-in presenter or organizer. */
export function waitsInLobby(policy: MeetingPolicy, signedIn: boolean, trusted: boolean): boolean {
  const uninvited = lobbyPolicy(policy) === 'uninvited';
  if (!signedIn) return policy.guests === 'lobby' || (uninvited && policy.guests !== 'deny');
  return uninvited && !trusted;
}

export const MeetingPolicyPatch = MeetingPolicy.partial();
export type MeetingPolicyPatch = z.infer<typeof MeetingPolicyPatch>;

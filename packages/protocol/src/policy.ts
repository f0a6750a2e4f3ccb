import { z } from 'zod';

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

export const MeetingPolicy = z.object({
  guests: GuestPolicy,
  present: PresentPolicy,
  control: ControlPolicy,
  /** Absent in records stored before audio existed: read it with audioPolicy(). */
  audio: AudioPolicy.optional(),
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

export const MeetingPolicyPatch = MeetingPolicy.partial();
export type MeetingPolicyPatch = z.infer<typeof MeetingPolicyPatch>;

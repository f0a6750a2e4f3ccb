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

export const MeetingPolicy = z.object({
  guests: GuestPolicy,
  present: PresentPolicy,
  control: ControlPolicy,
});
export type MeetingPolicy = z.infer<typeof MeetingPolicy>;

/** Safe defaults: guests wait in the lobby, control only to signed-in participants. */
export const DEFAULT_POLICY: MeetingPolicy = Object.freeze({
  guests: 'lobby',
  present: 'presenters',
  control: 'signed-in',
});

export const MeetingPolicyPatch = MeetingPolicy.partial();
export type MeetingPolicyPatch = z.infer<typeof MeetingPolicyPatch>;

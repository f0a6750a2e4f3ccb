/** REST API request and response bodies (JSON). See docs/protocol.md. */
import { z } from 'zod';
import { MeetingPolicy, MeetingPolicyPatch } from './policy.js';
import { DisplayName, MAX_SUBJECT_LENGTH } from './conference.js';
import { ERROR_CODES } from './errors.js';
import { safeText } from './text.js';
import { Email, ScheduleInput, ScheduleResource } from './schedule.js';

export const Username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{1,31}$/, 'username: 2-32 letters, digits, dot, dash or underscore');
export const Password = z.string().min(8, 'password must be at least 8 characters').max(256);

export const SignUpRequest = z.object({ username: Username, password: Password, displayName: DisplayName.optional(), email: z.preprocess((v) => (v === '' ? undefined : v), Email.optional()) }).strict();
export const SignInRequest = z.object({ username: Username, password: z.string().min(1).max(256) }).strict();

/** `email`: for invitations by mail; absent from servers without it. */
export const User = z.object({ username: z.string(), displayName: z.string(), admin: z.boolean(), email: z.string().nullable().optional() });
export type User = z.infer<typeof User>;

export const Subject = safeText(z.string().trim().min(1, 'subject is empty').max(MAX_SUBJECT_LENGTH), 'subject');
/** A distribution group's name (invitations, baton-admin). */
export const GroupName = safeText(z.string().trim().min(1, 'group name is empty').max(64, 'group name is longer than 64 characters'), 'group name');

/** The subject may be left out or blank: the server names the meeting after its organizer. */
export const CreateConferenceRequest = z
  .object({
    subject: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), Subject.optional()),
    policy: MeetingPolicyPatch.optional(),
    /** A scheduled meeting: start, duration, time zone, recurrence. Absent: a meeting to use any time. */
    schedule: ScheduleInput.optional(),
  })
  .strict();
export type CreateConferenceRequest = z.infer<typeof CreateConferenceRequest>;
/** `schedule: null` makes it a meeting without a time again. */
export const UpdateConferenceRequest = z
  .object({ subject: Subject.optional(), policy: MeetingPolicyPatch.optional(), schedule: ScheduleInput.nullable().optional() })
  .strict();
export type UpdateConferenceRequest = z.infer<typeof UpdateConferenceRequest>;

export const ConferenceResource = z.object({
  id: z.string(),
  url: z.string(),
  subject: z.string(),
  policy: MeetingPolicy,
  organizer: z.string(),
  /** The organizer's display name. */
  organizerName: z.string().optional(),
  createdAt: z.string(),
  /** Null or absent: not scheduled. */
  schedule: ScheduleResource.nullable().optional(),
});
export type ConferenceResource = z.infer<typeof ConferenceResource>;

/** GET /api/conferences?limit=&cursor=: one page, newest first; `next` is the cursor of the following page. */
export const MAX_CONFERENCE_PAGE = 100;
export const ConferenceListQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(MAX_CONFERENCE_PAGE).default(50), cursor: z.string().max(200).optional() })
  .strict();
export const ConferenceList = z.object({ conferences: z.array(ConferenceResource), next: z.string().nullable() });
export type ConferenceList = z.infer<typeof ConferenceList>;

/** What anyone holding the meeting URL may learn before joining. */
export const ConferencePreview = z.object({
  id: z.string(),
  subject: z.string(),
  organizer: z.string(),
  organizerName: z.string().optional(),
  guests: MeetingPolicy.shape.guests,
  /** A scheduled meeting's occurrence in progress or next one, and its time zone. */
  next: z.object({ start: z.string(), end: z.string(), timeZone: z.string() }).nullable().optional(),
});
export type ConferencePreview = z.infer<typeof ConferencePreview>;

export const InviteRequest = z
  .object({ users: z.array(Username).max(500).default([]), groups: z.array(GroupName).max(50).default([]) })
  .strict()
  .refine((r) => r.users.length + r.groups.length > 0, 'name at least one user or group');
export type InviteRequest = z.infer<typeof InviteRequest>;
/**
 * `invited`: usernames newly invited. `notFound`: the entries that named no user or group; the
 * others were still invited. (When every entry is unknown the answer is 404 and nothing is sent.)
 */
export const InviteResponse = z.object({
  invited: z.array(z.string()),
  notFound: z.object({ users: z.array(z.string()), groups: z.array(z.string()) }).optional(),
});
export type InviteResponse = z.infer<typeof InviteResponse>;

/** GET /api/conferences/:id/invite-suggestions?q=: the organizer's autocomplete over users and groups. */
export const MAX_INVITE_SUGGESTIONS = 8;
export const InviteSuggestQuery = z.object({ q: z.string().trim().min(1, 'type something to search').max(64) }).strict();
/** Usernames and display names only: accounts carry nothing more (no e-mail) and guests never get here. */
export const InviteSuggestions = z.object({
  users: z.array(z.object({ username: z.string(), displayName: z.string() })).max(MAX_INVITE_SUGGESTIONS),
  groups: z.array(z.object({ name: z.string() })).max(MAX_INVITE_SUGGESTIONS),
});
export type InviteSuggestions = z.infer<typeof InviteSuggestions>;

export const Invitation = z.object({
  conferenceId: z.string(),
  url: z.string(),
  subject: z.string(),
  invitedBy: z.string(),
  at: z.string(),
});
export type Invitation = z.infer<typeof Invitation>;

/** One-time token with which a host agent joins as the sharer without a browser cookie. */
export const AgentTokenResponse = z.object({
  token: z.string(),
  expiresAt: z.string(),
  command: z.string(),
  /** The agent this server offers for download (GET /agent/baton-agent.tgz); null when not packed. */
  agent: z.object({ url: z.string(), sha256: z.string() }).nullable().optional(),
});

export const ApiError = z.object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }) });
export type ApiError = z.infer<typeof ApiError>;

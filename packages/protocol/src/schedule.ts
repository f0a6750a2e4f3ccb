/**
 * Scheduled meetings (issue 15 items 1 and 2): a start in a time zone, a duration, an optional
 * daily or weekly recurrence with an end; the dashboard's upcoming list; the per-user calendar feed.
 * Times on the wire are ISO 8601 instants in UTC, except `start` in a request, which is the wall-clock
 * time in `timeZone` (so a weekly 10:00 stays 10:00 across daylight-saving changes).
 */
import { z } from 'zod';

/** Is `tz` an IANA time zone this runtime knows (Intl)? */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const TimeZone = z.string().min(1).max(64).refine(isTimeZone, 'timeZone: not an IANA time zone (e.g. Europe/Berlin)');
/** A wall-clock time without zone: 2026-12-08T10:00. */
export const LocalDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'start: YYYY-MM-DDTHH:MM (wall-clock time in timeZone)');
export const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'until: YYYY-MM-DD');

export const MAX_OCCURRENCES = 500;
export const MAX_DURATION_MINUTES = 24 * 60;

/** Daily or weekly, ending after `count` occurrences or on the day `until` (inclusive, in the meeting's time zone). */
export const Recurrence = z
  .object({
    freq: z.enum(['daily', 'weekly']),
    count: z.number().int().min(1).max(MAX_OCCURRENCES).optional(),
    until: LocalDate.optional(),
  })
  .strict()
  .refine((r) => (r.count === undefined) !== (r.until === undefined), 'recurrence: give either count or until');
export type Recurrence = z.infer<typeof Recurrence>;

export const ScheduleInput = z
  .object({
    start: LocalDateTime,
    durationMinutes: z.number().int().min(5).max(MAX_DURATION_MINUTES),
    timeZone: TimeZone,
    recurrence: Recurrence.nullable().default(null),
  })
  .strict();
export type ScheduleInput = z.infer<typeof ScheduleInput>;

/** One occurrence: its start and end instants. */
export const Occurrence = z.object({ start: z.string(), end: z.string() });
export type Occurrence = z.infer<typeof Occurrence>;

/** A meeting's schedule as the organizer sees it (GET/POST/PATCH /api/conferences). */
export const ScheduleResource = z.object({
  /** The first occurrence's start (UTC instant) and the same as wall-clock time in `timeZone`. */
  start: z.string(),
  localStart: LocalDateTime,
  durationMinutes: z.number().int(),
  timeZone: z.string(),
  recurrence: Recurrence.nullable(),
  /** The RRULE line's value as in the .ics (FREQ=WEEKLY;COUNT=4), or null. */
  rrule: z.string().nullable(),
  /** The .ics SEQUENCE: goes up with each change of time or subject. */
  sequence: z.number().int(),
  /** The occurrence in progress or the next one; null when all are over. */
  next: Occurrence.nullable(),
  /** Opened by the organizer for the current occurrence: guests no longer wait for the start. */
  opened: z.boolean(),
});
export type ScheduleResource = z.infer<typeof ScheduleResource>;

/** GET /api/upcoming: meetings I organize or am invited to, by their next occurrence. */
export const UpcomingMeeting = z.object({
  id: z.string(),
  url: z.string(),
  subject: z.string(),
  organizer: z.string(),
  organizerName: z.string(),
  role: z.enum(['organizer', 'invited']),
  start: z.string(),
  end: z.string(),
  timeZone: z.string(),
  recurring: z.boolean(),
  /** The organizer has opened it for this occurrence (guests no longer wait for the start). */
  opened: z.boolean(),
  /** Where to download the meeting's .ics (signed-in organizer or invitee). */
  ics: z.string(),
});
export type UpcomingMeeting = z.infer<typeof UpcomingMeeting>;
export const UpcomingList = z.object({ meetings: z.array(UpcomingMeeting) });
export type UpcomingList = z.infer<typeof UpcomingList>;

/** GET /api/calendar-feed: whether I have a feed URL (its token is shown once, when made). */
export const CalendarFeedStatus = z.object({ active: z.boolean(), createdAt: z.string().nullable() });
export type CalendarFeedStatus = z.infer<typeof CalendarFeedStatus>;
/** POST /api/calendar-feed: a new feed URL; any earlier one stops working. */
export const CalendarFeedCreated = z.object({ url: z.string(), createdAt: z.string() });
export type CalendarFeedCreated = z.infer<typeof CalendarFeedCreated>;
export const CalendarFeedQuery = z.object({ token: z.string().min(16).max(128) }).strict();

/** An e-mail address for invitations (optional on an account). */
export const Email = z.string().trim().max(254).pipe(z.email('email: not an e-mail address'));
export const UpdateMeRequest = z.object({ email: Email.nullable() }).strict();
export type UpdateMeRequest = z.infer<typeof UpdateMeRequest>;

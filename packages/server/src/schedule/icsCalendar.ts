/**
 * iCalendar (RFC 5545) for scheduled meetings, written by ical-generator. One VEVENT per meeting,
 * UID fixed per meeting (`<id>@baton`), SEQUENCE from the record (raised on each change of time or
 * subject), DTSTART/DTEND with TZID= in the meeting's zone plus that zone's VTIMEZONE (from
 * timezones-ical-library), the RRULE as stored. METHOD:REQUEST for invitations, METHOD:CANCEL with
 * STATUS:CANCELLED when a meeting is deleted, METHOD:PUBLISH for downloads and the feed.
 */
import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import { tzlib_get_ical_block } from 'timezones-ical-library';
import { TZDate } from '@date-fns/tz';
import type { ConferenceRecord } from '../store/Store.js';

export type IcsMethod = 'REQUEST' | 'CANCEL' | 'PUBLISH';

export interface Person {
  name: string;
  email: string;
}

export interface IcsMeeting {
  conference: ConferenceRecord;
  url: string;
  /** ORGANIZER needs an address: the organizer's own, else the server's sender address. */
  organizer: Person;
  /** Invitees who have an e-mail address (ATTENDEE needs one). */
  attendees: Person[];
}

const METHODS: Record<IcsMethod, ICalCalendarMethod> = {
  REQUEST: ICalCalendarMethod.REQUEST,
  CANCEL: ICalCalendarMethod.CANCEL,
  PUBLISH: ICalCalendarMethod.PUBLISH,
};

/** The UID of a meeting's event: the same in every invitation, update, cancellation and feed. */
export function eventUid(conferenceId: string): string {
  return `${conferenceId}@baton`;
}

/** A calendar with one event per scheduled meeting (unscheduled ones are left out). */
export function meetingCalendar(opts: { method: IcsMethod; meetings: IcsMeeting[]; name?: string }): string {
  const cal = ical({
    prodId: { company: 'Baton', product: 'Baton', language: 'EN' },
    method: METHODS[opts.method],
    ...(opts.name ? { name: opts.name } : {}),
  });
  // No calendar-wide zone (DTSTAMP stays UTC); a VTIMEZONE for each zone the events use.
  cal.timezone({ name: null, generator: (tz) => vtimezone(tz) });
  const cancel = opts.method === 'CANCEL';
  for (const m of opts.meetings) {
    const c = m.conference;
    const s = c.schedule;
    if (!s) continue;
    const start = Date.parse(s.startsAt);
    cal.createEvent({
      id: eventUid(c.id),
      // A cancellation is itself a change: calendars apply it only over what they hold.
      sequence: c.sequence + (cancel ? 1 : 0),
      stamp: new Date(),
      timezone: s.timeZone,
      start: new TZDate(start, s.timeZone),
      end: new TZDate(start + s.durationMinutes * 60_000, s.timeZone),
      ...(s.rrule ? { repeating: `RRULE:${s.rrule}` } : {}),
      summary: c.subject,
      description: `Join the meeting: ${m.url}`,
      location: m.url,
      url: m.url,
      organizer: { name: m.organizer.name, email: m.organizer.email },
      attendees: m.attendees.map((a) => ({
        name: a.name,
        email: a.email,
        role: ICalAttendeeRole.REQ,
        status: ICalAttendeeStatus.NEEDSACTION,
        rsvp: !cancel,
      })),
      status: cancel ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    });
  }
  return cal.toString();
}

function vtimezone(tz: string): string | null {
  if (tz === 'UTC' || tz === 'Etc/UTC') return null;
  const block = tzlib_get_ical_block(tz);
  return Array.isArray(block) && block[0] ? block[0] : null;
}

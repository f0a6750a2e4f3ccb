/**
 * Scheduled meetings' times. A schedule is stored as the first occurrence's start in UTC, a duration,
 * an IANA time zone and an RRULE (RFC 5545) without DTSTART. Occurrences are expanded by `rrule` in
 * the meeting's wall-clock time ("floating" dates whose UTC fields are the local fields), then turned
 * back into instants in that zone: a weekly 10:00 in Europe/Berlin stays 10:00 across daylight saving,
 * as calendar programs do with DTSTART;TZID=.
 */
import rrulePkg from 'rrule';
import { TZDate } from '@date-fns/tz';
import type { Occurrence, Recurrence, ScheduleInput, ScheduleResource } from '@baton/protocol';
import { BadRequestError } from '../errors.js';
import type { ConferenceRecord, StoredSchedule } from '../store/Store.js';

// rrule ships CommonJS for Node; its named exports come through the default import.
const { RRule, Frequency } = rrulePkg;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface Interval {
  start: number;
  end: number;
}

/** The wall-clock fields of an instant in `tz`, as a floating Date (its UTC fields are those fields). */
function toFloating(instant: number, tz: string): Date {
  const d = new TZDate(instant, tz);
  return new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()));
}

/** The instant at which `tz`'s clocks show a floating Date's fields. */
function fromFloating(f: Date, tz: string): number {
  return new TZDate(f.getUTCFullYear(), f.getUTCMonth(), f.getUTCDate(), f.getUTCHours(), f.getUTCMinutes(), f.getUTCSeconds(), tz).getTime();
}

function parseLocal(local: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(local);
  if (!m) throw new BadRequestError(`not a local date/time: ${local}`);
  const [, y, mo, d, h = '0', mi = '0'] = m;
  const f = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)));
  // Date.UTC rolls 2026-02-31 over into March: refuse instead.
  if (f.getUTCMonth() !== Number(mo) - 1 || f.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59) {
    throw new BadRequestError(`no such date/time: ${local}`);
  }
  return f;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** 20270131T225959Z */
function icalUtc(instant: number): string {
  const d = new Date(instant);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

/** What the API was given, as stored: UTC start and an RRULE whose UNTIL (UTC) is the end of the last day in the zone. */
export function toStoredSchedule(input: ScheduleInput): StoredSchedule {
  const tz = input.timeZone;
  const startsAt = fromFloating(parseLocal(input.start), tz);
  let rrule: string | null = null;
  const r = input.recurrence;
  if (r) {
    const freq = r.freq === 'daily' ? 'DAILY' : 'WEEKLY';
    if (r.count !== undefined) {
      rrule = `FREQ=${freq};COUNT=${r.count}`;
    } else {
      const lastDay = parseLocal(r.until!);
      const first = toFloating(startsAt, tz);
      if (lastDay.getTime() < Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate())) {
        throw new BadRequestError('recurrence: until is before the first occurrence');
      }
      const until = fromFloating(new Date(lastDay.getTime() + DAY - 1000), tz);
      rrule = `FREQ=${freq};UNTIL=${icalUtc(until)}`;
    }
  }
  return { startsAt: new Date(startsAt).toISOString(), durationMinutes: input.durationMinutes, timeZone: tz, rrule };
}

function ruleOf(s: StoredSchedule) {
  const opts = RRule.parseString(s.rrule!);
  return new RRule({
    ...opts,
    dtstart: toFloating(Date.parse(s.startsAt), s.timeZone),
    // UNTIL is an instant (UTC); the expansion runs in floating local time.
    ...(opts.until ? { until: toFloating(opts.until.getTime(), s.timeZone) } : {}),
    tzid: null,
  });
}

/** The occurrences that overlap [from, to). */
export function occurrencesBetween(s: StoredSchedule, from: number, to: number): Interval[] {
  const dur = s.durationMinutes * MINUTE;
  const starts = s.rrule
    ? ruleOf(s)
        .between(new Date(from - dur - 2 * DAY), new Date(to + 2 * DAY), true)
        .map((f) => fromFloating(f, s.timeZone))
    : [Date.parse(s.startsAt)];
  return starts.map((start) => ({ start, end: start + dur })).filter((o) => o.end > from && o.start < to);
}

/** The occurrence in progress at `now`, else the next one; null when all are over. */
export function nextOccurrence(s: StoredSchedule, now: number): Interval | null {
  const dur = s.durationMinutes * MINUTE;
  if (!s.rrule) {
    const start = Date.parse(s.startsAt);
    return start + dur > now ? { start, end: start + dur } : null;
  }
  const rule = ruleOf(s);
  // Floating time is within a day of the instant; start a day early and walk forward.
  let f = rule.after(new Date(now - dur - DAY), true);
  for (let i = 0; f && i < 10; i++) {
    const start = fromFloating(f, s.timeZone);
    if (start + dur > now) return { start, end: start + dur };
    f = rule.after(f, false);
  }
  return null;
}

/**
 * Guests wait in the lobby until the organizer opens the meeting: true while a scheduled meeting has
 * an occurrence to come (or in progress) and was not opened for it. An opening lasts until the end of
 * the occurrence it was made for (the next one at the time), so each week's meeting starts closed.
 */
export function waitsForOrganizer(c: Pick<ConferenceRecord, 'schedule' | 'openedAt'>, now: number): boolean {
  if (!c.schedule) return false;
  if (!nextOccurrence(c.schedule, now)) return false;
  if (!c.openedAt) return true;
  const openedFor = nextOccurrence(c.schedule, Date.parse(c.openedAt));
  return !openedFor || openedFor.end <= now;
}

/** The recurrence as the API gives it back (until: the last day, in the meeting's zone). */
export function recurrenceOf(s: StoredSchedule): Recurrence | null {
  if (!s.rrule) return null;
  const opts = RRule.parseString(s.rrule);
  const freq = opts.freq === Frequency.DAILY ? 'daily' : 'weekly';
  if (opts.count) return { freq, count: opts.count };
  if (opts.until) {
    const f = toFloating(opts.until.getTime(), s.timeZone);
    return { freq, until: `${f.getUTCFullYear()}-${pad(f.getUTCMonth() + 1)}-${pad(f.getUTCDate())}` };
  }
  return { freq, count: 1 };
}

/** The first start as wall-clock time in the meeting's zone: 2026-12-08T10:00. */
export function localStart(s: StoredSchedule): string {
  const f = toFloating(Date.parse(s.startsAt), s.timeZone);
  return `${f.getUTCFullYear()}-${pad(f.getUTCMonth() + 1)}-${pad(f.getUTCDate())}T${pad(f.getUTCHours())}:${pad(f.getUTCMinutes())}`;
}

export function occurrenceToWire(o: Interval): Occurrence {
  return { start: new Date(o.start).toISOString(), end: new Date(o.end).toISOString() };
}

export function scheduleToWire(c: ConferenceRecord, now: number): ScheduleResource | null {
  const s = c.schedule;
  if (!s) return null;
  const next = nextOccurrence(s, now);
  return {
    start: s.startsAt,
    localStart: localStart(s),
    durationMinutes: s.durationMinutes,
    timeZone: s.timeZone,
    recurrence: recurrenceOf(s),
    rrule: s.rrule,
    sequence: c.sequence,
    next: next && occurrenceToWire(next),
    opened: !waitsForOrganizer(c, now),
  };
}

/** Did the time change (start, duration, zone or recurrence)? */
export function sameSchedule(a: StoredSchedule | null, b: StoredSchedule | null): boolean {
  if (!a || !b) return a === b;
  return a.startsAt === b.startsAt && a.durationMinutes === b.durationMinutes && a.timeZone === b.timeZone && a.rrule === b.rrule;
}

import { describe, expect, it } from 'vitest';
import { localStart, nextOccurrence, occurrencesBetween, recurrenceOf, toStoredSchedule, waitsForOrganizer } from './recurrence.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('schedule recurrence (rrule in the meeting’s time zone)', () => {
  it('keeps a weekly 10:00 in Berlin at 10:00 across the change to summer time', () => {
    const s = toStoredSchedule({ start: '2027-03-16T10:00', durationMinutes: 30, timeZone: 'Europe/Berlin', recurrence: { freq: 'weekly', count: 4 } });
    expect(s).toEqual({ startsAt: '2027-03-16T09:00:00.000Z', durationMinutes: 30, timeZone: 'Europe/Berlin', rrule: 'FREQ=WEEKLY;COUNT=4' });
    const all = occurrencesBetween(s, Date.parse('2027-01-01'), Date.parse('2028-01-01')).map((o) => iso(o.start));
    // Summer time starts on 28 March 2027: 10:00 is then 08:00 UTC.
    expect(all).toEqual(['2027-03-16T09:00:00.000Z', '2027-03-23T09:00:00.000Z', '2027-03-30T08:00:00.000Z', '2027-04-06T08:00:00.000Z']);
    expect(localStart(s)).toBe('2027-03-16T10:00');
  });

  it('ends a daily recurrence on the until day (inclusive, in the zone) and gives it back', () => {
    const s = toStoredSchedule({ start: '2027-01-30T23:30', durationMinutes: 60, timeZone: 'America/New_York', recurrence: { freq: 'daily', until: '2027-02-02' } });
    expect(s.rrule).toBe('FREQ=DAILY;UNTIL=20270203T045959Z');
    expect(occurrencesBetween(s, 0, Date.parse('2030-01-01'))).toHaveLength(4);
    expect(recurrenceOf(s)).toEqual({ freq: 'daily', until: '2027-02-02' });
    expect(() => toStoredSchedule({ start: '2027-01-30T10:00', durationMinutes: 60, timeZone: 'UTC', recurrence: { freq: 'daily', until: '2027-01-29' } })).toThrow(/before/);
    expect(() => toStoredSchedule({ start: '2027-02-30T10:00', durationMinutes: 60, timeZone: 'UTC', recurrence: null })).toThrow(/no such/);
  });

  it('finds the occurrence in progress, then the next, then none', () => {
    const s = toStoredSchedule({ start: '2027-01-04T09:00', durationMinutes: 60, timeZone: 'UTC', recurrence: { freq: 'daily', count: 2 } });
    expect(nextOccurrence(s, Date.parse('2027-01-01T00:00Z'))).toEqual({ start: Date.parse('2027-01-04T09:00Z'), end: Date.parse('2027-01-04T10:00Z') });
    expect(iso(nextOccurrence(s, Date.parse('2027-01-04T09:59Z'))!.start)).toBe('2027-01-04T09:00:00.000Z');
    expect(iso(nextOccurrence(s, Date.parse('2027-01-04T10:00Z'))!.start)).toBe('2027-01-05T09:00:00.000Z');
    expect(nextOccurrence(s, Date.parse('2027-01-05T10:00Z'))).toBeNull();
  });

  it('an opening lasts until the end of the occurrence it was made for', () => {
    const schedule = toStoredSchedule({ start: '2027-01-04T09:00', durationMinutes: 60, timeZone: 'UTC', recurrence: { freq: 'weekly', count: 3 } });
    const at = (t: string) => Date.parse(t);
    expect(waitsForOrganizer({ schedule, openedAt: null }, at('2027-01-04T08:00Z'))).toBe(true);
    const opened = { schedule, openedAt: '2027-01-04T08:30:00.000Z' };
    expect(waitsForOrganizer(opened, at('2027-01-04T09:30Z'))).toBe(false);
    // The next week's meeting starts closed again.
    expect(waitsForOrganizer(opened, at('2027-01-11T08:55Z'))).toBe(true);
    // After the last occurrence, nobody waits for a start.
    expect(waitsForOrganizer({ schedule, openedAt: null }, at('2027-02-01T00:00Z'))).toBe(false);
    expect(waitsForOrganizer({ schedule: null, openedAt: null }, at('2027-01-04T08:00Z'))).toBe(false);
  });
});

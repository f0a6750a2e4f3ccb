/**
 * Invitation mails: what is sent to whom when a meeting's invitees or time change. Invitees with an
 * e-mail address get a METHOD:REQUEST .ics when invited and when the time or subject changes (the
 * SEQUENCE went up), a METHOD:CANCEL one when the meeting is deleted. A meeting without a time gets a
 * plain invitation mail with its link. Without SMTP (no outbox) nothing is sent: the invitation is
 * on the invitee's dashboard either way. Everything here runs after the request has been answered.
 */
import type { ConferenceRecord, Store, UserRecord } from '../store/Store.js';
import type { MailOutbox } from '../mail/MailOutbox.js';
import { meetingCalendar, type IcsMeeting, type Person } from './icsCalendar.js';
import { nextOccurrence } from './recurrence.js';

export interface CalendarMailOptions {
  store: Store;
  outbox: MailOutbox | null;
  /** The server's sender address (ORGANIZER when the organizer has no address). */
  fromAddress: string;
  log?: { warn(obj: unknown, msg?: string): void };
}

/** "Alice Liddell" for a CN= parameter: no double quotes (not allowed in iCalendar parameter values). */
function person(u: Pick<UserRecord, 'displayName' | 'username'>, email: string): Person {
  return { name: (u.displayName || u.username).replace(/"/g, "'"), email };
}

export class CalendarMail {
  readonly #opts: CalendarMailOptions;

  constructor(opts: CalendarMailOptions) {
    this.#opts = opts;
  }

  get enabled(): boolean {
    return this.#opts.outbox !== null;
  }

  /** The meeting as one iCalendar event, with its organizer and every invitee that has an address. */
  async icsMeeting(c: ConferenceRecord, url: string, invitees?: UserRecord[]): Promise<IcsMeeting> {
    const organizer = await this.#opts.store.getUserById(c.organizerId);
    const list = invitees ?? (await this.#opts.store.listInvitees(c.id));
    return {
      conference: c,
      url,
      organizer: person(organizer ?? { displayName: c.organizerName, username: c.organizerUsername }, organizer?.email ?? this.#opts.fromAddress),
      attendees: list.filter((u) => u.email).map((u) => person(u, u.email!)),
    };
  }

  /** Newly invited users (directly or through a group). */
  invited(c: ConferenceRecord, users: UserRecord[], url: string): void {
    this.#run(async () => {
      const to = users.filter((u) => u.email);
      if (to.length === 0) return;
      const who = c.organizerName || c.organizerUsername;
      const ics = c.schedule ? meetingCalendar({ method: 'REQUEST', meetings: [await this.icsMeeting(c, url)] }) : null;
      for (const u of to) {
        await this.#opts.outbox!.enqueue({
          to: u.email!,
          subject: `Invitation: ${c.subject}`,
          text: `${who} invites you to "${c.subject}"${when(c)}.\n\nJoin: ${url}\n`,
          ...(ics ? { ics: { method: 'REQUEST' as const, content: ics } } : {}),
        });
      }
    });
  }

  /** The time or subject changed (the SEQUENCE is already raised): every invitee gets the update. */
  changed(c: ConferenceRecord, url: string): void {
    this.#run(async () => {
      const invitees = (await this.#opts.store.listInvitees(c.id)).filter((u) => u.email);
      if (invitees.length === 0 || !c.schedule) return;
      const ics = meetingCalendar({ method: 'REQUEST', meetings: [await this.icsMeeting(c, url, invitees)] });
      for (const u of invitees) {
        await this.#opts.outbox!.enqueue({
          to: u.email!,
          subject: `Updated invitation: ${c.subject}`,
          text: `"${c.subject}" has changed${when(c)}.\n\nJoin: ${url}\n`,
          ics: { method: 'REQUEST', content: ics },
        });
      }
    });
  }

  /** The meeting was deleted: its invitees (read before the delete) get a cancellation. */
  cancelled(c: ConferenceRecord, invitees: UserRecord[], url: string): void {
    this.#run(async () => {
      const to = invitees.filter((u) => u.email);
      if (to.length === 0) return;
      const ics = c.schedule ? meetingCalendar({ method: 'CANCEL', meetings: [await this.icsMeeting(c, url, to)] }) : null;
      for (const u of to) {
        await this.#opts.outbox!.enqueue({
          to: u.email!,
          subject: `Cancelled: ${c.subject}`,
          text: `"${c.subject}" has been cancelled by its organizer.\n`,
          ...(ics ? { ics: { method: 'CANCEL' as const, content: ics } } : {}),
        });
      }
    });
  }

  #run(job: () => Promise<void>): void {
    if (!this.#opts.outbox) return;
    job().catch((err: unknown) => this.#opts.log?.warn({ err: { message: (err as Error).message } }, 'preparing invitation mail failed'));
  }
}

/** " on Tue, 8 Dec 2026, 10:00 (Europe/Berlin)" for the next occurrence; empty when not scheduled. */
function when(c: ConferenceRecord): string {
  const s = c.schedule;
  if (!s) return '';
  const next = nextOccurrence(s, Date.now()) ?? { start: Date.parse(s.startsAt) };
  const text = new Intl.DateTimeFormat('en-GB', { timeZone: s.timeZone, dateStyle: 'full', timeStyle: 'short' }).format(next.start);
  return ` on ${text} (${s.timeZone})${s.rrule ? `, repeating (${s.rrule})` : ''}`;
}

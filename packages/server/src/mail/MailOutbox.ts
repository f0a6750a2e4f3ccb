/**
 * Outgoing mail (invitations) through SMTP with nodemailer, off the request path: `enqueue` returns at
 * once, one sender drains the queue in order, a failed mail is retried with growing pauses and given
 * up after a few attempts. Errors are logged with the SMTP code and reply only, never the URL (it may
 * hold a password) and never the message. The queue is in memory: mail not yet sent when the server
 * stops is lost (the invitation itself is in the store and on the invitee's dashboard).
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { TypedEmitter } from '../util/TypedEmitter.js';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** An iCalendar object: attached as invite.ics and sent as the text/calendar alternative. */
  ics?: { method: 'REQUEST' | 'CANCEL' | 'PUBLISH'; content: string };
}

export interface MailOutboxOptions {
  /** smtp://user:pass@host:port or smtps://… (nodemailer's URL form). */
  smtpUrl: string;
  /** The From: address, e.g. "Baton <baton@example.org>". */
  from: string;
  log?: { warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void; info?(obj: unknown, msg?: string): void };
  /** Attempts per mail (default 5). */
  maxAttempts?: number;
  /** Pause before the first retry, doubled for each further one (default 5 s). */
  retryBaseMs?: number;
  /** Mails held at most (default 10,000); more are dropped with a warning. */
  maxQueued?: number;
}

export type MailOutboxEvents = {
  sent: [OutgoingMail];
  /** Given up after the last attempt. */
  failed: [OutgoingMail, string];
};

interface Entry {
  mail: OutgoingMail;
  attempts: number;
  notBefore: number;
}

export class MailOutbox extends TypedEmitter<MailOutboxEvents> {
  readonly #opts: Required<Pick<MailOutboxOptions, 'maxAttempts' | 'retryBaseMs' | 'maxQueued'>> & MailOutboxOptions;
  readonly #transport: Transporter;
  readonly #queue: Entry[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #idle: (() => void)[] = [];
  #closed = false;

  constructor(opts: MailOutboxOptions) {
    super();
    this.#opts = { maxAttempts: 5, retryBaseMs: 5000, maxQueued: 10_000, ...opts };
    this.#transport = nodemailer.createTransport(opts.smtpUrl);
  }

  get pending(): number {
    return this.#queue.length;
  }

  enqueue(mail: OutgoingMail): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#opts.maxQueued) {
      this.#opts.log?.warn({ queued: this.#queue.length }, 'mail outbox full: invitation mail dropped');
      return;
    }
    this.#queue.push({ mail, attempts: 0, notBefore: 0 });
    this.#kick();
  }

  /** Resolves once nothing is queued (tests; shutdown may wait on it). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #kick(): void {
    if (this.#running || this.#closed) return;
    const now = Date.now();
    const due = this.#queue.findIndex((e) => e.notBefore <= now);
    if (due < 0) {
      if (this.#queue.length === 0) {
        for (const resolve of this.#idle.splice(0)) resolve();
        return;
      }
      // Everything waits for a retry: wake up for the earliest.
      if (!this.#timer) {
        const wait = Math.min(...this.#queue.map((e) => e.notBefore)) - now;
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.#kick();
        }, Math.max(0, wait));
        this.#timer.unref?.();
      }
      return;
    }
    const entry = this.#queue.splice(due, 1)[0]!;
    this.#running = true;
    void this.#send(entry).finally(() => {
      this.#running = false;
      this.#kick();
    });
  }

  async #send(entry: Entry): Promise<void> {
    const { mail } = entry;
    entry.attempts += 1;
    try {
      await this.#transport.sendMail({
        from: this.#opts.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.ics
          ? {
              icalEvent: { method: mail.ics.method, content: mail.ics.content },
              attachments: [{ filename: mail.ics.method === 'CANCEL' ? 'cancel.ics' : 'invite.ics', content: mail.ics.content, contentType: `application/ics` }],
            }
          : {}),
      });
      this.emit('sent', mail);
    } catch (err) {
      const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
      // The SMTP code and reply say what went wrong; the URL (credentials) and the mail stay out of the log.
      const why = { code: e.code, responseCode: e.responseCode, response: e.response?.slice(0, 200), attempt: entry.attempts };
      if (this.#closed) return;
      if (entry.attempts < this.#opts.maxAttempts) {
        this.#opts.log?.warn(why, 'sending an invitation mail failed; will retry');
        entry.notBefore = Date.now() + this.#opts.retryBaseMs * 2 ** (entry.attempts - 1);
        this.#queue.push(entry);
      } else {
        this.#opts.log?.error(why, 'sending an invitation mail failed; giving up');
        this.emit('failed', mail, e.code ?? 'error');
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue.length = 0;
    for (const resolve of this.#idle.splice(0)) resolve();
    this.#transport.close();
    this.removeAllListeners();
  }
}

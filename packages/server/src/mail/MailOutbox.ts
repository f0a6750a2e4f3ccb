/**
 * Outgoing mail (invitations) through SMTP with nodemailer, off the request path: `enqueue` returns at
 * once, one sender drains the queue in order, a failed mail is retried with growing pauses and given
 * up after a few attempts. Errors are logged with the SMTP code and reply only, never the URL (it may
 * hold a password) and never the message.
 *
 * With a store the queue is durable (table mail_outbox): a mail is stored before enqueue() resolves,
 * deleted once SMTP accepted it or it was given up, and start() picks up what a previous run left
 * (SMTP down, server restarted), so it is sent after the restart. Delivery is at least once: a
 * server killed between SMTP's acceptance and the delete sends that mail again.
 */
import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { z } from 'zod';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { Store } from '../store/Store.js';

export const OutgoingMail = z.object({
  to: z.string().min(1),
  subject: z.string(),
  text: z.string(),
  /** An iCalendar object: attached as invite.ics and sent as the text/calendar alternative. */
  ics: z.object({ method: z.enum(['REQUEST', 'CANCEL', 'PUBLISH']), content: z.string() }).optional(),
});
export type OutgoingMail = z.infer<typeof OutgoingMail>;

export type MailQueueStore = Pick<Store, 'queueMail' | 'listQueuedMail' | 'updateQueuedMail' | 'deleteQueuedMail'>;

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
  /** Keeps the queue across restarts; absent: in memory only. */
  store?: MailQueueStore | undefined;
}

export type MailOutboxEvents = {
  sent: [OutgoingMail];
  /** Given up after the last attempt. */
  failed: [OutgoingMail, string];
};

interface Entry {
  id: string;
  mail: OutgoingMail;
  attempts: number;
  notBefore: number;
}

export class MailOutbox extends TypedEmitter<MailOutboxEvents> {
  readonly #opts: Required<Pick<MailOutboxOptions, 'maxAttempts' | 'retryBaseMs' | 'maxQueued'>> & MailOutboxOptions;
  readonly #store: MailQueueStore | null;
  readonly #transport: Transporter;
  readonly #queue: Entry[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #idle: (() => void)[] = [];
  #closed = false;
  /** Ids queued or being sent, so start() does not take a mail enqueued meanwhile twice. */
  readonly #known = new Set<string>();

  constructor(opts: MailOutboxOptions) {
    super();
    this.#opts = { maxAttempts: 5, retryBaseMs: 5000, maxQueued: 10_000, ...opts };
    this.#transport = nodemailer.createTransport(opts.smtpUrl);
    this.#store = opts.store ?? null;
  }

  /** Takes up the mail a previous run left in the store (nothing without a store). */
  async start(): Promise<void> {
    if (!this.#store || this.#closed) return;
    const rows = await this.#store.listQueuedMail(this.#opts.maxQueued);
    let n = 0;
    for (const row of rows) {
      if (this.#known.has(row.id)) continue;
      let mail: OutgoingMail;
      try {
        mail = OutgoingMail.parse(JSON.parse(row.mail));
      } catch {
        this.#opts.log?.warn({ id: row.id }, 'mail outbox: an unreadable stored mail was dropped');
        await this.#store.deleteQueuedMail(row.id).catch(() => {});
        continue;
      }
      this.#known.add(row.id);
      this.#queue.push({ id: row.id, mail, attempts: row.attempts, notBefore: Date.parse(row.notBefore) || 0 });
      n++;
    }
    if (n > 0) this.#opts.log?.info?.({ mails: n }, 'mail outbox: sending mail queued before the restart');
    this.#kick();
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** Queues a mail; resolves once it is stored (with a store), so it survives a restart from then on. */
  async enqueue(mail: OutgoingMail): Promise<void> {
    if (this.#closed) return;
    if (this.#queue.length >= this.#opts.maxQueued) {
      this.#opts.log?.warn({ queued: this.#queue.length }, 'mail outbox full: invitation mail dropped');
      return;
    }
    const entry: Entry = { id: randomUUID(), mail, attempts: 0, notBefore: 0 };
    this.#known.add(entry.id);
    if (this.#store) {
      const now = new Date().toISOString();
      try {
        await this.#store.queueMail({ id: entry.id, mail: JSON.stringify(mail), attempts: 0, notBefore: now, createdAt: now });
      } catch (err) {
        // Still sent from memory; only a restart before that would lose it.
        this.#opts.log?.warn({ err: { message: (err as Error).message } }, 'mail outbox: could not store a mail');
      }
    }
    if (this.#closed) return;
    this.#queue.push(entry);
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
      this.#known.delete(entry.id);
      await this.#forget(entry.id);
      this.emit('sent', mail);
    } catch (err) {
      const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
      // The SMTP code and reply say what went wrong; the URL (credentials) and the mail stay out of the log.
      const why = { code: e.code, responseCode: e.responseCode, response: e.response?.slice(0, 200), attempt: entry.attempts };
      if (this.#closed) return;
      if (entry.attempts < this.#opts.maxAttempts) {
        this.#opts.log?.warn(why, 'sending an invitation mail failed; will retry');
        entry.notBefore = Date.now() + this.#opts.retryBaseMs * 2 ** (entry.attempts - 1);
        await this.#store?.updateQueuedMail(entry.id, entry.attempts, new Date(entry.notBefore).toISOString()).catch(() => {});
        this.#queue.push(entry);
      } else {
        this.#opts.log?.error(why, 'sending an invitation mail failed; giving up');
        this.#known.delete(entry.id);
        await this.#forget(entry.id);
        this.emit('failed', mail, e.code ?? 'error');
      }
    }
  }

  async #forget(id: string): Promise<void> {
    await this.#store?.deleteQueuedMail(id).catch((err: unknown) => this.#opts.log?.warn({ err: { message: (err as Error).message } }, 'mail outbox: could not delete a sent mail'));
  }

  /** Stops sending; stored mail stays for the next start. */
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

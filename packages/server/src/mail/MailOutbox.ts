/**
 * Outgoing mail (invitations) through SMTP with nodemailer, off the request path: `enqueue` returns at
 * once, one sender drains the queue in order, a failed mail is retried with growing pauses and given
 * up after a few attempts. Errors are logged with the SMTP code and reply only, never the URL (it may
 * hold a password) and never the message.
 *
 * With a store the queue is durable (table mail_outbox): a mail is stored before enqueue() resolves,
 * deleted once SMTP accepted it or it was given up, and start() picks up what a previous run left
 * (SMTP down, server restarted), so it is sent after the restart. Several processes share one store
 * in a cluster, so each mail is leased to the process that holds it (renewed at every attempt): a
 * shut-down server releases its leases at once, a killed one's expire (`leaseMs`), and every process
 * claims free mail at start and every `sweepMs`. Delivery is at least once: a server killed between
 * SMTP's acceptance and the delete sends that mail again.
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

export type MailQueueStore = Pick<Store, 'queueMail' | 'claimQueuedMail' | 'updateQueuedMail' | 'releaseQueuedMail' | 'deleteQueuedMail'>;

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
  /** How long a mail stays with the process that holds it without a renewal (default 15 min). */
  leaseMs?: number;
  /** How often free mail (released, or its holder gone) is looked for (default 60 s). */
  sweepMs?: number;
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
  readonly #opts: Required<Pick<MailOutboxOptions, 'maxAttempts' | 'retryBaseMs' | 'maxQueued' | 'leaseMs' | 'sweepMs'>> & MailOutboxOptions;
  readonly #store: MailQueueStore | null;
  readonly #transport: Transporter;
  readonly #queue: Entry[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #idle: (() => void)[] = [];
  #closed = false;
  /** Ids queued or being sent here (their leases are ours). */
  readonly #known = new Set<string>();
  #sweep: NodeJS.Timeout | null = null;

  constructor(opts: MailOutboxOptions) {
    super();
    this.#opts = { maxAttempts: 5, retryBaseMs: 5000, maxQueued: 10_000, leaseMs: 15 * 60_000, sweepMs: 60_000, ...opts };
    this.#transport = nodemailer.createTransport(opts.smtpUrl);
    this.#store = opts.store ?? null;
  }

  /** Takes up the mail a previous run (or a stopped node) left in the store, now and every sweepMs. */
  async start(): Promise<void> {
    if (!this.#store || this.#closed) return;
    await this.#claim();
    this.#sweep = setInterval(() => void this.#claim().catch((err: unknown) => this.#opts.log?.warn({ err: { message: (err as Error).message } }, 'mail outbox: could not look for queued mail')), this.#opts.sweepMs);
    this.#sweep.unref();
  }

  async #claim(): Promise<void> {
    const store = this.#store;
    const room = this.#opts.maxQueued - this.#queue.length;
    if (!store || this.#closed || room <= 0) return;
    const rows = await store.claimQueuedMail(new Date().toISOString(), this.#leaseEnd(), room);
    let n = 0;
    for (const row of rows) {
      if (this.#known.has(row.id)) continue;
      let mail: OutgoingMail;
      try {
        mail = OutgoingMail.parse(JSON.parse(row.mail));
      } catch {
        this.#opts.log?.warn({ id: row.id }, 'mail outbox: an unreadable stored mail was dropped');
        await store.deleteQueuedMail(row.id).catch(() => {});
        continue;
      }
      if (this.#closed) break;
      this.#known.add(row.id);
      this.#queue.push({ id: row.id, mail, attempts: row.attempts, notBefore: Date.parse(row.notBefore) || 0 });
      n++;
    }
    if (this.#closed) {
      await store.releaseQueuedMail(rows.map((r) => r.id)).catch(() => {});
      return;
    }
    if (n > 0) this.#opts.log?.info?.({ mails: n }, 'mail outbox: sending mail queued earlier');
    this.#kick();
  }

  #leaseEnd(from = Date.now()): string {
    return new Date(from + this.#opts.leaseMs).toISOString();
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
        await this.#store.queueMail({ id: entry.id, mail: JSON.stringify(mail), attempts: 0, notBefore: now, leaseUntil: this.#leaseEnd(), createdAt: now });
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
    // Ours for another lease: a slow SMTP server must not let another node take it up meanwhile.
    await this.#store?.updateQueuedMail(entry.id, entry.attempts - 1, new Date(entry.notBefore).toISOString(), this.#leaseEnd()).catch(() => {});
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
        await this.#store?.updateQueuedMail(entry.id, entry.attempts, new Date(entry.notBefore).toISOString(), this.#leaseEnd(entry.notBefore)).catch(() => {});
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

  /** Stops sending; stored mail stays, released to the next start (or another node). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#sweep) clearInterval(this.#sweep);
    this.#timer = this.#sweep = null;
    const held = [...this.#known];
    this.#known.clear();
    this.#queue.length = 0;
    for (const resolve of this.#idle.splice(0)) resolve();
    this.#transport.close();
    this.removeAllListeners();
    await this.#store?.releaseQueuedMail(held).catch((err: unknown) => this.#opts.log?.warn({ err: { message: (err as Error).message } }, 'mail outbox: could not release queued mail'));
  }
}

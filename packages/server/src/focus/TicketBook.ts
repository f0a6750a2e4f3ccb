/**
 * Single-use, short-lived tickets that let a participant open the binary sharing socket. The
 * conference socket (already authenticated) asks for one; the sharing socket redeems it.
 * Every ticket lives the same time, so the map's insertion order is also expiry order: dropping
 * expired tickets looks only at the oldest ones, and issuing is O(1) amortized however many are
 * outstanding (a full sweep per issue let one viewer stall the whole server).
 */
import { secretToken } from '../util/ids.js';

export interface Ticket {
  conferenceId: string;
  participantId: string;
  role: 'host' | 'viewer';
}

/** T: what a ticket grants (sharing socket tickets by default; file uploads use their own book). */
export class TicketBook<T extends object = Ticket> {
  readonly #tickets = new Map<string, { grant: T; expires: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  readonly #prefix: string;

  /** prefix: cluster mode, the issuing node's id (tickets are `<node>.<secret>`: any node knows where one is redeemed). */
  constructor(opts: { ttlMs?: number; now?: () => number; prefix?: string | undefined } = {}) {
    this.#ttlMs = opts.ttlMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
    this.#prefix = opts.prefix ? `${opts.prefix}.` : '';
  }

  issue(t: T): string {
    this.#sweep();
    const token = this.#prefix + secretToken();
    this.#tickets.set(token, { grant: t, expires: this.#now() + this.#ttlMs });
    return token;
  }

  /** The ticket, once; undefined when unknown, used or expired. */
  redeem(token: string): T | undefined {
    const t = this.#tickets.get(token);
    if (!t) return undefined;
    this.#tickets.delete(token);
    if (t.expires < this.#now()) return undefined;
    return t.grant;
  }

  /** The ticket's grant without using it up (undefined when unknown or expired). */
  peek(token: string): T | undefined {
    const t = this.#tickets.get(token);
    return t && t.expires >= this.#now() ? t.grant : undefined;
  }

  /** Outstanding tickets, for tests and diagnostics. */
  get size(): number {
    return this.#tickets.size;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [k, t] of this.#tickets) {
      if (t.expires >= now) break; // the rest were issued later and expire later
      this.#tickets.delete(k);
    }
  }
}

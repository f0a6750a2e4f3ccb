/**
 * The live Focus of each active conference. A Focus is created on first join and forgotten when it
 * closes. get-or-create runs under a lock: the in-flight promise is stored, so two joins that race
 * get the same Focus (as Jicofo does).
 */
import type { Store } from '../store/Store.js';
import type { ConferencingServerFactory } from '../conferencing/ConferencingServerFactory.js';
import { CloseCode } from '@baton/protocol';
import { BatonError, NotFoundError } from '../errors.js';
import { Focus, type FocusOptions } from './Focus.js';
import { TicketBook } from './TicketBook.js';
import type { UploadTicket } from './Focus.js';
import { ParticipantLimits } from './ParticipantLimits.js';

type LogLike = NonNullable<FocusOptions['log']> & { info?(obj: unknown, msg?: string): void };

/** What an administrator sees of one live conference (/api/admin/conferences; in cluster mode also what a node tells the others). */
export interface LiveSummary {
  id: string;
  subject: string;
  organizer: string;
  startedAt: string;
  participants: number;
  lobby: number;
  sharing: string | null;
}

export interface FocusRegistryOptions {
  store: Store;
  factory: ConferencingServerFactory;
  graceMs: number;
  leaveGraceMs?: number;
  iceServers?: FocusOptions['iceServers'];
  log?: LogLike & { child?(bindings: Record<string, unknown>): LogLike };
  /** Recordings (absent: conferences cannot be recorded). */
  recordings?: FocusOptions['recordings'];
  /** Called with each new live Focus (metrics subscribe to its events). */
  onFocus?: (focus: Focus) => void;
  /**
   * Cluster mode: a Focus runs only on the conference's home node (acquire throws NotHomeError
   * elsewhere and returns the fencing epoch here), and only while `valid()`.
   */
  cluster?: {
    acquire(conferenceId: string): Promise<number>;
    release(conferenceId: string, epoch: number): void;
    valid(): boolean;
    /** Prefix of the tickets this node issues, so another node knows where to relay a share socket. */
    ticketPrefix: string;
  };
}

/** What a home answers another node about a share ticket (see admitRemoteViewer). */
export type RemoteAdmission =
  | { kind: 'viewer'; conferenceId: string; participantId: string; shareId: string }
  | { kind: 'host' }
  | { kind: 'refused'; code: number; reason: string };

export class FocusRegistry {
  readonly tickets: TicketBook;
  /** Single-use tickets for one file upload each (POST /api/files), longer-lived: a file takes a while to pick. */
  readonly uploadTickets: TicketBook<UploadTicket>;
  /** Rate limits by user or guest identity, for all conferences: they outlive each Focus. */
  readonly limits = new ParticipantLimits();
  readonly #opts: FocusRegistryOptions;
  readonly #foci = new Map<string, Promise<Focus>>();
  /** The initialized, open Foci, readable without awaiting (metrics collect from them). */
  readonly #live = new Set<Focus>();
  #closed = false;

  constructor(opts: FocusRegistryOptions) {
    this.#opts = opts;
    const prefix = opts.cluster?.ticketPrefix;
    this.tickets = new TicketBook({ prefix });
    this.uploadTickets = new TicketBook<UploadTicket>({ ttlMs: 10 * 60_000, prefix });
  }

  get size(): number {
    return this.#foci.size;
  }

  /** The live conferences right now. */
  live(): Focus[] {
    return [...this.#live];
  }

  /** The live conferences here as an administrator sees them, oldest first. */
  summaries(): LiveSummary[] {
    return this.live()
      .map((f) => {
        const { roster, share } = f.snapshot();
        return {
          id: f.id,
          subject: f.info().subject,
          organizer: f.info().organizer,
          startedAt: f.startedAt,
          participants: roster.filter((p) => p.status === 'joined').length,
          lobby: roster.filter((p) => p.status === 'lobby').length,
          sharing: share ? (roster.find((p) => p.id === share.hostId)?.name ?? null) : null,
        };
      })
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** The live Focus, if the conference is active. */
  async get(id: string): Promise<Focus | undefined> {
    const p = this.#foci.get(id);
    if (!p) return undefined;
    try {
      const f = await p;
      return f.closed ? undefined : f;
    } catch {
      return undefined;
    }
  }

  getOrCreate(id: string): Promise<Focus> {
    if (this.#closed) return Promise.reject(new NotFoundError('the server is shutting down'));
    const existing = this.#foci.get(id);
    if (existing) return existing;
    const p = this.#create(id);
    this.#foci.set(id, p);
    p.catch(() => {
      if (this.#foci.get(id) === p) this.#foci.delete(id);
    });
    return p;
  }

  async #create(id: string): Promise<Focus> {
    const { store, factory, graceMs, leaveGraceMs, iceServers } = this.#opts;
    // Every log line about a conference carries its id.
    const log = this.#opts.log?.child ? this.#opts.log.child({ conference: id }) : this.#opts.log;
    const record = await store.getConference(id);
    if (!record) throw new NotFoundError('no such conference');
    const cluster = this.#opts.cluster;
    const epoch = cluster ? await cluster.acquire(id) : 0;
    const roles = await store.getRoles(id);
    const focus = new Focus({ ...(cluster ? { fenced: () => !cluster.valid() } : {}), record, store, roles, factory, tickets: this.tickets, uploadTickets: this.uploadTickets, limits: this.limits, graceMs, log, ...(leaveGraceMs !== undefined ? { leaveGraceMs } : {}), ...(iceServers ? { iceServers } : {}), ...(this.#opts.recordings ? { recordings: this.#opts.recordings } : {}) });
    await focus.init();
    const mine = this.#foci.get(id);
    this.#live.add(focus);
    log?.info?.({}, 'conference started');
    if (cluster) log?.info?.({ epoch }, 'conference home here');
    focus.on('closed', () => {
      log?.info?.({}, 'conference ended');
      cluster?.release(id, epoch);
      this.#live.delete(focus);
      if (this.#foci.get(id) === mine) this.#foci.delete(id);
    });
    this.#opts.onFocus?.(focus);
    return focus;
  }

  /**
   * Cluster: another node's viewer presents a ticket this node issued. A viewer's ticket is redeemed
   * and checked here, on the home, as if the socket had come here; a host's is left for the socket,
   * which the node relays here as it is.
   */
  async admitRemoteViewer(token: string, node: string): Promise<RemoteAdmission> {
    const grant = this.tickets.peek(token);
    if (grant?.role === 'host') return { kind: 'host' };
    const t = this.tickets.redeem(token);
    if (!t) return { kind: 'refused', code: CloseCode.Denied, reason: 'the ticket is unknown, used or expired' };
    const focus = await this.get(t.conferenceId);
    if (!focus) return { kind: 'refused', code: CloseCode.ConferenceEnded, reason: 'the conference has ended' };
    try {
      const shareId = focus.admitRemoteViewer(t.participantId, node);
      return { kind: 'viewer', conferenceId: t.conferenceId, participantId: t.participantId, shareId };
    } catch (err) {
      if (err instanceof BatonError) return { kind: 'refused', code: CloseCode.Denied, reason: err.message };
      throw err;
    }
  }

  /** Conference id to seats, for each live Focus (the cluster lease's load). */
  load(): Map<string, number> {
    return new Map([...this.#live].map((f) => [f.id, f.seats]));
  }

  /** Cluster mode: end every Focus here without store writes; their clients reconnect to the new home. */
  abandonAll(reason: string): void {
    for (const f of [...this.#live]) f.abandon(reason);
  }

  abandon(id: string, reason: string): void {
    for (const f of [...this.#live]) if (f.id === id) f.abandon(reason);
  }

  /** Cluster mode: another node's administrator ends a conference running here. */
  async endByAdministrator(id: string): Promise<boolean> {
    const focus = await this.get(id);
    if (!focus) return false;
    await focus.endByAdministrator();
    return true;
  }

  /** A REST change made on any node (cluster mode), for the live Focus if it runs here. */
  apply(change: { id: string; kind: 'updated' | 'deleted' }): void {
    const focus = [...this.#live].find((f) => f.id === change.id);
    if (!focus) return;
    if (change.kind === 'deleted') return focus.end(CloseCode.ConferenceEnded, 'the organizer deleted this meeting');
    this.#opts.store.getConference(change.id).then(
      (record) => record && focus.updateRecord(record),
      (err) => this.#opts.log?.warn({ err, conference: change.id }, 'reloading a changed conference failed'),
    );
  }

  /** Shut every live conference down for a restart (Focus.shutdown: seats kept, clients told to reconnect). */
  async close(reason = 'the server is stopping for a restart or an upgrade'): Promise<void> {
    this.#closed = true;
    const all = await Promise.allSettled([...this.#foci.values()]);
    await Promise.allSettled(all.flatMap((r) => (r.status === 'fulfilled' ? [r.value.shutdown(reason)] : [])));
    this.#foci.clear();
    this.#live.clear();
  }
}

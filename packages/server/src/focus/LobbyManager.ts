/**
 * Admission to one conference: who takes a seat back with a resume token, who goes straight in and
 * who waits in the lobby (per the meeting policy), and the way out of the lobby (admitted by an
 * organizer, by an invitation found in the store, or by a policy change; denied). It decides and
 * records; the Focus greets, announces and closes connections on its events.
 *
 * An admission out of the lobby is persisted with a hash of the seat's resume token, so that after
 * a server restart the same client (it alone holds the token) goes back in without waiting again.
 * It is bound to that token and to the same user (or guest), expires (extended while the seat
 * lives), and is deleted when the seat leaves, is removed or denied, and when the meeting is ended.
 */
import { Role, roleFromName, waitsInLobby, type ClientKind, type MeetingPolicy, type RoleName } from '@baton/protocol';
import type { AdmissionRecord, ConferenceRecord, Store, UserRecord } from '../store/Store.js';
import { hashToken } from '../auth/tokens.js';
import { BadRequestError, ForbiddenError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { secretToken, shortId } from '../util/ids.js';
import type { RosterManager } from './RosterManager.js';
import type { ParticipantLink, Seat } from './Seat.js';

export interface JoinParams {
  user: UserRecord | null;
  name?: string | undefined;
  resume?: string | undefined;
  client: ClientKind;
  p2p?: boolean | undefined;
  /** The client's network address (guests' rate limits are kept by it). */
  address?: string | undefined;
  link: ParticipantLink;
}

export interface LobbyManagerOptions {
  conferenceId: string;
  store: Store;
  roster: RosterManager;
  /** Roles granted earlier to signed-in users, by user id. */
  roles: Map<string, RoleName>;
  /** How long a dropped seat is kept; a persisted admission lives at least this long. */
  graceMs: number;
  /** How long a persisted admission lives without being extended (default 10 minutes, at least graceMs). */
  admissionTtlMs?: number | undefined;
  /** Cluster mode: persist every seat as it joins (not only at a clean shutdown), since a node can die. */
  keepEverySeat?: boolean | undefined;
  now?: () => number;
  log?: { warn(obj: unknown, msg?: string): void } | undefined;
}

/** Why a client that came back with a resume token waits again: its earlier place could not be restored. */
export const LOBBY_AGAIN_NOTE = 'Your earlier place in this meeting could not be restored (the server restarted, or you were away too long), so you wait for the organizer to let you in.';

export type LobbyManagerEvents = {
  /** A lobby seat is now joined. */
  admitted: [Seat];
  /** A lobby seat is refused; the Focus removes it and closes its connection with the reason. */
  denied: [Seat, string];
};

/** What a join comes to: a seat taken back with its resume token, or a new seat (joined or in the lobby). */
export type JoinOutcome = { kind: 'resumed'; seat: Seat } | { kind: 'new'; seat: Seat; note?: string };

export class LobbyManager extends TypedEmitter<LobbyManagerEvents> {
  readonly #opts: LobbyManagerOptions;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Admissions loaded from the store (made before this Focus), by token hash, not yet taken back. */
  readonly #restorable = new Map<string, AdmissionRecord>();
  /** Seats whose admission is persisted: seat id to token hash. */
  readonly #persisted = new Map<string, string>();
  #refreshTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: LobbyManagerOptions) {
    super();
    this.#opts = opts;
    this.#ttlMs = Math.max(opts.admissionTtlMs ?? 10 * 60_000, opts.graceMs);
    this.#now = opts.now ?? Date.now;
  }

  /** Loads the admissions made before this Focus existed (before a restart). */
  async load(): Promise<void> {
    for (const a of await this.#opts.store.listAdmissions(this.#opts.conferenceId, new Date(this.#now()))) this.#restorable.set(a.tokenHash, a);
  }

  /**
   * Decide where a joiner goes. Throws a BatonError when it may not join at all. `beforeStart`: a
   * scheduled meeting its organizer has not opened yet, where every guest waits (issue 15 item 2).
   */
  handleJoin(p: JoinParams, record: ConferenceRecord, beforeStart = false): JoinOutcome {
    if (p.resume) {
      const seat = this.#opts.roster.byResumeToken(p.resume);
      if (seat && seat.userId === (p.user?.id ?? null)) return { kind: 'resumed', seat };
    }
    const policy = record.policy;
    const owner = p.user !== null && p.user.id === record.organizerId;
    if (!p.user && policy.guests === 'deny') throw new ForbiddenError('this meeting does not admit guests; sign in to join', 'policy');
    const name = p.name ?? p.user?.displayName;
    if (!name) throw new BadRequestError('a guest needs a display name');

    const persisted = p.user ? this.#opts.roles.get(p.user.id) : undefined;
    const role = owner ? Role.Organizer : persisted ? roleFromName(persisted) : Role.Attendee;
    const waits = waitsInLobby(policy, p.user !== null, owner || role >= Role.Presenter) || (beforeStart && p.user === null);
    // Taken even when the policy no longer holds this joiner, so that its leaving revokes it.
    const admission = p.resume ? this.#takeAdmission(p.resume, p.user?.id ?? null) : undefined;
    const seat: Seat = {
      id: shortId(),
      name: admission?.name ?? name,
      userId: p.user?.id ?? null,
      username: p.user?.username ?? null,
      role,
      owner,
      status: waits && !admission ? 'lobby' : 'joined',
      client: p.client,
      p2p: p.p2p ?? false,
      address: p.address ?? 'unknown',
      // A restored seat keeps its token: the persisted admission stays bound to it.
      resumeToken: admission ? p.resume! : secretToken(),
      link: p.link,
      graceTimer: null,
    };
    if (admission) this.#track(seat.id, admission.tokenHash);
    // Came back with a token but has to wait: say why rather than silently queueing again.
    if (seat.status === 'lobby' && p.resume) return { kind: 'new', seat, note: LOBBY_AGAIN_NOTE };
    return { kind: 'new', seat };
  }

  /** A persisted admission for this resume token and this user (null: a guest), once; unexpired only. */
  #takeAdmission(resume: string, userId: string | null): AdmissionRecord | undefined {
    const tokenHash = hashToken(resume);
    const a = this.#restorable.get(tokenHash);
    if (!a || a.userId !== userId || Date.parse(a.expiresAt) <= this.#now()) return undefined;
    this.#restorable.delete(tokenHash);
    return a;
  }

  #track(seatId: string, tokenHash: string): void {
    this.#persisted.set(seatId, tokenHash);
    if (this.#refreshTimer || this.#closed) return;
    // Keep live admissions from expiring; a crash leaves them valid for one TTL at most.
    this.#refreshTimer = setInterval(() => this.#extend(), Math.max(1000, Math.floor(this.#ttlMs / 2)));
    this.#refreshTimer.unref?.();
  }

  #extend(): void {
    const hashes = [...this.#persisted.values()];
    this.#opts.store
      .extendAdmissions(this.#opts.conferenceId, hashes, new Date(this.#now() + this.#ttlMs))
      .catch((err) => this.#opts.log?.warn({ err, conference: this.#opts.conferenceId }, 'extending admissions failed'));
  }

  /** A new seat is in the roster: a signed-in user held by `lobby: uninvited` is checked against the invitations. */
  handleSeated(seat: Seat): void {
    // Cluster mode: a node may die without the shutdown that keeps seats, so every seat is kept from the start.
    if (this.#opts.keepEverySeat && seat.status === 'joined' && !this.#persisted.has(seat.id)) this.#keep(seat);
    if (seat.status === 'lobby' && seat.userId !== null) void this.#admitIfInvited(seat);
  }

  /** A signed-in user held by `lobby: uninvited` goes in as soon as the store says it was invited. */
  async #admitIfInvited(seat: Seat): Promise<void> {
    let invited = false;
    try {
      invited = (await this.#opts.store.listInvitationsForUser(seat.userId!)).some((i) => i.conferenceId === this.#opts.conferenceId);
    } catch (err) {
      // It keeps waiting: an organizer can still admit it.
      this.#opts.log?.warn({ err, conference: this.#opts.conferenceId }, 'invitation lookup failed');
      return;
    }
    if (invited && !this.#closed && seat.status === 'lobby' && this.#opts.roster.get(seat.id) === seat) this.handleAdmit(seat);
  }

  handleAdmit(seat: Seat): void {
    seat.status = 'joined';
    const tokenHash = hashToken(seat.resumeToken);
    this.#track(seat.id, tokenHash);
    this.#opts.store
      .saveAdmission({ tokenHash, conferenceId: this.#opts.conferenceId, userId: seat.userId, name: seat.name }, new Date(this.#now() + this.#ttlMs))
      .catch((err) => this.#opts.log?.warn({ err, conference: this.#opts.conferenceId }, 'saving an admission failed'));
    this.emit('admitted', seat);
  }

  /** The seat left, timed out, was removed or denied: its admission is revoked. */
  handleGone(seat: Seat): void {
    const tokenHash = this.#persisted.get(seat.id);
    if (tokenHash === undefined) return;
    this.#persisted.delete(seat.id);
    this.#opts.store
      .deleteAdmission(tokenHash)
      .catch((err) => this.#opts.log?.warn({ err, conference: this.#opts.conferenceId }, 'revoking an admission failed'));
  }

  /**
   * The server is stopping: keep every seat in the meeting for the server that comes back, so each
   * client that returns with its resume token gets its place again (its name, past the lobby): guests
   * not kept yet (those admitted from the lobby already are), and agents. An
   * agent's seat is kept under a key of its own (agentResumeKey), as the agent has no cookie: its
   * resume token alone then stands for its user, and a browser's token never can.
   */
  async keepForRestart(seats: Seat[]): Promise<void> {
    const expiresAt = new Date(this.#now() + this.#ttlMs);
    const conferenceId = this.#opts.conferenceId;
    const saves: Promise<void>[] = [];
    for (const seat of seats) {
      if (seat.status !== 'joined') continue;
      if (seat.client === 'agent') {
        if (seat.userId) saves.push(this.#opts.store.saveAdmission({ tokenHash: agentResumeKey(seat.resumeToken), conferenceId, userId: seat.userId, name: seat.name }, expiresAt));
      } else if (seat.userId === null && !this.#persisted.has(seat.id)) {
        // A guest let in without the lobby (policy allow). Signed-in users come back by their cookie,
        // and those the lobby held were kept when admitted.
        saves.push(this.#opts.store.saveAdmission({ tokenHash: hashToken(seat.resumeToken), conferenceId, userId: seat.userId, name: seat.name }, expiresAt));
      }
    }
    for (const r of await Promise.allSettled(saves)) {
      if (r.status === 'rejected') this.#opts.log?.warn({ err: r.reason, conference: conferenceId }, 'keeping a seat for the restart failed');
    }
  }

  #keep(seat: Seat): void {
    const tokenHash = seat.client === 'agent' ? (seat.userId ? agentResumeKey(seat.resumeToken) : null) : hashToken(seat.resumeToken);
    if (!tokenHash) return;
    this.#track(seat.id, tokenHash);
    this.#opts.store
      .saveAdmission({ tokenHash, conferenceId: this.#opts.conferenceId, userId: seat.userId, name: seat.name }, new Date(this.#now() + this.#ttlMs))
      .catch((err) => this.#opts.log?.warn({ err, conference: this.#opts.conferenceId }, 'keeping a seat failed'));
  }

  /** The organizer ends the meeting: nobody's admission carries over to the next time it starts. */
  async handleEnd(): Promise<void> {
    this.#persisted.clear();
    this.#restorable.clear();
    await this.#opts.store.deleteAdmissions(this.#opts.conferenceId);
  }

  handleDeny(seat: Seat, reason = 'the organizer did not admit you'): void {
    this.emit('denied', seat, reason);
  }

  /**
   * The policy changed, or the organizer opened a scheduled meeting (`beforeStart` false): lobby seats
   * no longer held go in, guests the policy no longer admits are refused.
   */
  handlePolicy(policy: MeetingPolicy, beforeStart = false): void {
    for (const s of this.#opts.roster.all().filter((x) => x.status === 'lobby')) {
      if (s.userId === null && policy.guests === 'deny') this.handleDeny(s);
      else if (!waitsInLobby(policy, s.userId !== null, s.owner || s.role >= Role.Presenter) && !(beforeStart && s.userId === null)) this.handleAdmit(s);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#refreshTimer) clearInterval(this.#refreshTimer);
    this.#refreshTimer = null;
    this.removeAllListeners();
  }
}

/** The store key under which an agent's seat waits for it across a restart (not a browser's admission key). */
export function agentResumeKey(resumeToken: string): string {
  return hashToken(`agent-seat:${resumeToken}`);
}

/**
 * Admission to one conference: who takes a seat back with a resume token, who goes straight in and
 * who waits in the lobby (per the meeting policy), and the way out of the lobby (admitted by an
 * organizer, by an invitation found in the store, or by a policy change; denied). It decides and
 * records; the Focus greets, announces and closes connections on its events.
 */
import { Role, roleFromName, waitsInLobby, type ClientKind, type MeetingPolicy, type RoleName } from '@baton/protocol';
import type { ConferenceRecord, Store, UserRecord } from '../store/Store.js';
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
  log?: { warn(obj: unknown, msg?: string): void } | undefined;
}

export type LobbyManagerEvents = {
  /** A lobby seat is now joined. */
  admitted: [Seat];
  /** A lobby seat is refused; the Focus removes it and closes its connection with the reason. */
  denied: [Seat, string];
};

/** What a join comes to: a seat taken back with its resume token, or a new seat (joined or in the lobby). */
export type JoinOutcome = { kind: 'resumed'; seat: Seat } | { kind: 'new'; seat: Seat };

export class LobbyManager extends TypedEmitter<LobbyManagerEvents> {
  readonly #opts: LobbyManagerOptions;
  #closed = false;

  constructor(opts: LobbyManagerOptions) {
    super();
    this.#opts = opts;
  }

  /** Decide where a joiner goes. Throws a BatonError when it may not join at all. */
  handleJoin(p: JoinParams, record: ConferenceRecord): JoinOutcome {
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
    const seat: Seat = {
      id: shortId(),
      name,
      userId: p.user?.id ?? null,
      username: p.user?.username ?? null,
      role,
      owner,
      status: waitsInLobby(policy, p.user !== null, owner || role >= Role.Presenter) ? 'lobby' : 'joined',
      client: p.client,
      p2p: p.p2p ?? false,
      address: p.address ?? 'unknown',
      resumeToken: secretToken(),
      link: p.link,
      graceTimer: null,
    };
    return { kind: 'new', seat };
  }

  /** A new seat is in the roster: a signed-in user held by `lobby: uninvited` is checked against the invitations. */
  handleSeated(seat: Seat): void {
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
    this.emit('admitted', seat);
  }

  handleDeny(seat: Seat, reason = 'the organizer did not admit you'): void {
    this.emit('denied', seat, reason);
  }

  /** The policy changed: lobby seats it no longer holds go in, guests it no longer admits are refused. */
  handlePolicy(policy: MeetingPolicy): void {
    for (const s of this.#opts.roster.all().filter((x) => x.status === 'lobby')) {
      if (s.userId === null && policy.guests === 'deny') this.handleDeny(s);
      else if (!waitsInLobby(policy, s.userId !== null, s.owner || s.role >= Role.Presenter)) this.handleAdmit(s);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.removeAllListeners();
  }
}

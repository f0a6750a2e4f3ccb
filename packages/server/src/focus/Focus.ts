/**
 * The Focus: one per active conference. It holds the conference state, roles and policy, authorizes
 * every conference-control command and sends roster updates. The work itself is delegated to
 * managers: RosterManager (seats, fan-out), LobbyManager (who goes in, the lobby), ImManager (chat),
 * ControlManager (sharing and the control token), AudioManager (audio legs). The application sharing
 * server is allocated through the conferencing-server factory when sharing starts; the
 * data-collaboration server (polls, Q&A) when the Focus starts.
 */
import {
  CloseCode,
  PROTOCOL_VERSION,
  Role,
  roleFromName,
  recordingPolicy,
  personHue,
    type ConferenceInfo,
  type IceServer,
  type MeetingPolicy,
  type MeetingPolicyPatch,
  type RoleName,
  type ServerMessage,
  type ServerMessageOf,
  type SlideDeck,
} from '@baton/protocol';
import type { ConferenceRecord, Store } from '../store/Store.js';
import type { AppShareServerLike } from '../conferencing/types.js';
import type { ConferencingServerFactory } from '../conferencing/ConferencingServerFactory.js';
import type { ShareChannel } from '../sharing/ShareChannel.js';
import type { TicketBook } from './TicketBook.js';
import { ParticipantLimits, type Requester } from './ParticipantLimits.js';
import { BatonError, ConflictError, ForbiddenError, NotFoundError, NotHomeError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { authorize, mayControl, mayPresent, mayRunPolls, mayShareFiles, mayTalk, type Command } from './authorize.js';
import type { Readable } from 'node:stream';
import type { DataServer } from '../data/DataServer.js';
import type { DataMember } from '../data/types.js';
import { RosterManager } from './RosterManager.js';
import { ImManager, chatParty } from './ImManager.js';
import { ControlManager } from './ControlManager.js';
import { AudioManager } from './AudioManager.js';
import { LobbyManager, type JoinParams } from './LobbyManager.js';
import { type ParticipantLink, type Seat, seatToActor, seatToWire, isModerator, personKey } from './Seat.js';
import { HandsManager } from './HandsManager.js';
import { nextOccurrence, waitsForOrganizer } from '../schedule/recurrence.js';
import { RecordingManager } from './RecordingManager.js';
import { StageManager } from './StageManager.js';
import type { RecordingService } from '../recording/RecordingService.js';

/**
 * How long a seat whose page said `leave` waits for a resume after its socket closes: long enough
 * for a page reload to come back (a reload cannot be told from a close inside the page), short
 * enough that a closed tab is gone from the others' rosters in a moment instead of the full grace.
 */
export const LEAVE_GRACE_MS = 5_000;

export interface FocusOptions {
  record: ConferenceRecord;
  store: Store;
  /** Roles granted earlier to signed-in users, by user id. */
  roles: Map<string, RoleName>;
  factory: ConferencingServerFactory;
  tickets: TicketBook;
  /** Single-use tickets for one file upload each (absent: no file sharing). */
  uploadTickets?: TicketBook<UploadTicket>;
  /** Chat and ticket rate limits by user or guest identity; shared by the registry so they outlive a Focus. */
  limits?: ParticipantLimits;
  graceMs: number;
  /** How long a seat whose page said `leave` waits for a resume (default LEAVE_GRACE_MS, at most graceMs). */
  leaveGraceMs?: number;
  /** How long a persisted lobby admission lives unless extended (LobbyManager; default 10 minutes). */
  admissionTtlMs?: number;
  /** STUN/TURN servers, with fresh credentials, for an admitted participant. */
  iceServers?: (participantId: string) => IceServer[];
  log?: { warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void };
  /** Recordings (absent: this server does not record). */
  recordings?: RecordingService;
  /**
   * Cluster mode: true once this node may no longer act for the conference (its lease ran out, so
   * another node may have taken it over). The Focus then ends here without touching the store.
   */
  fenced?: () => boolean;
}

/** What an upload ticket grants: one file from this seat to this conference. */
export interface UploadTicket {
  conferenceId: string;
  participantId: string;
  /** What it uploads: a shared file (absent) or a slide deck. Each route takes only its own. */
  kind?: 'slides';
}

export type FocusEvents = {
  /** The Focus has no participants left, or was ended; the registry forgets it. */
  closed: [];
  /** A chat message was accepted and sent (metrics count them). */
  chat: [kind: 'public' | 'private'];
};

export interface CommandResult {
  ticket?: string;
  iceServers?: IceServer[];
  /** audio.join: the audio server's SDP answer. */
  sdp?: string;
  /** audio.dial: the phone leg's id. */
  callId?: string;
  /** poll.create, qa.ask: the new poll's or question's id. */
  id?: string;
  /** recording.start: the recording's id. */
  recordingId?: string;
}

export type { JoinParams } from './LobbyManager.js';

export class Focus extends TypedEmitter<FocusEvents> {
  readonly id: string;
  readonly #opts: FocusOptions;
  #record: ConferenceRecord;
  readonly #roster = new RosterManager();
  readonly #im: ImManager;
  readonly #limits: ParticipantLimits;
  readonly #control = new ControlManager();
  readonly #audio: AudioManager;
  readonly #lobby: LobbyManager;
  readonly #hands: HandsManager;
  readonly #data: DataServer;
  readonly #recording: RecordingManager;
  readonly #stage = new StageManager();
  #appShare: AppShareServerLike | null = null;
  #closed = false;
  /** Once a share has needed the server path, the conference stays on it. */
  #escalated = false;
  /** A scheduled meeting its organizer has opened (or joined) for this occurrence; always true when not scheduled. */
  #opened: boolean;
  /** What the sharing agent can share (share.sources), for its own account's pages only. */
  #sources: ServerMessageOf<'share.sources'> | null = null;
  /** Stops feeding the annotation board what the sharing server receives. */
  #untapShare: (() => void) | null = null;

  constructor(opts: FocusOptions) {
    super();
    this.#opts = opts;
    this.#record = opts.record;
    this.id = opts.record.id;
    this.#opened = !waitsForOrganizer(opts.record, Date.now());
    this.#limits = opts.limits ?? new ParticipantLimits();
    this.#im = new ImManager({ conferenceId: this.id, store: opts.store, limits: this.#limits });
    this.#im.on('message', (message, parties) => {
      this.emit('chat', parties ? 'private' : 'public');
      if (!parties) this.#roster.broadcast({ type: 'chat.message', message });
      if (!parties) this.#recording.chat(message); // private messages stay out of recordings
      // A private message reaches the seats of its two parties, and no other socket.
      else this.#roster.sendWhere((s) => s.client === 'web' && parties.includes(chatParty(s).key), { type: 'chat.message', message });
    });
    this.#recording = new RecordingManager({ conferenceId: this.id, service: opts.recordings, audio: { recordMix: (sink) => this.#audio.recordMix(sink) }, log: opts.log });
    // Everyone is told, the lobby included: a guest learns it before going in.
    this.#recording.on('changed', (recording) => this.#sendToAll({ type: 'recording.updated', recording }));
    this.#recording.on('stopped', (reason) => this.#sendToAll({ type: 'notice', code: 'recording.stopped', text: `The recording stopped: ${reason}` }));
    this.#stage.on('changed', (stage) => this.#roster.broadcast({ type: 'stage.updated', stage }));
    this.#hands = new HandsManager({ limits: this.#limits });
    this.#hands.on('changed', (hands) => this.#roster.broadcast({ type: 'hands.updated', hands }));
    this.#hands.on('reaction', (r) => this.#roster.broadcast({ type: 'reaction', ...r }));
    this.#data = opts.factory.allocateData(this.id, opts.store);
    this.#data.on('poll', (id) => this.#fanOutData((s) => ({ type: 'poll.updated', poll: this.#data.pollView(id, this.#member(s))! })));
    // The whiteboard's updates go to every page but the one that made it (a user's other tabs too).
    this.#data.on('whiteboard', (update, from) => {
      for (const s of this.#roster.joined()) if (s.link && s.client === 'web' && s.id !== from) s.link.send({ type: 'wb.updated', update });
    });
    this.#data.on('question', (id) => this.#fanOutData((s) => ({ type: 'qa.updated', question: this.#data.questionView(id, this.#member(s))! })));
    this.#data.annotations.on('added', (mark) => this.#fanOutData(() => ({ type: 'annotation.added', mark })));
    this.#data.annotations.on('removed', (ids, reason) => this.#fanOutData(() => ({ type: 'annotation.removed', ids, reason })));
    this.#data.on('slides', () => {
      const slides = this.#data.slidesState();
      if (slides) this.#fanOutData(() => ({ type: 'slides.updated', slides }));
    });
    this.#control.on('changed', (share) => this.#roster.broadcast({ type: 'share.updated', share }));
    this.#control.on('controller', (id) => this.#appShare?.setController(id));
    this.#audio = new AudioManager({
      conferenceId: this.id,
      factory: opts.factory,
      phoneBook: { get: (userId) => opts.store.getPhoneNumber(userId), set: (userId, phone) => opts.store.setPhoneNumber(userId, phone) },
      log: opts.log,
    });
    this.#audio.on('notice', (id, code, text) => this.#roster.sendTo(id, { type: 'notice', code, text }));
    this.#audio.on('changed', (audio) => this.#roster.broadcast({ type: 'audio.updated', audio }));
    this.#audio.on('dropped', (id, reason) => this.#roster.sendTo(id, { type: 'notice', code: 'audio.dropped', text: reason }));
    this.#audio.on('muted', (id, reason) => this.#roster.sendTo(id, { type: 'notice', code: 'audio.muted', text: reason }));
    this.#lobby = new LobbyManager({
      conferenceId: this.id,
      store: opts.store,
      roster: this.#roster,
      roles: opts.roles,
      graceMs: opts.graceMs,
      admissionTtlMs: opts.admissionTtlMs,
      keepEverySeat: opts.fenced !== undefined,
      log: opts.log,
    });
    this.#lobby.on('admitted', (seat) => {
      this.#greet(seat);
      this.#recording.joined(seat.id, seat.name);
      this.#roster.broadcast({ type: 'participant.joined', participant: seatToWire(seat) }, { except: seat.id });
      this.#reviewTransport();
    });
    this.#lobby.on('denied', (seat, reason) => {
      const link = seat.link;
      this.#leave(seat, 'denied');
      link?.close(CloseCode.Denied, reason);
    });
  }

  /** Loads what the Focus needs from the store; called once by the registry before first use. */
  async init(): Promise<void> {
    await this.#im.load();
    await this.#lobby.load();
    await this.#data.load();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get policy(): MeetingPolicy {
    return this.#record.policy;
  }

  /** When this Focus started (the meeting went live), ISO 8601. */
  readonly startedAt = new Date().toISOString();

  get participantCount(): number {
    return this.#roster.size;
  }

  info(): ConferenceInfo {
    const r = this.#record;
    const next = r.schedule && nextOccurrence(r.schedule, Date.now());
    return {
      id: r.id,
      subject: r.subject,
      policy: r.policy,
      organizer: r.organizerUsername,
      organizerName: r.organizerName,
      schedule: r.schedule && next
        ? { start: new Date(next.start).toISOString(), end: new Date(next.end).toISOString(), timeZone: r.schedule.timeZone, opened: this.#opened }
        : null,
    };
  }

  /** Guests still wait for the organizer to open this scheduled meeting. */
  get beforeStart(): boolean {
    return !this.#opened;
  }

  /**
   * The organizer opened the scheduled meeting (from the dashboard, or by joining): from now on the
   * normal lobby policy applies. Guests who waited for the start and are still held by the policy
   * are told so with a fresh lobby.wait.
   */
  #open(): void {
    if (this.#opened || this.#closed) return;
    this.#opened = true;
    this.#lobby.handlePolicy(this.#record.policy);
    const info = this.info();
    for (const s of this.#roster.all()) {
      if (s.status === 'lobby') s.link?.send({ type: 'lobby.wait', self: s.id, resumeToken: s.resumeToken, conference: info });
    }
    this.#roster.broadcast({ type: 'conference.updated', conference: info });
  }

  // -------------------------------------------------------------------------------------------
  // Joining, leaving, reconnecting

  join(p: JoinParams): Seat {
    this.#assertOpen();
    this.#assertHome();
    try {
      return this.#join(p);
    } catch (err) {
      // A refused first join must not leave an empty conference alive.
      this.closeIfEmpty();
      throw err;
    }
  }

  /** A Focus with no seats (lobby seats count while they wait) has no reason to live. */
  closeIfEmpty(): void {
    if (this.#roster.size === 0) this.close();
  }

  #join(p: JoinParams): Seat {
    const outcome = this.#lobby.handleJoin(p, this.#record, !this.#opened);
    if (outcome.kind === 'resumed') return this.#reattach(outcome.seat, p.link);
    const seat = outcome.seat;
    this.#roster.add(seat);
    this.#greet(seat, outcome.note);
    if (seat.status === 'joined') this.#recording.joined(seat.id, seat.name);
    this.#roster.announce(seat, 'participant.joined');
    this.#reviewTransport();
    this.#lobby.handleSeated(seat);
    // The organizer coming in opens a scheduled meeting, and it stays open for this occurrence.
    if (!this.#opened && seat.status === 'joined' && (seat.owner || seat.role >= Role.Organizer) && seat.client === 'web') {
      const openedAt = new Date().toISOString();
      this.#record = { ...this.#record, openedAt };
      this.#opts.store.updateConference(this.id, { openedAt }).catch((err) => this.#opts.log?.warn({ err }, 'saving the opening failed'));
      this.#open();
    }
    return seat;
  }

  /**
   * The user behind an agent's seat, for an agent coming back with its resume token: its one-time
   * token is spent, and the resume token (secret, bound to this one seat) is what proves it is the same
   * agent. Null for any other seat, so a resume token never signs a browser in as a user.
   */
  agentSeatUser(resumeToken: string): string | null {
    const seat = this.#roster.byResumeToken(resumeToken);
    return seat && seat.client === 'agent' ? seat.userId : null;
  }

  #reattach(seat: Seat, link: ParticipantLink): Seat {
    if (seat.graceTimer) clearTimeout(seat.graceTimer);
    seat.graceTimer = null;
    seat.leaving = false; // it was a reload after all
    const old = seat.link;
    seat.link = link;
    old?.close(CloseCode.Replaced, 'this seat was taken over by a newer connection');
    this.#greet(seat);
    if (!old) this.#roster.announce(seat, 'participant.updated');
    return seat;
  }

  #greet(seat: Seat, note?: string): void {
    if (seat.status === 'lobby') {
      seat.link?.send({ type: 'lobby.wait', self: seat.id, resumeToken: seat.resumeToken, conference: this.info(), ...(note ? { note } : {}), recording: this.#recording.state });
      return;
    }
    seat.link?.send({
      type: 'welcome',
      v: PROTOCOL_VERSION,
      self: seat.id,
      resumeToken: seat.resumeToken,
      conference: this.info(),
      roster: this.#roster.visibleTo(seat),
      chat: this.#im.history(chatParty(seat).key),
      share: this.#control.state,
      ...this.#welcomeTicket(seat),
      iceServers: this.#opts.iceServers?.(seat.id) ?? [],
      audio: this.#audio.state(),
      hands: this.#hands.state,
      polls: this.#data.polls(this.#member(seat)),
      questions: this.#data.questions(this.#member(seat)),
      recording: this.#recording.state,
      stage: this.#stage.state,
      annotations: this.#data.annotations.marks(),
      ...(this.#data.slidesState() ? { slides: this.#data.slidesState()! } : {}),
      ...(seat.client === 'web' ? { whiteboard: this.#data.whiteboardState() } : {}),
    });
    this.#sendSources(seat);
  }

  /**
   * A viewer's sharing ticket in its welcome while someone else shares (a page opens the share at
   * once, so it saves the page a `share.ticket` round trip). Counted against the same rate limit; when
   * that is spent the page asks later and is told why.
   */
  #welcomeTicket(seat: Seat): { shareTicket?: string } {
    if (seat.client !== 'web' || !this.#control.state || this.#control.hostId === seat.id) return {};
    try {
      this.#limits.ticket(this.#requester(seat));
    } catch {
      return {};
    }
    return { shareTicket: this.#opts.tickets.issue({ conferenceId: this.id, participantId: seat.id, role: 'viewer' }) };
  }

  /** A seat as the data-collaboration server sees it: a lasting identity and what it may run. */
  #member(seat: Seat): DataMember {
    return {
      key: chatParty(seat).key,
      name: seat.name,
      user: seat.username,
      organizer: seat.role >= Role.Organizer,
      pollster: mayRunPolls(seatToActor(seat), this.#record.policy),
      moderator: seat.role >= Role.Presenter,
    };
  }

  /** Polls and questions reach people's pages (not agents), each as that seat may see them. */
  #fanOutData(view: (s: Seat) => ServerMessage): void {
    for (const s of this.#roster.joined()) if (s.link && s.client === 'web') s.link.send(view(s));
  }

  /** What a seat may see of the polls changed (its role, or the policy): send them all again. */
  #resendPolls(seats: Seat[]): void {
    for (const s of seats) {
      if (!s.link || s.client !== 'web' || s.status !== 'joined') continue;
      for (const poll of this.#data.polls(this.#member(s))) s.link.send({ type: 'poll.updated', poll });
    }
  }

  /**
   * A participant's connection closed. `leaving` is an explicit leave (close code 1000); anything
   * else keeps the seat for the grace period, without a leave/join flap in the roster.
   */
  disconnected(seatId: string, link: ParticipantLink, leaving: boolean): void {
    const seat = this.#roster.get(seatId);
    if (!seat || seat.link !== link) return; // a replaced connection: the seat lives on
    seat.link = null;
    if (leaving) return this.#leave(seat, 'left');
    // Whoever holds the baton must be present: control never outlives the controller's connection.
    if (this.#control.controllerId === seat.id) this.#control.handleRevoke();
    if (seat.leaving) {
      // Its page said it was going away: gone soon, unless the page was only reloading and resumes.
      // Nobody is told "reconnecting" for it, so a reload shows no flap and a closed tab no wait.
      seat.graceTimer = setTimeout(() => this.#leave(seat, 'left'), Math.min(this.#opts.leaveGraceMs ?? LEAVE_GRACE_MS, this.#opts.graceMs));
      seat.graceTimer.unref?.();
      return;
    }
    this.#roster.announce(seat, 'participant.updated');
    seat.graceTimer = setTimeout(() => this.#leave(seat, 'timeout'), this.#opts.graceMs);
    seat.graceTimer.unref?.();
  }

  /**
   * The participant's page is going away (`leave`, sent on pagehide): mark the seat so that its
   * disconnect gets the short grace. Only the connection that holds the seat can say so.
   */
  leaving(seatId: string, link: ParticipantLink): void {
    const seat = this.#roster.get(seatId);
    if (seat && seat.link === link) seat.leaving = true;
  }

  #leave(seat: Seat, reason: 'left' | 'removed' | 'timeout' | 'denied'): void {
    // A grace timer firing on a node that lost the conference must not revoke the seat's admission.
    if (this.#isFenced()) return;
    if (!this.#roster.remove(seat.id)) return;
    this.#lobby.handleGone(seat);
    if (seat.status === 'joined') this.#recording.left(seat.id, seat.name);
    const msg: ServerMessage = { type: 'participant.left', participantId: seat.id, reason };
    this.#roster.broadcast(msg, { moderatorsOnly: seat.status === 'lobby' });
    if (this.#control.hostId === seat.id) this.#stopSharing();
    else this.#control.handleGone(seat.id);
    this.#appShare?.detachViewer(seat.id);
    this.#audio.handleGone(seat.id);
    const person = personKey(seat);
    this.#hands.handleGone({ id: seat.id, person }, this.#roster.joined().find((s) => s.client === 'web' && personKey(s) === person)?.id ?? null);
    if (this.#roster.size === 0) this.close();
    else this.#reviewTransport();
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  /**
   * Authorize and carry out one command from a participant. A BatonError (typed, expected) goes back
   * to the caller as an error reply; anything else means the Focus is broken and it fails alone.
   */
  async handle(seatId: string, cmd: Command): Promise<CommandResult | void> {
    this.#assertOpen();
    this.#assertHome();
    const seat = this.#roster.get(seatId);
    if (!seat) throw new NotFoundError('you are not in this conference');
    const targetId = 'participantId' in cmd ? cmd.participantId : cmd.type === 'p2p.signal' || cmd.type === 'chat.send' ? cmd.to : undefined;
    const target = targetId !== undefined ? this.#roster.get(targetId) : undefined;
    const shareHost = this.#control.hostId !== null ? this.#roster.get(this.#control.hostId) : undefined;
    authorize(cmd, {
      actor: seatToActor(seat),
      target: target ? seatToActor(target) : undefined,
      policy: this.#record.policy,
      share: this.#control.state,
      shareHost: shareHost ? seatToActor(shareHost) : undefined,
      audio: cmd.type.startsWith('audio.') ? this.#audio.authzView() : undefined,
      recording: { available: this.#recording.available, active: this.#recording.active },
    });
    try {
      return await this.#dispatch(seat, cmd, target);
    } catch (err) {
      if (err instanceof BatonError) throw err;
      // End the conference right after the sender hears why.
      setImmediate(() => this.fail(err));
      throw new BatonError('internal', 'the conference failed; rejoin');
    }
  }

  async #dispatch(seat: Seat, cmd: Command, target: Seat | undefined): Promise<CommandResult | void> {
    switch (cmd.type) {
      case 'chat.send':
        await this.#im.handleSend(chatParty(seat), cmd.text, this.#requester(seat), target && chatParty(target));
        return;

      case 'role.set': {
        const t = target!;
        const before = t.role;
        t.role = roleFromName(cmd.role);
        if (t.userId) await this.#opts.store.setRole(this.id, t.userId, cmd.role);
        this.#roster.announce(t, 'participant.updated');
        t.link?.send({ type: 'participant.updated', participant: seatToWire(t) });
        if (before < Role.Organizer && t.role >= Role.Organizer) {
          // A new organizer sees the lobby from now on.
          for (const s of this.#roster.all()) if (s.status === 'lobby') t.link?.send({ type: 'participant.joined', participant: seatToWire(s) });
        }
        if (this.#control.controllerId === t.id && !mayControl(seatToActor(t), this.policy)) this.#control.handleRevoke();
        this.#reviewAudio(); // under audio: presenters, a demoted participant is muted
        this.#resendPolls(this.#roster.joined().filter((s) => chatParty(s).key === chatParty(t).key));
        return;
      }

      case 'lobby.admit':
        this.#lobby.handleAdmit(target!);
        return;

      case 'lobby.deny':
        this.#lobby.handleDeny(target!);
        return;

      case 'participant.remove': {
        const t = target!;
        const link = t.link;
        this.#leave(t, 'removed');
        link?.close(CloseCode.Removed, 'you were removed by the organizer');
        return;
      }

      case 'policy.update':
        await this.#applyPolicy(cmd.policy);
        return;

      case 'conference.end':
        // Admissions go first, so that nobody walks back in past the lobby when it starts again.
        await this.#lobby.handleEnd();
        // After the ack has gone out to the organizer.
        setImmediate(() => this.endForAll(seat));
        return;

      case 'share.start':
        if (!this.#appShare) {
          this.#appShare = this.#opts.factory.allocate(this.id, 'appshare', seat.id);
          this.#tapShareForMarks(this.#appShare);
        }
        this.#control.handleStart(seat.id, cmd.kind);
        // A new share is what people expect to see: the stage turns to the screen.
        this.#stage.handleSet('screen', seat.name);
        this.#recording.shareStarted(this.#appShare, seat.name);
        this.#reviewTransport();
        return;

      case 'p2p.signal':
        if (cmd.data.kind === 'failed') this.#escalate();
        target!.link?.send({ type: 'p2p.signal', from: seat.id, data: cmd.data });
        return;

      case 'ice.refresh':
        return { iceServers: this.#opts.iceServers?.(seat.id) ?? [] };

      case 'share.stop':
        this.#stopSharing();
        return;

      case 'share.sources':
        // The host shows another source now (switched on the host): marks on the old picture go.
        if (this.#sources && this.#sources.current !== cmd.current) this.#data.annotations.handleSourceChanged();
        this.#sources = { type: 'share.sources', sources: cmd.sources, current: cmd.current };
        this.#sendSources();
        return;

      case 'share.switch':
        // Authorized: a page of the sharing account. The agent applies it (see packages/agent/README.md).
        this.#roster.sendTo(this.#control.hostId!, { type: 'share.switch', source: cmd.source, by: seat.id });
        return;

      case 'share.setPaused':
        // Authorized like share.switch. The agent pauses and reports it (share.pause), so the state
        // viewers see is what the agent does.
        this.#roster.sendTo(this.#control.hostId!, { type: 'share.setPaused', paused: cmd.paused, by: seat.id });
        return;

      case 'share.pause':
        this.#control.setPaused(cmd.paused);
        return;

      case 'share.ticket': {
        this.#limits.ticket(this.#requester(seat));
        const role = this.#control.hostId === seat.id ? 'host' : 'viewer';
        return { ticket: this.#opts.tickets.issue({ conferenceId: this.id, participantId: seat.id, role }) };
      }

      case 'control.request':
        if (this.#control.handleRequest(seat.id)) {
          // To the agent, which decides, and to its user's meeting pages, which show the request.
          this.#roster.sendToUserOf(this.#control.hostId!, { type: 'control.requested', participantId: seat.id, name: seat.name, user: seat.username });
        }
        return;

      case 'control.grant':
        if (!this.#control.handleGrant(target!.id)) throw new ConflictError('the participant withdrew the request for control');
        return;

      case 'control.cancel':
        this.#control.handleCancel(seat.id);
        return;

      case 'control.deny':
        this.#control.handleDeny(target!.id);
        target!.link?.send({ type: 'notice', code: 'control.denied', text: 'the host did not give you control' });
        return;

      case 'control.revoke': {
        const was = this.#control.controllerId;
        this.#control.handleRevoke();
        if (was) this.#roster.sendTo(was, { type: 'notice', code: 'control.revoked', text: 'control was taken back' });
        return;
      }

      case 'control.release':
        this.#control.handleRelease(seat.id);
        return;

      case 'audio.add':
        this.#audio.handleAdd();
        return;

      case 'audio.join':
        return { sdp: await this.#audio.handleJoin(seat.id, seat.name, cmd.sdp, cmd.listenOnly) };

      case 'audio.leave':
        await this.#audio.handleLeave(seat.id);
        return;

      case 'audio.mute': {
        if (cmd.participantId?.startsWith('phone-') && !target) {
          await this.#audio.handleMute(cmd.participantId, cmd.muted);
          return;
        }
        const t = target ?? seat;
        await this.#audio.handleMute(t.id, cmd.muted);
        if (t !== seat) this.#roster.sendTo(t.id, { type: 'notice', code: 'audio.muted', text: `${seat.name} muted you` });
        return;
      }

      case 'audio.remove':
        // The notice goes first, so the client knows not to rejoin when it sees itself gone.
        this.#roster.sendTo(target!.id, { type: 'notice', code: 'audio.removed', text: `${seat.name} took you out of the audio` });
        await this.#audio.handleLeave(target!.id);
        return;

      case 'audio.dial':
        return { callId: await this.#audio.handleDial({ id: seat.id, name: seat.name, userId: seat.userId }, cmd.number, cmd.mine) };

      case 'audio.hangup':
        this.#audio.handleHangup(cmd.callId);
        return;

      case 'hand.raise':
        this.#hands.handleRaise({ id: seat.id, person: personKey(seat), name: seat.name }, this.#requester(seat));
        return;

      case 'hand.lower':
        this.#hands.handleLower(personKey(target ?? seat));
        return;

      case 'reaction.send':
        this.#hands.handleReaction({ id: seat.id, person: personKey(seat), name: seat.name }, cmd.emoji, this.#requester(seat));
        return;

      case 'poll.create':
        this.#limits.data(this.#requester(seat));
        return { id: await this.#data.handlePollCreate(cmd.poll, this.#member(seat)) };

      case 'poll.vote': {
        this.#limits.data(this.#requester(seat));
        const me = this.#member(seat);
        await this.#data.handlePollVote(cmd.pollId, cmd.choices, me);
        // The voter's own pages see their choice at once; everyone's counts follow, coalesced.
        const poll = this.#data.pollView(cmd.pollId, me)!;
        this.#roster.sendWhere((s) => s.client === 'web' && chatParty(s).key === me.key, { type: 'poll.updated', poll });
        return;
      }

      case 'poll.close':
        await this.#data.handlePollClose(cmd.pollId, this.#member(seat));
        return;

      case 'poll.publish':
        await this.#data.handlePollPublish(cmd.pollId, this.#member(seat));
        return;

      case 'qa.ask':
        this.#limits.data(this.#requester(seat));
        return { id: await this.#data.handleAsk(cmd.text, cmd.anonymous, this.#member(seat)) };

      case 'qa.vote': {
        this.#limits.data(this.#requester(seat));
        const me = this.#member(seat);
        await this.#data.handleQuestionVote(cmd.questionId, cmd.up, me);
        const question = this.#data.questionView(cmd.questionId, me)!;
        this.#roster.sendWhere((s) => s.client === 'web' && chatParty(s).key === me.key, { type: 'qa.updated', question });
        return;
      }

      case 'qa.mark':
        await this.#data.handleQuestionMark(cmd.questionId, cmd.state);
        return;

      case 'file.ticket':
        if (!this.#opts.uploadTickets) throw new ConflictError('this server does not take files');
        this.#limits.ticket(this.#requester(seat));
        return { ticket: this.#opts.uploadTickets.issue({ conferenceId: this.id, participantId: seat.id }) };

      case 'file.delete':
        await this.#data.handleFileDelete(cmd.fileId, this.#member(seat));
        this.#im.markFileDeleted(cmd.fileId);
        this.#roster.broadcast({ type: 'file.deleted', fileId: cmd.fileId });
        return;

      case 'slides.ticket':
        if (!this.#opts.uploadTickets) throw new ConflictError('this server does not take slides');
        this.#limits.ticket(this.#requester(seat));
        return { ticket: this.#opts.uploadTickets.issue({ conferenceId: this.id, participantId: seat.id, kind: 'slides' }) };

      case 'slides.page':
        this.#limits.data(this.#requester(seat));
        await this.#data.handleSlidesPage(cmd.deckId, cmd.page);
        return;

      case 'slides.stop':
        await this.#data.handleSlidesStop();
        return;

      case 'recording.start': {
        const people = this.#roster.joined().filter((s) => s.client === 'web').map((s) => ({ id: s.id, name: s.name }));
        const host = this.#control.hostId ? this.#roster.get(this.#control.hostId) : undefined;
        const recordingId = await this.#recording.handleStart(this.#record, { userId: seat.userId!, name: seat.name }, people, host?.name ?? null);
        // The recorder reads the stream at the relay: a peer-to-peer share moves to the server for good.
        this.#reviewTransport();
        return { recordingId };
      }

      case 'recording.stop':
        await this.#recording.handleStop();
        return;

      case 'stage.set':
        this.#stage.handleSet(cmd.view, seat.name);
        return;

      case 'annotation.add': {
        if (cmd.surface.kind === 'slide') this.#assertSlidePage(cmd.surface.deckId, cmd.surface.page);
        this.#limits.annotation(this.#requester(seat));
        const mark = this.#data.annotations.handleAdd(cmd.surface, cmd.mark, { key: chatParty(seat).key, id: seat.id, name: seat.name, hue: personHue(seat.name) });
        // Marks clear when the relay sees the content under them change: a direct share bypasses it.
        if (cmd.surface.kind === 'screen' && this.#control.state?.transport === 'p2p') this.#escalate();
        return { id: mark.id };
      }

      case 'annotation.clear':
        this.#limits.annotation(this.#requester(seat));
        this.#data.annotations.handleClear(cmd.surface, cmd.scope === 'mine' ? chatParty(seat).key : null);
        return;

      case 'annotation.laser': {
        if (cmd.surface.kind === 'slide') this.#assertSlidePage(cmd.surface.deckId, cmd.surface.page);
        this.#limits.laser(this.#requester(seat));
        const msg: ServerMessage = { type: 'annotation.laser', surface: cmd.surface, author: { id: seat.id, name: seat.name, hue: personHue(seat.name) }, points: cmd.points };
        this.#roster.sendWhere((s) => s.client === 'web' && s.status === 'joined' && s.id !== seat.id, msg);
        return;
      }

      case 'annotation.allow':
        await this.#applyPolicy({ annotate: cmd.viewers ? 'anyone' : 'presenters' });
        return;

      case 'wb.update':
        this.#limits.whiteboard(this.#requester(seat));
        await this.#data.handleWhiteboardUpdate(cmd.update, this.#member(seat), seat.id);
        return;

      case 'wb.sync':
        seat.link?.send({ type: 'wb.state', state: this.#data.whiteboardState() });
        return;
    }
  }

  /** What the rate limits are kept by: the user, or the guest's identity and address; never the seat. */
  #requester(seat: Seat): Requester {
    return { conferenceId: this.id, userId: seat.userId, address: seat.address, name: seat.name };
  }

  /**
   * Two-party sharing goes peer-to-peer when both clients can; a third joiner, or a client that
   * cannot, escalates it to the application sharing server once and for good (as in the source
   * design): the conference never returns to peer-to-peer.
   */
  #reviewTransport(): void {
    const share = this.#control.state;
    if (!share) return;
    const joined = this.#roster.joined();
    if (this.#escalated) return;
    if (this.#recording.active) return this.#escalate();
    if (joined.length < 2) this.#control.setTransport('server'); // the host alone: nobody to serve yet
    // Only the agent streams over a DataChannel; a browser host always uses the server path.
    else if (share.kind === 'agent' && joined.length === 2 && joined.every((s) => s.p2p)) this.#control.setTransport('p2p');
    else this.#escalate();
  }

  #escalate(): void {
    if (this.#control.state) this.#escalated = true;
    this.#control.setTransport('server');
  }

  async #applyPolicy(patch: MeetingPolicyPatch): Promise<void> {
    const policy = { ...this.#record.policy, ...patch };
    const record = await this.#opts.store.updateConference(this.id, { policy });
    if (record) this.updateRecord(record);
  }

  /** The conference record changed (policy update here, or a REST modification by the organizer). */
  updateRecord(record: ConferenceRecord): void {
    if (this.#closed) return;
    this.#record = record;
    if (!this.#opened && !waitsForOrganizer(record, Date.now())) {
      this.#open();
    } else {
      this.#roster.broadcast({ type: 'conference.updated', conference: this.info() });
      this.#lobby.handlePolicy(record.policy, !this.#opened);
    }
    if (record.policy.guests === 'deny') {
      for (const s of this.#roster.joined()) {
        if (s.userId === null) {
          const link = s.link;
          this.#leave(s, 'removed');
          link?.close(CloseCode.Denied, 'the meeting no longer admits guests');
        }
      }
    }
    const controller = this.#control.controllerId ? this.#roster.get(this.#control.controllerId) : undefined;
    if (controller && !mayControl(seatToActor(controller), record.policy)) this.#control.handleRevoke();
    if (recordingPolicy(record.policy) === 'off' && this.#recording.state) void this.#recording.stop('the meeting policy no longer allows recording');
    this.#reviewAudio();
    this.#resendPolls(this.#roster.joined());
  }

  /** Mute whoever may no longer talk, or end the audio when the policy turned it off. */
  #reviewAudio(): void {
    const policy = this.#record.policy;
    void this.#audio.applyPolicy(policy, (id) => {
      const s = this.#roster.get(id);
      return s !== undefined && mayTalk(seatToActor(s), policy);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Files

  /** The largest file this conference takes, in bytes. */
  get maxFileBytes(): number {
    return this.#data.maxFileBytes;
  }

  /**
   * One file uploaded with a ticket this seat was given: checked again (the seat is still here and
   * may share files now), stored, and announced in the chat as a message from that seat.
   */
  async acceptUpload(participantId: string, body: Readable, name: string): Promise<{ id: string; name: string; size: number }> {
    this.#assertOpen();
    const seat = this.#roster.get(participantId);
    if (!seat || seat.status !== 'joined') throw new ForbiddenError('you are not in this meeting any more');
    if (!mayShareFiles(seatToActor(seat), this.#record.policy)) throw new ForbiddenError('the meeting policy does not let you share files', 'policy');
    const file = await this.#data.handleUpload(body, name, this.#member(seat));
    if (this.#closed) return { id: file.id, name: file.name, size: file.size };
    await this.#im.handleSend(chatParty(seat), file.name, this.#requester(seat), undefined, file.id);
    return { id: file.id, name: file.name, size: file.size };
  }

  /** The largest deck upload this conference takes, in bytes. */
  get maxDeckBytes(): number {
    return this.#data.maxDeckBytes;
  }

  /**
   * One deck uploaded with a slides ticket: the seat must still be here and still present under the
   * policy; checked, converted and stored by the data server, then shown to everyone at page 1.
   */
  async acceptDeck(participantId: string, body: Readable, name: string): Promise<SlideDeck> {
    this.#assertOpen();
    const seat = this.#roster.get(participantId);
    if (!seat || seat.status !== 'joined') throw new ForbiddenError('you are not in this meeting any more');
    if (!mayPresent(seatToActor(seat), this.#record.policy)) throw new ForbiddenError('the meeting policy does not let you present slides', 'policy');
    const deck = await this.#data.handleSlidesUpload(body, name, this.#member(seat));
    // A deck just shown is what the presenter wants everyone to see, as a new share is.
    if (!this.#closed) this.#stage.handleSet('slides', seat.name);
    return deck;
  }

  // -------------------------------------------------------------------------------------------
  // Sharing

  /** A sharing channel authenticated by a ticket: the host's stream, or a viewer. */
  attachShareChannel(participantId: string, role: 'host' | 'viewer', channel: ShareChannel): void {
    const seat = this.#roster.get(participantId);
    const share = this.#control.state;
    if (!seat || !share || !this.#appShare) throw new NotFoundError('nobody is sharing');
    if (role === 'host') {
      if (share.hostId !== participantId) throw new ForbiddenError('you are not the host');
      this.#appShare.attachHost(channel);
    } else {
      if (seat.status !== 'joined') throw new ForbiddenError('you are waiting in the lobby');
      this.#appShare.attachViewer(participantId, channel);
    }
  }

  /**
   * Cluster: a viewer whose share socket reached another node, which asked this home to redeem its
   * ticket: the same checks as a viewer's here. The node relays the share to it; the id of the share
   * binds that node's channel to this very share.
   */
  admitRemoteViewer(participantId: string, node: string): string {
    const seat = this.#roster.get(participantId);
    if (!seat || !this.#control.state || !this.#appShare) throw new NotFoundError('nobody is sharing');
    if (seat.status !== 'joined') throw new ForbiddenError('you are waiting in the lobby');
    this.#appShare.admitRemote(participantId, node);
    return this.#appShare.shareId;
  }

  /** Cluster: the node-to-node channel that carries this share to another node's viewers. */
  attachShareCascade(node: string, shareId: string, channel: ShareChannel): void {
    if (!this.#appShare || this.#appShare.shareId !== shareId) throw new NotFoundError('the share has ended');
    this.#appShare.attachCascade(node, channel);
  }

  /** The agent's sources to its account's meeting pages (never to anyone else: window titles are private). */
  #sendSources(to?: Seat): void {
    const msg = this.#sources;
    const hostId = this.#control.hostId;
    const host = hostId !== null ? this.#roster.get(hostId) : undefined;
    if (!msg || !host || host.userId === null) return;
    const mine = (s: Seat): boolean => s.client === 'web' && s.status === 'joined' && s.userId === host.userId;
    if (to) {
      if (mine(to)) to.link?.send(msg);
    } else this.#roster.sendWhere(mine, msg);
  }

  /** Marks go on a page that exists: a deck of this meeting, within its pages. */
  #assertSlidePage(deckId: string, page: number): void {
    const deck = this.#data.slidesState()?.decks.find((d) => d.id === deckId);
    if (!deck) throw new NotFoundError(`no slide deck ${deckId} in this meeting`);
    if (page > deck.pages) throw new NotFoundError(`the deck has ${deck.pages} pages, not ${page}`);
  }

  /**
   * The annotation board learns from the relay what the host sends: a screen (size), the tiles that
   * replace cells, the frames that end a batch. Only what the relay accepted is seen.
   */
  #tapShareForMarks(app: AppShareServerLike): void {
    const board = this.#data.annotations;
    this.#untapShare = app.tap({
      // It counts replaced cells: the video units replace theirs too, and it needs no ALT tiles.
      needsTiles: false,
      video: true,
      message: (msg) => {
        if (msg.type === 'tile') board.handleTile(msg);
        else if (msg.type === 'frame') board.handleFrame();
        else if (msg.type === 'screen') board.handleScreen(msg.width, msg.height, msg.tileSize);
      },
    });
  }

  #stopSharing(): void {
    this.#untapShare?.();
    this.#untapShare = null;
    if (this.#appShare) this.#data.annotations.handleShareEnded();
    const app = this.#appShare;
    this.#appShare = null;
    this.#sources = null;
    const host = this.#control.hostId ? this.#roster.get(this.#control.hostId) : undefined;
    this.#recording.shareStopped(host?.name ?? null);
    this.#control.handleStop();
    app?.close();
  }

  /** Counters of the application sharing server while someone shares (bytes, frames, input). */
  shareStats() {
    return this.#appShare?.stats() ?? null;
  }

  /** Is this seat the current controller? The sharing server asks before forwarding input. */
  isController(participantId: string): boolean {
    return this.#control.controllerId === participantId;
  }

  // -------------------------------------------------------------------------------------------
  // Ending

  /** End the conference for everyone (deleted by its organizer, or the server shuts down). */
  end(code: number, reason: string): void {
    if (this.#closed) return;
    for (const s of this.#roster.all()) {
      const link = s.link;
      this.#roster.remove(s.id);
      link?.close(code, reason);
    }
    this.close();
  }

  /**
   * An organizer ended the meeting for everyone: each seat (lobby included) is told who ended it, then
   * closed; the share, its agent and the audio room go with the Focus. The record stays, and the next
   * join starts a fresh Focus.
   */
  endForAll(by: Seat): void {
    if (this.#closed) return;
    for (const s of this.#roster.all()) s.link?.send({ type: 'conference.ended', by: by.id, name: by.name });
    this.end(CloseCode.ConferenceEnded, 'the organizer ended the meeting');
  }

  /**
   * An administrator ended the meeting (baton-admin conference end): as an organizer's end for all,
   * admissions first so nobody walks back in past the lobby.
   */
  async endByAdministrator(): Promise<void> {
    if (this.#closed) return;
    await this.#lobby.handleEnd();
    for (const s of this.#roster.all()) s.link?.send({ type: 'conference.ended', by: 'administrator', name: 'An administrator' });
    this.end(CloseCode.ConferenceEnded, 'an administrator ended the meeting');
  }

  /**
   * The server is stopping: every seat is kept in the store for the server that comes back
   * (LobbyManager.keepForRestart), told why (`server.shutdown`), and closed with 1001, after which
   * clients reconnect with their resume tokens. Chat is already in the store.
   */
  async shutdown(reason: string): Promise<void> {
    if (this.#closed) return;
    await this.#lobby.keepForRestart(this.#roster.all());
    if (this.#closed) return;
    for (const s of this.#roster.all()) s.link?.send({ type: 'server.shutdown', reason });
    this.end(CloseCode.GoingAway, reason);
  }

  /** An unexpected error: end this conference alone so the others keep running. */
  fail(err: unknown): void {
    this.#opts.log?.error({ err, conference: this.id }, 'conference failed');
    this.end(CloseCode.InternalError, 'the conference failed on the server; rejoin');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#roster.all()) {
      if (s.graceTimer) clearTimeout(s.graceTimer);
      this.#roster.remove(s.id);
    }
    this.#stopSharing();
    this.#recording.close();
    this.#audio.close();
    this.#hands.close();
    this.#stage.close();
    this.#data.close();
    this.#lobby.close();
    this.#im.removeAllListeners();
    this.emit('closed');
    this.removeAllListeners();
  }

  /** Every seat with a connection, the lobby included. */
  #sendToAll(msg: ServerMessage): void {
    for (const s of this.#roster.all()) s.link?.send(msg);
  }

  #assertOpen(): void {
    if (this.#closed) throw new NotFoundError('this conference has ended');
  }

  /** Cluster fencing, checked before acting: a node whose lease ran out ends the Focus here (clients reconnect to the new home). */
  #isFenced(): boolean {
    if (!this.#opts.fenced?.()) return false;
    this.abandon('this server lost the meeting to another server; reconnecting');
    return true;
  }

  #assertHome(): void {
    if (this.#isFenced()) throw new NotHomeError('this server no longer runs the meeting');
  }

  /**
   * Cluster mode: the conference is (or may be) running on another node now. Every socket is closed
   * with 1012 so its client reconnects and finds the new home; nothing is written to the store (the
   * seats' admissions stay for the new home to restore).
   */
  abandon(reason: string): void {
    if (this.#closed) return;
    for (const s of this.#roster.all()) s.link?.send({ type: 'server.shutdown', reason });
    this.end(CloseCode.ServiceRestart, reason);
  }

  /** Seats, the lobby included (the cluster's load measure). */
  get seats(): number {
    return this.#roster.size;
  }

  /** For tests and diagnostics. */
  snapshot() {
    return { roster: this.#roster.all().map(seatToWire), share: this.#control.state, moderators: this.#roster.all().filter(isModerator).map((s) => s.id) };
  }
}

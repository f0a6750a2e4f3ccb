/**
 * One participant's connection to a conference: the WebSocket, the hello/resume handshake, the
 * roster/chat/share state the server streams, commands, and reconnection with the resume token.
 *
 * State machine (every transition goes through `setState`):
 *
 *   idle ──connect()──▶ connecting ──welcome──▶ joined ◀──welcome── lobby
 *                           │  └──lobby.wait──────────────────────▶ lobby
 *                           │
 *   connecting/lobby/joined ──unexpected drop──▶ reconnecting ──timer──▶ connecting
 *   any ──close() / terminal close code / removed──▶ closed (final; `end` says why)
 *
 * React components read `snapshot` (a new immutable object per change) through `subscribe`.
 */
import {
  CloseCode,
  PROTOCOL_VERSION,
  decodeServerMessage,
  questionRank,
  type AudioState,
  type Poll,
  type Question,
  type ChatMessage,
  type ClientMessage,
  type ClientMessageType,
  type ConferenceInfo,
  type ErrorCode,
  type IceServer,
  type MeetingPolicyPatch,
  type Participant,
  type RaisedHand,
  type ReactionEmoji,
  type RecordingState,
  type RoleName,
  type ShareSource,
  type ServerMessage,
  type ServerMessageOf,
  type ShareState,
  type SignalData,
  type StageState,
  type Mark,
  type MarkAuthor,
  type Point,
  type Surface,
  type SlidesState,
} from '@baton/protocol';
import { Emitter } from './Emitter';

export type ConferenceState = 'idle' | 'connecting' | 'lobby' | 'joined' | 'reconnecting' | 'closed';

export type EndReason =
  | 'left'
  | 'removed'
  | 'denied'
  | 'ended'
  | 'ended_for_all'
  | 'replaced'
  | 'unsupported_version'
  | 'handshake_failed'
  | 'rejected'
  | 'unreachable';

export interface ConferenceEnd {
  reason: EndReason;
  /** WebSocket close code, or 0 when the end did not come from a close frame. */
  code: number;
  /** A sentence for people. */
  message: string;
  /** The server's own close reason, when it gave one. */
  detail: string | null;
  /** ended_for_all: who ended it (the page words the message in its language from this). */
  by?: { name: string; self: boolean };
}

export interface CommandError {
  code: ErrorCode | 'timeout' | 'offline';
  message: string;
  /** The command the error answers, when the server tied it to one through its rid. */
  command: ClientMessageType | null;
  at: number;
}

export interface ConferenceSnapshot {
  state: ConferenceState;
  selfId: string | null;
  conference: ConferenceInfo | null;
  roster: readonly Participant[];
  chat: readonly ChatMessage[];
  share: ShareState | null;
  /** What the host agent of this account can share, and shares now (only on the host's own pages). */
  shareSources: { sources: readonly ShareSource[]; current: string } | null;
  /** STUN/TURN servers from the welcome, for a peer-to-peer share. */
  iceServers: readonly IceServer[];
  /** The meeting's audio: null before the welcome or from a server without audio support. */
  audio: AudioState | null;
  /** Raised hands, in the order raised (one per person). */
  hands: readonly RaisedHand[];
  /** The meeting's polls, oldest first, as the server lets this participant see them. */
  polls: readonly Poll[];
  /** The Q&A, in rank order (questionRank). */
  questions: readonly Question[];
  /** The recording in progress (told in the lobby too), or null. */
  recording: RecordingState | null;
  /** What the presenter shows on everyone's stage (null before the welcome: the screen). */
  stage: StageState | null;
  /** The marks on the shared screen and slides, oldest first (annotation). */
  annotations: readonly Mark[];
  /** The meeting's slide decks and the page everyone follows (null from a server without slides). */
  slides: SlidesState | null;
  end: ConferenceEnd | null;
  /** Why this client waits in the lobby again (it came back with a seat the server could not restore). */
  lobbyNote: string | null;
  /** Reconnection attempts since the connection was last healthy. */
  attempt: number;
  /** The server said it is restarting (server.shutdown): the reconnection under way is expected. */
  serverRestarting: boolean;
  lastError: CommandError | null;
}

export interface ConferenceClientEvents {
  change: ConferenceSnapshot;
  state: ConferenceState;
  /** Every decoded server frame, for add-ons such as the screen viewer. */
  message: ServerMessage;
  error: CommandError;
  notice: { code: string; text: string };
  /** Someone reacted (shown briefly; not kept in the snapshot). */
  reaction: { participantId: string; name: string; emoji: ReactionEmoji };
  /** A hand went up (not in the welcome's queue: raised while this page was here). */
  handRaised: RaisedHand;
  /** A poll was started while this page was here (not the ones in the welcome). */
  pollStarted: Poll;
  /** A question was asked while this page was here. */
  questionAsked: Question;
  end: ConferenceEnd;
  /** Someone else's laser pointer moved (relayed, never kept): the overlay draws a fading trail. */
  laser: { surface: Surface; author: MarkAuthor; points: Point[] };
}

/** The part of the browser WebSocket this class uses; Node's `ws` package satisfies it too. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface ConferenceClientOptions {
  /** ws:// or wss:// URL of the conference socket. */
  url: string;
  conferenceId: string;
  /** Display name; required for guests, optional when signed in. */
  name?: string;
  /** Capabilities announced in hello (e.g. p2p: can carry sharing over a WebRTC DataChannel). */
  caps?: { p2p?: boolean };
  /** Where the resume token is kept so that a reload takes the same seat (sessionStorage in the browser). */
  storage?: StorageLike | null;
  createSocket?: (url: string) => WebSocketLike;
  backoff?: { initialMs: number; maxMs: number };
  /** Give up after this many failed attempts in a row while we never had a seat. */
  maxAttemptsWithoutSeat?: number;
  handshakeTimeoutMs?: number;
  /** Ping this often; a socket that stays silent for a whole interval after a ping is replaced. */
  pingIntervalMs?: number;
  requestTimeoutMs?: number;
}

export interface SavedSeat {
  token: string;
  name: string | null;
}

const OPEN = 1;
const MAX_CHAT_KEPT = 500;
/** The welcome's sharing ticket is used only this soon after it came (the server's live 30 s). */
const SHARE_TICKET_FRESH_MS = 15_000;

/** Close codes after which reconnecting would be pointless or wrong. */
const TERMINAL: Record<number, { reason: EndReason; message: string }> = {
  [CloseCode.Removed]: { reason: 'removed', message: 'The organizer removed you from this meeting.' },
  [CloseCode.Denied]: { reason: 'denied', message: 'You were not let into this meeting.' },
  [CloseCode.ConferenceEnded]: { reason: 'ended', message: 'The organizer ended or deleted this meeting.' },
  [CloseCode.Replaced]: { reason: 'replaced', message: 'You joined this meeting from another tab or window.' },
  [CloseCode.UnsupportedVersion]: { reason: 'unsupported_version', message: 'This page is out of date. Reload it to join.' },
  [CloseCode.HandshakeFailed]: { reason: 'handshake_failed', message: 'The server did not accept the connection.' },
  [CloseCode.ProtocolError]: { reason: 'rejected', message: 'The server closed the connection (protocol error).' },
  [CloseCode.UnsupportedData]: { reason: 'rejected', message: 'The server closed the connection (unsupported data).' },
  [CloseCode.PolicyViolation]: { reason: 'rejected', message: 'The server refused the connection.' },
  [CloseCode.TooBig]: { reason: 'rejected', message: 'The server closed the connection (message too large).' },
};

interface Pending {
  type: ClientMessageType;
  timer: ReturnType<typeof setTimeout>;
  resolve?: (ack: ServerMessageOf<'ack'>) => void;
  reject?: (error: CommandError) => void;
}

/** The snapshot before anything happened (also what a page shows before a client exists). */
export const IDLE_SNAPSHOT: ConferenceSnapshot = Object.freeze({
  state: 'idle',
  selfId: null,
  conference: null,
  roster: [],
  chat: [],
  share: null,
  shareSources: null,
  iceServers: [],
  audio: null,
  hands: [],
  polls: [],
  questions: [],
  recording: null,
  stage: null,
  annotations: [],
  slides: null,
  end: null,
  lobbyNote: null,
  attempt: 0,
  serverRestarting: false,
  lastError: null,
}) as ConferenceSnapshot;

export class ConferenceClient extends Emitter<ConferenceClientEvents> {
  private readonly opts: Required<Omit<ConferenceClientOptions, 'name' | 'storage' | 'caps'>> & Pick<ConferenceClientOptions, 'name' | 'caps'>;
  private readonly storage: StorageLike | null;
  private snap: ConferenceSnapshot = IDLE_SNAPSHOT;
  private socket: WebSocketLike | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  /** A ping went out and nothing has been heard since (a flag, not timestamps: a message heard in the
   * same millisecond before the ping must not count as its answer). */
  private awaitingAnswer = false;
  private hadSeat = false;
  /** The welcome's whiteboard and the updates since, kept until the page's board replica takes them. */
  private boardBacklog: string[] | null = [];
  private nextRid = 1;
  private readonly pending = new Map<string, Pending>();
  private signals: { from: string; data: SignalData }[] = [];
  /** The welcome's sharing ticket, for the share then running (see takeShareTicket). */
  private shareTicket: { ticket: string; hostId: string; at: number } | null = null;

  constructor(options: ConferenceClientOptions) {
    super();
    this.storage = options.storage ?? null;
    this.opts = {
      url: options.url,
      conferenceId: options.conferenceId,
      name: options.name,
      caps: options.caps,
      createSocket: options.createSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike),
      backoff: options.backoff ?? { initialMs: 500, maxMs: 8000 },
      maxAttemptsWithoutSeat: options.maxAttemptsWithoutSeat ?? 4,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 20_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    };
  }

  /** The seat a previous page load of this tab held, if any (used to rejoin silently on reload). */
  static savedSeat(storage: StorageLike | null | undefined, conferenceId: string): SavedSeat | null {
    try {
      const raw = storage?.getItem(seatKey(conferenceId));
      if (!raw) return null;
      const parsed = JSON.parse(raw) as Partial<SavedSeat>;
      return typeof parsed.token === 'string' ? { token: parsed.token, name: typeof parsed.name === 'string' ? parsed.name : null } : null;
    } catch {
      return null;
    }
  }

  static forgetSeat(storage: StorageLike | null | undefined, conferenceId: string): void {
    try {
      storage?.removeItem(seatKey(conferenceId));
    } catch {
      /* storage may be unavailable (private mode); nothing to forget then */
    }
  }

  get snapshot(): ConferenceSnapshot {
    return this.snap;
  }

  get state(): ConferenceState {
    return this.snap.state;
  }

  /**
   * p2p.signal messages of the current peer-to-peer attempt (from the latest offer on; cleared when
   * the share changes), so a viewer that starts answering after the offer arrived still gets it.
   */
  get p2pSignals(): readonly { from: string; data: SignalData }[] {
    return this.signals;
  }

  /** For useSyncExternalStore. */
  subscribe = (listener: () => void): (() => void) => this.on('change', listener);
  getSnapshot = (): ConferenceSnapshot => this.snap;

  self(): Participant | null {
    return this.snap.roster.find((p) => p.id === this.snap.selfId) ?? null;
  }

  connect(): void {
    if (this.snap.state !== 'idle') return;
    this.open();
  }

  /** Leave the meeting for good: the server frees the seat now instead of holding it. Safe to call twice. */
  close(): void {
    if (this.snap.state === 'closed') return;
    this.finish({ reason: 'left', code: CloseCode.Normal, message: 'You left the meeting.', detail: null }, CloseCode.Normal);
  }

  /**
   * The page is going away (pagehide): tell the server, so that the seat goes within seconds once the
   * socket closes, unless this page was reloading and resumes it. Nothing is said when not connected.
   */
  pageLeaving(): void {
    if (!this.socket || this.socket.readyState !== OPEN || (this.snap.state !== 'joined' && this.snap.state !== 'lobby')) return;
    this.socket.send(JSON.stringify({ type: 'leave', rid: `c${this.nextRid++}` }));
  }

  // ------------------------------------------------------------------------------------------
  // Commands

  /** `to`: a participant id for a private message to that person. */
  sendChat(text: string, to?: string): boolean {
    return this.send(to ? { type: 'chat.send', text, to } : { type: 'chat.send', text }) !== null;
  }
  setRole(participantId: string, role: RoleName): boolean {
    return this.send({ type: 'role.set', participantId, role }) !== null;
  }
  admit(participantId: string): boolean {
    return this.send({ type: 'lobby.admit', participantId }) !== null;
  }
  deny(participantId: string): boolean {
    return this.send({ type: 'lobby.deny', participantId }) !== null;
  }
  remove(participantId: string): boolean {
    return this.send({ type: 'participant.remove', participantId }) !== null;
  }
  raiseHand(): boolean {
    return this.send({ type: 'hand.raise' }) !== null;
  }
  /** Lower your own hand, or (organizers) the hand of the person with this seat. */
  lowerHand(participantId?: string): boolean {
    return this.send(participantId ? { type: 'hand.lower', participantId } : { type: 'hand.lower' }) !== null;
  }
  react(emoji: ReactionEmoji): boolean {
    return this.send({ type: 'reaction.send', emoji }) !== null;
  }
  updatePolicy(policy: MeetingPolicyPatch): boolean {
    return this.send({ type: 'policy.update', policy }) !== null;
  }
  /** End the meeting for everyone (organizers); the server answers with `conference.ended` to all. */
  endForAll(): Promise<ServerMessageOf<'ack'>> {
    return this.request({ type: 'conference.end' });
  }

  /**
   * Send a command without waiting for an answer. An error the server ties to it (by rid) shows up
   * as `lastError` and an `error` event. Returns the rid, or null when the socket is not open.
   */
  send(message: DistributiveOmit<ClientMessage, 'rid'>): string | null {
    if (!this.socket || this.socket.readyState !== OPEN || (this.snap.state !== 'joined' && this.snap.state !== 'lobby')) {
      this.reportError({ code: 'offline', message: 'Not connected; try again in a moment.', command: message.type, at: Date.now() });
      return null;
    }
    const rid = `c${this.nextRid++}`;
    // Remember the command briefly so that an error answering it can say what failed.
    this.pending.set(rid, { type: message.type, timer: setTimeout(() => this.pending.delete(rid), this.opts.requestTimeoutMs * 3) });
    this.socket.send(JSON.stringify({ ...message, rid }));
    return rid;
  }

  /** Send a command and wait for its ack (e.g. `share.ticket`, whose ack carries the ticket). */
  request(message: DistributiveOmit<ClientMessage, 'rid'>): Promise<ServerMessageOf<'ack'>> {
    return new Promise((resolve, reject) => {
      const rid = this.send(message);
      if (rid === null) {
        reject(this.snap.lastError);
        return;
      }
      const entry = this.pending.get(rid)!;
      clearTimeout(entry.timer);
      entry.resolve = resolve;
      entry.reject = reject;
      entry.timer = setTimeout(() => {
        this.pending.delete(rid);
        reject({ code: 'timeout', message: 'The server did not answer.', command: message.type, at: Date.now() } satisfies CommandError);
      }, this.opts.requestTimeoutMs);
    });
  }

  /**
   * The whiteboard as it came before the page's board replica (whiteboard/BoardSync) existed: the
   * welcome's state and the updates since. Once taken, nothing more is kept here.
   */
  takeBoardBacklog(): string[] {
    const backlog = this.boardBacklog ?? [];
    this.boardBacklog = null;
    return backlog;
  }

  /**
   * The sharing ticket the welcome carried, once, while it is fresh and the share it came with still
   * runs (a late joiner's page opens the share without asking for one); null otherwise: ask `share.ticket`.
   */
  takeShareTicket(): string | null {
    const t = this.shareTicket;
    this.shareTicket = null;
    if (!t || Date.now() - t.at > SHARE_TICKET_FRESH_MS || this.snap.share?.hostId !== t.hostId) return null;
    return t.ticket;
  }

  clearError(): void {
    if (this.snap.lastError) this.update({ lastError: null });
  }

  // ------------------------------------------------------------------------------------------
  // Connection

  private open(): void {
    this.setState('connecting');
    let socket: WebSocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url);
    } catch {
      this.dropped();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.awaitingAnswer = false;
      const seat = ConferenceClient.savedSeat(this.storage, this.opts.conferenceId);
      const hello: Record<string, unknown> = { type: 'hello', v: PROTOCOL_VERSION, client: 'web' };
      const name = this.opts.name ?? seat?.name ?? undefined;
      if (name) hello.name = name;
      if (seat) hello.resume = seat.token;
      if (this.opts.caps) hello.caps = this.opts.caps;
      socket.send(JSON.stringify(hello));
      this.handshakeTimer = setTimeout(() => {
        if (socket === this.socket && this.snap.state === 'connecting') this.dropped();
      }, this.opts.handshakeTimeoutMs);
      this.pingTimer = setInterval(() => this.keepAlive(), this.opts.pingIntervalMs);
    };
    socket.onmessage = (ev) => {
      if (socket !== this.socket) return;
      this.awaitingAnswer = false;
      if (typeof ev.data !== 'string') return;
      const decoded = decodeServerMessage(ev.data);
      if (!decoded.ok) {
        console.warn('baton: ignoring an invalid server frame:', decoded.error);
        return;
      }
      this.handle(decoded.value);
    };
    socket.onclose = (ev) => {
      if (socket !== this.socket) return;
      const terminal = TERMINAL[ev.code];
      if (terminal) this.finish({ reason: terminal.reason, code: ev.code, message: terminal.message, detail: ev.reason || null });
      else this.dropped();
    };
    // An error is always followed by a close event; the close decides what happens next.
    socket.onerror = () => {};
  }

  private keepAlive(): void {
    if (!this.socket || this.socket.readyState !== OPEN) return;
    // A half-open TCP connection never fires close; an unanswered ping is the only sign of it.
    // Judged per ping rather than by a fixed age: background tabs run timers late.
    if (this.awaitingAnswer) {
      this.dropped();
      return;
    }
    this.awaitingAnswer = true;
    this.socket.send(JSON.stringify({ type: 'ping' }));
  }

  /** The socket died without a reason that forbids coming back: retry with backoff. */
  private dropped(): void {
    this.releaseSocket(4000, 'reconnecting');
    if (this.snap.state === 'closed') return;
    const attempt = this.snap.attempt + 1;
    if (!this.hadSeat && attempt > this.opts.maxAttemptsWithoutSeat) {
      this.finish({ reason: 'unreachable', code: 0, message: 'The server did not answer. Check your connection and try again.', detail: null });
      return;
    }
    const { initialMs, maxMs } = this.opts.backoff;
    const delay = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
    // Jitter so that a restarted server is not hit by every client in the same millisecond.
    const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
    this.update({ attempt });
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.snap.state === 'reconnecting') this.open();
    }, jittered);
  }

  private finish(end: ConferenceEnd, closeCode = 4000): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.releaseSocket(closeCode, end.reason);
    // After a final end the seat is gone; a reload must not try to take it back. A client that never
    // got a seat (e.g. closed while still connecting) leaves a token from an earlier page load alone.
    if (this.hadSeat) ConferenceClient.forgetSeat(this.storage, this.opts.conferenceId);
    for (const [rid, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject?.({ code: 'offline', message: end.message, command: p.type, at: Date.now() });
      this.pending.delete(rid);
    }
    this.update({ end });
    this.setState('closed');
    this.emit('end', end);
  }

  private releaseSocket(code: number, reason: string): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.handshakeTimer = null;
    this.pingTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      /* already closed */
    }
  }

  // ------------------------------------------------------------------------------------------
  // Server messages

  private handle(msg: ServerMessage): void {
    switch (msg.type) {
      case 'welcome':
        this.signals = [];
        this.shareTicket = msg.shareTicket && msg.share ? { ticket: msg.shareTicket, hostId: msg.share.hostId, at: Date.now() } : null;
        if (this.boardBacklog) this.boardBacklog = msg.whiteboard ? [msg.whiteboard] : [];
        this.seated(msg.resumeToken);
        if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
        // One change with the state in it: a listener never sees the room's contents in a state
        // other than `joined` (SnapshotGate holds the snapshot from before the welcome).
        const wasJoined = this.snap.state === 'joined';
        this.update({
          state: 'joined',
          selfId: msg.self,
          conference: msg.conference,
          roster: msg.roster,
          chat: msg.chat.slice(-MAX_CHAT_KEPT),
          share: msg.share,
          shareSources: null,
          iceServers: msg.iceServers,
          audio: msg.audio ?? null,
          hands: msg.hands ?? [],
          polls: msg.polls ?? [],
          questions: [...(msg.questions ?? [])].sort(questionRank),
          recording: msg.recording ?? null,
          stage: msg.stage ?? null,
          annotations: msg.annotations ?? [],
          slides: msg.slides ?? null,
          lobbyNote: null,
          attempt: 0,
          serverRestarting: false,
        });
        if (!wasJoined) this.emit('state', 'joined');
        break;
      case 'lobby.wait':
        this.seated(msg.resumeToken);
        if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
        this.update({ selfId: msg.self, conference: msg.conference, roster: [], chat: [], share: null, lobbyNote: msg.note ?? null, recording: msg.recording ?? null, attempt: 0, serverRestarting: false });
        this.setState('lobby');
        break;
      case 'participant.joined':
      case 'participant.updated':
        this.update({ roster: upsert(this.snap.roster, msg.participant) });
        break;
      case 'participant.left':
        this.update({ roster: this.snap.roster.filter((p) => p.id !== msg.participantId) });
        if (msg.participantId === this.snap.selfId && msg.reason !== 'timeout') {
          const terminal = TERMINAL[msg.reason === 'removed' ? CloseCode.Removed : msg.reason === 'denied' ? CloseCode.Denied : CloseCode.Normal];
          this.finish({ reason: terminal?.reason ?? 'left', code: 0, message: terminal?.message ?? 'You left the meeting.', detail: null });
        }
        break;
      case 'chat.message':
        if (!this.snap.chat.some((c) => c.id === msg.message.id)) {
          this.update({ chat: [...this.snap.chat, msg.message].slice(-MAX_CHAT_KEPT) });
        }
        break;
      case 'conference.ended': {
        // An organizer ended it for all; the close (4004) that follows adds nothing.
        const mine = msg.by === this.snap.selfId;
        this.finish({
          reason: 'ended_for_all',
          code: CloseCode.ConferenceEnded,
          message: mine ? 'You ended the meeting for everyone. It can be started again with the same link.' : `${msg.name} ended the meeting for everyone.`,
          detail: null,
          by: { name: msg.name, self: mine },
        });
        break;
      }
      case 'server.shutdown':
        // The close (1001) follows; the client reconnects with its token as after any drop.
        this.update({ serverRestarting: true });
        break;
      case 'conference.updated':
        this.update({ conference: msg.conference });
        break;
      case 'share.updated':
        if (msg.share?.transport !== this.snap.share?.transport || msg.share?.hostId !== this.snap.share?.hostId) this.signals = [];
        this.update({ share: msg.share, ...(msg.share?.hostId !== this.snap.share?.hostId ? { shareSources: null } : {}) });
        break;
      case 'share.sources':
        this.update({ shareSources: { sources: msg.sources, current: msg.current } });
        break;
      case 'p2p.signal':
        if (msg.data.kind === 'description' && msg.data.type === 'offer') this.signals = [];
        if (this.signals.length < 64) this.signals.push({ from: msg.from, data: msg.data });
        break;
      case 'notice':
        this.emit('notice', { code: msg.code, text: msg.text });
        break;
      case 'ack': {
        const p = msg.rid !== undefined ? this.pending.get(String(msg.rid)) : undefined;
        if (p) {
          clearTimeout(p.timer);
          this.pending.delete(String(msg.rid));
          p.resolve?.(msg);
        }
        break;
      }
      case 'error': {
        const p = msg.rid !== undefined ? this.pending.get(String(msg.rid)) : undefined;
        const error: CommandError = { code: msg.code, message: msg.message, command: p?.type ?? null, at: Date.now() };
        if (p) {
          clearTimeout(p.timer);
          this.pending.delete(String(msg.rid));
          p.reject?.(error);
        }
        this.reportError(error);
        break;
      }
      case 'audio.updated':
        this.update({ audio: msg.audio });
        break;
      case 'recording.updated':
        this.update({ recording: msg.recording });
        break;
      case 'annotation.added':
        if (!this.snap.annotations.some((m) => m.id === msg.mark.id)) this.update({ annotations: [...this.snap.annotations, msg.mark] });
        break;
      case 'annotation.removed': {
        const gone = new Set(msg.ids);
        this.update({ annotations: this.snap.annotations.filter((m) => !gone.has(m.id)) });
        break;
      }
      case 'annotation.laser':
        this.emit('laser', { surface: msg.surface, author: msg.author, points: msg.points });
        break;
      case 'stage.updated':
        this.update({ stage: msg.stage });
        break;
      case 'slides.updated':
        this.update({ slides: msg.slides });
        break;
      case 'wb.updated':
        if (this.boardBacklog && this.boardBacklog.length < 2000) this.boardBacklog.push(msg.update);
        break;
      case 'wb.state':
        break;
      case 'hands.updated': {
        const before = new Set(this.snap.hands.map((h) => h.person));
        this.update({ hands: msg.hands });
        for (const h of msg.hands) if (!before.has(h.person)) this.emit('handRaised', h);
        break;
      }
      case 'poll.updated': {
        const known = this.snap.polls.some((p) => p.id === msg.poll.id);
        this.update({ polls: upsertBy(this.snap.polls, msg.poll) });
        if (!known) this.emit('pollStarted', msg.poll);
        break;
      }
      case 'file.deleted':
        this.update({ chat: this.snap.chat.map((c) => (c.file?.id === msg.fileId ? { ...c, file: { ...c.file, deleted: true } } : c)) });
        break;
      case 'qa.updated': {
        const known = this.snap.questions.some((q) => q.id === msg.question.id);
        this.update({ questions: upsertBy(this.snap.questions, msg.question).sort(questionRank) });
        if (!known) this.emit('questionAsked', msg.question);
        break;
      }
      case 'reaction':
        this.emit('reaction', { participantId: msg.participantId, name: msg.name, emoji: msg.emoji });
        break;
      case 'pong':
      case 'share.switch':
      case 'share.setPaused':
      case 'control.requested':
        break;
    }
    this.emit('message', msg);
  }

  private seated(token: string): void {
    this.hadSeat = true;
    try {
      // Keep the name too: a guest reloading the page rejoins without typing it again.
      const name = this.opts.name ?? ConferenceClient.savedSeat(this.storage, this.opts.conferenceId)?.name ?? null;
      this.storage?.setItem(seatKey(this.opts.conferenceId), JSON.stringify({ token, name } satisfies SavedSeat));
    } catch {
      /* without storage a reload simply joins as a new participant */
    }
  }

  private reportError(error: CommandError): void {
    this.update({ lastError: error });
    this.emit('error', error);
  }

  private setState(state: ConferenceState): void {
    if (this.snap.state === state) return;
    this.update({ state });
    this.emit('state', state);
  }

  private update(patch: Partial<ConferenceSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    this.emit('change', this.snap);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function seatKey(conferenceId: string): string {
  return `baton.seat.${conferenceId}`;
}

function upsertBy<T extends { id: string }>(list: readonly T[], item: T): T[] {
  const i = list.findIndex((x) => x.id === item.id);
  if (i < 0) return [...list, item];
  const next = list.slice();
  next[i] = item;
  return next;
}

function upsert(roster: readonly Participant[], p: Participant): Participant[] {
  const i = roster.findIndex((x) => x.id === p.id);
  if (i < 0) return [...roster, p];
  const next = roster.slice();
  next[i] = p;
  return next;
}

/** The conference socket URL for a page served by the Baton server. */
export function conferenceSocketUrl(conferenceId: string, location: { protocol: string; host: string }): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws/conference/${encodeURIComponent(conferenceId)}`;
}

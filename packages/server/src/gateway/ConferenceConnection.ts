/**
 * One conference WebSocket: handshake (hello within a time limit, protocol version, identity),
 * then decoded commands into the Focus, and typed errors back. A malformed frame closes only this
 * connection, with a stated reason; the Focus and the other connections never see it.
 *
 * One connection cannot grow the server's memory or hog it: what waits to be written to it is
 * capped (a client that does not read is closed with 4008), and commands go through a token bucket
 * from the first frame on, hello and lobby included (over it: a typed `rate_limited` error; going
 * on regardless closes with 4009).
 */
import type { WebSocket, RawData } from 'ws';
import {
  CloseCode,
  PROTOCOL_VERSION,
  decodeClientMessage,
  type ClientMessage,
  type Hello,
  type ServerMessage,
} from '@baton/protocol';
import type { Store, UserRecord } from '../store/Store.js';
import type { FocusRegistry } from '../focus/FocusRegistry.js';
import type { Focus } from '../focus/Focus.js';
import type { ParticipantLink } from '../focus/Seat.js';
import type { Command } from '../focus/authorize.js';
import { agentResumeKey } from '../focus/LobbyManager.js';
import { hashToken } from '../auth/tokens.js';
import { BatonError, NotHomeError } from '../errors.js';
import { TokenBucket, type BucketSpec } from '../util/TokenBucket.js';

export interface ConnectionLimits {
  /** Bytes that may wait to be written to the socket (ws bufferedAmount); past it the client is too slow. */
  maxBufferedBytes: number;
  /** Frames of any kind, from the first one on. */
  commands: BucketSpec;
  /** Frames over the command limit that are answered with an error before the connection closes. */
  strikes: BucketSpec;
  /** After the server closes, how long the client has to finish the closing handshake before the socket is dropped. */
  closeGraceMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxBufferedBytes: 4 * 1024 * 1024,
  commands: { burst: 40, perSecond: 20 },
  strikes: { burst: 20, perSecond: 1 },
  closeGraceMs: 5_000,
};

export interface ConferenceConnectionOptions {
  socket: WebSocket;
  conferenceId: string;
  /** The user behind the session cookie, if any. */
  user: UserRecord | null;
  registry: FocusRegistry;
  store: Store;
  /** The client's network address (guests' chat and ticket limits are kept by it). */
  address?: string;
  helloTimeoutMs?: number;
  limits?: Partial<ConnectionLimits>;
  log?: { info?(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void };
  /** Counts the socket's bytes each way (metrics/ServerMetrics). */
  countBytes?: (direction: 'in' | 'out', bytes: number) => void;
}

type State = 'handshake' | 'joined' | 'closed';

export class ConferenceConnection implements ParticipantLink {
  readonly #o: ConferenceConnectionOptions;
  #state: State = 'handshake';
  #focus: Focus | null = null;
  #seatId: string | null = null;
  #helloTimer: NodeJS.Timeout;
  #dropTimer: NodeJS.Timeout | null = null;
  readonly #limits: ConnectionLimits;
  readonly #commands: TokenBucket;
  readonly #strikes: TokenBucket;
  /** Commands run one at a time per connection, in arrival order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(opts: ConferenceConnectionOptions) {
    this.#o = opts;
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.limits };
    this.#commands = new TokenBucket(this.#limits.commands);
    this.#strikes = new TokenBucket(this.#limits.strikes);
    const { socket } = opts;
    this.#helloTimer = setTimeout(() => this.close(CloseCode.HandshakeFailed, 'no hello within the time limit'), opts.helloTimeoutMs ?? 10_000);
    socket.on('message', (data, isBinary) => {
      opts.countBytes?.('in', Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : data.byteLength);
      this.#onFrame(data, isBinary);
    });
    socket.on('close', (code) => this.#onClose(code));
    socket.on('error', (err) => {
      // ws reports oversized frames and protocol violations here and then closes (1009/1002).
      opts.log?.warn({ err: err.message, conference: opts.conferenceId }, 'conference socket error');
    });
  }

  send(msg: ServerMessage): void {
    const socket = this.#o.socket;
    if (socket.readyState !== socket.OPEN) return;
    const text = JSON.stringify(msg);
    // A client that does not read would otherwise make the server hold everything ever sent to it.
    if (socket.bufferedAmount + Buffer.byteLength(text) > this.#limits.maxBufferedBytes) {
      this.#o.log?.warn({ conference: this.#o.conferenceId, address: this.#o.address, buffered: socket.bufferedAmount }, 'conference client too slow; closing');
      return this.close(CloseCode.TooSlow, 'too slow: the client is not reading what the server sends');
    }
    socket.send(text);
    this.#o.countBytes?.('out', Buffer.byteLength(text));
  }

  close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#helloTimer);
    this.#o.log?.info?.({ participant: this.#seatId, code, reason }, 'closing a conference socket');
    // Close reasons are limited to 123 bytes by the WebSocket protocol.
    this.#o.socket.close(code, Buffer.from(reason).subarray(0, 123).toString());
    // A client that does not answer the close (or does not read at all) keeps its buffers only this long.
    this.#dropTimer = setTimeout(() => this.#o.socket.terminate(), this.#limits.closeGraceMs);
    this.#dropTimer.unref?.();
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    // After a close, frames are dropped unread until the client answers it or closeGraceMs ends it.
    if (this.#state === 'closed') return;
    if (!this.#commands.take()) {
      if (!this.#strikes.take()) {
        this.#o.log?.warn({ conference: this.#o.conferenceId, address: this.#o.address }, 'conference client flooding; closing');
        return this.close(CloseCode.RateLimited, 'too many messages: the client went on sending over the rate limit');
      }
      const rid = isBinary ? undefined : ridOf(frameText(data));
      return this.send({ type: 'error', code: 'rate_limited', message: 'too many messages; slow down', rid });
    }
    if (isBinary) return this.close(CloseCode.UnsupportedData, 'the conference socket takes JSON text frames only');
    const text = frameText(data);
    const decoded = decodeClientMessage(text);
    if (!decoded.ok) {
      // Malformed JSON is a broken client: close. A well-formed but invalid message gets a typed error.
      if (decoded.error === 'malformed JSON' || decoded.error === 'message has no type') return this.close(CloseCode.PolicyViolation, decoded.error);
      return this.send({ type: 'error', code: 'bad_request', message: decoded.error, rid: ridOf(text) });
    }
    const msg = decoded.value;
    // Said right before the socket closes: heard now, not behind queued commands the close would drop.
    if (msg.type === 'leave' && this.#state === 'joined') return this.#focus!.leaving(this.#seatId!, this);
    this.#queue = this.#queue.then(() => this.#run(msg)).catch((err) => this.#o.log?.error({ err }, 'conference connection failed'));
  }

  async #run(msg: ClientMessage): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'handshake') {
      if (msg.type !== 'hello') return this.close(CloseCode.HandshakeFailed, 'the first message must be hello');
      return this.#hello(msg);
    }
    if (msg.type === 'hello') return this.send({ type: 'error', rid: msg.rid, code: 'bad_request', message: 'already joined' });
    if (msg.type === 'ping') return this.send({ type: 'pong', rid: msg.rid });
    if (msg.type === 'leave') return this.#focus!.leaving(this.#seatId!, this);
    try {
      const result = await this.#focus!.handle(this.#seatId!, msg as Command);
      this.send({ type: 'ack', rid: msg.rid, ...result });
    } catch (err) {
      if (err instanceof NotHomeError) return this.close(CloseCode.ServiceRestart, err.message);
      if (err instanceof BatonError) return this.send({ type: 'error', rid: msg.rid, code: err.code, message: err.message });
      this.#o.log?.error({ err }, 'command failed');
      this.send({ type: 'error', rid: msg.rid, code: 'internal', message: 'internal error' });
    }
  }

  async #hello(hello: Hello): Promise<void> {
    clearTimeout(this.#helloTimer);
    if (hello.v !== PROTOCOL_VERSION) {
      return this.close(CloseCode.UnsupportedVersion, `protocol version ${hello.v} is not supported; this server speaks ${PROTOCOL_VERSION}`);
    }
    let user = this.#o.user;
    if (hello.client === 'agent') {
      // The agent authenticates with a one-time token bound to this conference, unless it has a cookie.
      if (hello.agentToken) {
        const grant = await this.#o.store.consumeAgentToken(hashToken(hello.agentToken), new Date());
        if (!grant || grant.conferenceId !== this.#o.conferenceId) return this.close(CloseCode.Denied, 'the agent token is unknown, used or expired');
        user = (await this.#o.store.getUserById(grant.userId)) ?? null;
      } else if (!user && hello.resume) {
        // An agent whose connection dropped comes back to its seat with the resume token alone.
        const userId = (await this.#o.registry.get(this.#o.conferenceId))?.agentSeatUser(hello.resume) ?? (await this.#keptAgentSeat(hello.resume));
        if (!userId) return this.close(CloseCode.Denied, 'the agent seat to resume is gone (the meeting ended or the wait ran out); start sharing again with a new token');
        user = (await this.#o.store.getUserById(userId)) ?? null;
      }
      if (!user) return this.close(CloseCode.Denied, 'the agent must be signed in or use a one-time token');
    } else if (hello.agentToken) {
      return this.close(CloseCode.PolicyViolation, 'agent tokens are for the agent');
    }
    try {
      let focus = await this.#o.registry.getOrCreate(this.#o.conferenceId);
      // A Focus that emptied (and so closed) while we waited is forgotten; the next one is fresh.
      for (let i = 0; focus.closed && i < 3; i++) focus = await this.#o.registry.getOrCreate(this.#o.conferenceId);
      // Gone while the Focus was loading: do not leave behind a conference nobody is in.
      if (this.#state === 'closed') return focus.closeIfEmpty();
      const seat = focus.join({ user, name: hello.name, resume: hello.resume, client: hello.client, p2p: hello.caps?.p2p, address: this.#o.address, link: this });
      this.#focus = focus;
      this.#seatId = seat.id;
      this.#state = 'joined';
      this.#o.log?.info?.({ participant: seat.id, client: hello.client ?? 'web', user: user?.username ?? null, status: seat.status }, 'joined');
    } catch (err) {
      // Cluster mode: the meeting runs (or now runs) on another node; the client's next connection finds it.
      if (err instanceof NotHomeError) return this.close(CloseCode.ServiceRestart, err.message);
      if (err instanceof BatonError) {
        const code = err.code === 'not_found' ? CloseCode.ConferenceEnded : err.code === 'bad_request' ? CloseCode.PolicyViolation : CloseCode.Denied;
        return this.close(code, err.message);
      }
      throw err;
    }
  }

  /** The user of an agent seat kept across a server restart (LobbyManager.keepForRestart), once. */
  async #keptAgentSeat(resume: string): Promise<string | null> {
    const key = agentResumeKey(resume);
    const kept = (await this.#o.store.listAdmissions(this.#o.conferenceId, new Date())).find((a) => a.tokenHash === key);
    if (!kept?.userId) return null;
    await this.#o.store.deleteAdmission(key);
    return kept.userId;
  }

  #onClose(code: number): void {
    const wasJoined = this.#focus && this.#seatId;
    if (wasJoined) this.#o.log?.info?.({ participant: this.#seatId, code }, 'conference socket closed');
    this.#state = 'closed';
    clearTimeout(this.#helloTimer);
    if (this.#dropTimer) clearTimeout(this.#dropTimer);
    if (wasJoined) this.#focus!.disconnected(this.#seatId!, this, code === CloseCode.Normal);
  }
}

function frameText(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}

function ridOf(text: string): string | number | undefined {
  try {
    const rid = (JSON.parse(text) as { rid?: unknown }).rid;
    return typeof rid === 'string' || typeof rid === 'number' ? rid : undefined;
  } catch {
    return undefined;
  }
}

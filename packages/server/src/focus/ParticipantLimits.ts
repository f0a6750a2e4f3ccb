/**
 * Rate limits on what a participant may do often (chat, sharing tickets), kept by who the
 * participant is rather than by seat, so leaving and rejoining gives no fresh allowance: by user
 * for signed-in users; for guests by guest identity (address and display name), and a larger
 * allowance shared by every guest from one address, so a guest changing names gains nothing. The
 * registry owns one for all conferences: it outlives a Focus, which closes when its last seat goes.
 */
import { RateLimitedError } from '../errors.js';
import { RateLimiter } from '../util/RateLimiter.js';
import type { BucketSpec } from '../util/TokenBucket.js';

export interface LimitSpecs {
  /** Chat messages of one user or one guest identity. */
  chat: BucketSpec;
  /** Chat messages of all guests from one address together. */
  guestChatPerAddress: BucketSpec;
  /** `share.ticket` requests of one user or one guest identity. */
  tickets: BucketSpec;
  /** Reactions and raised hands of one user or one guest identity (each reaches everyone). */
  reactions: BucketSpec;
  /** Polls, questions and votes of one user or one guest identity (each change reaches everyone). */
  data: BucketSpec;
  /** Marks drawn and cleared by one user or one guest identity (each reaches everyone and is kept). */
  annotation: BucketSpec;
  /** Laser pointer messages (relayed, never kept; the client sends about 20 a second while pointing). */
  laser: BucketSpec;
  /** Whiteboard updates of one user or one guest identity (the web client sends at most ~10 a second). */
  whiteboard: BucketSpec;
}

export const DEFAULT_LIMITS: LimitSpecs = {
  chat: { burst: 8, perSecond: 2 },
  guestChatPerAddress: { burst: 24, perSecond: 6 },
  tickets: { burst: 20, perSecond: 2 },
  reactions: { burst: 6, perSecond: 1 },
  data: { burst: 12, perSecond: 2 },
  annotation: { burst: 20, perSecond: 5 },
  laser: { burst: 40, perSecond: 25 },
  whiteboard: { burst: 40, perSecond: 15 },
};

/** Who is asking: what the limits are keyed by. */
export interface Requester {
  conferenceId: string;
  userId: string | null;
  /** The client's network address (as the proxy reports it when the server trusts one). */
  address: string;
  name: string;
}

export class ParticipantLimits {
  readonly #chat: RateLimiter;
  readonly #guestChat: RateLimiter;
  readonly #tickets: RateLimiter;
  readonly #reactions: RateLimiter;
  readonly #data: RateLimiter;
  readonly #annotation: RateLimiter;
  readonly #laser: RateLimiter;
  readonly #whiteboard: RateLimiter;

  constructor(specs: Partial<LimitSpecs> = {}, now: () => number = Date.now) {
    const s = { ...DEFAULT_LIMITS, ...specs };
    this.#chat = new RateLimiter(s.chat, now);
    this.#guestChat = new RateLimiter(s.guestChatPerAddress, now);
    this.#tickets = new RateLimiter(s.tickets, now);
    this.#reactions = new RateLimiter(s.reactions, now);
    this.#data = new RateLimiter(s.data, now);
    this.#annotation = new RateLimiter(s.annotation, now);
    this.#laser = new RateLimiter(s.laser, now);
    this.#whiteboard = new RateLimiter(s.whiteboard, now);
  }

  /** Throws RateLimitedError when `who` may not send another chat message now. */
  chat(who: Requester): void {
    const id = identityKey(who);
    if (who.userId === null) {
      const addr = `${who.conferenceId}|a:${who.address}`;
      // Both must have a token before either is spent.
      if (!this.#chat.has(id) || !this.#guestChat.has(addr)) throw tooFast('messages');
      this.#guestChat.take(addr);
    }
    if (!this.#chat.take(id)) throw tooFast('messages');
  }

  /** Throws RateLimitedError when `who` may not have another sharing ticket now. */
  ticket(who: Requester): void {
    if (!this.#tickets.take(identityKey(who))) throw tooFast('ticket requests');
  }

  /** Throws RateLimitedError when `who` may not send another reaction (or raise a hand) now. */
  reaction(who: Requester): void {
    if (!this.#reactions.take(identityKey(who))) throw tooFast('reactions');
  }

  /** Throws RateLimitedError when `who` may not create a poll, ask a question or vote again now. */
  data(who: Requester): void {
    if (!this.#data.take(identityKey(who))) throw tooFast('poll and question changes');
  }

  /** Throws RateLimitedError when `who` may not draw or clear another mark now. */
  annotation(who: Requester): void {
    if (!this.#annotation.take(identityKey(who))) throw tooFast('marks');
  }

  /** Throws RateLimitedError when `who` may not send more laser points now. */
  laser(who: Requester): void {
    if (!this.#laser.take(identityKey(who))) throw tooFast('laser pointer moves');
  }

  /** Throws RateLimitedError when `who` may not send another whiteboard update now. */
  whiteboard(who: Requester): void {
    if (!this.#whiteboard.take(identityKey(who))) throw tooFast('whiteboard changes');
  }

  /** Keys held (bounded: idle keys are dropped), for tests and diagnostics. */
  get size(): number {
    return this.#chat.size + this.#guestChat.size + this.#tickets.size + this.#reactions.size + this.#data.size + this.#annotation.size + this.#laser.size + this.#whiteboard.size;
  }
}

function identityKey(who: Requester): string {
  return who.userId !== null ? `${who.conferenceId}|u:${who.userId}` : `${who.conferenceId}|g:${who.address}|${who.name.trim().toLowerCase()}`;
}

function tooFast(what: string): RateLimitedError {
  return new RateLimitedError(`you are sending ${what} too fast; wait a moment`);
}

/**
 * Raised hands and reactions for one conference. Hands are kept per person (every seat of a
 * signed-in user is one person), in the order raised: the organizer's queue. Reactions pass through
 * to everyone. Both are rate-limited by who the participant is (ParticipantLimits), since each one
 * reaches every socket of the conference. The Focus authorizes before calling in.
 */
import type { RaisedHand, ReactionEmoji } from '@baton/protocol';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { ParticipantLimits, type Requester } from './ParticipantLimits.js';

export interface HandsManagerOptions {
  /** Shared with the registry, so a rejoin gets no fresh allowance; a private set when absent (tests). */
  limits?: ParticipantLimits;
  now?: () => Date;
}

/** The seat behind a hand or a reaction. */
export interface Gesturer {
  id: string;
  person: string;
  name: string;
}

export interface Reaction {
  participantId: string;
  name: string;
  emoji: ReactionEmoji;
}

export type HandsManagerEvents = {
  /** The queue, in order, after every change. */
  changed: [RaisedHand[]];
  /** A hand went up (for notifications). */
  raised: [RaisedHand];
  reaction: [Reaction];
};

export class HandsManager extends TypedEmitter<HandsManagerEvents> {
  readonly #limits: ParticipantLimits;
  readonly #now: () => Date;
  /** By person; a Map keeps insertion order, which is the queue's order. */
  readonly #hands = new Map<string, RaisedHand>();
  #closed = false;

  constructor(opts: HandsManagerOptions = {}) {
    super();
    this.#limits = opts.limits ?? new ParticipantLimits();
    this.#now = opts.now ?? (() => new Date());
  }

  get state(): RaisedHand[] {
    return [...this.#hands.values()];
  }

  isRaised(person: string): boolean {
    return this.#hands.has(person);
  }

  /** Raise `who`'s hand at the end of the queue; a hand already up keeps its place. */
  handleRaise(who: Gesturer, requester: Requester): void {
    if (this.#closed || this.#hands.has(who.person)) return;
    this.#limits.reaction(requester);
    const hand: RaisedHand = { person: who.person, participantId: who.id, name: who.name, at: this.#now().toISOString() };
    this.#hands.set(who.person, hand);
    this.emit('raised', hand);
    this.#changed();
  }

  /** Lower a person's hand; false when it was not raised. */
  handleLower(person: string): boolean {
    if (this.#closed || !this.#hands.delete(person)) return false;
    this.#changed();
    return true;
  }

  handleReaction(who: Gesturer, emoji: ReactionEmoji, requester: Requester): void {
    if (this.#closed) return;
    this.#limits.reaction(requester);
    this.emit('reaction', { participantId: who.id, name: who.name, emoji });
  }

  /**
   * A seat left. Its person's hand stays up on `successor` (another seat of the same person still
   * here), or goes down with the last one.
   */
  handleGone(seat: { id: string; person: string }, successor: string | null): void {
    const hand = this.#hands.get(seat.person);
    if (!hand || hand.participantId !== seat.id) return;
    if (successor) hand.participantId = successor;
    else this.#hands.delete(seat.person);
    this.#changed();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#hands.clear();
    this.removeAllListeners();
  }

  #changed(): void {
    this.emit('changed', this.state);
  }
}

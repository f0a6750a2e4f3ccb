/**
 * IM conferencing for one conference: rate-limited sends, persisted through the store, and the
 * recent history that a joiner or a reconnecting participant receives. The limits are kept by user
 * or guest identity in ParticipantLimits (shared by the registry), so a rejoin gets no fresh allowance.
 */
import type { ChatMessage } from '@baton/protocol';
import type { Store, ChatRecord } from '../store/Store.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { ParticipantLimits, type Requester } from './ParticipantLimits.js';

export interface ImManagerOptions {
  conferenceId: string;
  store: Store;
  /** Messages kept in memory and sent on join. */
  historySize?: number;
  /** The rate limits, shared across conferences and rejoins; a private set when absent (tests). */
  limits?: ParticipantLimits;
}

export type ImManagerEvents = { message: [ChatMessage] };

export function chatToWire(r: ChatRecord): ChatMessage {
  return { id: r.id, senderId: r.senderId, senderName: r.senderName, senderUser: r.senderUser, text: r.text, at: r.createdAt };
}

export class ImManager extends TypedEmitter<ImManagerEvents> {
  readonly #opts: Required<ImManagerOptions>;
  readonly #history: ChatMessage[] = [];

  constructor(opts: ImManagerOptions) {
    super();
    this.#opts = { historySize: 200, ...opts, limits: opts.limits ?? new ParticipantLimits() };
  }

  async load(): Promise<void> {
    const rows = await this.#opts.store.listChat(this.#opts.conferenceId, this.#opts.historySize);
    this.#history.splice(0, this.#history.length, ...rows.map(chatToWire));
  }

  history(): ChatMessage[] {
    return [...this.#history];
  }

  /** `who` is what the rate limit is kept by (user, or guest identity and address), not the seat. */
  async handleSend(sender: { id: string; name: string; username: string | null }, text: string, who: Requester): Promise<ChatMessage> {
    this.#opts.limits.chat(who);
    const record = await this.#opts.store.appendChat({
      conferenceId: this.#opts.conferenceId,
      senderId: sender.id,
      senderName: sender.name,
      senderUser: sender.username,
      text,
    });
    const msg = chatToWire(record);
    this.#history.push(msg);
    if (this.#history.length > this.#opts.historySize) this.#history.shift();
    this.emit('message', msg);
    return msg;
  }
}

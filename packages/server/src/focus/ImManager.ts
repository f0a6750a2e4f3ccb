/**
 * IM conferencing for one conference: rate-limited sends, persisted through the store, and the
 * recent history that a joiner or a reconnecting participant receives.
 */
import type { ChatMessage } from '@baton/protocol';
import type { Store, ChatRecord } from '../store/Store.js';
import { RateLimitedError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';

export interface ImManagerOptions {
  conferenceId: string;
  store: Store;
  /** Messages kept in memory and sent on join. */
  historySize?: number;
  /** Token bucket per participant: burst and refill per second. */
  burst?: number;
  perSecond?: number;
  now?: () => number;
}

export type ImManagerEvents = { message: [ChatMessage] };

export function chatToWire(r: ChatRecord): ChatMessage {
  return { id: r.id, senderId: r.senderId, senderName: r.senderName, senderUser: r.senderUser, text: r.text, at: r.createdAt };
}

export class ImManager extends TypedEmitter<ImManagerEvents> {
  readonly #opts: Required<ImManagerOptions>;
  readonly #history: ChatMessage[] = [];
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(opts: ImManagerOptions) {
    super();
    this.#opts = { historySize: 200, burst: 8, perSecond: 2, now: Date.now, ...opts };
  }

  async load(): Promise<void> {
    const rows = await this.#opts.store.listChat(this.#opts.conferenceId, this.#opts.historySize);
    this.#history.splice(0, this.#history.length, ...rows.map(chatToWire));
  }

  history(): ChatMessage[] {
    return [...this.#history];
  }

  async handleSend(sender: { id: string; name: string; username: string | null }, text: string): Promise<ChatMessage> {
    this.#take(sender.id);
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

  forget(participantId: string): void {
    this.#buckets.delete(participantId);
  }

  #take(id: string): void {
    const now = this.#opts.now();
    const b = this.#buckets.get(id) ?? { tokens: this.#opts.burst, at: now };
    b.tokens = Math.min(this.#opts.burst, b.tokens + ((now - b.at) / 1000) * this.#opts.perSecond);
    b.at = now;
    if (b.tokens < 1) {
      this.#buckets.set(id, b);
      throw new RateLimitedError('you are sending messages too fast; wait a moment');
    }
    b.tokens -= 1;
    this.#buckets.set(id, b);
  }
}

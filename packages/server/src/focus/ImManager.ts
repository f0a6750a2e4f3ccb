/**
 * IM conferencing for one conference: rate-limited sends, persisted through the store, and the
 * recent history that a joiner or a reconnecting participant receives. The limits are kept by user
 * or guest identity in ParticipantLimits (shared by the registry), so a rejoin gets no fresh allowance.
 *
 * Private messages go between two parties, each named by a lasting key (chatParty): the manager
 * says who may see one (`message` event with its two keys), and each joiner's history holds only
 * the private messages it is a party to.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage } from '@baton/protocol';
import type { Store, ChatRecord } from '../store/Store.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { ParticipantLimits, type Requester } from './ParticipantLimits.js';

export interface ImManagerOptions {
  conferenceId: string;
  store: Store;
  /** Messages to everyone kept in memory and sent on join; as many private ones again. */
  historySize?: number;
  /** The rate limits, shared across conferences and rejoins; a private set when absent (tests). */
  limits?: ParticipantLimits;
}

/** A party to chat: the seat, and its lasting key. */
export interface ChatParty {
  id: string;
  name: string;
  username: string | null;
  key: string;
}

/** `parties`: null for a message to everyone, else the keys of the only two parties that may see it. */
export type ImManagerEvents = { message: [ChatMessage, readonly [string, string] | null] };

/**
 * The lasting key of a seat's chat identity: a signed-in user (all of its seats), or a guest's seat
 * by a hash of its resume token (secret; the hash says nothing of it, and a seat that comes back with
 * the same token after a restart is the same party).
 */
export function chatParty(seat: { id: string; name: string; userId: string | null; username: string | null; resumeToken: string }): ChatParty {
  const key = seat.userId !== null ? `u:${seat.userId}` : `g:${createHash('sha256').update(seat.resumeToken).digest('base64url')}`;
  return { id: seat.id, name: seat.name, username: seat.username, key };
}

export function chatToWire(r: ChatRecord): ChatMessage {
  const msg: ChatMessage = { id: r.id, senderId: r.senderId, senderName: r.senderName, senderUser: r.senderUser, text: r.text, at: r.createdAt };
  if (r.private) msg.to = { id: r.private.recipientId, name: r.private.recipientName, user: r.private.recipientUser };
  if (r.file) msg.file = { id: r.file.id, name: r.file.name, size: r.file.size, ...(r.file.deleted ? { deleted: true } : {}) };
  return msg;
}

interface Kept {
  msg: ChatMessage;
  parties: readonly [string, string] | null;
}

export class ImManager extends TypedEmitter<ImManagerEvents> {
  readonly #opts: Required<ImManagerOptions>;
  readonly #public: Kept[] = [];
  readonly #private: Kept[] = [];

  constructor(opts: ImManagerOptions) {
    super();
    this.#opts = { historySize: 200, ...opts, limits: opts.limits ?? new ParticipantLimits() };
  }

  async load(): Promise<void> {
    const [pub, priv] = await Promise.all([
      this.#opts.store.listChat(this.#opts.conferenceId, this.#opts.historySize),
      this.#opts.store.listPrivateChat(this.#opts.conferenceId, this.#opts.historySize),
    ]);
    this.#public.splice(0, this.#public.length, ...pub.map(kept));
    this.#private.splice(0, this.#private.length, ...priv.map(kept));
  }

  /** A shared file was removed: the messages that carried it keep their text, without the download. */
  markFileDeleted(fileId: string): void {
    for (const k of [...this.#public, ...this.#private]) if (k.msg.file?.id === fileId) k.msg.file = { ...k.msg.file, deleted: true };
  }

  /** What `partyKey` may read: every message to everyone, and its own private ones, oldest first. */
  history(partyKey: string): ChatMessage[] {
    const mine = this.#private.filter((k) => k.parties!.includes(partyKey));
    return [...this.#public, ...mine].sort((a, b) => a.msg.id - b.msg.id).map((k) => k.msg);
  }

  /**
   * `who` is what the rate limit is kept by (user, or guest identity and address), not the seat.
   * With `to`, the message is private between the sender and that party.
   */
  async handleSend(sender: ChatParty, text: string, who: Requester, to?: ChatParty, fileId?: string): Promise<ChatMessage> {
    // A file's message was paid for with its upload ticket (rate-limited): it is not refused after the upload.
    if (!fileId) this.#opts.limits.chat(who);
    const record = await this.#opts.store.appendChat({
      conferenceId: this.#opts.conferenceId,
      senderId: sender.id,
      senderName: sender.name,
      senderUser: sender.username,
      text,
      fileId: fileId ?? null,
      private: to ? { recipientId: to.id, recipientName: to.name, recipientUser: to.username, senderKey: sender.key, recipientKey: to.key } : null,
    });
    const k = kept(record);
    const list = k.parties ? this.#private : this.#public;
    list.push(k);
    if (list.length > this.#opts.historySize) list.shift();
    this.emit('message', k.msg, k.parties);
    return k.msg;
  }
}

function kept(r: ChatRecord): Kept {
  return { msg: chatToWire(r), parties: r.private ? [r.private.senderKey, r.private.recipientKey] : null };
}

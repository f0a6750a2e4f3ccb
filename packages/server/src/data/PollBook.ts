/**
 * The polls of one conference. Each poll is persisted with its votes before anyone hears of a
 * change, so what a client saw acknowledged survives a restart. One vote per person (DataMember
 * key): voting again replaces the choice. Results go to those who run polls while a poll is open or
 * closed, and to everyone once it is published; everyone else sees only their own choice.
 *
 * Votes arrive in bursts (everyone answers at once), and every change reaches every seat, so
 * changes caused by votes are coalesced: at most one `changed` per poll every `coalesceMs`.
 */
import { MAX_POLLS_PER_CONFERENCE, type Poll, type PollDraft, type PollState } from '@baton/protocol';
import type { PollRecord, Store } from '../store/Store.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { shortId } from '../util/ids.js';
import type { DataMember } from './types.js';

export interface PollBookOptions {
  conferenceId: string;
  store: Store;
  /** How long vote changes are gathered before the poll's news goes out (default 250 ms). */
  coalesceMs?: number;
}

export type PollBookEvents = {
  /** A poll was created or changed: its views must go out again. */
  changed: [pollId: string];
};

interface Entry {
  record: Omit<PollRecord, 'votes'>;
  votes: Map<string, { name: string; choices: number[] }>;
  /** The tally, recomputed only after a change (views for many seats share it). */
  tally: { results: number[]; names: string[][] } | null;
  timer: NodeJS.Timeout | null;
}

export class PollBook extends TypedEmitter<PollBookEvents> {
  readonly #opts: PollBookOptions;
  readonly #polls = new Map<string, Entry>();
  #closed = false;

  constructor(opts: PollBookOptions) {
    super();
    this.#opts = opts;
  }

  async load(): Promise<void> {
    for (const r of await this.#opts.store.listPolls(this.#opts.conferenceId)) {
      const { votes, ...record } = r;
      this.#polls.set(r.id, { record, votes: new Map(votes.map((v) => [v.voterKey, { name: v.voterName, choices: v.choices }])), tally: null, timer: null });
    }
  }

  get size(): number {
    return this.#polls.size;
  }

  async handleCreate(draft: PollDraft, by: DataMember): Promise<string> {
    if (this.#polls.size >= MAX_POLLS_PER_CONFERENCE) throw new ConflictError(`this meeting has ${MAX_POLLS_PER_CONFERENCE} polls already`);
    const id = shortId();
    const record = await this.#opts.store.createPoll({
      id,
      conferenceId: this.#opts.conferenceId,
      question: draft.question,
      options: draft.options,
      multiple: draft.multiple,
      anonymous: draft.anonymous,
      state: 'open',
      createdByName: by.name,
      createdByUser: by.user,
      createdByKey: by.key,
    });
    if (this.#closed) return id;
    const { votes: _none, ...rest } = record;
    this.#polls.set(id, { record: rest, votes: new Map(), tally: null, timer: null });
    this.emit('changed', id);
    return id;
  }

  async handleVote(pollId: string, choices: number[], by: DataMember): Promise<void> {
    const e = this.#get(pollId);
    if (e.record.state !== 'open') throw new ConflictError('this poll is closed');
    const unique = [...new Set(choices)].sort((a, b) => a - b);
    if (unique.length !== choices.length) throw new BadRequestError('an option is chosen twice');
    if (unique.some((i) => i >= e.record.options.length)) throw new BadRequestError(`this poll has ${e.record.options.length} options`);
    if (!e.record.multiple && unique.length !== 1) throw new BadRequestError('choose one option');
    await this.#opts.store.setPollVote(pollId, { voterKey: by.key, voterName: by.name, choices: unique });
    e.votes.set(by.key, { name: by.name, choices: unique });
    e.tally = null;
    this.#changedSoon(e);
  }

  async handleClose(pollId: string, by: DataMember): Promise<void> {
    await this.#setState(pollId, by, 'closed', ['open']);
  }

  async handlePublish(pollId: string, by: DataMember): Promise<void> {
    await this.#setState(pollId, by, 'published', ['open', 'closed']);
  }

  async #setState(pollId: string, by: DataMember, state: PollState, from: PollState[]): Promise<void> {
    const e = this.#get(pollId);
    if (!by.organizer && by.key !== e.record.createdByKey) {
      throw new ForbiddenError('only whoever created the poll, or an organizer, may close or publish it');
    }
    if (!from.includes(e.record.state)) throw new ConflictError(`this poll is ${e.record.state} already`);
    await this.#opts.store.setPollState(pollId, state);
    e.record.state = state;
    this.#changedNow(e);
  }

  /** One poll as `viewer` may see it. */
  view(pollId: string, viewer: DataMember): Poll | undefined {
    const e = this.#polls.get(pollId);
    return e ? this.#view(e, viewer) : undefined;
  }

  /** Every poll, oldest first, as `viewer` may see it. */
  views(viewer: DataMember): Poll[] {
    return [...this.#polls.values()].map((e) => this.#view(e, viewer));
  }

  #view(e: Entry, viewer: DataMember): Poll {
    const r = e.record;
    const poll: Poll = {
      id: r.id,
      question: r.question,
      options: r.options,
      multiple: r.multiple,
      anonymous: r.anonymous,
      state: r.state,
      createdBy: { name: r.createdByName, user: r.createdByUser },
      at: r.createdAt,
      voters: e.votes.size,
    };
    const mine = e.votes.get(viewer.key);
    if (mine) poll.mine = mine.choices;
    if (r.state === 'published' || viewer.pollster || viewer.key === r.createdByKey) {
      e.tally ??= tally(e);
      poll.results = e.tally.results;
      if (!r.anonymous) poll.names = e.tally.names;
    }
    return poll;
  }

  #get(pollId: string): Entry {
    const e = this.#polls.get(pollId);
    if (!e) throw new NotFoundError(`no poll ${pollId}`);
    return e;
  }

  #changedSoon(e: Entry): void {
    if (e.timer || this.#closed) return;
    e.timer = setTimeout(() => {
      e.timer = null;
      if (!this.#closed) this.emit('changed', e.record.id);
    }, this.#opts.coalesceMs ?? 250);
    e.timer.unref?.();
  }

  #changedNow(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    if (!this.#closed) this.emit('changed', e.record.id);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const e of this.#polls.values()) if (e.timer) clearTimeout(e.timer);
    this.removeAllListeners();
  }
}

function tally(e: Entry): { results: number[]; names: string[][] } {
  const results = e.record.options.map(() => 0);
  const names: string[][] = e.record.options.map(() => []);
  for (const v of e.votes.values()) {
    for (const i of v.choices) {
      results[i]! += 1;
      names[i]!.push(v.name);
    }
  }
  return { results, names };
}

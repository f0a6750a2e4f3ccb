/**
 * The Q&A of one conference: questions, one upvote per person, and the moderators' marks (answered,
 * dismissed). Persisted before anyone hears of a change. An anonymous question keeps its author in
 * the store (so its author still sees it as theirs), but no view names them. Changes from votes are
 * coalesced like PollBook's.
 */
import { MAX_QUESTIONS_PER_CONFERENCE, questionRank, type Question, type QuestionState } from '@baton/protocol';
import type { QuestionRecord, Store } from '../store/Store.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { shortId } from '../util/ids.js';
import type { DataMember } from './types.js';

export interface QuestionBoardOptions {
  conferenceId: string;
  store: Store;
  coalesceMs?: number;
}

export type QuestionBoardEvents = {
  changed: [questionId: string];
};

interface Entry {
  record: Omit<QuestionRecord, 'voters'>;
  voters: Set<string>;
  timer: NodeJS.Timeout | null;
}

export class QuestionBoard extends TypedEmitter<QuestionBoardEvents> {
  readonly #opts: QuestionBoardOptions;
  readonly #questions = new Map<string, Entry>();
  #closed = false;

  constructor(opts: QuestionBoardOptions) {
    super();
    this.#opts = opts;
  }

  async load(): Promise<void> {
    for (const r of await this.#opts.store.listQuestions(this.#opts.conferenceId)) {
      const { voters, ...record } = r;
      this.#questions.set(r.id, { record, voters: new Set(voters), timer: null });
    }
  }

  get size(): number {
    return this.#questions.size;
  }

  async handleAsk(text: string, anonymous: boolean, by: DataMember): Promise<string> {
    if (this.#questions.size >= MAX_QUESTIONS_PER_CONFERENCE) throw new ConflictError(`this meeting has ${MAX_QUESTIONS_PER_CONFERENCE} questions already`);
    const id = shortId();
    const record = await this.#opts.store.createQuestion({
      id,
      conferenceId: this.#opts.conferenceId,
      text,
      anonymous,
      authorKey: by.key,
      authorName: by.name,
      authorUser: by.user,
      state: 'open',
    });
    if (this.#closed) return id;
    const { voters: _none, ...rest } = record;
    this.#questions.set(id, { record: rest, voters: new Set(), timer: null });
    this.emit('changed', id);
    return id;
  }

  async handleVote(questionId: string, up: boolean, by: DataMember): Promise<void> {
    const e = this.#get(questionId);
    if (e.record.authorKey === by.key) throw new BadRequestError('you cannot upvote your own question');
    if (e.record.state === 'dismissed') throw new ConflictError('this question was dismissed');
    if (e.voters.has(by.key) === up) return;
    await this.#opts.store.setQuestionVote(questionId, by.key, up);
    if (up) e.voters.add(by.key);
    else e.voters.delete(by.key);
    if (e.timer || this.#closed) return;
    e.timer = setTimeout(() => {
      e.timer = null;
      if (!this.#closed) this.emit('changed', questionId);
    }, this.#opts.coalesceMs ?? 250);
    e.timer.unref?.();
  }

  /** The Focus has checked that `by` moderates. */
  async handleMark(questionId: string, state: QuestionState): Promise<void> {
    const e = this.#get(questionId);
    if (e.record.state === state) return;
    await this.#opts.store.setQuestionState(questionId, state);
    e.record.state = state;
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    if (!this.#closed) this.emit('changed', questionId);
  }

  view(questionId: string, viewer: DataMember): Question | undefined {
    const e = this.#questions.get(questionId);
    return e ? view(e, viewer) : undefined;
  }

  /** Every question as `viewer` sees it: open ones first by votes (then oldest first), then answered, then dismissed. */
  views(viewer: DataMember): Question[] {
    return [...this.#questions.values()].map((e) => view(e, viewer)).sort(questionRank);
  }

  #get(questionId: string): Entry {
    const e = this.#questions.get(questionId);
    if (!e) throw new NotFoundError(`no question ${questionId}`);
    return e;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const e of this.#questions.values()) if (e.timer) clearTimeout(e.timer);
    this.removeAllListeners();
  }
}

function view(e: Entry, viewer: DataMember): Question {
  const r = e.record;
  return {
    id: r.id,
    text: r.text,
    author: r.anonymous ? null : { name: r.authorName, user: r.authorUser },
    state: r.state,
    votes: e.voters.size,
    voted: e.voters.has(viewer.key),
    mine: r.authorKey === viewer.key,
    at: r.createdAt,
  };
}

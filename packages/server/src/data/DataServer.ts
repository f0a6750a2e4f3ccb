/**
 * The data-collaboration conferencing server of one conference (media type `data`): polls, Q&A,
 * shared files and annotation marks. The conferencing-server factory allocates it when the Focus starts; the Focus
 * authorizes each command against the policy and roles, then calls `handle*()` here, and fans the
 * `poll`/`question` events out to every seat as that seat may see them. Closing it closes its parts.
 */
import type { Readable } from 'node:stream';
import type { Poll, PollDraft, Question, QuestionState, SlideDeck, SlidesState } from '@baton/protocol';
import type { FileRecord, Store } from '../store/Store.js';
import type { Blobs } from './Blobs.js';
import { FileShelf } from './FileShelf.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { PollBook } from './PollBook.js';
import { QuestionBoard } from './QuestionBoard.js';
import { AnnotationBoard, type AnnotationBoardOptions } from './AnnotationBoard.js';
import { Whiteboard } from './Whiteboard.js';
import type { DataMember } from './types.js';
import { SlideShow } from './SlideShow.js';
import type { SlideConverter } from './SlideConverter.js';
import { ConflictError } from '../errors.js';

export interface DataServerOptions {
  conferenceId: string;
  store: Store;
  /** How long bursts of votes are gathered into one update (ms). */
  coalesceMs?: number;
  /** Shared files' bytes (one store for all conferences) and the largest file accepted. */
  blobs: Blobs;
  maxFileBytes: number;
  /** Limits of the annotation marks (defaults from the protocol). */
  annotation?: AnnotationBoardOptions;
  /** Slide decks: their PDFs' store, the node's converter, a work directory (absent: no slides on this server). */
  slides?: { blobs: Blobs; converter: SlideConverter; workDir: string; maxDeckBytes: number };
  log?: { warn(obj: unknown, msg?: string): void };
}

export type DataServerEvents = {
  /** A poll changed: send each seat its view (`pollView`). */
  poll: [pollId: string];
  /** A question changed: send each seat its view (`questionView`). */
  question: [questionId: string];
  /** The decks, or the deck and page everyone follows, changed: send `slidesState()` to all. */
  slides: [];
  /** The whiteboard took an update (base64): send it to every seat but `fromSeat`. */
  whiteboard: [update: string, fromSeat: string];
  closed: [];
};

export class DataServer extends TypedEmitter<DataServerEvents> {
  readonly conferenceId: string;
  readonly #polls: PollBook;
  readonly #questions: QuestionBoard;
  readonly #files: FileShelf;
  /**
   * Marks over the shared screen and slides, in memory for the live conference (see AnnotationBoard).
   * The Focus drives it directly: it authorizes, fans its `added`/`removed` events out, and feeds it
   * what the application sharing server receives (which screen cells were replaced).
   */
  readonly annotations: AnnotationBoard;
  readonly #slides: SlideShow | null;
  readonly #whiteboard: Whiteboard;
  #closed = false;

  constructor(opts: DataServerOptions) {
    super();
    this.conferenceId = opts.conferenceId;
    this.#polls = new PollBook(opts);
    this.#questions = new QuestionBoard(opts);
    this.#files = new FileShelf(opts);
    this.annotations = new AnnotationBoard(opts.annotation);
    this.#whiteboard = new Whiteboard({ conferenceId: opts.conferenceId, store: opts.store, log: opts.log });
    this.#whiteboard.on('update', (update, from) => this.emit('whiteboard', update, from));
    this.#polls.on('changed', (id) => this.emit('poll', id));
    this.#questions.on('changed', (id) => this.emit('question', id));
    const sl = opts.slides;
    this.#slides = sl
      ? new SlideShow({ conferenceId: opts.conferenceId, store: opts.store, slideBlobs: sl.blobs, converter: sl.converter, workDir: sl.workDir, maxDeckBytes: sl.maxDeckBytes })
      : null;
    this.#slides?.on('changed', () => this.emit('slides'));
  }

  /** Loads the meeting's polls and questions from the store; once, before first use. */
  async load(): Promise<void> {
    await Promise.all([this.#polls.load(), this.#questions.load(), this.#slides?.load()]);
    await Promise.all([this.#polls.load(), this.#questions.load(), this.#whiteboard.load()]);
  }

  get closed(): boolean {
    return this.#closed;
  }

  handlePollCreate(draft: PollDraft, by: DataMember): Promise<string> {
    return this.#polls.handleCreate(draft, by);
  }
  handlePollVote(pollId: string, choices: number[], by: DataMember): Promise<void> {
    return this.#polls.handleVote(pollId, choices, by);
  }
  handlePollClose(pollId: string, by: DataMember): Promise<void> {
    return this.#polls.handleClose(pollId, by);
  }
  handlePollPublish(pollId: string, by: DataMember): Promise<void> {
    return this.#polls.handlePublish(pollId, by);
  }
  handleAsk(text: string, anonymous: boolean, by: DataMember): Promise<string> {
    return this.#questions.handleAsk(text, anonymous, by);
  }
  handleQuestionVote(questionId: string, up: boolean, by: DataMember): Promise<void> {
    return this.#questions.handleVote(questionId, up, by);
  }
  handleQuestionMark(questionId: string, state: QuestionState): Promise<void> {
    return this.#questions.handleMark(questionId, state);
  }

  get maxFileBytes(): number {
    return this.#files.maxFileBytes;
  }
  handleUpload(body: Readable, name: string, by: DataMember): Promise<FileRecord> {
    return this.#files.handleUpload(body, name, by);
  }
  handleFileDelete(fileId: string, by: DataMember): Promise<void> {
    return this.#files.handleDelete(fileId, by);
  }

  /** The decks and the shown page (everyone sees the same); null without slides on this server. */
  slidesState(): SlidesState | null {
    return this.#slides?.state() ?? null;
  }
  get maxDeckBytes(): number {
    return this.#slides?.maxDeckBytes ?? 0;
  }
  handleSlidesUpload(body: Readable, name: string, by: DataMember): Promise<SlideDeck> {
    return this.#mustSlides().handleUpload(body, name, by);
  }
  handleSlidesPage(deckId: string, page: number): Promise<void> {
    return this.#mustSlides().handlePage(deckId, page);
  }
  handleSlidesStop(): Promise<void> {
    return this.#mustSlides().handleStop();
  }
  #mustSlides(): SlideShow {
    if (!this.#slides) throw new ConflictError('this server does not show slides');
    return this.#slides;
  }
  /** One Yjs update (base64) from a member allowed to draw (the Focus checked); `seatId` made it. */
  handleWhiteboardUpdate(update: string, by: DataMember, seatId: string): Promise<void> {
    return this.#whiteboard.handleUpdate(update, by.key, seatId);
  }
  /** The whole whiteboard (a Yjs update, base64). */
  whiteboardState(): string {
    return this.#whiteboard.state();
  }

  pollView(pollId: string, viewer: DataMember): Poll | undefined {
    return this.#polls.view(pollId, viewer);
  }
  polls(viewer: DataMember): Poll[] {
    return this.#polls.views(viewer);
  }
  questionView(questionId: string, viewer: DataMember): Question | undefined {
    return this.#questions.view(questionId, viewer);
  }
  questions(viewer: DataMember): Question[] {
    return this.#questions.views(viewer);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#polls.close();
    this.#questions.close();
    this.annotations.close();
    this.#slides?.close();
    void this.#whiteboard.close();
    this.emit('closed');
    this.removeAllListeners();
  }
}

/**
 * The slide decks of one conference and the page everyone follows. A deck arrives as an upload (a
 * PDF, checked with pdf.js in a sandbox; or a presentation, zip-bomb checked and converted to PDF with
 * LibreOffice by the node's SlideConverter), its PDF goes into the slides' BlobStore, its record into
 * the store, and it becomes the shown deck at page 1. Which deck and page are shown is persisted
 * before anyone hears of it, so a restart or a late joiner finds the same page. The Focus authorizes
 * (the present policy) and fans `changed` out to every seat.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MAX_DECKS_PER_CONFERENCE, MAX_SLIDE_PAGES, safeFileName, slideExtension, type SlideDeck, type SlidesState } from '@baton/protocol';
import type { SlideDeckRecord, Store } from '../store/Store.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { meetingId } from '../util/ids.js';
import { TooLargeError } from './BlobStore.js';
import type { Blobs } from './Blobs.js';
import { checkPdf } from './PdfCheck.js';
import type { SlideConverter } from './SlideConverter.js';
import type { DataMember } from './types.js';

export interface SlideShowOptions {
  conferenceId: string;
  store: Store;
  /** The decks' PDFs (one store for all conferences, apart from shared files'). */
  slideBlobs: Blobs;
  converter: SlideConverter;
  /** Where uploads are unpacked and converted, one throwaway directory per upload. */
  workDir: string;
  /** Largest upload accepted, in bytes. */
  maxDeckBytes: number;
  maxPages?: number;
}

export type SlideShowEvents = {
  changed: [];
};

export class SlideShow extends TypedEmitter<SlideShowEvents> {
  readonly #opts: SlideShowOptions;
  #decks: SlideDeckRecord[] = [];
  #current: { deckId: string; page: number } | null = null;
  #closed = false;

  constructor(opts: SlideShowOptions) {
    super();
    this.#opts = opts;
  }

  async load(): Promise<void> {
    this.#decks = await this.#opts.store.listSlideDecks(this.#opts.conferenceId);
    const shown = this.#decks.filter((d) => d.shownAt).sort((a, b) => b.shownAt!.localeCompare(a.shownAt!))[0];
    this.#current = shown ? { deckId: shown.id, page: Math.min(shown.page, shown.pages) } : null;
  }

  get maxDeckBytes(): number {
    return this.#opts.maxDeckBytes;
  }

  state(): SlidesState {
    return { decks: this.#decks.map(toWire), current: this.#current };
  }

  /** Checks, converts if need be and stores an upload; it becomes the shown deck at page 1. */
  async handleUpload(body: Readable, rawName: string, by: DataMember): Promise<SlideDeck> {
    const { store, conferenceId, slideBlobs, converter } = this.#opts;
    const name = safeFileName(rawName);
    const ext = slideExtension(name);
    if (!ext) {
      body.resume();
      throw new BadRequestError('slides must be a PDF, a PowerPoint (.pptx, .ppt) or an OpenDocument presentation (.odp)');
    }
    if (this.#decks.length >= MAX_DECKS_PER_CONFERENCE) {
      body.resume();
      throw new ConflictError(`this meeting has ${MAX_DECKS_PER_CONFERENCE} decks already`);
    }
    const work = path.join(this.#opts.workDir, randomBytes(12).toString('hex'));
    await mkdir(work, { recursive: true });
    try {
      const input = path.join(work, `upload.${ext}`);
      await writeLimited(body, input, this.#opts.maxDeckBytes);
      const pdf = ext === 'pdf' ? input : await converter.toPdf(input, ext, work);
      const { pages } = await checkPdf(pdf, { maxPages: this.#opts.maxPages ?? MAX_SLIDE_PAGES });
      const { sha256, size } = await slideBlobs.put(createReadStream(pdf), Number.MAX_SAFE_INTEGER);
      if (this.#closed) throw new ConflictError('the meeting has ended');
      const record = await store.createSlideDeck({ id: meetingId(), conferenceId, sha256, name, pages, size, converted: ext !== 'pdf', uploaderName: by.name, uploaderUser: by.user });
      this.#decks.push(record);
      await this.#show({ deckId: record.id, page: 1 });
      return toWire(record);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Show this page of this deck to everyone. */
  async handlePage(deckId: string, page: number): Promise<void> {
    const deck = this.#decks.find((d) => d.id === deckId);
    if (!deck) throw new NotFoundError('no such deck in this meeting');
    if (page < 1 || page > deck.pages) throw new BadRequestError(`the deck has pages 1 to ${deck.pages}`);
    if (this.#current?.deckId === deckId && this.#current.page === page) return;
    await this.#show({ deckId, page });
  }

  /** Nobody is shown slides any more (the decks stay). */
  async handleStop(): Promise<void> {
    if (!this.#current) return;
    await this.#show(null);
  }

  async #show(current: { deckId: string; page: number } | null): Promise<void> {
    await this.#opts.store.showSlideDeck(this.#opts.conferenceId, current);
    if (this.#closed) return;
    this.#current = current;
    const deck = current && this.#decks.find((d) => d.id === current.deckId);
    if (deck) deck.page = current.page;
    this.emit('changed');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.removeAllListeners();
  }
}

function toWire(d: SlideDeckRecord): SlideDeck {
  return { id: d.id, name: d.name, pages: d.pages, size: d.size, converted: d.converted, by: { name: d.uploaderName, user: d.uploaderUser }, at: d.createdAt };
}

/** The upload to `file`, refused (TooLargeError) past `limit` bytes. */
async function writeLimited(input: Readable, file: string, limit: number): Promise<void> {
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) return done(new TooLargeError(limit));
      done(null, chunk);
    },
  });
  await pipeline(input, meter, createWriteStream(file, { flags: 'wx' }));
  if (size === 0) throw new BadRequestError('the file is empty');
}

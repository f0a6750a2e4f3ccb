/**
 * The blob sweep against real stores (SQLite file and PostgreSQL) and real files: a deleted meeting's
 * file and deck bytes go, bytes another meeting still names stay, a young blob stays whatever the
 * store says (its row may not be written yet), and a stale temporary upload goes.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '@baton/protocol';
import { openStore } from '../store/index.js';
import { freshPostgres } from '../store/testing.js';
import type { Store } from '../store/Store.js';
import { BlobStore } from './BlobStore.js';
import { BlobSweeper } from './BlobSweeper.js';

const pgDb = await freshPostgres('blob sweep tests on PostgreSQL (packages/server/src/data/BlobSweeper.test.ts)');
const tmp = mkdtempSync(join(tmpdir(), 'baton-sweep-'));
afterAll(async () => {
  await pgDb?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const engines = [
  { engine: 'sqlite', url: `sqlite:${join(tmp, 'baton.sqlite')}` },
  { engine: 'postgres', url: pgDb?.url },
];
const HOUR = 3_600_000;

describe.each(engines)('BlobSweeper on $engine', ({ engine, url }) => {
  if (!url) {
    it.skip(`${engine}: not available, skipped (see warning above)`, () => {});
    return;
  }
  let store: Store;
  beforeAll(async () => {
    store = await openStore(url);
    await store.migrate();
  });
  afterAll(() => store.close());

  it('removes what no live row names once it is old enough, keeps the rest', async () => {
    const files = new BlobStore({ dir: join(tmp, engine, 'files') });
    const slides = new BlobStore({ dir: join(tmp, engine, 'slides') });
    const put = async (b: BlobStore, text: string) => (await b.put(Readable.from([Buffer.from(text)]), 1e6)).sha256;
    const u = await store.createUser({ username: `sweep-${engine}`, displayName: 'S', passwordHash: 'x' });
    const conf = async (id: string) => store.createConference({ id: `${id}-${engine}`, organizerId: u.id, subject: 'S', policy: DEFAULT_POLICY });
    const gone = await conf('gone');
    const kept = await conf('kept');
    const file = (conferenceId: string, sha256: string) =>
      store.createFile({ id: `f-${conferenceId}-${sha256.slice(0, 8)}`, conferenceId, sha256, name: 'a.txt', size: 1, uploaderKey: 'k', uploaderName: 'K', uploaderUser: null });

    const onlyGone = await put(files, 'only in the deleted meeting');
    const both = await put(files, 'in both meetings');
    const unnamed = await put(files, 'uploaded, then its row was never written');
    const young = await put(files, 'just uploaded');
    await file(gone.id, onlyGone);
    await file(gone.id, both);
    await file(kept.id, both);
    const deck = await put(slides, '%PDF-1.7 deck of the deleted meeting');
    await store.createSlideDeck({ id: `d-${engine}`, conferenceId: gone.id, sha256: deck, name: 'd.pdf', pages: 1, size: 10, converted: false, uploaderName: 'K', uploaderUser: null });
    mkdirSync(join(files.dir, 'tmp'), { recursive: true });
    const stale = join(files.dir, 'tmp', 'crashed-upload');
    writeFileSync(stale, 'half');

    expect(await store.deleteConference(gone.id)).toBe(true);
    // Everything but `young` was written two hours ago.
    const past = (Date.now() - 2 * HOUR) / 1000;
    for (const p of [files.path(onlyGone), files.path(both), files.path(unnamed), slides.path(deck), stale]) utimesSync(p, past, past);

    const sweeper = new BlobSweeper({ store, shelves: [{ blobs: files, table: 'files' }, { blobs: slides, table: 'slide_decks' }] });
    expect(await sweeper.sweep()).toBe(3);
    expect(existsSync(files.path(onlyGone))).toBe(false);
    expect(existsSync(files.path(unnamed))).toBe(false);
    expect(existsSync(slides.path(deck))).toBe(false);
    expect(existsSync(files.path(both))).toBe(true); // the other meeting still has it
    expect(existsSync(files.path(young))).toBe(true); // its row may be on its way
    expect(existsSync(stale)).toBe(false);
    expect(await sweeper.sweep()).toBe(0);
    await sweeper.close();
    await sweeper.close(); // safe twice
  });
});

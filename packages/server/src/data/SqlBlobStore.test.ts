/**
 * Cluster blobs in a real PostgreSQL: bytes round-trip across chunk boundaries (and in ranges), the
 * same bytes twice are kept once, an oversized upload leaves nothing, the sweeper sees stale blobs and
 * drops abandoned uploads, and the sweep lease has one holder at a time.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type KyselyStore } from '../store/index.js';
import { freshPostgres } from '../store/testing.js';
import { SqlBlobStore } from './SqlBlobStore.js';
import { StoreLease } from './StoreLease.js';
import { BlobSweeper } from './BlobSweeper.js';
import { TooLargeError } from './BlobStore.js';

const pgDb = await freshPostgres('shared blob tests (packages/server/src/data/SqlBlobStore.test.ts)');
const HOUR = 3_600_000;

async function bytesOf(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe.skipIf(!pgDb)('SqlBlobStore on PostgreSQL', () => {
  let store: KyselyStore;
  beforeAll(async () => {
    store = (await openStore(pgDb!.url)) as KyselyStore;
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await pgDb?.drop();
  });

  it('stores in chunks, reads back whole and in ranges, keeps the same bytes once', async () => {
    const blobs = new SqlBlobStore({ db: store.kysely, bucket: 'files', chunkBytes: 1000 });
    const data = randomBytes(3500);
    // Input pieces that do not line up with the chunks.
    const { sha256, size } = await blobs.put(Readable.from([data.subarray(0, 10), data.subarray(10, 2600), data.subarray(2600)]), 1e6);
    expect(size).toBe(3500);
    expect(await blobs.has(sha256)).toBe(true);
    expect((await bytesOf(blobs.read(sha256))).equals(data)).toBe(true);
    expect((await bytesOf(blobs.readNamed(sha256, { start: 999, end: 2001 }))).equals(data.subarray(999, 2001))).toBe(true);
    expect((await blobs.put(Readable.from([data]), 1e6)).sha256).toBe(sha256);
    const rows = await store.kysely.selectFrom('shared_blobs').select('id').where('bucket', '=', 'files').execute();
    expect(rows).toHaveLength(1);
    await expect(blobs.put(Readable.from([randomBytes(2000)]), 1500)).rejects.toBeInstanceOf(TooLargeError);
    expect(await store.kysely.selectFrom('shared_blobs').select('id').where('bucket', '=', 'files').execute()).toHaveLength(1);
  });

  it('names recording files, lists them by prefix and replaces one stored again', async () => {
    const rec = new SqlBlobStore({ db: store.kysely, bucket: 'recordings' });
    await rec.putNamed('r1/index.json', Readable.from([Buffer.from('{"a":1}')]));
    await rec.putNamed('r1/index.json', Readable.from([Buffer.from('{"a":2}')]));
    await rec.putNamed('r1_x/other', Readable.from([Buffer.from('x')]));
    expect(await rec.list('r1/')).toEqual([{ name: 'r1/index.json', size: 7 }]);
    expect((await bytesOf(rec.readNamed('r1/index.json'))).toString()).toBe('{"a":2}');
  });

  it('offers stale blobs to the sweeper, drops abandoned uploads, and keeps one rewritten since', async () => {
    const blobs = new SqlBlobStore({ db: store.kysely, bucket: 'slides' });
    const { sha256 } = await blobs.put(Readable.from([Buffer.from('old deck')]), 1e6);
    await store.kysely.insertInto('shared_blobs').values({ id: 'abandoned', bucket: 'slides', name: null, size: 0, created_at: new Date(Date.now() - 2 * HOUR).toISOString() }).execute();
    const later = Date.now() + HOUR;
    expect(await blobs.stale(later)).toEqual([sha256]);
    expect(await store.kysely.selectFrom('shared_blobs').select('id').where('id', '=', 'abandoned').execute()).toHaveLength(0);
    expect(await blobs.removeIfStale(sha256, Date.now() - HOUR)).toBe(false);
    expect(await blobs.removeIfStale(sha256, later)).toBe(true);
    expect(await blobs.has(sha256)).toBe(false);
  });

  it('the sweep lease has one holder until it runs out', async () => {
    const a = new StoreLease({ store, name: 'blob-sweep', holder: 'A', ms: HOUR });
    const b = new StoreLease({ store, name: 'blob-sweep', holder: 'B', ms: HOUR });
    const now = Date.now();
    expect(await a.claim(now)).toBe(true);
    expect(await b.claim(now)).toBe(false);
    expect(await a.claim(now + 1000)).toBe(true);
    expect(await b.claim(now + 2 * HOUR)).toBe(true);
    expect(await a.claim(now + 2 * HOUR)).toBe(false);
  });

  it('two nodes sweep the shared blobs: only the lease holder removes what no row names', async () => {
    const blobs = new SqlBlobStore({ db: store.kysely, bucket: 'files' });
    const { sha256 } = await blobs.put(Readable.from([Buffer.from('named by no row')]), 1e6);
    const sweeper = (holder: string) => new BlobSweeper({ store, shelves: [{ blobs, table: 'files' }], minAgeMs: 0, lease: new StoreLease({ store, name: 'sweep-test', holder, ms: HOUR }) });
    const [x, y] = [sweeper('X'), sweeper('Y')];
    const later = Date.now() + 1000;
    expect(await x.sweep(later)).toBeGreaterThanOrEqual(1);
    expect(await blobs.has(sha256)).toBe(false);
    await blobs.put(Readable.from([Buffer.from('named by no row')]), 1e6);
    // Y does not hold the lease: it leaves the blob alone.
    expect(await y.sweep(Date.now() + 1000)).toBe(0);
    expect(await blobs.has(sha256)).toBe(true);
    await Promise.all([x.close(), y.close()]);
  });
});

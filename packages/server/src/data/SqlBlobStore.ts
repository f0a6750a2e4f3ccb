/**
 * Blob bytes in the store's database (tables shared_blobs and shared_blob_chunks, migration 0015), so
 * every node of a cluster reads what any node wrote, and a node's death loses nothing (decision
 * 0008). An upload is written as 1 MiB chunks under a nameless row while it is hashed and counted,
 * then named in one statement, so a half-written upload is never served; the same bytes uploaded
 * twice keep the first copy. Reading fetches one chunk at a time, as fast as the reader takes them.
 *
 * One bucket per kind of blob: `files` and `slides` are named by SHA-256 (Blobs), `recordings` by
 * `<recording id>/<file name>` (putNamed, readNamed).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { NotFoundError } from '../errors.js';
import type { Blobs } from './Blobs.js';
import { TooLargeError } from './BlobStore.js';

export const CHUNK_BYTES = 1024 * 1024;

export interface SqlBlobStoreOptions {
  db: Kysely<Database>;
  bucket: string;
  chunkBytes?: number;
}

export class SqlBlobStore implements Blobs {
  readonly bucket: string;
  readonly #db: Kysely<Database>;
  readonly #chunk: number;

  constructor(opts: SqlBlobStoreOptions) {
    this.#db = opts.db;
    this.bucket = opts.bucket;
    this.#chunk = opts.chunkBytes ?? CHUNK_BYTES;
  }

  async put(input: Readable, limit: number): Promise<{ sha256: string; size: number }> {
    const { id, sha256, size } = await this.#write(input, limit);
    await this.#name(id, sha256, false);
    return { sha256, size };
  }

  /** Stores a file under a name of its own, replacing what had the name. */
  async putNamed(name: string, input: Readable): Promise<{ sha256: string; size: number }> {
    const { id, sha256, size } = await this.#write(input, Number.MAX_SAFE_INTEGER);
    await this.#name(id, name, true);
    return { sha256, size };
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.#row(sha256)) !== undefined;
  }

  async size(name: string): Promise<number | null> {
    const row = await this.#row(name);
    return row ? Number(row.size) : null;
  }

  read(sha256: string): Readable {
    return this.readNamed(sha256);
  }

  /** The bytes [start, end) of the named blob (all of it by default), one chunk query at a time. */
  readNamed(name: string, range: { start?: number; end?: number } = {}): Readable {
    const self = this;
    return Readable.from(
      (async function* () {
        const row = await self.#row(name);
        if (!row) throw new NotFoundError('no such blob');
        const size = Number(row.size);
        const start = Math.max(0, range.start ?? 0);
        const end = Math.min(size, range.end ?? size);
        const chunk = (seq: number) => {
          const p = self.#db.selectFrom('shared_blob_chunks').select('data').where('blob_id', '=', row.id).where('seq', '=', seq).executeTakeFirst();
          p.catch(() => {}); // awaited in turn; a reader that stops early leaves it unawaited
          return p;
        };
        // One chunk is fetched ahead while the reader takes the current one.
        let next = end > start ? chunk(Math.floor(start / self.#chunk)) : null;
        for (let seq = Math.floor(start / self.#chunk); seq * self.#chunk < end; seq++) {
          const c = await next;
          next = (seq + 1) * self.#chunk < end ? chunk(seq + 1) : null;
          if (!c) throw new Error(`blob ${self.bucket}/${name}: chunk ${seq} is missing`);
          const base = seq * self.#chunk;
          yield Buffer.from(c.data).subarray(Math.max(0, start - base), Math.min(c.data.length, end - base));
        }
      })(),
      { objectMode: false },
    );
  }

  /** Names in this bucket that start with `prefix`, with their sizes. */
  async list(prefix: string): Promise<{ name: string; size: number }[]> {
    const rows = await this.#db.selectFrom('shared_blobs').select(['name', 'size']).where('bucket', '=', this.bucket).where('name', 'like', `${prefix.replace(/[%_\\]/g, '\\$&')}%`).execute();
    return rows.map((r) => ({ name: r.name!, size: Number(r.size) }));
  }

  async remove(name: string): Promise<void> {
    // The chunks go with the row (ON DELETE CASCADE).
    await this.#db.deleteFrom('shared_blobs').where('bucket', '=', this.bucket).where('name', '=', name).execute();
  }

  async stale(cutoff: number): Promise<string[]> {
    const before = new Date(cutoff).toISOString();
    // Uploads whose process died while writing them.
    await this.#db.deleteFrom('shared_blobs').where('bucket', '=', this.bucket).where('name', 'is', null).where('created_at', '<', before).execute();
    const rows = await this.#db.selectFrom('shared_blobs').select('name').where('bucket', '=', this.bucket).where('name', 'is not', null).where('created_at', '<', before).execute();
    return rows.map((r) => r.name!);
  }

  async removeIfStale(sha256: string, cutoff: number): Promise<boolean> {
    const res = await this.#db.deleteFrom('shared_blobs').where('bucket', '=', this.bucket).where('name', '=', sha256).where('created_at', '<', new Date(cutoff).toISOString()).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  #row(name: string) {
    return this.#db.selectFrom('shared_blobs').select(['id', 'size']).where('bucket', '=', this.bucket).where('name', '=', name).executeTakeFirst();
  }

  /** The input as chunks under a new nameless row; its id, hash and size. */
  async #write(input: Readable, limit: number): Promise<{ id: string; sha256: string; size: number }> {
    const id = randomUUID();
    await this.#db.insertInto('shared_blobs').values({ id, bucket: this.bucket, name: null, size: 0, created_at: new Date().toISOString() }).execute();
    const hash = createHash('sha256');
    let size = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // One insert in flight while the next chunk is read in.
    let inflight: Promise<unknown> = Promise.resolve();
    const flush = async (all: boolean) => {
      let buf = Buffer.concat(pending);
      while (buf.length >= this.#chunk || (all && buf.length > 0)) {
        const data = buf.subarray(0, this.#chunk);
        await inflight;
        inflight = this.#db.insertInto('shared_blob_chunks').values({ blob_id: id, seq: seq++, data }).execute();
        inflight.catch(() => {}); // handled where it is awaited; not an unhandled rejection meanwhile
        buf = buf.subarray(data.length);
      }
      pending = buf.length ? [buf] : [];
      pendingBytes = buf.length;
    };
    try {
      for await (const chunk of input) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        size += b.length;
        if (size > limit) throw new TooLargeError(limit);
        hash.update(b);
        pending.push(b);
        pendingBytes += b.length;
        if (pendingBytes >= this.#chunk) await flush(false);
      }
      await flush(true);
      await inflight;
      await this.#db.updateTable('shared_blobs').set({ size }).where('id', '=', id).execute();
    } catch (err) {
      await inflight.catch(() => {});
      input.destroy();
      await this.#db.deleteFrom('shared_blobs').where('id', '=', id).execute().catch(() => {});
      throw err;
    }
    return { id, sha256: hash.digest('hex'), size };
  }

  /** Gives the written row its name. The same bytes stored before: that copy is kept (and counts as new). */
  async #name(id: string, name: string, replace: boolean): Promise<void> {
    const now = new Date().toISOString();
    for (let attempt = 0; ; attempt++) {
      const existing = await this.#row(name);
      if (existing && !replace) {
        await this.#db.updateTable('shared_blobs').set({ created_at: now }).where('id', '=', existing.id).execute();
        await this.#db.deleteFrom('shared_blobs').where('id', '=', id).execute();
        return;
      }
      if (existing) await this.#db.deleteFrom('shared_blobs').where('id', '=', existing.id).execute();
      try {
        await this.#db.updateTable('shared_blobs').set({ name, created_at: now }).where('id', '=', id).execute();
        return;
      } catch (err) {
        // Another node named the same bytes between the look and the update: look again.
        if (attempt >= 3) throw err;
      }
    }
  }
}

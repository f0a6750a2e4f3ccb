/**
 * The bytes of shared files, on disk under the data directory, named by their SHA-256 (so the same
 * file shared twice is kept once): `<dir>/ab/cdef…`. A file is first written to a temporary name while
 * it is hashed and counted, then renamed into place, so a half-written upload is never served.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BatonError } from '../errors.js';
import type { Blobs } from './Blobs.js';

export class TooLargeError extends BatonError {
  override name = 'TooLargeError';
  constructor(readonly limit: number) {
    super('bad_request', `the file is larger than ${limit >= 1e6 ? `${Math.round(limit / 1e6)} MB` : `${Math.round(limit / 1e3)} kB`}`);
  }
}

export interface BlobStoreOptions {
  dir: string;
}

const SHA_DIR = /^[0-9a-f]{2}$/;
const SHA_REST = /^[0-9a-f]{62}$/;

export class BlobStore implements Blobs {
  readonly dir: string;

  constructor(opts: BlobStoreOptions) {
    this.dir = path.resolve(opts.dir);
  }

  /** Stores what `input` yields, refusing (and deleting) it past `limit` bytes. */
  async put(input: Readable, limit: number): Promise<{ sha256: string; size: number }> {
    const tmpDir = path.join(this.dir, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, randomBytes(12).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) return done(new TooLargeError(limit));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(input, meter, createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const sha256 = hash.digest('hex');
    const dest = this.path(sha256);
    await mkdir(path.dirname(dest), { recursive: true });
    await rename(tmp, dest); // the same bytes again simply replace themselves
    return { sha256, size };
  }

  path(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('not a SHA-256');
    return path.join(this.dir, sha256.slice(0, 2), sha256.slice(2));
  }

  async has(sha256: string): Promise<boolean> {
    return stat(this.path(sha256)).then(() => true, () => false);
  }

  read(sha256: string): ReadStream {
    return createReadStream(this.path(sha256));
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.path(sha256), { force: true });
  }

  async stale(cutoff: number): Promise<string[]> {
    const old: string[] = [];
    for (const sub of await readdir(this.dir).catch(() => [] as string[])) {
      const dir = path.join(this.dir, sub);
      if (sub === 'tmp') {
        // A temporary upload older than the cutoff belongs to a process that died while writing it.
        for (const f of await readdir(dir).catch(() => [] as string[])) {
          const s = await stat(path.join(dir, f)).catch(() => null);
          if (s && s.mtimeMs < cutoff) await rm(path.join(dir, f), { force: true });
        }
        continue;
      }
      if (!SHA_DIR.test(sub)) continue;
      for (const rest of await readdir(dir).catch(() => [] as string[])) {
        if (!SHA_REST.test(rest)) continue;
        const s = await stat(path.join(dir, rest)).catch(() => null);
        if (s && s.mtimeMs < cutoff) old.push(sub + rest);
      }
    }
    return old;
  }

  async removeIfStale(sha256: string, cutoff: number): Promise<boolean> {
    // The same bytes uploaded again since the sweeper looked rewrote the blob: it is someone's now.
    const s = await stat(this.path(sha256)).catch(() => null);
    if (!s || s.mtimeMs >= cutoff) return false;
    await this.remove(sha256);
    return true;
  }
}

/**
 * Where the bytes of shared files and slide decks live, named by their SHA-256. A single node keeps
 * them on its disk (BlobStore); the nodes of a cluster keep them in the shared PostgreSQL store
 * (SqlBlobStore), so any node serves them and a node's death loses none (decision 0008).
 */
import type { Readable } from 'node:stream';

export interface Blobs {
  /** Stores what `input` yields, refusing (and deleting) it past `limit` bytes. */
  put(input: Readable, limit: number): Promise<{ sha256: string; size: number }>;
  has(sha256: string): Promise<boolean>;
  /** The bytes, streamed (never the whole blob in memory). */
  read(sha256: string): Readable;
  remove(sha256: string): Promise<void>;
  /** For the sweeper: the blobs last written before `cutoff` (ms), after dropping uploads abandoned before it. */
  stale(cutoff: number): Promise<string[]>;
  /** Removes the blob unless it was written again at or after `cutoff`; true if it went. */
  removeIfStale(sha256: string, cutoff: number): Promise<boolean>;
}

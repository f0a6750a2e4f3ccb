/**
 * The files shared with one conference: records in the store, bytes in the BlobStore. Each file
 * arrives through an upload (HTTP, with a single-use ticket from the conference socket) and is
 * announced as a chat message that carries it; removing one keeps the message and drops the bytes
 * once no other record names them.
 */
import { MAX_FILES_PER_CONFERENCE, safeFileName } from '@baton/protocol';
import type { Readable } from 'node:stream';
import type { FileRecord, Store } from '../store/Store.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { meetingId } from '../util/ids.js';
import type { Blobs } from './Blobs.js';
import type { DataMember } from './types.js';

export interface FileShelfOptions {
  conferenceId: string;
  store: Store;
  blobs: Blobs;
  /** Largest file accepted, in bytes. */
  maxFileBytes: number;
}

export class FileShelf {
  readonly #opts: FileShelfOptions;

  constructor(opts: FileShelfOptions) {
    this.#opts = opts;
  }

  get maxFileBytes(): number {
    return this.#opts.maxFileBytes;
  }

  /** Stores an upload and its record; the caller announces it. */
  async handleUpload(body: Readable, rawName: string, by: DataMember): Promise<FileRecord> {
    const { store, blobs, conferenceId } = this.#opts;
    if ((await store.listFiles(conferenceId)).length >= MAX_FILES_PER_CONFERENCE) {
      body.resume(); // drain, so the client hears the answer
      throw new ConflictError(`this meeting has ${MAX_FILES_PER_CONFERENCE} files already; remove some first`);
    }
    const { sha256, size } = await blobs.put(body, this.#opts.maxFileBytes);
    // The id is the download's capability: as unguessable as a meeting id.
    return store.createFile({ id: meetingId(), conferenceId, sha256, name: safeFileName(rawName), size, uploaderKey: by.key, uploaderName: by.name, uploaderUser: by.user });
  }

  /** Marks a file deleted (its sharer, or an organizer) and drops its bytes when nothing else uses them. */
  async handleDelete(fileId: string, by: DataMember): Promise<void> {
    const { store, blobs, conferenceId } = this.#opts;
    const file = await store.getFile(fileId);
    if (!file || file.conferenceId !== conferenceId || file.deleted) throw new NotFoundError('no such file in this meeting');
    if (!by.organizer && file.uploaderKey !== by.key) throw new ForbiddenError('only whoever shared a file, or an organizer, may remove it');
    const done = await store.deleteFile(fileId);
    if (done && done.stillUsed === 0) await blobs.remove(file.sha256);
  }
}

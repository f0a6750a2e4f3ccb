/**
 * The server's recordings: starts a Recorder for a conference (its files under <data>/recordings/<id>/,
 * its row in the store), finishes it, answers who may see or manage one, reads them back for the
 * replay page, runs video exports (ExportJob) and deletes old ones (`retentionDays`).
 *
 * Who may see a recording: the meeting's organizer, whoever started it, and the users they shared it
 * with. Sharing, exporting and deleting: the organizer and the starter.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RECORD_HEADER, RecordKind, RecordingEvent, type ExportFormat, type ExportState, type RecordingResource, type RecordingSeekPoint } from '@baton/protocol';
import type { RecordingRecord, Store, UserRecord } from '../store/Store.js';
import type { ConferenceRecord } from '../store/Store.js';
import { ForbiddenError, NotFoundError, ConflictError } from '../errors.js';
import { meetingId } from '../util/ids.js';
import { EVENTS_FILE, INDEX_FILE, Recorder, SCREEN_FILE, type StoredIndex } from './Recorder.js';
import { ExportJob, exportFileName } from './ExportJob.js';
import { AUDIO_FILE, buildAudioTrack } from './AudioTrack.js';

export interface RecordingServiceOptions {
  store: Store;
  /** Where recordings live (<data-dir>/recordings). */
  dir: string;
  /** Most bytes one recording may take. */
  maxBytes: number;
  /** Delete recordings older than this many days (null: keep them). */
  retentionDays: number | null;
  keyframeMinMs?: number;
  keyframeMaxMs?: number;
  log?: { info?(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
  /**
   * Cluster mode: where a finished recording's files (and exports) are copied, as `<id>/<file>`, so
   * any node replays and downloads it, after the recording node's death too. A node that lacks them
   * fetches them into its own recordings directory once, on first use.
   */
  shared?: SharedRecordingFiles;
}

/** The part of SqlBlobStore recordings use. */
export interface SharedRecordingFiles {
  putNamed(name: string, input: Readable): Promise<unknown>;
  readNamed(name: string): Readable;
  list(prefix: string): Promise<{ name: string; size: number }[]>;
  remove(name: string): Promise<void>;
}

const SWEEP_MS = 60 * 60_000;

export class RecordingService {
  readonly #opts: RecordingServiceOptions;
  readonly #store: Store;
  /** Finishing recordings (their files being closed): close() waits for them. */
  readonly #finishing = new Set<Promise<unknown>>();
  readonly #exports = new Map<string, ExportJob>();
  readonly #live = new Map<string, Recorder>();
  /** Recordings being fetched from the shared store (cluster mode), so two requests fetch once. */
  readonly #fetching = new Map<string, Promise<void>>();
  #sweep: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: RecordingServiceOptions) {
    this.#opts = opts;
    this.#store = opts.store;
  }

  /** Finishes what a stopped server left recording, deletes expired ones, and sweeps hourly. */
  async init(): Promise<void> {
    for (const r of await this.#store.listUnfinishedRecordings()) {
      // Cluster mode: a recording without files here is running on (or was left by) another node.
      if (this.#opts.shared && !existsSync(this.dirOf(r.id))) continue;
      const index = await this.#rebuildIndex(r.id).catch(() => null);
      const audio = await this.#buildAudio(r.id, index?.durationMs ?? 0);
      await this.#archive(r.id);
      await this.#store.finishRecording(r.id, {
        endedAt: new Date(Date.parse(r.startedAt) + (index?.durationMs ?? 0)).toISOString(),
        durationMs: index?.durationMs ?? 0,
        bytes: (index?.screenBytes ?? 0) + (audio ?? 0),
        status: 'failed',
        note: 'the server stopped during the recording',
        hasAudio: audio !== null,
      });
    }
    await this.sweep();
    await this.pruneCopies();
    if (this.#opts.retentionDays !== null || this.#opts.shared) {
      this.#sweep = setInterval(() => {
        void this.sweep().catch((err) => this.#opts.log?.warn({ err }, 'recording retention sweep failed'));
        void this.pruneCopies().catch((err) => this.#opts.log?.warn({ err }, 'recording copies: prune failed'));
      }, SWEEP_MS);
      this.#sweep.unref();
    }
  }

  /**
   * Cluster mode: removes this node's copies of recordings that are gone from the store (deleted,
   * or past retention, through another node). Returns how many went.
   */
  async pruneCopies(): Promise<number> {
    if (!this.#opts.shared) return 0;
    let n = 0;
    for (const id of await readdir(this.#opts.dir).catch(() => [] as string[])) {
      if (this.#live.has(id) || this.#fetching.has(id) || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) continue;
      if (await this.#store.getRecording(id)) continue;
      // A recording starting here has its directory a moment before its row.
      const s = await stat(this.dirOf(id)).catch(() => null);
      if (!s || Date.now() - s.mtimeMs < 60_000) continue;
      await rm(this.dirOf(id), { recursive: true, force: true });
      n++;
    }
    return n;
  }

  dirOf(id: string): string {
    return path.join(this.#opts.dir, id);
  }

  /** Start recording a conference; the caller (RecordingManager) owns the Recorder and calls finish(). */
  async start(conference: ConferenceRecord, startedBy: string): Promise<{ id: string; recorder: Recorder; startedAt: string }> {
    if (this.#closed) throw new ConflictError('the server is shutting down');
    const id = meetingId();
    const recorder = await Recorder.open({
      dir: this.dirOf(id),
      maxBytes: this.#opts.maxBytes,
      keyframeMinMs: this.#opts.keyframeMinMs,
      keyframeMaxMs: this.#opts.keyframeMaxMs,
    });
    // The recording's time 0, so that a wall-clock moment maps onto its timeline.
    const startedAt = new Date(Date.now() - recorder.elapsed).toISOString();
    try {
      await this.#store.createRecording({ id, conferenceId: conference.id, subject: conference.subject, organizerId: conference.organizerId, startedBy, startedAt });
    } catch (err) {
      await recorder.close();
      await rm(this.dirOf(id), { recursive: true, force: true });
      throw err;
    }
    this.#live.set(id, recorder);
    return { id, recorder, startedAt };
  }

  /** Close the recorder and mark the recording done (or failed with `note`). */
  finish(id: string, recorder: Recorder, note: string | null, before?: Promise<void>): Promise<void> {
    const p = (async () => {
      await before;
      const { durationMs, bytes } = await recorder.close();
      const why = note ?? recorder.failed;
      const audio = await this.#buildAudio(id, durationMs);
      await this.#archive(id);
      await this.#store.finishRecording(id, { endedAt: new Date().toISOString(), durationMs, bytes: bytes + (audio ?? 0), status: why ? 'failed' : 'done', note: why, hasAudio: audio !== null });
    })()
      .catch((err) => this.#opts.log?.warn({ err, recording: id }, 'recording: could not finish'))
      .finally(() => {
        this.#finishing.delete(p);
        this.#live.delete(id);
      });
    this.#finishing.add(p);
    return p;
  }

  /** The mixer's WAV segments joined into audio.webm on the recording's timeline; its size, or null. */
  async #buildAudio(id: string, durationMs: number): Promise<number | null> {
    try {
      const t0 = process.cpuUsage();
      const size = await buildAudioTrack({ dir: this.dirOf(id), events: await this.events(id), durationMs });
      if (size !== null) this.#opts.log?.info?.({ recording: id, bytes: size, durationMs, cpuMs: Math.round((process.cpuUsage(t0).user + process.cpuUsage(t0).system) / 1000) }, 'recording: audio track written');
      return size;
    } catch (err) {
      this.#opts.log?.warn({ err, recording: id }, 'recording: the audio track could not be written');
      return null;
    }
  }

  /** Cluster mode: copies the finished recording's files to the shared store (before it counts as done). */
  async #archive(id: string): Promise<void> {
    const shared = this.#opts.shared;
    if (!shared) return;
    const dir = this.dirOf(id);
    try {
      for (const f of await readdir(dir)) {
        if (f.endsWith('.part') || f.startsWith('.')) continue;
        await shared.putNamed(`${id}/${f}`, createReadStream(path.join(dir, f)));
      }
    } catch (err) {
      this.#opts.log?.warn({ err, recording: id }, 'recording: could not copy it to the shared store (only this node has it)');
    }
  }

  /** Cluster mode: fetches the files of a recording another node made (once; later calls find them here). */
  #fetch(id: string): Promise<void> {
    const shared = this.#opts.shared;
    if (!shared || this.#live.has(id)) return Promise.resolve();
    let p = this.#fetching.get(id);
    if (!p) {
      p = (async () => {
        const dir = this.dirOf(id);
        for (const { name, size } of await shared.list(`${id}/`)) {
          const file = path.join(dir, path.basename(name));
          if ((await stat(file).catch(() => null))?.size === size) continue;
          await mkdir(dir, { recursive: true });
          const tmp = path.join(dir, `.${randomBytes(6).toString('hex')}.part`);
          try {
            await pipeline(shared.readNamed(name), createWriteStream(tmp, { flags: 'wx' }));
            await rename(tmp, file);
          } finally {
            await rm(tmp, { force: true });
          }
        }
      })().finally(() => this.#fetching.delete(id));
      this.#fetching.set(id, p);
    }
    return p;
  }

  /** The recording's audio track (audio.webm), when it has one. */
  async audioFile(id: string): Promise<{ path: string; size: number }> {
    await this.#fetch(id);
    const file = path.join(this.dirOf(id), AUDIO_FILE);
    try {
      return { path: file, size: (await stat(file)).size };
    } catch {
      throw new NotFoundError('this recording has no audio');
    }
  }

  // --- reading ---------------------------------------------------------------------------------

  /** The recording if `user` may see it; 404 otherwise (an id nobody shared with you is not disclosed). */
  async viewable(user: UserRecord, id: string): Promise<RecordingRecord> {
    const r = await this.#store.getRecording(id);
    if (!r) throw new NotFoundError('no such recording');
    if (mayManage(user, r)) return r;
    if (await this.#store.isRecordingSharedWith(id, user.id)) return r;
    throw new NotFoundError('no such recording');
  }

  /** The recording if `user` may share, export or delete it. */
  async manageable(user: UserRecord, id: string): Promise<RecordingRecord> {
    const r = await this.viewable(user, id);
    if (!mayManage(user, r)) throw new ForbiddenError('only the organizer or whoever started the recording may do that');
    return r;
  }

  async resource(user: UserRecord, r: RecordingRecord): Promise<RecordingResource> {
    const manage = mayManage(user, r);
    const live = this.#live.get(r.id);
    // Cluster mode: an export another node made is in the shared store.
    const sharedFiles = this.#opts.shared && !live ? await this.#opts.shared.list(`${r.id}/export.`) : [];
    return {
      id: r.id,
      conferenceId: r.conferenceId,
      subject: r.subject,
      organizer: r.organizerUsername,
      startedBy: r.startedByUsername,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      durationMs: live ? Math.round(live.elapsed) : r.durationMs,
      bytes: live ? live.bytes : r.bytes,
      status: r.status,
      note: r.note,
      hasAudio: r.hasAudio,
      manage,
      sharedWith: manage ? await this.#store.listRecordingShares(r.id) : [],
      exports: (['webm', 'mkv'] as const).flatMap((f) => {
        const job = this.#exports.get(`${r.id}:${f}`);
        if (job) return [job.state];
        const elsewhere = sharedFiles.find((s) => s.name === `${r.id}/${exportFileName(f)}`);
        if (elsewhere) return [{ format: f, status: 'done' as const, progress: 1, bytes: elsewhere.size }];
        // Exported before a restart: the file is there.
        try {
          return [{ format: f, status: 'done' as const, progress: 1, bytes: statSync(path.join(this.dirOf(r.id), exportFileName(f))).size }];
        } catch {
          return [];
        }
      }),
    };
  }

  async index(id: string): Promise<{ seekPoints: RecordingSeekPoint[]; screenBytes: number; durationMs: number; events: RecordingEvent[] }> {
    if (this.#live.has(id)) throw new ConflictError('the recording is still running; stop it to replay it');
    await this.#fetch(id);
    const index = await this.#readIndex(id);
    return { ...index, events: await this.events(id) };
  }

  async events(id: string): Promise<RecordingEvent[]> {
    let text: string;
    try {
      text = await readFile(path.join(this.dirOf(id), EVENTS_FILE), 'utf8');
    } catch {
      return [];
    }
    const out: RecordingEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const e = RecordingEvent.safeParse(JSON.parse(line));
        if (e.success) out.push(e.data);
      } catch {
        // a line cut short by a crash
      }
    }
    return out;
  }

  /** Bytes [from, to) of the screen file. */
  async screenRange(id: string, from: number, to: number): Promise<Buffer> {
    await this.#fetch(id);
    const { screenBytes } = await this.#readIndex(id);
    const end = Math.min(to, screenBytes);
    if (from > end) throw new NotFoundError('outside the recording');
    // One request reads at most 64 MiB (the replay asks for one keyframe's span at a time).
    if (end - from > 64 * 1024 * 1024) throw new ConflictError('ask for at most 64 MiB at a time');
    const fh = await open(path.join(this.dirOf(id), SCREEN_FILE), 'r');
    try {
      const buf = Buffer.alloc(end - from);
      const { bytesRead } = await fh.read(buf, 0, buf.length, from);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  screenPath(id: string): string {
    return path.join(this.dirOf(id), SCREEN_FILE);
  }

  async #readIndex(id: string): Promise<StoredIndex> {
    try {
      return JSON.parse(await readFile(path.join(this.dirOf(id), INDEX_FILE), 'utf8')) as StoredIndex;
    } catch {
      return this.#rebuildIndex(id);
    }
  }

  /** The index from the screen file itself (a recording whose server stopped before writing index.json). */
  async #rebuildIndex(id: string): Promise<StoredIndex> {
    const file = path.join(this.dirOf(id), SCREEN_FILE);
    const seekPoints: RecordingSeekPoint[] = [];
    let offset = 0;
    let carry = Buffer.alloc(0);
    let lastKind = -1;
    let lastT = 0;
    let fresh = true;
    for await (const chunk of createReadStream(file)) {
      let buf = Buffer.concat([carry, chunk as Buffer]);
      let o = 0;
      while (o + RECORD_HEADER <= buf.length) {
        const kind = buf.readUInt8(o);
        const len = buf.readUInt32BE(o + 1);
        if (o + RECORD_HEADER + len > buf.length) break;
        const t = buf.readDoubleBE(o + 5);
        if (kind === RecordKind.Keyframe && lastKind !== RecordKind.Keyframe) seekPoints.push({ t, offset, ...(fresh ? { fresh: true } : {}) });
        if (kind === RecordKind.Keyframe) fresh = false;
        if (kind === RecordKind.ShareEnded) {
          seekPoints.push({ t, offset, blank: true });
          fresh = true;
        }
        lastKind = kind;
        lastT = t;
        o += RECORD_HEADER + len;
        offset += RECORD_HEADER + len;
      }
      carry = buf.subarray(o);
      buf = Buffer.alloc(0);
    }
    // A torn last record is left out.
    return { seekPoints, screenBytes: offset, durationMs: Math.round(lastT) };
  }

  // --- sharing, deleting, retention ------------------------------------------------------------

  async delete(id: string): Promise<void> {
    if (this.#live.has(id)) throw new ConflictError('the recording is still running; stop it first');
    for (const f of ['webm', 'mkv']) {
      const key = `${id}:${f}`;
      this.#exports.get(key)?.cancel();
      this.#exports.delete(key);
    }
    await this.#store.deleteRecording(id);
    await rm(this.dirOf(id), { recursive: true, force: true });
    const shared = this.#opts.shared;
    if (shared) for (const { name } of await shared.list(`${id}/`)) await shared.remove(name);
  }

  /** Deletes recordings older than the retention period. */
  async sweep(now = Date.now()): Promise<number> {
    const days = this.#opts.retentionDays;
    if (days === null) return 0;
    const before = new Date(now - days * 86_400_000).toISOString();
    let n = 0;
    for (const r of await this.#store.listRecordingsBefore(before)) {
      if (this.#live.has(r.id)) continue;
      await this.delete(r.id);
      n++;
    }
    if (n > 0) this.#opts.log?.info?.({ deleted: n, retentionDays: days }, 'recordings past retention deleted');
    return n;
  }

  // --- export ----------------------------------------------------------------------------------

  exportState(id: string, format: ExportFormat): ExportState | null {
    return this.#exports.get(`${id}:${format}`)?.state ?? null;
  }

  /** Start (or restart after a failure) the video export; a running or finished one is returned as it is. */
  async startExport(r: RecordingRecord, format: ExportFormat): Promise<ExportState> {
    if (this.#live.has(r.id)) throw new ConflictError('the recording is still running; stop it to export it');
    const key = `${r.id}:${format}`;
    const existing = this.#exports.get(key);
    if (existing && existing.state.status !== 'failed') return existing.state;
    await this.#fetch(r.id);
    const index = await this.#readIndex(r.id);
    const audio = await this.audioFile(r.id).catch(() => null);
    const job = new ExportJob({
      screenFile: this.screenPath(r.id),
      audioFile: audio?.path,
      screenBytes: index.screenBytes,
      durationMs: index.durationMs,
      freshOffsets: new Set(index.seekPoints.filter((p) => p.fresh).map((p) => p.offset)),
      out: path.join(this.dirOf(r.id), exportFileName(format)),
      format,
      ...(this.#opts.shared ? { finalize: (file: string) => this.#opts.shared!.putNamed(`${r.id}/${path.basename(file)}`, createReadStream(file)).then(() => {}) } : {}),
      log: this.#opts.log,
    });
    this.#exports.set(key, job);
    job.start();
    return job.state;
  }

  async exportFile(id: string, format: ExportFormat): Promise<{ path: string; size: number }> {
    const job = this.#exports.get(`${id}:${format}`);
    const file = path.join(this.dirOf(id), exportFileName(format));
    if (job && job.state.status !== 'done') throw new ConflictError('the export has not finished');
    if (!job) await this.#fetch(id);
    try {
      return { path: file, size: (await stat(file)).size };
    } catch {
      throw new NotFoundError('no export in that format; start one');
    }
  }

  /** Waits for recordings being finished; stops exports. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    for (const job of this.#exports.values()) job.cancel();
    while (this.#finishing.size > 0) await Promise.all([...this.#finishing]);
  }
}

function mayManage(user: UserRecord, r: RecordingRecord): boolean {
  return r.organizerId === user.id || r.startedById === user.id;
}

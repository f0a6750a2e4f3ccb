/**
 * Recordings over REST: list, read (index and screen bytes for the replay page), share with users of
 * this server, delete, and export to a video file. Every route checks the session's user against the
 * recording (RecordingService.viewable / manageable); a recording you may not see is a 404.
 */
import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ExportFormat, ExportRequest, ScreenRangeQuery, ShareRecordingRequest, type ExportState, type RecordingIndex, type RecordingList, type RecordingResource } from '@baton/protocol';
import type { Store } from '../store/Store.js';
import type { RecordingService } from '../recording/RecordingService.js';
import { NotFoundError } from '../errors.js';
import { parseBody, requireUser } from './common.js';

/** Documented in /api/docs (http/openapi.ts); each handler checks its own input, as a recording you may not see is a 404. */
const doc = (summary: string) => ({ tags: ['recordings'], summary, security: [{ session: [] }] });

export function recordingRoutes(app: FastifyInstance, deps: { store: Store; recordings: RecordingService }): void {
  const { store, recordings } = deps;
  type IdParams = { Params: { id: string } };
  type FormatParams = { Params: { id: string; format: string } };
  const format = (f: string) => {
    const parsed = ExportFormat.safeParse(f);
    if (!parsed.success) throw new NotFoundError(`no export format ${f}`);
    return parsed.data;
  };

  app.get('/api/recordings', { schema: doc('List the recordings I organized, started or was given') }, async (req): Promise<RecordingList> => {
    const user = requireUser(req);
    const list = await store.listRecordingsForUser(user.id);
    return { recordings: await Promise.all(list.map((r) => recordings.resource(user, r))) };
  });

  app.get<IdParams>('/api/recordings/:id', { schema: doc('One recording (organizer, starter, or a user it is shared with)') }, async (req): Promise<RecordingResource> => {
    const user = requireUser(req);
    return recordings.resource(user, await recordings.viewable(user, req.params.id));
  });

  app.get<IdParams>('/api/recordings/:id/index', { schema: doc("A recording's index for replay: seek points, screen file size, chat and roster events") }, async (req): Promise<RecordingIndex> => {
    const user = requireUser(req);
    const r = await recordings.viewable(user, req.params.id);
    const index = await recordings.index(r.id);
    return { recording: await recordings.resource(user, r), seekPoints: index.seekPoints, screenBytes: index.screenBytes, events: index.events };
  });

  // A span of the screen file (the replay asks for one keyframe's span at a time).
  app.get<IdParams>('/api/recordings/:id/screen', { schema: doc('A byte range of the recorded screen stream (?from=&to=), for the replay page') }, async (req, reply) => {
    const user = requireUser(req);
    const r = await recordings.viewable(user, req.params.id);
    const { from, to } = parseBody(ScreenRangeQuery, req.query);
    const bytes = await recordings.screenRange(r.id, from, to);
    return reply.type('application/octet-stream').header('cache-control', 'private, max-age=3600').send(bytes);
  });

  // The audio track (Opus in WebM) on the recording's timeline; ranges, so the replay page's <audio> can seek.
  app.get<IdParams>('/api/recordings/:id/audio', { schema: doc("A recording's audio mix (Opus in WebM, byte ranges), for the replay page") }, async (req, reply) => {
    const user = requireUser(req);
    const r = await recordings.viewable(user, req.params.id);
    const file = await recordings.audioFile(r.id);
    reply.header('cache-control', 'private, max-age=3600').header('accept-ranges', 'bytes').type('audio/webm');
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? '').trim());
    if (!range || (range[1] === '' && range[2] === '')) return reply.header('content-length', file.size).send(createReadStream(file.path));
    // bytes=a-b, bytes=a- or bytes=-n (the last n)
    let start = range[1] === '' ? Math.max(0, file.size - Number(range[2])) : Number(range[1]);
    let end = range[1] === '' || range[2] === '' ? file.size - 1 : Math.min(Number(range[2]), file.size - 1);
    if (start > end || start >= file.size) return reply.code(416).header('content-range', `bytes */${file.size}`).send();
    start = Math.max(0, start);
    end = Math.max(start, end);
    return reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${file.size}`)
      .header('content-length', end - start + 1)
      .send(createReadStream(file.path, { start, end }));
  });

  app.post<IdParams>('/api/recordings/:id/shares', { schema: doc('Share a recording with users of this server (its organizer or starter)') }, async (req): Promise<RecordingResource> => {
    const user = requireUser(req);
    const r = await recordings.manageable(user, req.params.id);
    const body = parseBody(ShareRecordingRequest, req.body);
    const found = await store.getUsersByUsernames(body.users);
    const unknown = body.users.filter((u) => !found.some((f) => f.username === u));
    if (unknown.length > 0) throw new NotFoundError(`no such user: ${unknown.join(', ')}`);
    await store.shareRecording(r.id, found.filter((u) => u.id !== r.organizerId && u.id !== r.startedById).map((u) => u.id));
    return recordings.resource(user, r);
  });

  app.delete<{ Params: { id: string; username: string } }>('/api/recordings/:id/shares/:username', { schema: doc('Stop sharing a recording with a user') }, async (req, reply) => {
    const user = requireUser(req);
    const r = await recordings.manageable(user, req.params.id);
    const [target] = await store.getUsersByUsernames([req.params.username]);
    if (target) await store.unshareRecording(r.id, [target.id]);
    return reply.code(204).send();
  });

  app.delete<IdParams>('/api/recordings/:id', { schema: doc('Delete a recording and its exports') }, async (req, reply) => {
    const user = requireUser(req);
    const r = await recordings.manageable(user, req.params.id);
    await recordings.delete(r.id);
    return reply.code(204).send();
  });

  app.post<IdParams>('/api/recordings/:id/exports', { schema: doc('Start exporting a recording to a video file (webm or mkv) in the background') }, async (req, reply): Promise<ExportState> => {
    const user = requireUser(req);
    const r = await recordings.manageable(user, req.params.id);
    const body = parseBody(ExportRequest, req.body);
    return reply.code(202).send(await recordings.startExport(r, body.format));
  });

  app.get<FormatParams>('/api/recordings/:id/exports/:format', { schema: doc("An export's progress") }, async (req): Promise<ExportState> => {
    const user = requireUser(req);
    const r = await recordings.viewable(user, req.params.id);
    const f = format(req.params.format);
    const state = recordings.exportState(r.id, f) ?? (await recordings.resource(user, r)).exports.find((e) => e.format === f);
    if (!state) throw new NotFoundError('no export in that format; start one');
    return state;
  });

  app.get<FormatParams>('/api/recordings/:id/exports/:format/file', { schema: doc('Download a finished export (an attachment)') }, async (req, reply) => {
    const user = requireUser(req);
    const r = await recordings.viewable(user, req.params.id);
    const f = format(req.params.format);
    const file = await recordings.exportFile(r.id, f);
    const name = `${r.subject.replace(/[^\p{L}\p{N} ._-]+/gu, '').trim().slice(0, 80) || 'recording'} ${r.startedAt.slice(0, 10)}.${f}`;
    return reply
      .type(f === 'webm' ? 'video/webm' : 'video/x-matroska')
      .header('content-length', file.size)
      .header('content-disposition', `attachment; filename="recording.${f}"; filename*=UTF-8''${encodeURIComponent(name)}`)
      .send(createReadStream(file.path));
  });
}

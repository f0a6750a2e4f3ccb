/**
 * Files shared with a meeting (issue 14 item 6). Upload: `POST /api/files?ticket=…&name=…` with the
 * raw bytes as the body, authorized by a single-use ticket from the conference socket (`file.ticket`:
 * the Focus checks the policy), so guests can share too and no cookie rides on it. Download:
 * `GET /api/files/<id>/<name>`; the id (128 random bits) is the capability, as a meeting's id is.
 * Nothing uploaded can run in Baton's origin: it is always served as an attachment, as
 * application/octet-stream, with nosniff and a sandboxing CSP.
 */
import contentDisposition from 'content-disposition';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, safeFileName } from '@baton/protocol';
import type { FocusRegistry } from '../focus/FocusRegistry.js';
import type { Store } from '../store/Store.js';
import type { Blobs } from '../data/Blobs.js';
import { TooLargeError } from '../data/BlobStore.js';
import type { UploadRelay } from './UploadRelay.js';
import { ForbiddenError, NotFoundError } from '../errors.js';

const UploadQuery = z.object({ ticket: z.string().min(1).max(128), name: z.string().min(1).max(1000) });
const FileParams = z.object({ id: z.string().min(1).max(64), name: z.string().max(1000) });

export interface FileRoutesOptions {
  registry: FocusRegistry;
  store: Store;
  blobs: Blobs;
  /** Cluster mode: uploads with another node's ticket go on to that node. */
  relay?: UploadRelay;
}

export function fileRoutes(app: FastifyInstance, { registry, store, blobs, relay }: FileRoutesOptions): void {
  void app.register(async (scope) => {
    // The body is the file: streamed to disk as it comes, never buffered or parsed.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    // Documented only (http/openapi.ts): the query is checked below, as a missing ticket is a 403.
    const upload = {
      tags: ['files'],
      summary: 'Upload a file to a meeting: ?ticket=<from file.ticket on the conference socket>&name=<file name>, the raw bytes as the body',
      response: { 201: z.object({ id: z.string(), name: z.string(), size: z.number() }).passthrough().describe('the shared file'), 413: ApiError.describe('larger than the meeting allows') },
    };
    scope.post('/api/files', { schema: upload }, async (req, reply) => {
      const q = UploadQuery.safeParse(req.query);
      if (!q.success) throw new ForbiddenError('an upload needs a ticket (file.ticket) and a name');
      if (relay && (await relay.relay(q.data.ticket, req, reply))) return reply;
      const ticket = registry.uploadTickets.redeem(q.data.ticket);
      if (!ticket || ticket.kind) throw new ForbiddenError('the upload ticket is unknown, used or expired');
      const focus = await registry.get(ticket.conferenceId);
      if (!focus) throw new NotFoundError('the meeting has ended');
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > focus.maxFileBytes) {
        reply.header('connection', 'close');
        return reply.code(413).send({ error: { code: 'bad_request', message: new TooLargeError(focus.maxFileBytes).message } });
      }
      try {
        const file = await focus.acceptUpload(ticket.participantId, req.raw, q.data.name);
        return reply.code(201).send(file);
      } catch (err) {
        if (err instanceof TooLargeError) {
          reply.header('connection', 'close');
          return reply.code(413).send({ error: { code: 'bad_request', message: err.message } });
        }
        throw err;
      }
    });
  });

  const download = {
    tags: ['files'],
    summary: 'Download a file shared with a meeting (the id is the capability; always an attachment)',
    response: { 200: { description: 'the file', content: { 'application/octet-stream': { schema: z.string() } } }, 410: ApiError.describe('removed from the meeting') },
  };
  app.get('/api/files/:id/:name', { schema: download }, async (req, reply) => {
    const p = FileParams.safeParse(req.params);
    const file = p.success ? await store.getFile(p.data.id) : undefined;
    if (!file) throw new NotFoundError('no such file');
    if (file.deleted) return reply.code(410).send({ error: { code: 'not_found', message: 'this file was removed from the meeting' } });
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-disposition', contentDisposition(safeFileName(file.name), { type: 'attachment' }));
    reply.header('content-length', String(file.size));
    // Even if a browser were to render it, it would run nothing in our origin.
    reply.header('content-security-policy', "sandbox; default-src 'none'");
    reply.header('cache-control', 'private, max-age=3600, immutable');
    return reply.send(blobs.read(file.sha256));
  });
}

/**
 * Slide decks (issue 14 item 3). Upload: `POST /api/slides?ticket=…&name=…` with the raw bytes of a
 * PDF, pptx, ppt or odp as the body, authorized by a single-use ticket from the conference socket
 * (`slides.ticket`: the Focus checks the present policy). The answer comes once the deck is checked
 * (and converted): 201 with the deck, 400 with why it was refused (not a PDF, a zip bomb, LibreOffice
 * failed or took too long), 413 when too large. Read: `GET /api/slides/<id>/deck.pdf`, the PDF the
 * meeting pages render with pdf.js; the deck id (128 random bits) is the capability, as a shared
 * file's is, and it is served with a sandboxing CSP so that nothing in it runs in Baton's origin.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, SlideDeck } from '@baton/protocol';
import type { FocusRegistry } from '../focus/FocusRegistry.js';
import type { Store } from '../store/Store.js';
import type { Blobs } from '../data/Blobs.js';
import { TooLargeError } from '../data/BlobStore.js';
import type { UploadRelay } from './UploadRelay.js';
import { ForbiddenError, NotFoundError } from '../errors.js';

const UploadQuery = z.object({ ticket: z.string().min(1).max(128), name: z.string().min(1).max(1000) });
const DeckParams = z.object({ id: z.string().min(1).max(64) });

export interface SlideRoutesOptions {
  registry: FocusRegistry;
  store: Store;
  blobs: Blobs;
  /** Cluster mode: uploads with another node's ticket go on to that node. */
  relay?: UploadRelay;
}

export function slideRoutes(app: FastifyInstance, { registry, store, blobs, relay }: SlideRoutesOptions): void {
  void app.register(async (scope) => {
    // The body is the file: streamed to disk as it comes, never buffered or parsed.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const upload = {
      tags: ['slides'],
      summary: 'Upload a slide deck (PDF, pptx, ppt, odp) to a meeting: ?ticket=<from slides.ticket on the conference socket>&name=<file name>, the raw bytes as the body; answered once checked and converted',
      response: {
        201: SlideDeck.describe('the deck, now shown at page 1'),
        400: ApiError.describe('not a PDF or presentation, a zip bomb, or the conversion failed'),
        413: ApiError.describe('larger than the meeting allows'),
      },
    };
    scope.post('/api/slides', { schema: upload }, async (req, reply) => {
      const q = UploadQuery.safeParse(req.query);
      if (!q.success) throw new ForbiddenError('an upload needs a ticket (slides.ticket) and a name');
      if (relay && (await relay.relay(q.data.ticket, req, reply))) return reply;
      const ticket = registry.uploadTickets.redeem(q.data.ticket);
      if (!ticket || ticket.kind !== 'slides') throw new ForbiddenError('the upload ticket is unknown, used or expired');
      const focus = await registry.get(ticket.conferenceId);
      if (!focus) throw new NotFoundError('the meeting has ended');
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > focus.maxDeckBytes) {
        reply.header('connection', 'close');
        return reply.code(413).send({ error: { code: 'bad_request', message: new TooLargeError(focus.maxDeckBytes).message } });
      }
      try {
        const deck = await focus.acceptDeck(ticket.participantId, req.raw, q.data.name);
        return reply.code(201).send(deck);
      } catch (err) {
        if (err instanceof TooLargeError) {
          reply.header('connection', 'close');
          return reply.code(413).send({ error: { code: 'bad_request', message: err.message } });
        }
        throw err;
      }
    });
  });

  const read = {
    tags: ['slides'],
    summary: "A deck's PDF (the id is the capability)",
    params: DeckParams,
    response: { 200: { description: 'the PDF', content: { 'application/pdf': { schema: z.string() } } }, 404: ApiError.describe('no such deck') },
  };
  app.get('/api/slides/:id/deck.pdf', { schema: read }, async (req, reply) => {
    const { id } = req.params as z.infer<typeof DeckParams>;
    const deck = await store.getSlideDeck(id);
    if (!deck) throw new NotFoundError('no such deck');
    reply.header('content-type', 'application/pdf');
    reply.header('content-disposition', 'attachment; filename="deck.pdf"');
    reply.header('content-length', String(deck.size));
    // Read by pdf.js with fetch; were a browser to open it, it would run nothing in our origin.
    reply.header('content-security-policy', "sandbox; default-src 'none'");
    reply.header('cache-control', 'private, max-age=3600, immutable');
    return reply.send(blobs.read(deck.sha256));
  });
}

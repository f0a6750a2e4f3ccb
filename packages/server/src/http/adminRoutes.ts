/**
 * /api/admin: what only the running server knows, for baton-admin and administrators: the live
 * conferences, and ending one. Allowed to a signed-in user with admin rights, or to a caller with
 * the admin API token, which the server makes at start and writes, with its URL, to
 * <data dir>/admin-api.json (mode 0600; removed when it stops): whoever can read the data directory
 * can read the whole store anyway, so that is where baton-admin finds it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FocusRegistry } from '../focus/FocusRegistry.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors.js';
import { IdParams, NO_CONTENT } from './common.js';

export const ADMIN_API_FILE = 'admin-api.json';

/** What the server writes to <data dir>/admin-api.json. */
export const AdminApiFile = z.object({ url: z.string(), token: z.string(), pid: z.number().int() });
export type AdminApiFile = z.infer<typeof AdminApiFile>;

export const LiveConference = z.object({
  id: z.string(),
  subject: z.string(),
  organizer: z.string().describe('username'),
  startedAt: z.string().describe('when it went live on this server (ISO 8601)'),
  participants: z.number().int().describe('seats in the meeting (browsers and agents; lobby not counted)'),
  lobby: z.number().int().describe('waiting in the lobby'),
  sharing: z.string().nullable().describe('the sharing participant\'s name, or null'),
  node: z.string().optional().describe('cluster mode: the node the conference runs on (its home)'),
});
export const LiveConferences = z.object({
  conferences: z.array(LiveConference),
  unreachable: z.array(z.string()).optional().describe('cluster mode: live nodes that did not answer in time (their conferences are missing from the list)'),
});
export type LiveConferences = z.infer<typeof LiveConferences>;

/** Cluster mode: a conference that runs on another node. */
export interface Elsewhere {
  /** Asks the conference's home node to end it; false when it is not live anywhere. */
  end(conferenceId: string): Promise<boolean>;
  /** Every live node's answer (null: it did not answer): its live conferences, as another process sent them. */
  live(): Promise<{ node: string; conferences: unknown }[]>;
}

/** One node's answer about its live conferences, checked: it comes from another process. */
const NodeAnswer = z.array(LiveConference.omit({ node: true }));

export function adminRoutes(root: FastifyInstance, deps: { token: string; registry: FocusRegistry; elsewhere?: Elsewhere }): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const want = createHash('sha256').update(deps.token).digest();
  const adminOnly = async (req: FastifyRequest) => {
    if (req.user?.admin) return;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (m && timingSafeEqual(createHash('sha256').update(m[1]!).digest(), want)) return;
    if (req.user) throw new ForbiddenError('administrators only');
    throw new UnauthenticatedError('sign in as an administrator, or send the admin API token as Authorization: Bearer <token>');
  };
  const security: { [name: string]: string[] }[] = [{ bearer: [] }, { session: [] }];
  const schema = <S extends object>(summary: string, s: S) => ({ tags: ['administration'], summary, security, ...s });

  const list = schema('The conferences live now: on this server, or in cluster mode on every node (each with its node)', { response: { 200: LiveConferences } });
  app.get('/api/admin/conferences', { onRequest: adminOnly, schema: list }, async (req) => {
    if (!deps.elsewhere) return { conferences: deps.registry.summaries() };
    // Cluster mode: each live node is asked for its own (a conference runs on its home node only).
    const conferences: z.infer<typeof LiveConference>[] = [];
    const unreachable: string[] = [];
    for (const answer of await deps.elsewhere.live()) {
      const parsed = NodeAnswer.safeParse(answer.conferences);
      if (!parsed.success) {
        if (answer.conferences !== null) req.log.warn({ node: answer.node, err: parsed.error.message }, 'a node answered the conference list with something else');
        unreachable.push(answer.node);
        continue;
      }
      for (const c of parsed.data) conferences.push({ ...c, node: answer.node });
    }
    return { conferences: conferences.sort((a, b) => a.startedAt.localeCompare(b.startedAt)), unreachable };
  });

  const end = schema('End a live conference for everyone in it (as an organizer\'s End meeting for all)', { params: IdParams, response: { 204: NO_CONTENT('ended') } });
  app.post('/api/admin/conferences/:id/end', { onRequest: adminOnly, schema: end }, async (req, reply) => {
    const focus = await deps.registry.get(req.params.id);
    // Cluster mode: the conference's home node ends it.
    if (!focus && deps.elsewhere && (await deps.elsewhere.end(req.params.id))) {
      req.log.info({ conference: req.params.id }, 'an administrator ended the conference (on its home node)');
      return reply.code(204).send(null);
    }
    if (!focus) throw new NotFoundError('no such live conference (it is not running on this server)');
    await focus.endByAdministrator();
    req.log.info({ conference: req.params.id }, 'an administrator ended the conference');
    return reply.code(204).send(null);
  });
}

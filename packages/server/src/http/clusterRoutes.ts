/**
 * GET /api/cluster (cluster mode, administrators): the live nodes, their load and the conferences
 * each is home of, as the NATS buckets say now. Allowed like /api/admin: an admin user's session or
 * this node's admin API token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors.js';

export const ClusterNodeView = z.object({
  id: z.string(),
  url: z.string().describe('where the other nodes reach it'),
  load: z.number().int().describe('seats in the conferences it is home of, plus one per conference'),
  conferences: z.array(z.string()).describe('ids of the conferences it is home of'),
  draining: z.boolean().describe('takes no new conferences'),
  startedAt: z.string(),
});
export const ClusterView = z.object({
  self: z.string().describe('the node that answered'),
  nodes: z.array(ClusterNodeView),
  orphans: z.array(z.object({ conference: z.string(), node: z.string() })).describe('homes on nodes whose lease is gone, moved on the next join or sweep'),
  relayedShareBytes: z.number().int().describe('sharing bytes the answering node relayed from home nodes to its clients'),
  cascades: z.array(z.object({
    conference: z.string(),
    home: z.string().describe('the node the share comes from, once for all viewers here'),
    viewers: z.number().int(),
    bytesFromHome: z.number().int(),
    tilesSkipped: z.number().int().describe('tile versions viewers here skipped (slow ones resynchronise)'),
  })).describe('shares of other nodes relayed to viewers on the answering node'),
});
export type ClusterView = z.infer<typeof ClusterView>;

export function clusterRoutes(root: FastifyInstance, deps: { token: string; cluster: ClusterNode }): void {
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
  app.get('/api/cluster', {
    onRequest: adminOnly,
    schema: { tags: ['administration'], summary: 'The cluster: live nodes, their load and the conferences each hosts', security, response: { 200: ClusterView } },
  }, async () => {
    const s = await deps.cluster.status();
    return {
      self: s.self,
      nodes: s.nodes.map((n) => ({ id: n.id, url: n.url, load: n.load, conferences: n.conferenceIds, draining: n.draining, startedAt: n.startedAt })),
      orphans: s.orphans,
      relayedShareBytes: deps.cluster.relayedBytes,
      cascades: deps.cluster.cascades(),
    };
  });

  app.put('/api/cluster/nodes/:id/drain', {
    onRequest: adminOnly,
    schema: {
      tags: ['administration'],
      summary: 'Drain a node (no new conferences on it; its live ones stay until they end), or undo it',
      security,
      params: z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/) }),
      body: z.object({ draining: z.boolean() }),
      response: { 200: z.object({ id: z.string(), draining: z.boolean() }) },
    },
  }, async (req) => {
    await deps.cluster.nodes.refresh();
    if (!deps.cluster.nodes.get(req.params.id)) throw new NotFoundError(`no live node ${req.params.id} in the cluster`);
    await deps.cluster.setDrain(req.params.id, req.body.draining);
    return { id: req.params.id, draining: req.body.draining };
  });
}

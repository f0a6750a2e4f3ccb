import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiError } from '@baton/protocol';
import { AGENT_TARBALL, type AgentPackage } from './AgentPackage.js';

/**
 * GET /agent/baton-agent.tgz and /agent/baton-agent.tgz.sha256: the host agent, installable with
 * `npx --yes <server>/agent/baton-agent.tgz`, and /agent/<first 16 hex of its SHA-256>/baton-agent.tgz,
 * the same file under a name of this build (what the page's command uses: npx caches by URL, so an
 * upgraded server must hand out a new one; a path, not ?v=, which zsh would take for a glob). Only
 * these names exist (no file system lookup of what the client asks for, so no traversal); the ETag
 * is the content hash.
 */
export function agentRoutes(root: FastifyInstance, deps: { agent: AgentPackage }): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const tags = ['agent'];
  const tarball = { description: 'the agent package', content: { 'application/gzip': { schema: z.string() } } };
  const notFound = (reply: FastifyReply, what: string) =>
    reply.code(404).send({ error: { code: 'not_found', message: what } } satisfies ApiError);

  const send = (req: FastifyRequest, reply: FastifyReply, sha: boolean) => {
    const t = deps.agent.get();
    if (!t) return notFound(reply, 'the agent is not packed on this server: run `npm run build`');
    const etag = `"${t.sha256}${sha ? '-sha256' : ''}"`;
    // Revalidated on every use: a rebuilt server serves a new agent under the same name.
    reply.header('ETag', etag).header('Cache-Control', 'no-cache').header('X-Content-Type-Options', 'nosniff');
    const inm = req.headers['if-none-match'];
    if (inm && inm.split(',').some((v) => v.trim() === etag || v.trim() === `W/${etag}` || v.trim() === '*')) return reply.code(304).send();
    if (sha) return reply.type('text/plain; charset=utf-8').send(`${t.sha256}  ${AGENT_TARBALL}\n`);
    return reply.type('application/gzip').header('Content-Disposition', `attachment; filename="${AGENT_TARBALL}"`).send(t.bytes);
  };

  app.get(`/agent/${AGENT_TARBALL}`, { schema: { tags, summary: 'The host agent, for `npx --yes <this URL> share …`', response: { 200: tarball } } }, (req, reply) => {
    send(req, reply, false);
  });
  app.get(`/agent/${AGENT_TARBALL}.sha256`, { schema: { tags, summary: 'SHA-256 of the agent package (sha256sum format)', response: { 200: { description: 'the hash', content: { 'text/plain': { schema: z.string() } } } } } }, (req, reply) => {
    send(req, reply, true);
  });
  const versioned = { tags, summary: 'The agent package under the name of this build (what the meeting page\'s command uses)', params: z.object({ version: z.string().describe('first 16 hex digits of its SHA-256') }), response: { 200: tarball } };
  app.get(`/agent/:version/${AGENT_TARBALL}`, { schema: versioned }, (req, reply) => {
    // Another build's name is a 404, not today's file under yesterday's name.
    if (deps.agent.get()?.sha256.slice(0, 16) !== req.params.version) notFound(reply, 'no such build of the agent on this server');
    else send(req, reply, false);
  });
  // Anything else under /agent/ is a plain 404, not the web client's index.html.
  app.get('/agent/*', { schema: { hide: true }, config: { undocumented: 'not an endpoint: a 404 for any other name under /agent/' } }, (req, reply) => notFound(reply, 'no such file'));
}

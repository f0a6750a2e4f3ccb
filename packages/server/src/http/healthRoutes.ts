/**
 * GET /healthz and /readyz, for systemd watchdogs, load balancers and reverse proxies (docs/deploy.md).
 * /healthz: the process answers (liveness; restart it when this fails). /readyz: it can serve
 * meetings: the store answers within a second and the server is not shutting down; audio is
 * reported but optional (meetings run without it), so it never makes the server unready.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Store } from '../store/Store.js';

const STORE_TIMEOUT_MS = 1000;

export const Health = z.object({ ok: z.literal(true), conferences: z.number().int().describe('live conferences') });
export const Readiness = z.object({
  ready: z.boolean(),
  store: z.enum(['ok', 'unreachable']),
  shuttingDown: z.boolean(),
  audio: z.enum(['ready', 'down', 'unconfigured']).describe('optional: down or unconfigured audio does not make the server unready'),
  error: z.string().optional(),
});

export function healthRoutes(
  root: FastifyInstance,
  deps: { store: Store; conferences: () => number; audio: () => 'ready' | 'down' | 'unconfigured'; shuttingDown: () => boolean },
): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const tags = ['operations'];
  app.get('/healthz', { schema: { tags, summary: 'Liveness: the process answers', response: { 200: Health } } }, async () => ({ ok: true as const, conferences: deps.conferences() }));

  app.get('/readyz', { schema: { tags, summary: 'Readiness: the store answers and the server is not shutting down (503 otherwise)', response: { 200: Readiness, 503: Readiness } } }, async (_req, reply) => {
    let error: string | undefined;
    try {
      await withTimeout(deps.store.ping(), STORE_TIMEOUT_MS);
    } catch (err) {
      error = `store: ${(err as Error).message}`;
    }
    const shuttingDown = deps.shuttingDown();
    const ready = !error && !shuttingDown;
    const body = { ready, store: error ? ('unreachable' as const) : ('ok' as const), shuttingDown, audio: deps.audio(), ...(error ? { error } : {}) };
    return reply.code(ready ? 200 : 503).send(body);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

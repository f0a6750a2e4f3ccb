/**
 * GET /metrics for Prometheus. Off unless a token is configured (--metrics-token); the scraper sends
 * it as `Authorization: Bearer <token>`. Without it, or with a wrong one, the answer is 404 or 401,
 * so the page is never public by default.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ServerMetrics } from '../metrics/ServerMetrics.js';
import { NotFoundError, UnauthenticatedError } from '../errors.js';

export function metricsRoute(app: FastifyInstance, deps: { token: string | null; metrics: ServerMetrics }): void {
  const { token, metrics } = deps;
  const schema = {
    tags: ['operations'],
    summary: 'Prometheus metrics (exists only with --metrics-token; send it as a Bearer token)',
    security: [{ bearer: [] }],
    response: { 200: z.string().describe('Prometheus text exposition format') },
  };
  // Off: a plain 404 (not the web client's index.html, which would look like an answer).
  if (!token) {
    app.get('/metrics', { schema }, async () => {
      throw new NotFoundError('metrics are off: start the server with --metrics-token');
    });
    return;
  }
  // Compare digests: equal length, constant time.
  const want = createHash('sha256').update(token).digest();
  app.get('/metrics', { schema }, async (req, reply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const got = createHash('sha256').update(m?.[1] ?? '').digest();
    if (!m || !timingSafeEqual(got, want)) {
      reply.header('www-authenticate', 'Bearer realm="baton-metrics"');
      throw new UnauthenticatedError('send the metrics token as Authorization: Bearer <token>');
    }
    return reply.type(metrics.contentType).send(await metrics.metrics());
  });
}

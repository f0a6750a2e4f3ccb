/**
 * The server's structured JSON log (pino through Fastify). Every request line carries its request id
 * (reqId, also sent back as X-Request-Id), every line about a conference its id (child loggers in
 * FocusRegistry and the conference socket). Secrets never reach the log: credentials in headers and
 * in known fields are censored, and query strings are logged without their values.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyServerOptions } from 'fastify';

const SECRET_FIELDS = ['token', 'ticket', 'resume', 'resumeToken', 'agentToken', 'password', 'secret', 'credential', 'cookie', 'authorization'];

/** pino redaction paths: the fields themselves, one and two levels down, and request/response headers. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie',
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
];

/** A URL as logged: the path, and each query parameter's name with its value hidden (`?ticket=…`). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url.slice(q + 1).split('&').filter(Boolean).map((kv) => `${kv.split('=')[0]}=…`);
  return `${url.slice(0, q)}?${names.join('&')}`;
}

export function loggerOptions(opts: { level: string; stream?: { write(line: string): void } }): Pick<FastifyServerOptions, 'logger' | 'genReqId'> {
  return {
    logger: {
      level: opts.level,
      ...(opts.stream ? { stream: opts.stream } : {}),
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; socket?: { remotePort?: number } }) => ({
          method: req.method,
          url: redactUrl(req.url),
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
    },
    // Random, not a counter: ids from several servers or restarts do not collide in one log store.
    genReqId: () => randomBytes(8).toString('hex'),
  };
}

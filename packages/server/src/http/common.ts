import type { FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import type { UserRecord } from '../store/Store.js';
import type { ServerConfig } from '../config.js';
import { BadRequestError, UnauthenticatedError } from '../errors.js';

export const SESSION_COOKIE = 'baton_session';

declare module 'fastify' {
  interface FastifyRequest {
    user: UserRecord | null;
  }
}

/** Validate a request body once, at the boundary. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new BadRequestError(describeIssues(r.error));
  return r.data;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * Fastify's validator for route schemas written in zod (body, querystring, params): the same
 * parse and the same 400 as parseBody, so a route declares its schema once and it is both checked
 * and documented (http/openapi.ts).
 */
export const zodValidator: FastifySchemaCompiler<z.ZodType> = ({ schema }) => (data) => {
  const r = schema.safeParse(data ?? {});
  return r.success ? { value: r.data } : { error: new BadRequestError(describeIssues(r.error)) };
};

/** A route's `onRequest` for signed-in users only: 401 before the body is even validated. */
export async function signedIn(req: FastifyRequest): Promise<void> {
  requireUser(req);
}

/** OpenAPI `security` of a route that needs the session cookie. */
export const SESSION_SECURITY = [{ session: [] }];

/** A documented response without a body (204: Fastify sends none, whatever the handler passes). */
export const NO_CONTENT = (description: string) => z.null().describe(description);

/** `:id` in a path. */
export const IdParams = z.object({ id: z.string().describe('the meeting id (from its URL /m/<id>)') });

export function requireUser(req: FastifyRequest): UserRecord {
  if (!req.user) throw new UnauthenticatedError();
  return req.user;
}

export function userToWire(u: UserRecord) {
  return { username: u.username, displayName: u.displayName, admin: u.admin, email: u.email };
}

/** The public base URL for meeting links: configured, or from the request's own host. */
export function baseUrl(config: ServerConfig, req: FastifyRequest): string {
  if (config.publicUrl) return config.publicUrl;
  return `${req.protocol}://${req.host}`;
}

export function meetingUrl(config: ServerConfig, req: FastifyRequest, id: string): string {
  return `${baseUrl(config, req)}/m/${id}`;
}

/** A small fixed-window limiter per key (client address), for sign-in and sign-up. */
export class WindowLimiter {
  readonly #hits = new Map<string, { n: number; reset: number }>();
  constructor(private readonly max: number, private readonly windowMs: number) {}
  take(key: string, now = Date.now()): boolean {
    const h = this.#hits.get(key);
    if (!h || h.reset <= now) {
      if (this.#hits.size > 10_000) this.#hits.clear();
      this.#hits.set(key, { n: 1, reset: now + this.windowMs });
      return true;
    }
    h.n += 1;
    return h.n <= this.max;
  }
}

export type Reply = FastifyReply;

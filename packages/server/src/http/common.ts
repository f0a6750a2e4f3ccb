import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
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
  if (!r.success) {
    throw new BadRequestError(r.error.issues.slice(0, 3).map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
  }
  return r.data;
}

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

import type { FastifyInstance } from 'fastify';
import { SignInRequest, SignUpRequest } from '@baton/protocol';
import type { AccountService } from '../auth/AccountService.js';
import type { SessionService } from '../auth/SessionService.js';
import type { ServerConfig } from '../config.js';
import { ForbiddenError, RateLimitedError } from '../errors.js';
import { SESSION_COOKIE, WindowLimiter, parseBody, requireUser, userToWire } from './common.js';

export function authRoutes(app: FastifyInstance, deps: { config: ServerConfig; accounts: AccountService; sessions: SessionService }): void {
  const { config, accounts, sessions } = deps;
  // Slows password guessing: 20 attempts a minute per client address.
  const limiter = new WindowLimiter(20, 60_000);
  const limit = (ip: string) => {
    if (!limiter.take(ip)) throw new RateLimitedError('too many attempts; wait a minute');
  };

  const startSession = async (reply: import('fastify').FastifyReply, userId: string) => {
    const s = await sessions.create(userId);
    reply.setCookie(SESSION_COOKIE, s.token, {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.secureCookies,
      path: '/',
      expires: s.expiresAt,
    });
  };

  app.post('/api/auth/signup', async (req, reply) => {
    limit(req.ip);
    if (!config.signup) throw new ForbiddenError('sign-up is closed on this server; ask an administrator for an account');
    const body = parseBody(SignUpRequest, req.body);
    const user = await accounts.signUp(body);
    await startSession(reply, user.id);
    return reply.code(201).send({ user: userToWire(user) });
  });

  app.post('/api/auth/signin', async (req, reply) => {
    limit(req.ip);
    const body = parseBody(SignInRequest, req.body);
    const user = await accounts.signIn(body.username, body.password);
    await startSession(reply, user.id);
    return { user: userToWire(user) };
  });

  app.post('/api/auth/signout', async (req, reply) => {
    await sessions.destroy(req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/me', async (req) => ({ user: userToWire(requireUser(req)) }));
}

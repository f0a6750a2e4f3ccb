import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SignInRequest, SignUpRequest, User } from '@baton/protocol';
import type { AccountService } from '../auth/AccountService.js';
import type { SessionService } from '../auth/SessionService.js';
import type { ServerConfig } from '../config.js';
import { ForbiddenError, RateLimitedError } from '../errors.js';
import { NO_CONTENT, SESSION_COOKIE, SESSION_SECURITY, WindowLimiter, requireUser, signedIn, userToWire } from './common.js';

const UserBody = z.object({ user: User });

export function authRoutes(root: FastifyInstance, deps: { config: ServerConfig; accounts: AccountService; sessions: SessionService }): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { config, accounts, sessions } = deps;
  const tags = ['accounts'];
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

  const signUp = { tags, summary: 'Create an account and sign in (when self-service sign-up is open)', body: SignUpRequest, response: { 201: UserBody } };
  // Counted and refused before the body is validated, as every attempt counts.
  const signUpAllowed = async (req: { ip: string }) => {
    limit(req.ip);
    if (!config.signup) throw new ForbiddenError('sign-up is closed on this server; ask an administrator for an account');
  };
  app.post('/api/auth/signup', { onRequest: signUpAllowed, schema: signUp }, async (req, reply) => {
    const user = await accounts.signUp(req.body);
    await startSession(reply, user.id);
    return reply.code(201).send({ user: userToWire(user) });
  });

  const signIn = { tags, summary: 'Sign in: sets the session cookie', body: SignInRequest, response: { 200: UserBody } };
  app.post('/api/auth/signin', { onRequest: async (req) => limit(req.ip), schema: signIn }, async (req, reply) => {
    const body = req.body;
    const user = await accounts.signIn(body.username, body.password);
    await startSession(reply, user.id);
    return { user: userToWire(user) };
  });

  app.post('/api/auth/signout', { schema: { tags, summary: 'Sign out: ends this session', response: { 204: NO_CONTENT('signed out') } } }, async (req, reply) => {
    await sessions.destroy(req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send(null);
  });

  app.get('/api/me', { onRequest: signedIn, schema: { tags, summary: 'The signed-in user', security: SESSION_SECURITY, response: { 200: UserBody } } }, async (req) => ({ user: userToWire(requireUser(req)) }));
}

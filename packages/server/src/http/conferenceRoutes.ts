import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ConferenceListQuery, CreateConferenceRequest, InviteRequest, UpdateConferenceRequest, type ConferenceList, type ConferenceResource } from '@baton/protocol';
import type { Store, ConferenceRecord } from '../store/Store.js';
import type { FocusFactory } from '../focus/FocusFactory.js';
import type { ServerConfig } from '../config.js';
import { hashToken, newToken } from '../auth/tokens.js';
import { BadRequestError, ForbiddenError, NotFoundError } from '../errors.js';
import { meetingUrl, parseBody, requireUser } from './common.js';

const AGENT_TOKEN_TTL_MS = 10 * 60_000;

export function conferenceRoutes(app: FastifyInstance, deps: { config: ServerConfig; store: Store; factory: FocusFactory }): void {
  const { config, store, factory } = deps;
  const wire = (req: FastifyRequest, c: ConferenceRecord): ConferenceResource => ({
    id: c.id,
    url: meetingUrl(config, req, c.id),
    subject: c.subject,
    policy: c.policy,
    organizer: c.organizerUsername,
    organizerName: c.organizerName,
    createdAt: c.createdAt,
  });
  type IdParams = { Params: { id: string } };

  // One page at a time, newest first. The cursor names the last conference of the previous page
  // (its creation time and id, the list's sort key), so deleting or creating meetings between two
  // pages neither repeats nor skips any. The whole list is at most maxConferencesPerUser long.
  app.get('/api/conferences', async (req): Promise<ConferenceList> => {
    const user = requireUser(req);
    const query = parseBody(ConferenceListQuery, req.query);
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const all = await store.listConferencesByOrganizer(user.id);
    const rest = after ? all.filter((c) => c.createdAt < after.createdAt || (c.createdAt === after.createdAt && c.id > after.id)) : all;
    const page = rest.slice(0, query.limit);
    const last = page.at(-1);
    return { conferences: page.map((c) => wire(req, c)), next: rest.length > page.length && last ? encodeCursor(last) : null };
  });

  // Creations by one user run one at a time, so two racing requests cannot both take the last place.
  const creating = new Map<string, Promise<unknown>>();
  app.post('/api/conferences', async (req, reply) => {
    const user = requireUser(req);
    const body = parseBody(CreateConferenceRequest, req.body);
    const run = (creating.get(user.id) ?? Promise.resolve()).catch(() => {}).then(async () => {
      const count = (await store.listConferencesByOrganizer(user.id)).length;
      if (count >= config.maxConferencesPerUser) {
        throw new ForbiddenError(`you organize ${count} meetings, the most this server allows (${config.maxConferencesPerUser}); delete some first`);
      }
      return factory.create(user, body);
    });
    creating.set(user.id, run);
    try {
      return reply.code(201).send(wire(req, await run));
    } finally {
      if (creating.get(user.id) === run) creating.delete(user.id);
    }
  });

  app.get<IdParams>('/api/conferences/:id', async (req) => wire(req, await factory.getOwned(requireUser(req), req.params.id)));

  // Anyone holding the meeting URL may see what it is before joining.
  app.get<IdParams>('/api/conferences/:id/preview', async (req) => {
    const c = await store.getConference(req.params.id);
    if (!c) throw new NotFoundError('no such meeting; check the link');
    return { id: c.id, subject: c.subject, organizer: c.organizerUsername, organizerName: c.organizerName, guests: c.policy.guests };
  });

  app.patch<IdParams>('/api/conferences/:id', async (req) => {
    const body = parseBody(UpdateConferenceRequest, req.body);
    return wire(req, await factory.modify(requireUser(req), req.params.id, body));
  });

  app.delete<IdParams>('/api/conferences/:id', async (req, reply) => {
    await factory.delete(requireUser(req), req.params.id);
    return reply.code(204).send();
  });

  app.post<IdParams>('/api/conferences/:id/invitations', async (req) => {
    const user = requireUser(req);
    const c = await factory.getOwned(user, req.params.id);
    const body = parseBody(InviteRequest, req.body);
    const users = await store.getUsersByUsernames(body.users);
    const unknown = body.users.filter((u) => !users.some((x) => x.username === u));
    if (unknown.length) throw new NotFoundError(`no such user: ${unknown.join(', ')}`);
    const ids = new Set(users.map((u) => u.id));
    for (const g of body.groups) {
      const members = await store.getGroupMembers(g);
      if (!members) throw new NotFoundError(`no such group: ${g}`);
      members.forEach((m) => ids.add(m.id));
    }
    ids.delete(user.id);
    const added = await store.addInvitations(c.id, [...ids], user.id);
    const names = await Promise.all(added.map((id) => store.getUserById(id)));
    return { invited: names.flatMap((u) => (u ? [u.username] : [])) };
  });

  app.get('/api/invitations', async (req) => {
    const user = requireUser(req);
    const list = await store.listInvitationsForUser(user.id);
    return {
      invitations: list.map((i) => ({ conferenceId: i.conferenceId, url: meetingUrl(config, req, i.conferenceId), subject: i.subject, invitedBy: i.invitedByUsername, at: i.createdAt })),
    };
  });

  app.get('/api/groups', async (req) => {
    requireUser(req);
    return { groups: (await store.listGroups()).map((g) => ({ name: g.name })) };
  });

  // A one-time token for `baton-agent share`: the agent joins as this user, for this conference only.
  app.post<IdParams>('/api/conferences/:id/agent-tokens', async (req) => {
    const user = requireUser(req);
    const c = await store.getConference(req.params.id);
    if (!c) throw new NotFoundError('no such conference');
    const token = newToken();
    const expiresAt = new Date(Date.now() + AGENT_TOKEN_TTL_MS);
    await store.createAgentToken(hashToken(token), { conferenceId: c.id, userId: user.id }, expiresAt);
    return { token, expiresAt: expiresAt.toISOString(), command: `npx baton-agent share ${meetingUrl(config, req, c.id)} --token ${token}` };
  });
}

function encodeCursor(c: ConferenceRecord): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return { createdAt: v[0], id: v[1] };
  } catch {
    /* below */
  }
  throw new BadRequestError('cursor: not one this server gave out');
}

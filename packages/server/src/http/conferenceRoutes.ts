import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CreateConferenceRequest, InviteRequest, UpdateConferenceRequest, type ConferenceResource } from '@baton/protocol';
import type { Store, ConferenceRecord } from '../store/Store.js';
import type { FocusFactory } from '../focus/FocusFactory.js';
import type { ServerConfig } from '../config.js';
import { hashToken, newToken } from '../auth/tokens.js';
import { NotFoundError } from '../errors.js';
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
    createdAt: c.createdAt,
  });
  type IdParams = { Params: { id: string } };

  app.get('/api/conferences', async (req) => {
    const user = requireUser(req);
    return { conferences: (await store.listConferencesByOrganizer(user.id)).map((c) => wire(req, c)) };
  });

  app.post('/api/conferences', async (req, reply) => {
    const user = requireUser(req);
    const body = parseBody(CreateConferenceRequest, req.body);
    return reply.code(201).send(wire(req, await factory.create(user, body)));
  });

  app.get<IdParams>('/api/conferences/:id', async (req) => wire(req, await factory.getOwned(requireUser(req), req.params.id)));

  // Anyone holding the meeting URL may see what it is before joining.
  app.get<IdParams>('/api/conferences/:id/preview', async (req) => {
    const c = await store.getConference(req.params.id);
    if (!c) throw new NotFoundError('no such meeting; check the link');
    return { id: c.id, subject: c.subject, organizer: c.organizerUsername, guests: c.policy.guests };
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

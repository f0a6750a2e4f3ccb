import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AgentTokenResponse,
  ConferenceList as ConferenceListBody,
  ConferencePreview,
  ConferenceResource as ConferenceBody,
  Invitation,
  InviteResponse as InviteResponseBody,
  InviteSuggestions as InviteSuggestionsBody,
  ConferenceListQuery,
  CreateConferenceRequest,
  InviteRequest,
  InviteSuggestQuery,
  MAX_INVITE_SUGGESTIONS,
  UpdateConferenceRequest,
  type ConferenceList,
  type ConferenceResource,
  type InviteResponse,
  type InviteSuggestions,
} from '@baton/protocol';
import type { Store, ConferenceRecord } from '../store/Store.js';
import type { FocusFactory } from '../focus/FocusFactory.js';
import type { ServerConfig } from '../config.js';
import { hashToken, newToken } from '../auth/tokens.js';
import { BadRequestError, ForbiddenError, NotFoundError, RateLimitedError } from '../errors.js';
import { RateLimiter } from '../util/RateLimiter.js';
import { IdParams, NO_CONTENT, SESSION_SECURITY, baseUrl, meetingUrl, requireUser, signedIn } from './common.js';
import { AGENT_TARBALL, type AgentPackage } from './AgentPackage.js';
import type { CalendarMail } from '../schedule/CalendarMail.js';
import { nextOccurrence, scheduleToWire } from '../schedule/recurrence.js';
import { meetingCalendar } from '../schedule/icsCalendar.js';

const AGENT_TOKEN_TTL_MS = 10 * 60_000;
/** Autocomplete asks once per pause in typing; this leaves room for fast typists, not for enumeration. */
const SUGGEST_RATE = { burst: 30, perSecond: 5 };

export function conferenceRoutes(
  root: FastifyInstance,
  deps: { config: ServerConfig; store: Store; factory: FocusFactory; agent: AgentPackage; mail: CalendarMail },
): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { config, store, factory, mail } = deps;
  /** A signed-in route's options: 401 first, then the schema. */
  const owned = <S extends object>(summary: string, schema: S) => ({
    onRequest: signedIn,
    schema: { tags: ['meetings'], summary, security: SESSION_SECURITY, ...schema },
  });
  const wire = (req: FastifyRequest, c: ConferenceRecord): ConferenceResource => ({
    id: c.id,
    url: meetingUrl(config, req, c.id),
    subject: c.subject,
    policy: c.policy,
    organizer: c.organizerUsername,
    organizerName: c.organizerName,
    createdAt: c.createdAt,
    schedule: scheduleToWire(c, Date.now()),
  });

  // One page at a time, newest first. The cursor names the last conference of the previous page
  // (its creation time and id, the list's sort key), so deleting or creating meetings between two
  // pages neither repeats nor skips any. The whole list is at most maxConferencesPerUser long.
  app.get('/api/conferences', owned('The meetings you organize, a page at a time, newest first', { querystring: ConferenceListQuery, response: { 200: ConferenceListBody } }), async (req): Promise<ConferenceList> => {
    const user = requireUser(req);
    const query = req.query;
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const all = await store.listConferencesByOrganizer(user.id);
    const rest = after ? all.filter((c) => c.createdAt < after.createdAt || (c.createdAt === after.createdAt && c.id > after.id)) : all;
    const page = rest.slice(0, query.limit);
    const last = page.at(-1);
    return { conferences: page.map((c) => wire(req, c)), next: rest.length > page.length && last ? encodeCursor(last) : null };
  });

  // Creations by one user run one at a time, so two racing requests cannot both take the last place.
  const creating = new Map<string, Promise<unknown>>();
  app.post('/api/conferences', owned('Create a meeting', { body: CreateConferenceRequest, response: { 201: ConferenceBody } }), async (req, reply) => {
    const user = requireUser(req);
    const body = req.body;
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

  app.get('/api/conferences/:id', owned('One of your meetings', { params: IdParams, response: { 200: ConferenceBody } }), async (req) => wire(req, await factory.getOwned(requireUser(req), req.params.id)));

  // Anyone holding the meeting URL may see what it is before joining.
  const preview = { tags: ['meetings'], summary: 'What a meeting is, for anyone holding its URL (no sign-in)', params: IdParams, response: { 200: ConferencePreview } };
  app.get('/api/conferences/:id/preview', { schema: preview }, async (req) => {
    const c = await store.getConference(req.params.id);
    if (!c) throw new NotFoundError('no such meeting; check the link');
    const next = c.schedule && nextOccurrence(c.schedule, Date.now());
    return {
      id: c.id,
      subject: c.subject,
      organizer: c.organizerUsername,
      organizerName: c.organizerName,
      guests: c.policy.guests,
      next: next ? { start: new Date(next.start).toISOString(), end: new Date(next.end).toISOString(), timeZone: c.schedule!.timeZone } : null,
    };
  });

  // A change of time or subject raises the .ics SEQUENCE and mails the update to the invitees (after the answer).
  app.patch('/api/conferences/:id', owned('Change a meeting\'s subject, policy or time (live meetings follow at once; invitees are mailed a changed time)', { params: IdParams, body: UpdateConferenceRequest, response: { 200: ConferenceBody } }), async (req) => {
    const { record, changed } = await factory.modify(requireUser(req), req.params.id, req.body);
    if (changed) mail.changed(record, meetingUrl(config, req, record.id));
    return wire(req, record);
  });

  // The invitees are read before the delete, for the cancellation mail.
  app.delete('/api/conferences/:id', owned('Delete a meeting (ends it if live; invitees are mailed a cancellation)', { params: IdParams, response: { 204: NO_CONTENT('deleted') } }), async (req, reply) => {
    const user = requireUser(req);
    const rec = await factory.getOwned(user, req.params.id);
    const invitees = mail.enabled ? await store.listInvitees(rec.id) : [];
    await factory.delete(user, req.params.id);
    mail.cancelled(rec, invitees, meetingUrl(config, req, rec.id));
    return reply.code(204).send(null);
  });

  // Entries that name nobody are reported, and the others still invited; when all are unknown,
  // nothing happens and the answer is 404 naming them.
  const invite = owned('Invite users and the members of distribution groups', { params: IdParams, body: InviteRequest, response: { 200: InviteResponseBody } });
  app.post('/api/conferences/:id/invitations', invite, async (req): Promise<InviteResponse> => {
    const user = requireUser(req);
    const c = await factory.getOwned(user, req.params.id);
    const body = req.body;
    const users = await store.getUsersByUsernames(body.users);
    const unknownUsers = [...new Set(body.users.filter((u) => !users.some((x) => x.username === u)))];
    const ids = new Set(users.map((u) => u.id));
    const unknownGroups: string[] = [];
    for (const g of new Set(body.groups)) {
      const members = await store.getGroupMembers(g);
      if (!members) unknownGroups.push(g);
      else members.forEach((m) => ids.add(m.id));
    }
    if (unknownUsers.length + unknownGroups.length > 0 && users.length === 0 && unknownGroups.length === new Set(body.groups).size) {
      throw new NotFoundError(notFoundText(unknownUsers, unknownGroups));
    }
    ids.delete(user.id);
    const added = await store.addInvitations(c.id, [...ids], user.id);
    const names = await Promise.all(added.map((id) => store.getUserById(id)));
    // Each new invitee (group members included) with an address gets a mail, sent after this answer.
    mail.invited(c, names.flatMap((u) => (u ? [u] : [])), meetingUrl(config, req, c.id));
    return {
      invited: names.flatMap((u) => (u ? [u.username] : [])),
      ...(unknownUsers.length + unknownGroups.length > 0 ? { notFound: { users: unknownUsers, groups: unknownGroups } } : {}),
    };
  });

  // The organizer's autocomplete: only who may invite to this meeting may search, a few matches at
  // a time, rate-limited per user; usernames and display names only.
  const suggestLimit = new RateLimiter(SUGGEST_RATE);
  const suggest = owned('The organizer\'s autocomplete over users and groups', { params: IdParams, querystring: InviteSuggestQuery, response: { 200: InviteSuggestionsBody } });
  app.get('/api/conferences/:id/invite-suggestions', suggest, async (req): Promise<InviteSuggestions> => {
    const user = requireUser(req);
    await factory.getOwned(user, req.params.id);
    if (!suggestLimit.take(user.id)) throw new RateLimitedError('too many searches; wait a moment');
    const { q } = req.query;
    const text = q.toLowerCase();
    const [users, groups] = await Promise.all([store.searchUsers(text, MAX_INVITE_SUGGESTIONS + 1), store.listGroups()]);
    return {
      users: users
        .filter((u) => u.id !== user.id)
        .slice(0, MAX_INVITE_SUGGESTIONS)
        .map((u) => ({ username: u.username, displayName: u.displayName })),
      groups: groups
        .filter((g) => g.name.toLowerCase().includes(text))
        .slice(0, MAX_INVITE_SUGGESTIONS)
        .map((g) => ({ name: g.name })),
    };
  });

  // The organizer opens a scheduled meeting early: guests waiting for the start go on per the lobby policy.
  app.post('/api/conferences/:id/open', owned('Open a scheduled meeting before its start (guests waiting go on per the lobby policy)', { params: IdParams, response: { 200: ConferenceBody } }), async (req) => wire(req, await factory.open(requireUser(req), req.params.id)));

  // The meeting's .ics (METHOD:PUBLISH), for its organizer and its invitees.
  const ics = owned('The meeting\'s iCalendar file (organizer and invitees)', { params: IdParams, response: { 200: { description: 'RFC 5545 calendar', content: { 'text/calendar': { schema: z.string() } } } } });
  app.get('/api/conferences/:id/ics', ics, async (req, reply) => {
    const user = requireUser(req);
    const c = await store.getConference(req.params.id);
    if (!c) throw new NotFoundError('no such conference');
    if (c.organizerId !== user.id && !(await store.listInvitees(c.id)).some((u) => u.id === user.id)) {
      throw new ForbiddenError('only the organizer and invitees may download this meeting');
    }
    if (!c.schedule) throw new NotFoundError('this meeting has no time; schedule it first');
    const ics = meetingCalendar({ method: 'PUBLISH', meetings: [await mail.icsMeeting(c, meetingUrl(config, req, c.id))] });
    return reply
      .type('text/calendar; charset=utf-8')
      .header('content-disposition', `attachment; filename="${icsFileName(c.subject)}"`)
      .header('cache-control', 'private, no-store')
      .send(ics);
  });

  app.get('/api/invitations', owned('Meetings you were invited to', { response: { 200: z.object({ invitations: z.array(Invitation) }) } }), async (req) => {
    const user = requireUser(req);
    const list = await store.listInvitationsForUser(user.id);
    return {
      invitations: list.map((i) => ({ conferenceId: i.conferenceId, url: meetingUrl(config, req, i.conferenceId), subject: i.subject, invitedBy: i.invitedByUsername, at: i.createdAt })),
    };
  });

  app.get('/api/groups', owned('Distribution groups (to invite)', { response: { 200: z.object({ groups: z.array(z.object({ name: z.string() })) }) } }), async (req) => {
    requireUser(req);
    return { groups: (await store.listGroups()).map((g) => ({ name: g.name })) };
  });

  // A one-time token for `baton-agent share`: the agent joins as this user, for this conference only.
  app.post('/api/conferences/:id/agent-tokens', owned('A one-time token and command for `baton-agent share`', { params: IdParams, response: { 200: AgentTokenResponse } }), async (req) => {
    const user = requireUser(req);
    const c = await store.getConference(req.params.id);
    if (!c) throw new NotFoundError('no such conference');
    const token = newToken();
    const expiresAt = new Date(Date.now() + AGENT_TOKEN_TTL_MS);
    await store.createAgentToken(hashToken(token), { conferenceId: c.id, userId: user.id }, expiresAt);
    // With the agent packed, the command installs it from this server (a host needs only Node.js);
    // The path names this build, so npx does not reuse an older agent it cached under the same URL.
    const packed = deps.agent.get();
    const agent = packed ? { url: `${baseUrl(config, req)}/agent/${packed.sha256.slice(0, 16)}/${AGENT_TARBALL}`, sha256: packed.sha256 } : null;
    const run = agent ? `npx --yes ${agent.url}` : 'npx baton-agent';
    return { token, expiresAt: expiresAt.toISOString(), command: `${run} share ${meetingUrl(config, req, c.id)} --token ${token}`, agent };
  });
}

/** A file name from the subject: letters, digits, dash and underscore only (header-safe). */
export function icsFileName(subject: string): string {
  const base = subject.normalize('NFKD').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return `${base || 'meeting'}.ics`;
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

function notFoundText(users: string[], groups: string[]): string {
  return [users.length ? `no such user: ${users.join(', ')}` : '', groups.length ? `no such group: ${groups.join(', ')}` : ''].filter(Boolean).join('; ');
}

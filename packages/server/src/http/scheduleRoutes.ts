/**
 * Scheduling routes besides the conference ones: the dashboard's upcoming meetings, the per-user
 * calendar feed (a secret URL a calendar program subscribes to; only a hash of its token is stored,
 * regenerating replaces it, revoking deletes it) and the user's e-mail address for invitations.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CalendarFeedCreated as CalendarFeedCreatedBody,
  CalendarFeedQuery,
  CalendarFeedStatus as CalendarFeedStatusBody,
  UpcomingList as UpcomingListBody,
  UpdateMeRequest,
  User,
  type CalendarFeedCreated,
  type CalendarFeedStatus,
  type UpcomingList,
} from '@baton/protocol';
import type { Store } from '../store/Store.js';
import type { ServerConfig } from '../config.js';
import { hashToken, newToken } from '../auth/tokens.js';
import { NotFoundError } from '../errors.js';
import type { CalendarMail } from '../schedule/CalendarMail.js';
import { meetingCalendar } from '../schedule/icsCalendar.js';
import { nextOccurrence, waitsForOrganizer } from '../schedule/recurrence.js';
import { NO_CONTENT, SESSION_SECURITY, baseUrl, meetingUrl, requireUser, signedIn, userToWire } from './common.js';

/** Upcoming meetings listed at most. */
const MAX_UPCOMING = 100;
export const FEED_PATH = '/calendar/feed.ics';

export function scheduleRoutes(root: FastifyInstance, deps: { config: ServerConfig; store: Store; mail: CalendarMail }): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { config, store, mail } = deps;
  /** A signed-in route's options (OpenAPI: http/openapi.ts): 401 first, then the schema. */
  const mine = <S extends object>(summary: string, schema: S) => ({
    onRequest: signedIn,
    schema: { tags: ['calendar'], summary, security: SESSION_SECURITY, ...schema },
  });

  // Meetings I organize or am invited to, by the start of their occurrence in progress or next one.
  app.get('/api/upcoming', mine('Meetings you organize or are invited to, by their next start', { response: { 200: UpcomingListBody } }), async (req): Promise<UpcomingList> => {
    const user = requireUser(req);
    const now = Date.now();
    const meetings = (await store.listScheduledFor(user.id)).flatMap(({ conference: c, role }) => {
      const next = c.schedule && nextOccurrence(c.schedule, now);
      if (!next) return [];
      return [
        {
          id: c.id,
          url: meetingUrl(config, req, c.id),
          subject: c.subject,
          organizer: c.organizerUsername,
          organizerName: c.organizerName,
          role,
          start: new Date(next.start).toISOString(),
          end: new Date(next.end).toISOString(),
          timeZone: c.schedule!.timeZone,
          recurring: c.schedule!.rrule !== null,
          opened: !waitsForOrganizer(c, now),
          ics: `/api/conferences/${encodeURIComponent(c.id)}/ics`,
        },
      ];
    });
    meetings.sort((a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id));
    return { meetings: meetings.slice(0, MAX_UPCOMING) };
  });

  app.get('/api/calendar-feed', mine('Whether your calendar feed URL is active', { response: { 200: CalendarFeedStatusBody } }), async (req): Promise<CalendarFeedStatus> => {
    const feed = await store.getCalendarFeed(requireUser(req).id);
    return { active: feed !== undefined, createdAt: feed?.createdAt ?? null };
  });

  // A new secret URL; the one before stops working. The token is shown this once.
  app.post('/api/calendar-feed', mine('A new secret calendar feed URL (the one before stops working; shown this once)', { response: { 201: CalendarFeedCreatedBody } }), async (req, reply) => {
    const user = requireUser(req);
    const token = newToken();
    const { createdAt } = await store.setCalendarFeed(user.id, hashToken(token));
    return reply.code(201).send({ url: `${baseUrl(config, req)}${FEED_PATH}?token=${token}`, createdAt } satisfies CalendarFeedCreated);
  });

  app.delete('/api/calendar-feed', mine('Revoke your calendar feed URL', { response: { 204: NO_CONTENT('revoked') } }), async (req, reply) => {
    await store.deleteCalendarFeed(requireUser(req).id);
    return reply.code(204).send(null);
  });

  // The feed itself: no session (calendar programs have none), the token in the query (logged without
  // its value). An unknown or revoked token is a 404, like a URL that never existed.
  // The query is checked here, not by a schema: a malformed token is a 404 like an unknown one.
  const feed = {
    tags: ['calendar'],
    summary: 'The calendar feed a calendar program subscribes to: ?token=<the secret from POST /api/calendar-feed> (no session)',
    response: { 200: { description: 'RFC 5545 calendar', content: { 'text/calendar': { schema: z.string() } } } },
  };
  app.get(FEED_PATH, { schema: feed }, async (req, reply) => {
    const q = CalendarFeedQuery.safeParse(req.query ?? {});
    const user = q.success ? await store.getCalendarFeedUser(hashToken(q.data.token)) : undefined;
    if (!user) throw new NotFoundError('no such calendar feed');
    const list = await store.listScheduledFor(user.id);
    const meetings = await Promise.all(list.map(({ conference: c }) => mail.icsMeeting(c, meetingUrl(config, req, c.id))));
    return reply
      .type('text/calendar; charset=utf-8')
      .header('cache-control', 'private, no-store')
      .send(meetingCalendar({ method: 'PUBLISH', meetings, name: `Baton: ${user.displayName}` }));
  });

  // My address for invitation mails (null removes it).
  app.patch('/api/me', mine('Set or remove your e-mail address for invitation mails', { body: UpdateMeRequest, response: { 200: z.object({ user: User }) } }), async (req) => {
    const user = requireUser(req);
    const body = req.body;
    await store.setEmail(user.id, body.email);
    return { user: userToWire({ ...user, email: body.email }) };
  });
}

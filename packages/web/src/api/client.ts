/** The REST API, typed and validated with the protocol's schemas. The session is an HttpOnly cookie. */
import {
  AgentTokenResponse,
  ConferenceList,
  ConferencePreview,
  ConferenceResource,
  Invitation,
  InviteResponse,
  InviteSuggestions,
  User,
  UpcomingList,
  CalendarFeedStatus,
  CalendarFeedCreated,
  RecordingIndex,
  RecordingList,
  RecordingResource,
  ExportState,
  type ExportFormat,
  type CreateConferenceRequest,
  type UpdateConferenceRequest,
} from '@baton/protocol';
import { z } from 'zod';
import i18n from '../i18n';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

async function call<S extends z.ZodType>(method: string, path: string, body: unknown, schema: S): Promise<z.infer<S>>;
async function call(method: string, path: string, body?: unknown): Promise<void>;
async function call(method: string, path: string, body?: unknown, schema?: z.ZodType): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiRequestError(0, 'network', 'Cannot reach the server. Check your connection.');
  }
  const text = await res.text();
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      /* handled below */
    }
  }
  if (!res.ok) {
    const parsed = ErrorBody.safeParse(json);
    if (parsed.success) throw new ApiRequestError(res.status, parsed.data.error.code, parsed.data.error.message);
    throw new ApiRequestError(res.status, 'http', `The server answered ${res.status} ${res.statusText}`.trim());
  }
  if (!schema) return undefined;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    console.error(`baton: unexpected response to ${method} ${path}`, parsed.error.issues);
    throw new ApiRequestError(res.status, 'bad_response', 'The server sent an unexpected response.');
  }
  return parsed.data;
}

const UserBody = z.object({ user: User });
const id = (s: string) => encodeURIComponent(s);

export const api = {
  /** The signed-in user, or null when signed out. */
  async me(): Promise<User | null> {
    try {
      return (await call('GET', '/api/me', undefined, UserBody)).user;
    } catch (e) {
      if (e instanceof ApiRequestError && e.status === 401) return null;
      throw e;
    }
  },
  async signUp(body: { username: string; password: string; displayName?: string }): Promise<User> {
    return (await call('POST', '/api/auth/signup', body, UserBody)).user;
  },
  async signIn(body: { username: string; password: string }): Promise<User> {
    return (await call('POST', '/api/auth/signin', body, UserBody)).user;
  },
  signOut: (): Promise<void> => call('POST', '/api/auth/signout'),

  /** One page of the meetings I organize, newest first; pass the previous page's `next` for the following one. */
  conferences: (page: { cursor?: string | null; limit?: number } = {}): Promise<ConferenceList> => {
    const q = new URLSearchParams();
    if (page.limit) q.set('limit', String(page.limit));
    if (page.cursor) q.set('cursor', page.cursor);
    const query = q.toString();
    return call('GET', `/api/conferences${query ? `?${query}` : ''}`, undefined, ConferenceList);
  },
  createConference: (body: CreateConferenceRequest) => call('POST', '/api/conferences', body, ConferenceResource),
  conference: (conferenceId: string) => call('GET', `/api/conferences/${id(conferenceId)}`, undefined, ConferenceResource),
  preview: (conferenceId: string) => call('GET', `/api/conferences/${id(conferenceId)}/preview`, undefined, ConferencePreview),
  // The PATCH answer is not needed: callers reload the list.
  updateConference: (conferenceId: string, body: UpdateConferenceRequest): Promise<void> =>
    call('PATCH', `/api/conferences/${id(conferenceId)}`, body),
  deleteConference: (conferenceId: string): Promise<void> => call('DELETE', `/api/conferences/${id(conferenceId)}`),

  async invite(conferenceId: string, body: { users: string[]; groups: string[] }): Promise<InviteResponse> {
    return call('POST', `/api/conferences/${id(conferenceId)}/invitations`, body, InviteResponse);
  },
  /** The organizer's autocomplete: users and groups whose names contain `q`. */
  async inviteSuggestions(conferenceId: string, q: string): Promise<InviteSuggestions> {
    return call('GET', `/api/conferences/${id(conferenceId)}/invite-suggestions?q=${encodeURIComponent(q)}`, undefined, InviteSuggestions);
  },
  async invitations(): Promise<Invitation[]> {
    return (await call('GET', '/api/invitations', undefined, z.object({ invitations: z.array(Invitation) }))).invitations;
  },
  async groups(): Promise<string[]> {
    return (await call('GET', '/api/groups', undefined, z.object({ groups: z.array(z.object({ name: z.string() })) }))).groups.map((g) => g.name);
  },
  /** Meetings I organize or am invited to, by their next occurrence. */
  upcoming: async () => (await call('GET', '/api/upcoming', undefined, UpcomingList)).meetings,
  /** The organizer opens a scheduled meeting early (guests stop waiting for the start). */
  openConference: (conferenceId: string) => call('POST', `/api/conferences/${id(conferenceId)}/open`, {}, ConferenceResource),
  calendarFeed: () => call('GET', '/api/calendar-feed', undefined, CalendarFeedStatus),
  createCalendarFeed: () => call('POST', '/api/calendar-feed', {}, CalendarFeedCreated),
  revokeCalendarFeed: (): Promise<void> => call('DELETE', '/api/calendar-feed'),
  async updateEmail(email: string | null): Promise<User> {
    return (await call('PATCH', '/api/me', { email }, UserBody)).user;
  },
  agentToken: (conferenceId: string) => call('POST', `/api/conferences/${id(conferenceId)}/agent-tokens`, {}, AgentTokenResponse),

  /** Recordings I own or that were shared with me, newest first. */
  async recordings(): Promise<RecordingResource[]> {
    return (await call('GET', '/api/recordings', undefined, RecordingList)).recordings;
  },
  recording: (recordingId: string) => call('GET', `/api/recordings/${id(recordingId)}`, undefined, RecordingResource),
  recordingIndex: (recordingId: string) => call('GET', `/api/recordings/${id(recordingId)}/index`, undefined, RecordingIndex),
  /** Bytes [from, to) of the recording's screen file. */
  async recordingScreen(recordingId: string, from: number, to: number): Promise<Uint8Array> {
    const res = await fetch(`/api/recordings/${id(recordingId)}/screen?from=${from}&to=${to}`, { credentials: 'same-origin' });
    if (!res.ok) throw new ApiRequestError(res.status, 'http', `The server answered ${res.status} for the recording`);
    return new Uint8Array(await res.arrayBuffer());
  },
  shareRecording: (recordingId: string, users: string[]) => call('POST', `/api/recordings/${id(recordingId)}/shares`, { users }, RecordingResource),
  unshareRecording: (recordingId: string, username: string): Promise<void> => call('DELETE', `/api/recordings/${id(recordingId)}/shares/${id(username)}`),
  deleteRecording: (recordingId: string): Promise<void> => call('DELETE', `/api/recordings/${id(recordingId)}`),
  startExport: (recordingId: string, format: ExportFormat) => call('POST', `/api/recordings/${id(recordingId)}/exports`, { format }, ExportState),
};

/** A message fit to show a person, whatever was thrown. */
export function errorText(e: unknown): string {
  // The client's own failures in the UI's language; the server's messages stay its own words.
  if (e instanceof ApiRequestError && (e.code === 'network' || e.code === 'bad_response')) return i18n.t(`errors.${e.code}`);
  if (e instanceof ApiRequestError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

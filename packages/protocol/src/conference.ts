/**
 * The conference WebSocket protocol: JSON text frames, one message per frame, tagged by `type`.
 * Every message is decoded and validated once, here, at the boundary; code behind it works with the
 * tagged unions below. See docs/protocol.md.
 */
import { z } from 'zod';
import { ControlPolicy, MeetingPolicy, MeetingPolicyPatch } from './policy.js';
import { ROLE_NAMES } from './roles.js';
import { ERROR_CODES } from './errors.js';
import { AudioSdp, AudioState, PhoneNumber } from './audio.js';
import { safeText } from './text.js';
import { Poll, PollDraft, Question, QuestionText, MAX_POLL_OPTIONS } from './data.js';
import { StageState, StageView } from './stage.js';
import { Mark, MarkAuthor, MarkDraft, MarkRemoval, Point, Surface, MAX_LASER_POINTS } from './annotation.js';
import { SlidesState, MAX_SLIDE_PAGES } from './slides.js';
import { WbUpdateB64 } from './whiteboard.js';

/** Largest text frame the conference socket accepts; larger ones close the connection (1009). */
export const MAX_CONFERENCE_FRAME = 16 * 1024;
export const MAX_CHAT_LENGTH = 2000;
export const MAX_NAME_LENGTH = 64;
export const MAX_SUBJECT_LENGTH = 200;
/** How long a dropped participant keeps its seat. */
export const RECONNECT_GRACE_MS = 30_000;

export const Id = z.string().min(1).max(64);
const Rid = z.union([z.string().max(64), z.number().int()]).optional();
export const DisplayName = safeText(
  z
    .string()
    .trim()
    .min(1, 'name is empty')
    .max(MAX_NAME_LENGTH, `name is longer than ${MAX_NAME_LENGTH} characters`),
  'name',
);
/** A chat message body: newlines allowed, no other control or invisible formatting characters. */
export const ChatText = safeText(
  z.string().min(1, 'message is empty').max(MAX_CHAT_LENGTH, `message is longer than ${MAX_CHAT_LENGTH} characters`),
  'message',
  { multiline: true },
);
export const RoleNameSchema = z.enum(ROLE_NAMES);
export const ClientKind = z.enum(['web', 'agent']);
export type ClientKind = z.infer<typeof ClientKind>;
export const ShareKind = z.enum(['agent', 'browser']);
export type ShareKind = z.infer<typeof ShareKind>;

// ---------------------------------------------------------------------------------------------
// Shapes shared by both directions

export const Participant = z.object({
  id: Id,
  name: z.string(),
  role: RoleNameSchema,
  /** Username of a signed-in participant; null for an anonymous guest. */
  user: z.string().nullable(),
  status: z.enum(['lobby', 'joined']),
  connection: z.enum(['online', 'reconnecting']),
  client: ClientKind,
  /**
   * The person this seat belongs to: every seat of one signed-in user (tabs, the host agent) carries
   * the same value, each guest seat its own. Clients show one entry per person with its seats as
   * devices, and count people by it. Absent from older servers: then each seat is its own person.
   */
  person: Id.optional(),
});
export type Participant = z.infer<typeof Participant>;

/** The person a participant belongs to (its seat id when the server did not say). */
export function personOf(p: Pick<Participant, 'id' | 'person'>): string {
  return p.person ?? p.id;
}

export const ChatMessage = z.object({
  id: z.number().int(),
  senderId: Id,
  senderName: z.string(),
  senderUser: z.string().nullable(),
  text: z.string(),
  at: z.string(),
  /**
   * A private message: the participant it was sent to (absent: to everyone). The server delivers it
   * only to the sender's and the recipient's seats (a signed-in party's every tab) and keeps it for
   * those two only.
   */
  to: z.object({ id: Id, name: z.string(), user: z.string().nullable() }).optional(),
  /**
   * A file shared with the meeting: download it from `/api/files/<id>/<name>` (the id is an
   * unguessable capability, like the meeting's). `deleted`: its owner or an organizer removed it.
   */
  file: z.object({ id: Id, name: z.string(), size: z.number().int(), deleted: z.boolean().optional() }).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** The reactions a participant may send: shown briefly to everyone. */
export const REACTIONS = ['👍', '👏', '😂', '🎉', '❤️'] as const;
export const ReactionEmoji = z.enum(REACTIONS);
export type ReactionEmoji = z.infer<typeof ReactionEmoji>;

/** A raised hand: one per person (any of a user's tabs raises or lowers it), in the order raised. */
export const RaisedHand = z.object({
  person: Id,
  /** The seat that raised it (another seat of the same person once that one leaves). */
  participantId: Id,
  name: z.string(),
  at: z.string(),
});
export type RaisedHand = z.infer<typeof RaisedHand>;

export const ShareState = z.object({
  hostId: Id,
  kind: ShareKind,
  /** The participant in control of the host's desktop, if any. */
  controllerId: Id.nullable(),
  /** Participants waiting for the host's answer to a control request. */
  requests: z.array(Id),
  /** Where the screen stream flows: through the server, or directly between two peers. */
  transport: z.enum(['server', 'p2p']),
  /**
   * The host paused the share (its agent's pause key or indicator): viewers keep the last picture and
   * show "Paused by host"; the agent ignores control input meanwhile. Absent while not paused.
   */
  paused: z.boolean().optional(),
});
export type ShareState = z.infer<typeof ShareState>;

/** Most sources an agent advertises (monitors and windows together). */
export const MAX_SHARE_SOURCES = 64;
/**
 * Something an agent can share: the whole screen, one monitor, or one window. `id` is the agent's
 * own ('screen', 'monitor:<name>', 'window:0x…'); `label` is for people (a monitor's name, a
 * window's title as the agent printed it, escaped). Advertised only to the host's own pages.
 */
export const ShareSource = z.object({
  id: z.string().min(1).max(80),
  kind: z.enum(['screen', 'monitor', 'window']),
  label: z.string().max(200),
  width: z.number().int().min(0).max(65535),
  height: z.number().int().min(0).max(65535),
});
export type ShareSource = z.infer<typeof ShareSource>;

/** A STUN/TURN server for WebRTC, with short-lived TURN credentials for admitted participants. */
export const IceServer = z.object({
  urls: z.array(z.string()),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServer>;

/** What travels between two peers through the Focus while they set up a direct path. */
export const SignalData = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('description'), type: z.enum(['offer', 'answer']), sdp: z.string().max(12_000) }),
  z.object({ kind: z.literal('candidate'), candidate: z.string().max(1000), mid: z.string().max(64) }),
  /**
   * The peer gave up on the direct path (ICE failed): the pair stays on the server path. `reason` is
   * an error message, not typed by anyone, so it is not refused (a refusal would stop the move to
   * the server); whoever prints it escapes it.
   */
  z.object({ kind: z.literal('failed'), reason: z.string().max(200) }),
]);
export type SignalData = z.infer<typeof SignalData>;

/** A recording in progress: everyone in the meeting (and the lobby) is told, and shown it all the time. */
export const RecordingState = z.object({
  id: Id,
  /** ISO 8601. */
  startedAt: z.string(),
  /** Who started it (display name). */
  by: z.string(),
});
export type RecordingState = z.infer<typeof RecordingState>;

export const ConferenceInfo = z.object({
  id: Id,
  subject: z.string(),
  policy: MeetingPolicy,
  organizer: z.string(),
  /** The organizer's display name (the username stays in `organizer`). */
  organizerName: z.string().optional(),
  /**
   * A scheduled meeting: the occurrence in progress or the next one, in UTC, and the organizer's time
   * zone. `opened`: the organizer opened it (or is in); until then guests wait in the lobby.
   */
  schedule: z.object({ start: z.string(), end: z.string(), timeZone: z.string(), opened: z.boolean() }).nullable().optional(),
});
export type ConferenceInfo = z.infer<typeof ConferenceInfo>;

// ---------------------------------------------------------------------------------------------
// Client -> server

const m = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), rid: Rid, ...shape }).strict();

export const Hello = m('hello', {
  v: z.number().int(),
  /** Display name; required for an anonymous guest, optional for a signed-in user. */
  name: DisplayName.optional(),
  /** Token from an earlier welcome/lobby message: take the same seat back. */
  resume: z.string().max(128).optional(),
  client: ClientKind.default('web'),
  /** One-time token that authenticates a host agent in place of a cookie. */
  agentToken: z.string().max(128).optional(),
  /** What this client can do; p2p: it can carry the sharing protocol over a WebRTC DataChannel. */
  caps: z.object({ p2p: z.boolean().optional() }).strict().optional(),
});
export type Hello = z.infer<typeof Hello>;

export const ClientMessage = z.discriminatedUnion('type', [
  Hello,
  m('ping', {}),
  /**
   * This client's page is going away (closed, or navigated elsewhere; a reload looks the same from
   * inside the page). Once the socket closes, the server keeps the seat only a few seconds for a
   * resume (the reload) instead of the full grace period, then removes it as `left`. Applies to the
   * sender's own seat only; allowed in the lobby too. No answer.
   */
  m('leave', {}),
  /** `to`: a participant id for a private message to that person (every seat of a signed-in user). */
  m('chat.send', { text: ChatText, to: Id.optional() }),
  m('role.set', { participantId: Id, role: RoleNameSchema }),
  m('lobby.admit', { participantId: Id }),
  m('lobby.deny', { participantId: Id }),
  m('participant.remove', { participantId: Id }),
  m('policy.update', { policy: MeetingPolicyPatch }),
  /** End the meeting for everyone (organizers only): all are disconnected; the meeting stays and can start again. */
  m('conference.end', {}),
  m('share.start', { kind: ShareKind }),
  m('share.stop', {}),
  /** Ask for a single-use ticket for the binary sharing socket (as host or viewer). */
  m('share.ticket', {}),
  /**
   * From the sharing agent: what it can share and what it shares now. The server keeps the latest and
   * gives it only to the seats of the host's own account (their meeting pages' "Switch source" menu).
   */
  m('share.sources', { sources: z.array(ShareSource).max(MAX_SHARE_SOURCES), current: z.string().max(80) }),
  /**
   * From the host's own meeting page (another seat of the sharing account): share this source instead.
   * The server forwards it to the agent, which switches without ending the share.
   */
  m('share.switch', { source: z.string().min(1).max(80) }),
  /**
   * From the host's own meeting page (another seat of the sharing account): pause (true) or resume the
   * agent's share. Forwarded to the agent, which pauses and then reports it with share.pause.
   */
  m('share.setPaused', { paused: z.boolean() }),
  /** From the sharing agent: the host paused (true) or resumed (false) the share. */
  m('share.pause', { paused: z.boolean() }),
  m('control.request', {}),
  m('control.release', {}),
  /** Withdraw your own pending control request; a later grant to you is refused until you ask again. */
  m('control.cancel', {}),
  m('control.grant', { participantId: Id }),
  m('control.deny', { participantId: Id }),
  m('control.revoke', {}),
  /** Relay a WebRTC offer/answer/candidate to the other party of a peer-to-peer share. */
  m('p2p.signal', { to: Id, data: SignalData }),
  /** Fresh TURN credentials (they are short-lived); answered in ack.iceServers. */
  m('ice.refresh', {}),
  /** Audio (docs/protocol.md, "Audio"): add it to the meeting, join with an SDP offer (answered in ack.sdp), leave. */
  m('audio.add', {}),
  m('audio.join', { sdp: AudioSdp, listenOnly: z.boolean().default(false) }),
  m('audio.leave', {}),
  /** Mute or unmute yourself; with participantId an organizer mutes someone else (never unmutes). */
  m('audio.mute', { muted: z.boolean(), participantId: Id.optional() }),
  /** An organizer takes a participant out of the audio (they stay in the meeting). */
  m('audio.remove', { participantId: Id }),
  /**
   * Dial a telephone into the audio over the SIP trunk (answered in ack.callId). mine: your own
   * phone (a signed-in user's number is remembered; without a number the remembered one is called);
   * otherwise the number is someone else's (organizers, or anyone under policy dialOut: anyone).
   */
  m('audio.dial', { number: PhoneNumber.optional(), mine: z.boolean().default(false) }),
  /** Hang up a telephone leg: its owner, whoever dialled it, or an organizer. */
  m('audio.hangup', { callId: Id }),
  /** Raise your hand (joins the end of the queue; raised already: nothing changes). */
  m('hand.raise', {}),
  /** Lower your own hand; with another's participantId, an organizer lowers theirs. */
  m('hand.lower', { participantId: Id.optional() }),
  /** A reaction shown briefly to everyone; rate-limited. */
  m('reaction.send', { emoji: ReactionEmoji }),
  /** Polls (docs/protocol.md, "Polls and Q&A"): create (answered in ack.id), vote, close, publish the results. */
  m('poll.create', { poll: PollDraft }),
  /** Choose option indexes (one, or several in a multiple-choice poll); voting again replaces your choice. */
  m('poll.vote', { pollId: Id, choices: z.array(z.number().int().min(0).max(MAX_POLL_OPTIONS - 1)).min(1).max(MAX_POLL_OPTIONS) }),
  m('poll.close', { pollId: Id }),
  m('poll.publish', { pollId: Id }),
  /** Ask a question; anonymous: the others are not shown who asked (answered in ack.id). */
  m('qa.ask', { text: QuestionText, anonymous: z.boolean().default(false) }),
  /** Upvote a question (up: false takes the vote back); one vote per person. */
  m('qa.vote', { questionId: Id, up: z.boolean() }),
  /** Presenters and organizers mark a question answered or dismissed (or open again). */
  m('qa.mark', { questionId: Id, state: z.enum(['open', 'answered', 'dismissed']) }),
  /** A single-use ticket to upload one file to the meeting (`POST /api/files`); answered in ack.ticket. */
  m('file.ticket', {}),
  /** Remove a shared file: whoever shared it, or an organizer. */
  m('file.delete', { fileId: Id }),
  /** A single-use ticket to upload one deck (`POST /api/slides`: PDF, pptx, ppt, odp); answered in ack.ticket. Under the present policy. */
  m('slides.ticket', {}),
  /** Show this page of this deck to everyone (under the present policy). */
  m('slides.page', { deckId: Id, page: z.number().int().min(1).max(MAX_SLIDE_PAGES) }),
  /** Stop showing slides (the decks stay with the meeting). */
  m('slides.stop', {}),
  /** Start or stop recording the meeting (organizers, unless the policy says `recording: off`); ack.recordingId names it. */
  m('recording.start', {}),
  m('recording.stop', {}),
  /** Show this view on everyone's stage (who may present); viewers may still look elsewhere privately. */
  m('stage.set', { view: StageView }),
  /** Annotation (docs/protocol.md, "Annotation"): draw one mark on a surface (answered in ack.id). */
  m('annotation.add', { surface: Surface, mark: MarkDraft }),
  /** Remove marks: your own (`mine`, anyone), or everyone's (`all`: the presenter, presenters, organizers); on one surface, or on all. */
  m('annotation.clear', { scope: z.enum(['mine', 'all']), surface: Surface.optional() }),
  /** The laser pointer: the latest points of its trail; relayed to the others at once, never kept. */
  m('annotation.laser', { surface: Surface, points: z.array(Point).min(1).max(MAX_LASER_POINTS, `a laser message has at most ${MAX_LASER_POINTS} points`) }),
  /** The presenter lets viewers annotate (true) or not (false): the meeting policy's `annotate`. */
  m('annotation.allow', { viewers: z.boolean() }),
  /**
   * Whiteboard (docs/protocol.md, "Whiteboard"): one Yjs update (base64, ≤ 10 KiB) made on this
   * client; checked, applied to the meeting's board, stored and sent on to everyone else.
   */
  m('wb.update', { update: WbUpdateB64 }),
  /** Send me the whole board again (`wb.state`): after a refused update the client starts afresh. */
  m('wb.sync', {}),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export type ClientMessageType = ClientMessage['type'];

// ---------------------------------------------------------------------------------------------
// Server -> client

export const ServerMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    v: z.number().int(),
    self: Id,
    resumeToken: z.string(),
    conference: ConferenceInfo,
    roster: z.array(Participant),
    chat: z.array(ChatMessage),
    share: ShareState.nullable(),
    /**
     * While someone else shares: a single-use ticket for this participant's sharing socket, so a late
     * joiner opens the share without first asking `share.ticket` (one round trip less). Short-lived:
     * a page that opens the share later asks for one.
     */
    shareTicket: z.string().max(128).optional(),
    iceServers: z.array(IceServer).default([]),
    /** Absent from servers without audio support. */
    audio: AudioState.optional(),
    /** The raised hands, in the order they were raised. */
    hands: z.array(RaisedHand).optional(),
    /** The meeting's polls and questions, as this participant may see them. */
    polls: z.array(Poll).optional(),
    questions: z.array(Question).optional(),
    /** The recording in progress, if any (absent from servers without recording). */
    recording: RecordingState.nullable().optional(),
    /** What the stage shows for everyone (absent from servers without the stage switch: the screen). */
    stage: StageState.optional(),
    /** The marks on the shared screen and slides now (a late joiner sees them). */
    annotations: z.array(Mark).optional(),
    /** The meeting's decks and the page everyone follows (absent from servers without slides). */
    slides: SlidesState.optional(),
    /** The whiteboard's whole state (a Yjs update, base64); absent from servers without a whiteboard. */
    whiteboard: z.string().optional(),
  }),
  /**
   * `note`: why a client that came back with its resume token waits again (its place could not be restored).
   * `recording`: the meeting is being recorded (a guest is told before going in); `recording.updated` follows changes.
   */
  z.object({ type: z.literal('lobby.wait'), self: Id, resumeToken: z.string(), conference: ConferenceInfo, note: z.string().optional(), recording: RecordingState.nullable().optional() }),
  z.object({ type: z.literal('participant.joined'), participant: Participant }),
  z.object({ type: z.literal('participant.updated'), participant: Participant }),
  z.object({ type: z.literal('participant.left'), participantId: Id, reason: z.enum(['left', 'removed', 'timeout', 'denied']) }),
  z.object({ type: z.literal('chat.message'), message: ChatMessage }),
  z.object({ type: z.literal('conference.updated'), conference: ConferenceInfo }),
  /** An organizer ended the meeting for everyone (`by`: that participant, `name`: their name); the close (4004) follows. */
  z.object({ type: z.literal('conference.ended'), by: Id, name: z.string() }),
  /**
   * The server is stopping (a restart or an upgrade): reconnect with the resume token, backing off,
   * as after any drop; seats, admissions and chat are kept for the server that comes back. The close
   * (1001) follows. `reason` is for people.
   */
  z.object({ type: z.literal('server.shutdown'), reason: z.string() }),
  z.object({ type: z.literal('share.updated'), share: ShareState.nullable() }),
  /** To the seats of the sharing account only: the agent's sources (see client share.sources). */
  z.object({ type: z.literal('share.sources'), sources: z.array(ShareSource), current: z.string() }),
  /** To the sharing agent: its user asked, from a meeting page (`by`: that seat), for another source. */
  z.object({ type: z.literal('share.switch'), source: z.string(), by: Id }),
  /** To the sharing agent: its user asked, from a meeting page (`by`: that seat), to pause or resume. */
  z.object({ type: z.literal('share.setPaused'), paused: z.boolean(), by: Id }),
  /**
   * To the host: a participant asks for control. The agent asks its local user, never the web.
   * `name` is the participant's own choice; `user` is the account the server authenticated for that
   * seat (session cookie or agent token), never a client claim; null for a guest. Show `user` apart
   * from `name`: a name may be made to look like anything.
   */
  z.object({ type: z.literal('control.requested'), participantId: Id, name: z.string(), user: z.string().nullable() }),
  z.object({ type: z.literal('notice'), code: z.string(), text: z.string() }),
  z.object({ type: z.literal('p2p.signal'), from: Id, data: SignalData }),
  z.object({ type: z.literal('ack'), rid: Rid, ticket: z.string().optional(), iceServers: z.array(IceServer).optional(), sdp: z.string().optional(), callId: z.string().optional(), id: z.string().optional(), recordingId: z.string().optional() }),
  /** The conference's audio changed: who is in it, muted, speaking; the mixer's state. */
  z.object({ type: z.literal('audio.updated'), audio: AudioState }),
  /** The queue of raised hands changed (raised, lowered, or the person left). */
  z.object({ type: z.literal('hands.updated'), hands: z.array(RaisedHand) }),
  z.object({ type: z.literal('reaction'), participantId: Id, name: z.string(), emoji: ReactionEmoji }),
  /** A poll was created or changed (votes, closed, published), as the recipient may see it. */
  z.object({ type: z.literal('poll.updated'), poll: Poll }),
  /** A question was asked or changed (votes, answered, dismissed), as the recipient may see it. */
  z.object({ type: z.literal('qa.updated'), question: Question }),
  /** A shared file was removed: its chat message stays, without the download. */
  z.object({ type: z.literal('file.deleted'), fileId: Id }),
  /** A deck was added, or the deck or page everyone follows changed (or slides stopped: current null). */
  z.object({ type: z.literal('slides.updated'), slides: SlidesState }),
  /** Recording started (state) or stopped (null); to every seat, lobby included. Why it stopped, if not asked to: notice `recording.stopped`. */
  z.object({ type: z.literal('recording.updated'), recording: RecordingState.nullable() }),
  /** The presenter switched everyone's stage (to the screen, the whiteboard, the slides). */
  z.object({ type: z.literal('stage.updated'), stage: StageState }),
  /** A mark was drawn. */
  z.object({ type: z.literal('annotation.added'), mark: Mark }),
  /** Marks went away: cleared, the shared content under them changed, or the screen ended or resized. */
  z.object({ type: z.literal('annotation.removed'), ids: z.array(Id), reason: MarkRemoval }),
  /** Someone's laser pointer (not to the sender): draw the trail, fading over LASER_FADE_MS. */
  z.object({ type: z.literal('annotation.laser'), surface: Surface, author: MarkAuthor, points: z.array(Point) }),
  /** Someone changed the whiteboard: apply this Yjs update (base64). Not sent back to the seat that made it. */
  z.object({ type: z.literal('wb.updated'), update: z.string() }),
  /** The whole whiteboard (answer to wb.sync): a Yjs update (base64) for a fresh document. */
  z.object({ type: z.literal('wb.state'), state: z.string() }),
  z.object({ type: z.literal('error'), rid: Rid, code: z.enum(ERROR_CODES), message: z.string() }),
  z.object({ type: z.literal('pong'), rid: Rid }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Parse and validate one client frame. Never throws. */
export function decodeClientMessage(text: string): DecodeResult<ClientMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'malformed JSON' };
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
    return { ok: false, error: 'message has no type' };
  }
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success) {
    const known = ClientMessage.options.some((o) => o.shape.type.value === (raw as { type: string }).type);
    return { ok: false, error: known ? `invalid ${(raw as { type: string }).type}: ${describe(parsed.error)}` : `unknown message type '${(raw as { type: string }).type}'` };
  }
  return { ok: true, value: parsed.data };
}

/** Parse and validate one server frame (used by clients). Never throws. */
export function decodeServerMessage(text: string): DecodeResult<ServerMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'malformed JSON' };
  }
  const parsed = ServerMessage.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: describe(parsed.error) };
}

export { ControlPolicy };

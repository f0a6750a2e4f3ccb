/**
 * The conference store: users, sessions, groups, conferences, invitations, chat, persisted roles.
 * One interface, two engines (SQLite embedded default, PostgreSQL for scale-out) behind Kysely,
 * with the same migrations. Every method is async; implementations never leak engine types.
 */
import type { MeetingPolicy, PollState, QuestionState, RoleName } from '@baton/protocol';

export interface UserRecord {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  admin: boolean;
  createdAt: string; // ISO 8601
  /** For invitations by mail; null: none given. */
  email: string | null;
}

export interface GroupRecord {
  id: string;
  name: string;
  createdAt: string;
}

/** When a scheduled meeting takes place (stored in UTC, expanded in its own time zone). */
export interface StoredSchedule {
  /** The first occurrence's start, UTC ISO 8601. */
  startsAt: string;
  durationMinutes: number;
  /** IANA time zone the meeting is planned in (recurrences keep its wall-clock time). */
  timeZone: string;
  /** RRULE value without DTSTART (FREQ=WEEKLY;UNTIL=…Z), or null for one occurrence. */
  rrule: string | null;
}

export interface ConferenceRecord {
  id: string; // the unguessable meeting id in the URL
  organizerId: string;
  organizerUsername: string;
  /** The organizer's display name (shown as "Organized by ..."). */
  organizerName: string;
  subject: string;
  policy: MeetingPolicy;
  createdAt: string;
  updatedAt: string;
  /** Null: a meeting without a time. */
  schedule: StoredSchedule | null;
  /** The .ics SEQUENCE: raised by each change of time or subject. */
  sequence: number;
  /** When the organizer last opened it (guests stop waiting for the start); null: never. */
  openedAt: string | null;
}

export interface ConferencePatch {
  subject?: string;
  policy?: MeetingPolicy;
  /** null: no longer scheduled. */
  schedule?: StoredSchedule | null;
  /** Raise the SEQUENCE by one (the time or subject changed). */
  bumpSequence?: boolean;
  openedAt?: string | null;
}

export interface InvitationRecord {
  conferenceId: string;
  subject: string;
  userId: string;
  invitedByUsername: string;
  createdAt: string;
}

export interface ChatRecord {
  id: number; // increasing per store
  conferenceId: string;
  senderId: string; // participant id
  senderName: string;
  senderUser: string | null; // username, null for a guest
  text: string;
  createdAt: string;
  /** A private message's recipient and both parties' keys; null for a message to everyone. */
  private: PrivateChat | null;
  /** The file this message shares with the meeting, if any. */
  file: ChatFile | null;
}

export interface ChatFile {
  id: string;
  name: string;
  size: number;
  deleted: boolean;
}

/** A file shared with a meeting. The bytes live on disk under their SHA-256 (identical files once). */
export interface FileRecord {
  id: string;
  conferenceId: string;
  sha256: string;
  name: string;
  size: number;
  /** Who shared it: a lasting key (as a poll voter's), for deleting one's own files. */
  uploaderKey: string;
  uploaderName: string;
  uploaderUser: string | null;
  deleted: boolean;
  createdAt: string;
}

/** A slide deck of a meeting: its PDF's bytes on disk under their SHA-256. */
/** The tables whose rows name content-addressed blobs under the data directory. */
export type BlobTable = 'files' | 'slide_decks';

export interface SlideDeckRecord {
  id: string;
  conferenceId: string;
  sha256: string;
  name: string;
  pages: number;
  size: number;
  converted: boolean;
  uploaderName: string;
  uploaderUser: string | null;
  createdAt: string;
  /** The page last shown. */
  page: number;
  /** When it last became the deck everyone follows; null when it is not shown. */
  shownAt: string | null;
}

/**
 * Who a private message is between. The keys name the two parties lastingly (a signed-in user, or a
 * guest's seat by a hash of its resume token), so the message is shown to them, and only them, after
 * a restart too.
 */
export interface PrivateChat {
  recipientId: string;
  recipientName: string;
  recipientUser: string | null;
  senderKey: string;
  recipientKey: string;
}

export interface NewChat {
  conferenceId: string;
  senderId: string;
  senderName: string;
  senderUser: string | null;
  text: string;
  private?: PrivateChat | null;
  /** A file record of the same conference that this message shares. */
  fileId?: string | null;
}

export interface SessionRecord {
  tokenHash: string;
  createdAt: string;
  expiresAt: string;
}

export interface AgentTokenGrant {
  conferenceId: string;
  userId: string;
}

/** A lobby admission kept across a restart, keyed by a hash of the seat's resume token. */
export interface AdmissionRecord {
  tokenHash: string;
  conferenceId: string;
  /** The admitted signed-in user; null for a guest. */
  userId: string | null;
  /** The display name the organizer admitted. */
  name: string;
  expiresAt: string;
}

/**
 * A poll of the data-collaboration server, with its votes. A voter is named by a lasting key (a
 * signed-in user, or a guest's seat by a hash of its resume token), so one person votes once.
 */
export interface PollRecord {
  id: string;
  conferenceId: string;
  question: string;
  options: string[];
  multiple: boolean;
  anonymous: boolean;
  state: PollState;
  createdByName: string;
  createdByUser: string | null;
  /** The creator's lasting key (as a voter's), so a guest who created a poll can still close it. */
  createdByKey: string;
  createdAt: string;
  votes: PollVoteRecord[];
}

export interface PollVoteRecord {
  voterKey: string;
  voterName: string;
  choices: number[];
}

/** A question of the Q&A, with the keys of those who upvoted it. The author is kept even when anonymous. */
export interface QuestionRecord {
  id: string;
  conferenceId: string;
  text: string;
  anonymous: boolean;
  authorKey: string;
  authorName: string;
  authorUser: string | null;
  state: QuestionState;
  createdAt: string;
  voters: string[];
}

export interface RecordingRecord {
  id: string;
  conferenceId: string;
  subject: string;
  organizerId: string;
  organizerUsername: string;
  startedById: string;
  startedByUsername: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number;
  bytes: number;
  status: 'recording' | 'done' | 'failed';
  note: string | null;
  hasAudio: boolean;
}

export interface Store {
  /** Run pending migrations. Idempotent. */
  migrate(): Promise<void>;
  /** One trivial query: throws when the database cannot be reached (readiness). */
  ping(): Promise<void>;

  // Users. createUser throws ConflictError when the username is taken.
  createUser(u: { username: string; displayName: string; passwordHash: string; admin?: boolean; email?: string | null }): Promise<UserRecord>;
  /** Set or clear the user's e-mail address. */
  setEmail(userId: string, email: string | null): Promise<void>;
  getUserById(id: string): Promise<UserRecord | undefined>;
  getUserByUsername(username: string): Promise<UserRecord | undefined>;
  getUsersByUsernames(usernames: string[]): Promise<UserRecord[]>;
  /** Users whose username or display name contains `text` (case-insensitive), by username, at most `limit`. */
  searchUsers(text: string, limit: number): Promise<UserRecord[]>;
  /** Every user, by username (admin CLI). */
  listUsers(): Promise<UserRecord[]>;
  /** The user's own telephone number for "Call my phone" (E.164), or null. */
  getPhoneNumber(userId: string): Promise<string | null>;
  setPhoneNumber(userId: string, phone: string | null): Promise<void>;

  // Sessions, keyed by a hash of the cookie token (the token itself is never stored).
  createSession(tokenHash: string, userId: string, expiresAt: Date): Promise<void>;
  getSessionUser(tokenHash: string, now: Date): Promise<UserRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** A user's unexpired sessions, newest first (baton-admin; hashes only, never tokens). */
  listSessions(userId: string, now: Date): Promise<SessionRecord[]>;
  /** Ends sessions of this user: those whose hash starts with one of `hashPrefixes`, or all when null. Returns how many. */
  deleteSessions(userId: string, hashPrefixes: string[] | null): Promise<number>;

  // Distribution groups. createGroup throws ConflictError on a duplicate name; addGroupMembers
  // throws NotFoundError for an unknown group or user and ignores members already present.
  createGroup(name: string): Promise<GroupRecord>;
  addGroupMembers(groupName: string, usernames: string[]): Promise<void>;
  removeGroupMembers(groupName: string, usernames: string[]): Promise<void>;
  getGroupMembers(groupName: string): Promise<UserRecord[] | undefined>; // undefined: no such group
  listGroups(): Promise<GroupRecord[]>;

  // Conferences.
  createConference(c: { id: string; organizerId: string; subject: string; policy: MeetingPolicy; schedule?: StoredSchedule | null }): Promise<ConferenceRecord>;
  getConference(id: string): Promise<ConferenceRecord | undefined>;
  updateConference(id: string, patch: ConferencePatch): Promise<ConferenceRecord | undefined>;
  /** Deletes the conference with its invitations, chat, roles, agent tokens and admissions. */
  deleteConference(id: string): Promise<boolean>;
  listConferencesByOrganizer(userId: string): Promise<ConferenceRecord[]>;

  // Invitations; re-inviting is a no-op. Returns the user ids newly invited.
  // invitedBy is the inviting user's id. Unknown conference or user ids throw NotFoundError.
  addInvitations(conferenceId: string, userIds: string[], invitedBy: string): Promise<string[]>;
  listInvitationsForUser(userId: string): Promise<InvitationRecord[]>;
  /** The users invited to a conference (directly or through a group), by username. */
  listInvitees(conferenceId: string): Promise<UserRecord[]>;
  /** The scheduled conferences a user organizes or is invited to (the calendar feed, the upcoming list). */
  listScheduledFor(userId: string): Promise<{ conference: ConferenceRecord; role: 'organizer' | 'invited' }[]>;

  // Calendar feeds: one per user, keyed by a hash of its secret token (the token itself is never
  // stored). setCalendarFeed replaces the user's earlier one.
  setCalendarFeed(userId: string, tokenHash: string): Promise<{ createdAt: string }>;
  getCalendarFeed(userId: string): Promise<{ createdAt: string } | undefined>;
  deleteCalendarFeed(userId: string): Promise<boolean>;
  getCalendarFeedUser(tokenHash: string): Promise<UserRecord | undefined>;

  // Chat history, oldest first: listChat has the messages to everyone, listPrivateChat the private
  // ones (of every pair; the Focus shows each only to its two parties).
  appendChat(msg: NewChat): Promise<ChatRecord>;
  listChat(conferenceId: string, limit: number): Promise<ChatRecord[]>;
  listPrivateChat(conferenceId: string, limit: number): Promise<ChatRecord[]>;

  // Roles granted to signed-in users in a conference (promotions survive a restart).
  setRole(conferenceId: string, userId: string, role: RoleName): Promise<void>;
  getRoles(conferenceId: string): Promise<Map<string, RoleName>>;

  // One-time agent tokens, keyed by hash. consume returns the grant once, then never again.
  createAgentToken(tokenHash: string, grant: AgentTokenGrant, expiresAt: Date): Promise<void>;
  consumeAgentToken(tokenHash: string, now: Date): Promise<AgentTokenGrant | undefined>;

  // Lobby admissions, keyed by a hash of the seat's resume token (the token itself is never stored).
  // saveAdmission inserts or extends; listAdmissions returns the unexpired ones of a conference.
  saveAdmission(a: Omit<AdmissionRecord, 'expiresAt'>, expiresAt: Date): Promise<void>;
  extendAdmissions(conferenceId: string, tokenHashes: string[], expiresAt: Date): Promise<void>;
  listAdmissions(conferenceId: string, now: Date): Promise<AdmissionRecord[]>;
  deleteAdmission(tokenHash: string): Promise<void>;
  /** Every admission of a conference (the organizer ended the meeting). */
  deleteAdmissions(conferenceId: string): Promise<void>;

  // Polls and Q&A (the data-collaboration server), stored with the meeting; oldest first.
  // Unknown conference (create) or poll/question (the rest) throws NotFoundError.
  createPoll(p: Omit<PollRecord, 'votes' | 'createdAt'>): Promise<PollRecord>;
  setPollState(pollId: string, state: PollState): Promise<void>;
  /** Inserts or replaces this voter's choice. */
  setPollVote(pollId: string, vote: PollVoteRecord): Promise<void>;
  listPolls(conferenceId: string): Promise<PollRecord[]>;
  createQuestion(q: Omit<QuestionRecord, 'voters' | 'createdAt'>): Promise<QuestionRecord>;
  setQuestionState(questionId: string, state: QuestionState): Promise<void>;
  /** Adds (up) or removes this voter's upvote; idempotent. */
  setQuestionVote(questionId: string, voterKey: string, up: boolean): Promise<void>;
  listQuestions(conferenceId: string): Promise<QuestionRecord[]>;

  // The whiteboard: Yjs updates (base64) of a meeting in order of seq; compaction writes one row with
  // the whole state at `seq` and deletes every row before it, in one transaction.
  appendWhiteboardUpdate(conferenceId: string, seq: number, data: string): Promise<void>;
  listWhiteboardUpdates(conferenceId: string): Promise<{ seq: number; data: string }[]>;
  compactWhiteboard(conferenceId: string, seq: number, data: string): Promise<void>;

  // Files shared with a meeting. deleteFile marks one deleted and returns how many live records
  // still name the same bytes (0: the caller may remove them from disk); undefined for an unknown id.
  createFile(f: Omit<FileRecord, 'createdAt' | 'deleted'>): Promise<FileRecord>;
  getFile(id: string): Promise<FileRecord | undefined>;
  /** The live (not deleted) files of a conference, oldest first. */
  listFiles(conferenceId: string): Promise<FileRecord[]>;
  deleteFile(id: string): Promise<{ record: FileRecord; stillUsed: number } | undefined>;
  // Slide decks of a meeting, oldest first. showSlideDeck makes one the shown deck at a page (null:
  // none shown); one deck at most has shown_at set per conference.
  createSlideDeck(d: Omit<SlideDeckRecord, 'createdAt' | 'page' | 'shownAt'>): Promise<SlideDeckRecord>;
  getSlideDeck(id: string): Promise<SlideDeckRecord | undefined>;
  listSlideDecks(conferenceId: string): Promise<SlideDeckRecord[]>;
  showSlideDeck(conferenceId: string, shown: { deckId: string; page: number } | null): Promise<void>;
  /** Which of these SHA-256s a live row of the table names (files: not deleted; slide_decks: any). */
  blobsInUse(table: BlobTable, sha256s: string[]): Promise<Set<string>>;
  /** Takes (or renews) the named lease for `holder` until `until` if it is free at `now` or already its; true if it is now `holder`'s. */
  claimLease(name: string, holder: string, now: string, until: string): Promise<boolean>;
  // Recordings (files under the data directory; the store has who owns them and whom they are shared with).
  createRecording(r: { id: string; conferenceId: string; subject: string; organizerId: string; startedBy: string; startedAt: string }): Promise<void>;
  finishRecording(id: string, r: { endedAt: string; durationMs: number; bytes: number; status: 'done' | 'failed'; note: string | null; hasAudio: boolean }): Promise<void>;
  getRecording(id: string): Promise<RecordingRecord | undefined>;
  /** The user's own recordings (organizer or starter) and those shared with them, newest first. */
  listRecordingsForUser(userId: string): Promise<RecordingRecord[]>;
  /** Recordings started before `before` (ISO), for retention. */
  listRecordingsBefore(before: string): Promise<RecordingRecord[]>;
  /** Recordings still marked `recording` (a server that stopped without finishing them). */
  listUnfinishedRecordings(): Promise<RecordingRecord[]>;
  shareRecording(id: string, userIds: string[]): Promise<void>;
  unshareRecording(id: string, userIds: string[]): Promise<void>;
  /** Usernames a recording is shared with, sorted. */
  listRecordingShares(id: string): Promise<string[]>;
  isRecordingSharedWith(id: string, userId: string): Promise<boolean>;
  deleteRecording(id: string): Promise<boolean>;

  // Mail outbox (invitation mail waiting for SMTP; MailOutbox). Each mail is held by one process
  // (lease_until); a released or expired one is taken up by whichever process claims it first.
  queueMail(m: QueuedMail): Promise<void>;
  /** Queued mail, oldest first (inspection and tests). */
  listQueuedMail(limit: number): Promise<QueuedMail[]>;
  /** Takes up to `limit` mails whose lease ended before `now`, each for this caller alone, leased until `leaseUntil`. */
  claimQueuedMail(now: string, leaseUntil: string, limit: number): Promise<QueuedMail[]>;
  /** Before or after an attempt: how many so far, when to try again, and the renewed lease. */
  updateQueuedMail(id: string, attempts: number, notBefore: string, leaseUntil: string): Promise<void>;
  /** Give these up to whoever claims them next (a server shutting down). */
  releaseQueuedMail(ids: string[]): Promise<void>;
  deleteQueuedMail(id: string): Promise<void>;

  close(): Promise<void>;
}

/** One mail in the outbox; `mail` is the OutgoingMail as JSON (the outbox checks it when it reads it back). */
export interface QueuedMail {
  id: string;
  mail: string;
  attempts: number;
  notBefore: string;
  leaseUntil: string;
  createdAt: string;
}

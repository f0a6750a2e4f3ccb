/**
 * Row types of the store's tables as Kysely sees them. Timestamps are ISO 8601 strings
 * (fixed-width `toISOString()` output, so text order is time order on both engines);
 * booleans are 0/1 integers and the meeting policy is JSON text, so both engines agree.
 */
import type { ColumnType, Generated } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  admin: number;
  created_at: string;
  /** E.164, for "Call my phone" (0003). */
  phone_number: string | null;
  /** For invitations by mail (0006_schedule); null: none. */
  email: string | null;
}

export interface SessionsTable {
  token_hash: string;
  user_id: string;
  expires_at: string;
  created_at: string;
}

export interface UserGroupsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
}

export interface ConferencesTable {
  id: string;
  organizer_id: string;
  subject: string;
  policy: string;
  created_at: string;
  updated_at: string;
  /** A scheduled meeting (0006_schedule): the first occurrence's start (UTC ISO), null when not scheduled. */
  starts_at: string | null;
  duration_minutes: number | null;
  time_zone: string | null;
  /** RRULE value (FREQ=WEEKLY;COUNT=4), null for a single occurrence. */
  rrule: string | null;
  /** The .ics SEQUENCE, raised with each change of time or subject. */
  sequence: Generated<number>;
  /** When the organizer last opened it (UTC ISO): guests stop waiting for the start. */
  opened_at: string | null;
}

export interface InvitationsTable {
  conference_id: string;
  user_id: string;
  invited_by: string;
  created_at: string;
}

export interface ChatMessagesTable {
  id: Generated<number>;
  conference_id: string;
  sender_id: string;
  sender_name: string;
  sender_user: string | null;
  text: string;
  created_at: string;
  /** Private messages only (0004_private_chat); null for a message to everyone. */
  recipient_id: string | null;
  recipient_name: string | null;
  recipient_user: string | null;
  sender_key: string | null;
  recipient_key: string | null;
  /** A file shared with the meeting (0006_files); null for a plain message. */
  file_id: string | null;
}

export interface FilesTable {
  id: string;
  conference_id: string;
  sha256: string;
  name: string;
  /** bigint: PostgreSQL returns it as a string; read it with Number(). */
  size: number | string;
  uploader_key: string;
  uploader_name: string;
  uploader_user: string | null;
  deleted: number;
  created_at: string;
}

export interface SlideDecksTable {
  id: string;
  conference_id: string;
  sha256: string;
  name: string;
  pages: number;
  /** bigint: PostgreSQL returns it as a string; read it with Number(). */
  size: number | string;
  converted: number;
  uploader_name: string;
  uploader_user: string | null;
  created_at: string;
  /** The page last shown (1-based). */
  page: number;
  /** When it was last made the deck everyone follows; null once slides were stopped. */
  shown_at: string | null;
}

export interface ConferenceRolesTable {
  conference_id: string;
  user_id: string;
  role: string;
}

export interface AgentTokensTable {
  token_hash: string;
  conference_id: string;
  user_id: string;
  expires_at: string;
  created_at: string;
}

export interface AdmissionsTable {
  token_hash: string;
  conference_id: string;
  user_id: string | null;
  name: string;
  expires_at: string;
  created_at: string;
}

export interface PollsTable {
  id: string;
  conference_id: string;
  question: string;
  /** JSON array of the option texts. */
  options: string;
  multiple: number;
  anonymous: number;
  state: string;
  created_by_name: string;
  created_by_user: string | null;
  created_by_key: string;
  created_at: string;
}

export interface PollVotesTable {
  poll_id: string;
  voter_key: string;
  voter_name: string;
  /** JSON array of option indexes. */
  choices: string;
  updated_at: string;
}

export interface QaQuestionsTable {
  id: string;
  conference_id: string;
  text: string;
  anonymous: number;
  author_key: string;
  author_name: string;
  author_user: string | null;
  state: string;
  created_at: string;
}

export interface QaVotesTable {
  question_id: string;
  voter_key: string;
}

/** A user's calendar feed URL, by a hash of its secret token (the token itself is never stored). */
export interface CalendarFeedsTable {
  user_id: string;
  token_hash: string;
  created_at: string;
}

/** A meeting recording (0007); its files live under the data directory's recordings/<id>/. */
export interface RecordingsTable {
  id: string;
  /** Not a foreign key: a recording outlives its meeting. */
  conference_id: string;
  subject: string;
  organizer_id: string;
  started_by: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number;
  bytes: number;
  status: string;
  note: string | null;
  has_audio: number;
}

export interface RecordingSharesTable {
  recording_id: string;
  user_id: string;
}

/** Invitation mail not yet accepted by SMTP (0009); `mail` is the OutgoingMail as JSON. */
export interface MailOutboxTable {
  id: string;
  mail: string;
  attempts: number;
  /** ISO time before which it is not tried again. */
  not_before: string;
  /** ISO time until which the process that queued or took it up holds it; '' when released. */
  lease_until: string;
  created_at: string;
}

/** The whiteboard of a meeting: Yjs updates (base64) in order; compaction replaces them by one state. */
export interface WhiteboardUpdatesTable {
  conference_id: string;
  seq: number;
  data: string;
  created_at: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  user_groups: UserGroupsTable;
  group_members: GroupMembersTable;
  conferences: ConferencesTable;
  invitations: InvitationsTable;
  chat_messages: ChatMessagesTable;
  conference_roles: ConferenceRolesTable;
  agent_tokens: AgentTokensTable;
  admissions: AdmissionsTable;
  polls: PollsTable;
  poll_votes: PollVotesTable;
  qa_questions: QaQuestionsTable;
  qa_votes: QaVotesTable;
  calendar_feeds: CalendarFeedsTable;
  files: FilesTable;
  slide_decks: SlideDecksTable;
  recordings: RecordingsTable;
  recording_shares: RecordingSharesTable;
  mail_outbox: MailOutboxTable;
  whiteboard_updates: WhiteboardUpdatesTable;
  shared_blobs: SharedBlobsTable;
  shared_blob_chunks: SharedBlobChunksTable;
  leases: LeasesTable;
}

/** 0015: blob bytes every node of a cluster reads (data/SqlBlobStore.ts). */
export interface SharedBlobsTable {
  id: string;
  bucket: string;
  name: string | null;
  size: ColumnType<number | string, number, number>;
  created_at: string;
}

export interface SharedBlobChunksTable {
  blob_id: string;
  seq: number;
  data: Buffer;
}

/** 0015: work one node of a cluster does at a time, held until lease_until. */
export interface LeasesTable {
  name: string;
  holder: string;
  lease_until: string;
}

export type Engine = 'sqlite' | 'postgres';

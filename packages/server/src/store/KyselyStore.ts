/**
 * The Store over Kysely. The same queries run on SQLite (better-sqlite3) and PostgreSQL (pg):
 * only portable SQL is used (ON CONFLICT, DELETE ... RETURNING), and timestamps are ISO text.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { MeetingPolicy, PollState, QuestionState, ROLE_NAMES, type RoleName } from '@baton/protocol';
import { ConflictError, NotFoundError } from '../errors.js';
import { migrateToLatest } from './migrations.js';
import type { ChatMessagesTable, ConferencesTable, Database, Engine, UsersTable } from './schema.js';
import type {
  BlobTable,
  SessionRecord,
  AgentTokenGrant,
  AdmissionRecord,
  ChatRecord,
  ConferencePatch,
  ConferenceRecord,
  GroupRecord,
  InvitationRecord,
  NewChat,
  FileRecord,
  SlideDeckRecord,
  ChatFile,
  PollRecord,
  PollVoteRecord,
  QuestionRecord,
  QueuedMail,
  RecordingRecord,
  Store,
  StoredSchedule,
  UserRecord,
} from './Store.js';

export interface KyselyStoreOptions {
  db: Kysely<Database>;
  engine: Engine;
  /** Clock for created/updated stamps; tests may pin it. */
  now?: () => Date;
}

export class KyselyStore implements Store {
  readonly engine: Engine;
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;
  private closing: Promise<void> | undefined;

  constructor(opts: KyselyStoreOptions) {
    this.db = opts.db;
    this.engine = opts.engine;
    this.now = opts.now ?? (() => new Date());
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.db, this.engine);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  // ---- users ----

  async createUser(u: { username: string; displayName: string; passwordHash: string; admin?: boolean; email?: string | null }): Promise<UserRecord> {
    const row = {
      id: randomUUID(),
      username: u.username,
      display_name: u.displayName,
      password_hash: u.passwordHash,
      admin: u.admin ? 1 : 0,
      created_at: this.now().toISOString(),
      email: u.email ?? null,
    };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`username "${u.username}" is taken`);
      throw err;
    }
    return toUser({ ...row, phone_number: null });
  }

  async getUserById(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async setEmail(userId: string, email: string | null): Promise<void> {
    await this.db.updateTable('users').set({ email }).where('id', '=', userId).execute();
  }

  async getPhoneNumber(userId: string): Promise<string | null> {
    const row = await this.db.selectFrom('users').select('phone_number').where('id', '=', userId).executeTakeFirst();
    return row?.phone_number ?? null;
  }

  async setPhoneNumber(userId: string, phone: string | null): Promise<void> {
    await this.db.updateTable('users').set({ phone_number: phone }).where('id', '=', userId).execute();
  }

  async getUserByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toUser(row);
  }

  async searchUsers(text: string, limit: number): Promise<UserRecord[]> {
    // LIKE wildcards in the text are literal; lower() on both sides since PostgreSQL's LIKE is case-sensitive.
    const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb.or([sql<boolean>`lower(username) like ${pattern} escape '\\'`, sql<boolean>`lower(display_name) like ${pattern} escape '\\'`]))
      .orderBy('username')
      .limit(limit)
      .execute();
    return rows.map(toUser);
  }

  async getUsersByUsernames(usernames: string[]): Promise<UserRecord[]> {
    if (usernames.length === 0) return [];
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', 'in', [...new Set(usernames)])
      .orderBy('username')
      .execute();
    return rows.map(toUser);
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(toUser);
  }

  // ---- sessions ----

  async createSession(tokenHash: string, userId: string, expiresAt: Date): Promise<void> {
    const now = this.now().toISOString();
    // Sweep expired sessions here so the table does not grow without a separate job.
    await this.db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
    await this.db
      .insertInto('sessions')
      .values({ token_hash: tokenHash, user_id: userId, expires_at: expiresAt.toISOString(), created_at: now })
      .execute();
  }

  async getSessionUser(tokenHash: string, now: Date): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .where('sessions.token_hash', '=', tokenHash)
      .where('sessions.expires_at', '>', now.toISOString())
      .executeTakeFirst();
    return row && toUser(row);
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  async listSessions(userId: string, now: Date): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .select(['token_hash', 'created_at', 'expires_at'])
      .where('user_id', '=', userId)
      .where('expires_at', '>', now.toISOString())
      .orderBy('created_at', 'desc')
      .orderBy('token_hash')
      .execute();
    return rows.map((r) => ({ tokenHash: r.token_hash, createdAt: r.created_at, expiresAt: r.expires_at }));
  }

  async deleteSessions(userId: string, hashPrefixes: string[] | null): Promise<number> {
    if (hashPrefixes !== null && hashPrefixes.length === 0) return 0;
    let q = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    // Prefixes are hex (checked by the caller); LIKE with them has no wildcards of its own.
    if (hashPrefixes !== null) q = q.where((eb) => eb.or(hashPrefixes.map((p) => eb('token_hash', 'like', `${p}%`))));
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- groups ----

  async createGroup(name: string): Promise<GroupRecord> {
    const row = { id: randomUUID(), name, created_at: this.now().toISOString() };
    try {
      await this.db.insertInto('user_groups').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`group "${name}" already exists`);
      throw err;
    }
    return { id: row.id, name: row.name, createdAt: row.created_at };
  }

  async addGroupMembers(groupName: string, usernames: string[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const groupId = await requireGroup(tx, groupName);
      const users = await resolveUsernames(tx, usernames);
      if (users.length === 0) return;
      await tx
        .insertInto('group_members')
        .values(users.map((u) => ({ group_id: groupId, user_id: u.id })))
        .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
        .execute();
    });
  }

  async removeGroupMembers(groupName: string, usernames: string[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const groupId = await requireGroup(tx, groupName);
      if (usernames.length === 0) return;
      const ids = tx.selectFrom('users').select('id').where('username', 'in', usernames);
      await tx.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', 'in', ids).execute();
    });
  }

  async getGroupMembers(groupName: string): Promise<UserRecord[] | undefined> {
    const group = await this.db.selectFrom('user_groups').select('id').where('name', '=', groupName).executeTakeFirst();
    if (!group) return undefined;
    const rows = await this.db
      .selectFrom('group_members')
      .innerJoin('users', 'users.id', 'group_members.user_id')
      .selectAll('users')
      .where('group_members.group_id', '=', group.id)
      .orderBy('users.username')
      .execute();
    return rows.map(toUser);
  }

  async listGroups(): Promise<GroupRecord[]> {
    const rows = await this.db.selectFrom('user_groups').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
  }

  // ---- conferences ----

  async createConference(c: { id: string; organizerId: string; subject: string; policy: MeetingPolicy; schedule?: StoredSchedule | null }): Promise<ConferenceRecord> {
    const now = this.now().toISOString();
    try {
      await this.db
        .insertInto('conferences')
        .values({ id: c.id, organizer_id: c.organizerId, subject: c.subject, policy: JSON.stringify(c.policy), created_at: now, updated_at: now, ...scheduleColumns(c.schedule ?? null) })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`conference ${c.id} already exists`);
      if (isForeignKeyViolation(err)) throw new NotFoundError('unknown organizer');
      throw err;
    }
    const created = await this.getConference(c.id);
    if (!created) throw new Error(`conference ${c.id} vanished after insert`);
    return created;
  }

  async getConference(id: string): Promise<ConferenceRecord | undefined> {
    const row = await this.conferences().where('conferences.id', '=', id).executeTakeFirst();
    return row && toConference(row);
  }

  async updateConference(id: string, patch: ConferencePatch): Promise<ConferenceRecord | undefined> {
    const res = await this.db
      .updateTable('conferences')
      .set((eb) => ({
        updated_at: this.now().toISOString(),
        ...(patch.subject !== undefined ? { subject: patch.subject } : {}),
        ...(patch.policy !== undefined ? { policy: JSON.stringify(patch.policy) } : {}),
        ...(patch.schedule !== undefined ? scheduleColumns(patch.schedule) : {}),
        ...(patch.openedAt !== undefined ? { opened_at: patch.openedAt } : {}),
        // In the statement, so two concurrent changes both count.
        ...(patch.bumpSequence ? { sequence: eb('sequence', '+', 1) } : {}),
      }))
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return undefined;
    return this.getConference(id);
  }

  async deleteConference(id: string): Promise<boolean> {
    // Explicit deletes, not only ON DELETE CASCADE: SQLite enforces foreign keys per connection.
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('chat_messages').where('conference_id', '=', id).execute();
      await tx.deleteFrom('files').where('conference_id', '=', id).execute();
      await tx.deleteFrom('slide_decks').where('conference_id', '=', id).execute();
      await tx.deleteFrom('invitations').where('conference_id', '=', id).execute();
      await tx.deleteFrom('conference_roles').where('conference_id', '=', id).execute();
      await tx.deleteFrom('agent_tokens').where('conference_id', '=', id).execute();
      await tx.deleteFrom('admissions').where('conference_id', '=', id).execute();
      await tx.deleteFrom('whiteboard_updates').where('conference_id', '=', id).execute();
      const polls = tx.selectFrom('polls').select('id').where('conference_id', '=', id);
      await tx.deleteFrom('poll_votes').where('poll_id', 'in', polls).execute();
      await tx.deleteFrom('polls').where('conference_id', '=', id).execute();
      const questions = tx.selectFrom('qa_questions').select('id').where('conference_id', '=', id);
      await tx.deleteFrom('qa_votes').where('question_id', 'in', questions).execute();
      await tx.deleteFrom('qa_questions').where('conference_id', '=', id).execute();
      const res = await tx.deleteFrom('conferences').where('id', '=', id).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async listConferencesByOrganizer(userId: string): Promise<ConferenceRecord[]> {
    const rows = await this.conferences()
      .where('conferences.organizer_id', '=', userId)
      .orderBy('conferences.created_at', 'desc')
      .orderBy('conferences.id')
      .execute();
    return rows.map(toConference);
  }

  private conferences() {
    return this.db
      .selectFrom('conferences')
      .innerJoin('users', 'users.id', 'conferences.organizer_id')
      .selectAll('conferences')
      .select(['users.username as organizer_username', 'users.display_name as organizer_name']);
  }

  // ---- invitations ----

  async listInvitees(conferenceId: string): Promise<UserRecord[]> {
    const rows = await this.db
      .selectFrom('invitations')
      .innerJoin('users', 'users.id', 'invitations.user_id')
      .selectAll('users')
      .where('invitations.conference_id', '=', conferenceId)
      .orderBy('users.username')
      .execute();
    return rows.map(toUser);
  }

  async listScheduledFor(userId: string): Promise<{ conference: ConferenceRecord; role: 'organizer' | 'invited' }[]> {
    const own = await this.conferences().where('conferences.organizer_id', '=', userId).where('conferences.starts_at', 'is not', null).execute();
    const invited = await this.conferences()
      .innerJoin('invitations', 'invitations.conference_id', 'conferences.id')
      .where('invitations.user_id', '=', userId)
      .where('conferences.starts_at', 'is not', null)
      .execute();
    return [
      ...own.map((r) => ({ conference: toConference(r), role: 'organizer' as const })),
      ...invited.filter((r) => r.organizer_id !== userId).map((r) => ({ conference: toConference(r), role: 'invited' as const })),
    ];
  }

  // ---- calendar feeds ----

  async setCalendarFeed(userId: string, tokenHash: string): Promise<{ createdAt: string }> {
    const createdAt = this.now().toISOString();
    await this.db
      .insertInto('calendar_feeds')
      .values({ user_id: userId, token_hash: tokenHash, created_at: createdAt })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ token_hash: tokenHash, created_at: createdAt }))
      .execute();
    return { createdAt };
  }

  async getCalendarFeed(userId: string): Promise<{ createdAt: string } | undefined> {
    const row = await this.db.selectFrom('calendar_feeds').select('created_at').where('user_id', '=', userId).executeTakeFirst();
    return row && { createdAt: row.created_at };
  }

  async deleteCalendarFeed(userId: string): Promise<boolean> {
    const res = await this.db.deleteFrom('calendar_feeds').where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async getCalendarFeedUser(tokenHash: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('calendar_feeds')
      .innerJoin('users', 'users.id', 'calendar_feeds.user_id')
      .selectAll('users')
      .where('calendar_feeds.token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async addInvitations(conferenceId: string, userIds: string[], invitedBy: string): Promise<string[]> {
    const ids = [...new Set(userIds)];
    if (ids.length === 0) return [];
    const now = this.now().toISOString();
    try {
      const rows = await this.db
        .insertInto('invitations')
        .values(ids.map((userId) => ({ conference_id: conferenceId, user_id: userId, invited_by: invitedBy, created_at: now })))
        .onConflict((oc) => oc.columns(['conference_id', 'user_id']).doNothing())
        .returning('user_id')
        .execute();
      const inserted = new Set(rows.map((r) => r.user_id));
      return ids.filter((id) => inserted.has(id));
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('unknown conference, invited user or inviting user');
      throw err;
    }
  }

  async listInvitationsForUser(userId: string): Promise<InvitationRecord[]> {
    const rows = await this.db
      .selectFrom('invitations')
      .innerJoin('conferences', 'conferences.id', 'invitations.conference_id')
      .innerJoin('users as inviter', 'inviter.id', 'invitations.invited_by')
      .select([
        'invitations.conference_id',
        'conferences.subject',
        'invitations.user_id',
        'inviter.username as invited_by_username',
        'invitations.created_at',
      ])
      .where('invitations.user_id', '=', userId)
      .orderBy('invitations.created_at', 'desc')
      .orderBy('invitations.conference_id')
      .execute();
    return rows.map((r) => ({
      conferenceId: r.conference_id,
      subject: r.subject,
      userId: r.user_id,
      invitedByUsername: r.invited_by_username,
      createdAt: r.created_at,
    }));
  }

  // ---- chat ----

  async appendChat(msg: NewChat): Promise<ChatRecord> {
    try {
      const row = await this.db
        .insertInto('chat_messages')
        .values({
          conference_id: msg.conferenceId,
          sender_id: msg.senderId,
          sender_name: msg.senderName,
          sender_user: msg.senderUser,
          text: msg.text,
          created_at: this.now().toISOString(),
          recipient_id: msg.private?.recipientId ?? null,
          recipient_name: msg.private?.recipientName ?? null,
          recipient_user: msg.private?.recipientUser ?? null,
          sender_key: msg.private?.senderKey ?? null,
          recipient_key: msg.private?.recipientKey ?? null,
          file_id: msg.fileId ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return (await this.#withFiles([row]))[0]!;
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError(`unknown conference ${msg.conferenceId}`);
      throw err;
    }
  }

  listChat(conferenceId: string, limit: number): Promise<ChatRecord[]> {
    return this.#listChat(conferenceId, limit, false);
  }

  listPrivateChat(conferenceId: string, limit: number): Promise<ChatRecord[]> {
    return this.#listChat(conferenceId, limit, true);
  }

  async #listChat(conferenceId: string, limit: number, privately: boolean): Promise<ChatRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .selectFrom('chat_messages')
      .selectAll()
      .where('conference_id', '=', conferenceId)
      .where('recipient_key', privately ? 'is not' : 'is', null)
      .orderBy('id', 'desc')
      .limit(Math.floor(limit))
      .execute();
    return this.#withFiles(rows.reverse());
  }

  /** Chat rows as records, with the files they share (one query for all of them). */
  async #withFiles(rows: Selectable<ChatMessagesTable>[]): Promise<ChatRecord[]> {
    const ids = [...new Set(rows.map((r) => r.file_id).filter((x): x is string => x !== null))];
    const files = new Map<string, ChatFile>();
    if (ids.length) {
      for (const f of await this.db.selectFrom('files').select(['id', 'name', 'size', 'deleted']).where('id', 'in', ids).execute()) {
        files.set(f.id, { id: f.id, name: f.name, size: Number(f.size), deleted: f.deleted === 1 });
      }
    }
    return rows.map((r) => toChat(r, r.file_id ? files.get(r.file_id) ?? null : null));
  }

  // ---- roles ----

  async setRole(conferenceId: string, userId: string, role: RoleName): Promise<void> {
    try {
      await this.db
        .insertInto('conference_roles')
        .values({ conference_id: conferenceId, user_id: userId, role })
        .onConflict((oc) => oc.columns(['conference_id', 'user_id']).doUpdateSet({ role }))
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('unknown conference or user');
      throw err;
    }
  }

  async getRoles(conferenceId: string): Promise<Map<string, RoleName>> {
    const rows = await this.db.selectFrom('conference_roles').select(['user_id', 'role']).where('conference_id', '=', conferenceId).execute();
    const roles = new Map<string, RoleName>();
    for (const r of rows) {
      // A role name from a newer schema is skipped rather than trusted.
      if ((ROLE_NAMES as readonly string[]).includes(r.role)) roles.set(r.user_id, r.role as RoleName);
    }
    return roles;
  }

  // ---- agent tokens ----

  async createAgentToken(tokenHash: string, grant: AgentTokenGrant, expiresAt: Date): Promise<void> {
    const now = this.now().toISOString();
    await this.db.deleteFrom('agent_tokens').where('expires_at', '<=', now).execute();
    try {
      await this.db
        .insertInto('agent_tokens')
        .values({ token_hash: tokenHash, conference_id: grant.conferenceId, user_id: grant.userId, expires_at: expiresAt.toISOString(), created_at: now })
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('unknown conference or user');
      throw err;
    }
  }

  async consumeAgentToken(tokenHash: string, now: Date): Promise<AgentTokenGrant | undefined> {
    // DELETE ... RETURNING makes "exactly once" atomic even with concurrent consumers.
    const row = await this.db
      .deleteFrom('agent_tokens')
      .where('token_hash', '=', tokenHash)
      .returning(['conference_id', 'user_id', 'expires_at'])
      .executeTakeFirst();
    if (!row || row.expires_at <= now.toISOString()) return undefined;
    return { conferenceId: row.conference_id, userId: row.user_id };
  }

  // ---- lobby admissions ----

  async saveAdmission(a: Omit<AdmissionRecord, 'expiresAt'>, expiresAt: Date): Promise<void> {
    const now = this.now().toISOString();
    await this.db.deleteFrom('admissions').where('expires_at', '<=', now).execute();
    try {
      await this.db
        .insertInto('admissions')
        .values({ token_hash: a.tokenHash, conference_id: a.conferenceId, user_id: a.userId, name: a.name, expires_at: expiresAt.toISOString(), created_at: now })
        .onConflict((oc) => oc.column('token_hash').doUpdateSet({ expires_at: expiresAt.toISOString() }))
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('unknown conference or user');
      throw err;
    }
  }

  async extendAdmissions(conferenceId: string, tokenHashes: string[], expiresAt: Date): Promise<void> {
    if (tokenHashes.length === 0) return;
    await this.db
      .updateTable('admissions')
      .set({ expires_at: expiresAt.toISOString() })
      .where('conference_id', '=', conferenceId)
      .where('token_hash', 'in', tokenHashes)
      .execute();
  }

  async listAdmissions(conferenceId: string, now: Date): Promise<AdmissionRecord[]> {
    const rows = await this.db
      .selectFrom('admissions')
      .selectAll()
      .where('conference_id', '=', conferenceId)
      .where('expires_at', '>', now.toISOString())
      .execute();
    return rows.map((r) => ({ tokenHash: r.token_hash, conferenceId: r.conference_id, userId: r.user_id, name: r.name, expiresAt: r.expires_at }));
  }

  async deleteAdmission(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('admissions').where('token_hash', '=', tokenHash).execute();
  }

  async deleteAdmissions(conferenceId: string): Promise<void> {
    await this.db.deleteFrom('admissions').where('conference_id', '=', conferenceId).execute();
  }

  // ---- files ----

  async createFile(f: Omit<FileRecord, 'createdAt' | 'deleted'>): Promise<FileRecord> {
    const createdAt = this.now().toISOString();
    try {
      await this.db
        .insertInto('files')
        .values({
          id: f.id,
          conference_id: f.conferenceId,
          sha256: f.sha256,
          name: f.name,
          size: f.size,
          uploader_key: f.uploaderKey,
          uploader_name: f.uploaderName,
          uploader_user: f.uploaderUser,
          deleted: 0,
          created_at: createdAt,
        })
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError(`unknown conference ${f.conferenceId}`);
      throw err;
    }
    return { ...f, createdAt, deleted: false };
  }

  async getFile(id: string): Promise<FileRecord | undefined> {
    const r = await this.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toFile(r) : undefined;
  }

  async listFiles(conferenceId: string): Promise<FileRecord[]> {
    const rows = await this.db.selectFrom('files').selectAll().where('conference_id', '=', conferenceId).where('deleted', '=', 0).orderBy('created_at').orderBy('id').execute();
    return rows.map(toFile);
  }

  async deleteFile(id: string): Promise<{ record: FileRecord; stillUsed: number } | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
      if (!r) return undefined;
      await tx.updateTable('files').set({ deleted: 1 }).where('id', '=', id).execute();
      const used = await tx.selectFrom('files').select((eb) => eb.fn.countAll<number>().as('n')).where('sha256', '=', r.sha256).where('deleted', '=', 0).executeTakeFirstOrThrow();
      return { record: { ...toFile(r), deleted: true }, stillUsed: Number(used.n) };
    });
  }

  async blobsInUse(table: BlobTable, sha256s: string[]): Promise<Set<string>> {
    if (sha256s.length === 0) return new Set();
    const rows =
      table === 'files'
        ? await this.db.selectFrom('files').select('sha256').distinct().where('sha256', 'in', sha256s).where('deleted', '=', 0).execute()
        : await this.db.selectFrom('slide_decks').select('sha256').distinct().where('sha256', 'in', sha256s).execute();
    return new Set(rows.map((r) => r.sha256));
  }

  async claimLease(name: string, holder: string, now: string, until: string): Promise<boolean> {
    const res = await this.db
      .insertInto('leases')
      .values({ name, holder, lease_until: until })
      .onConflict((oc) => oc.column('name').doUpdateSet({ holder, lease_until: until }).where((eb) => eb.or([eb('leases.lease_until', '<', now), eb('leases.holder', '=', holder)])))
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** The Kysely database (SqlBlobStore keeps cluster blobs in it). */
  get kysely(): Kysely<Database> {
    return this.db;
  }

  // ---- slide decks ----

  async createSlideDeck(d: Omit<SlideDeckRecord, 'createdAt' | 'page' | 'shownAt'>): Promise<SlideDeckRecord> {
    const createdAt = this.now().toISOString();
    try {
      await this.db
        .insertInto('slide_decks')
        .values({
          id: d.id,
          conference_id: d.conferenceId,
          sha256: d.sha256,
          name: d.name,
          pages: d.pages,
          size: d.size,
          converted: d.converted ? 1 : 0,
          uploader_name: d.uploaderName,
          uploader_user: d.uploaderUser,
          created_at: createdAt,
          page: 1,
          shown_at: null,
        })
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError(`unknown conference ${d.conferenceId}`);
      throw err;
    }
    return { ...d, createdAt, page: 1, shownAt: null };
  }

  async getSlideDeck(id: string): Promise<SlideDeckRecord | undefined> {
    const r = await this.db.selectFrom('slide_decks').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toSlideDeck(r) : undefined;
  }

  async listSlideDecks(conferenceId: string): Promise<SlideDeckRecord[]> {
    const rows = await this.db.selectFrom('slide_decks').selectAll().where('conference_id', '=', conferenceId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toSlideDeck);
  }

  async showSlideDeck(conferenceId: string, shown: { deckId: string; page: number } | null): Promise<void> {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('slide_decks').set({ shown_at: null }).where('conference_id', '=', conferenceId).where('shown_at', 'is not', null).execute();
      if (shown) await tx.updateTable('slide_decks').set({ shown_at: at, page: shown.page }).where('id', '=', shown.deckId).where('conference_id', '=', conferenceId).execute();
    });
  }

  // ---- polls and Q&A ----

  async createPoll(p: Omit<PollRecord, 'votes' | 'createdAt'>): Promise<PollRecord> {
    const createdAt = this.now().toISOString();
    try {
      await this.db
        .insertInto('polls')
        .values({
          id: p.id,
          conference_id: p.conferenceId,
          question: p.question,
          options: JSON.stringify(p.options),
          multiple: p.multiple ? 1 : 0,
          anonymous: p.anonymous ? 1 : 0,
          state: p.state,
          created_by_name: p.createdByName,
          created_by_user: p.createdByUser,
          created_by_key: p.createdByKey,
          created_at: createdAt,
        })
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError(`unknown conference ${p.conferenceId}`);
      throw err;
    }
    return { ...p, createdAt, votes: [] };
  }

  async setPollState(pollId: string, state: PollState): Promise<void> {
    const res = await this.db.updateTable('polls').set({ state }).where('id', '=', pollId).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new NotFoundError(`unknown poll ${pollId}`);
  }

  async setPollVote(pollId: string, vote: PollVoteRecord): Promise<void> {
    const choices = JSON.stringify(vote.choices);
    const updatedAt = this.now().toISOString();
    try {
      await this.db
        .insertInto('poll_votes')
        .values({ poll_id: pollId, voter_key: vote.voterKey, voter_name: vote.voterName, choices, updated_at: updatedAt })
        .onConflict((oc) => oc.columns(['poll_id', 'voter_key']).doUpdateSet({ voter_name: vote.voterName, choices, updated_at: updatedAt }))
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError(`unknown poll ${pollId}`);
      throw err;
    }
  }

  async appendWhiteboardUpdate(conferenceId: string, seq: number, data: string): Promise<void> {
    await this.db.insertInto('whiteboard_updates').values({ conference_id: conferenceId, seq, data, created_at: this.now().toISOString() }).execute();
  }

  async listWhiteboardUpdates(conferenceId: string): Promise<{ seq: number; data: string }[]> {
    const rows = await this.db.selectFrom('whiteboard_updates').select(['seq', 'data']).where('conference_id', '=', conferenceId).orderBy('seq').execute();
    return rows.map((r) => ({ seq: Number(r.seq), data: r.data }));
  }

  async compactWhiteboard(conferenceId: string, seq: number, data: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('whiteboard_updates').where('conference_id', '=', conferenceId).where('seq', '<', seq).execute();
      await tx.insertInto('whiteboard_updates').values({ conference_id: conferenceId, seq, data, created_at: this.now().toISOString() }).execute();
    });
  }

  async listPolls(conferenceId: string): Promise<PollRecord[]> {
    const rows = await this.db.selectFrom('polls').selectAll().where('conference_id', '=', conferenceId).orderBy('created_at').orderBy('id').execute();
    if (rows.length === 0) return [];
    const votes = await this.db
      .selectFrom('poll_votes')
      .selectAll()
      .where('poll_id', 'in', rows.map((r) => r.id))
      .orderBy('updated_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      conferenceId: r.conference_id,
      question: r.question,
      options: JSON.parse(r.options) as string[],
      multiple: r.multiple === 1,
      anonymous: r.anonymous === 1,
      state: PollState.parse(r.state),
      createdByName: r.created_by_name,
      createdByUser: r.created_by_user,
      createdByKey: r.created_by_key,
      createdAt: r.created_at,
      votes: votes.filter((v) => v.poll_id === r.id).map((v) => ({ voterKey: v.voter_key, voterName: v.voter_name, choices: JSON.parse(v.choices) as number[] })),
    }));
  }

  async createQuestion(q: Omit<QuestionRecord, 'voters' | 'createdAt'>): Promise<QuestionRecord> {
    const createdAt = this.now().toISOString();
    try {
      await this.db
        .insertInto('qa_questions')
        .values({
          id: q.id,
          conference_id: q.conferenceId,
          text: q.text,
          anonymous: q.anonymous ? 1 : 0,
          author_key: q.authorKey,
          author_name: q.authorName,
          author_user: q.authorUser,
          state: q.state,
          created_at: createdAt,
        })
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError(`unknown conference ${q.conferenceId}`);
      throw err;
    }
    return { ...q, createdAt, voters: [] };
  }

  async setQuestionState(questionId: string, state: QuestionState): Promise<void> {
    const res = await this.db.updateTable('qa_questions').set({ state }).where('id', '=', questionId).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new NotFoundError(`unknown question ${questionId}`);
  }

  async setQuestionVote(questionId: string, voterKey: string, up: boolean): Promise<void> {
    if (!up) {
      await this.db.deleteFrom('qa_votes').where('question_id', '=', questionId).where('voter_key', '=', voterKey).execute();
      return;
    }
    try {
      await this.db
        .insertInto('qa_votes')
        .values({ question_id: questionId, voter_key: voterKey })
        .onConflict((oc) => oc.columns(['question_id', 'voter_key']).doNothing())
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError(`unknown question ${questionId}`);
      throw err;
    }
  }

  async listQuestions(conferenceId: string): Promise<QuestionRecord[]> {
    const rows = await this.db.selectFrom('qa_questions').selectAll().where('conference_id', '=', conferenceId).orderBy('created_at').orderBy('id').execute();
    if (rows.length === 0) return [];
    const votes = await this.db.selectFrom('qa_votes').selectAll().where('question_id', 'in', rows.map((r) => r.id)).execute();
    return rows.map((r) => ({
      id: r.id,
      conferenceId: r.conference_id,
      text: r.text,
      anonymous: r.anonymous === 1,
      authorKey: r.author_key,
      authorName: r.author_name,
      authorUser: r.author_user,
      state: QuestionState.parse(r.state),
      createdAt: r.created_at,
      voters: votes.filter((v) => v.question_id === r.id).map((v) => v.voter_key),
    }));
  }

  // ---- recordings ----

  async createRecording(r: { id: string; conferenceId: string; subject: string; organizerId: string; startedBy: string; startedAt: string }): Promise<void> {
    await this.db
      .insertInto('recordings')
      .values({ id: r.id, conference_id: r.conferenceId, subject: r.subject, organizer_id: r.organizerId, started_by: r.startedBy, started_at: r.startedAt, ended_at: null, duration_ms: 0, bytes: 0, status: 'recording', note: null, has_audio: 0 })
      .execute();
  }

  async finishRecording(id: string, r: { endedAt: string; durationMs: number; bytes: number; status: 'done' | 'failed'; note: string | null; hasAudio: boolean }): Promise<void> {
    await this.db
      .updateTable('recordings')
      .set({ ended_at: r.endedAt, duration_ms: r.durationMs, bytes: r.bytes, status: r.status, note: r.note, has_audio: r.hasAudio ? 1 : 0 })
      .where('id', '=', id)
      .execute();
  }

  #recordings() {
    return this.db
      .selectFrom('recordings as r')
      .innerJoin('users as o', 'o.id', 'r.organizer_id')
      .innerJoin('users as s', 's.id', 'r.started_by')
      .selectAll('r')
      .select(['o.username as organizer_username', 's.username as started_by_username']);
  }

  async getRecording(id: string): Promise<RecordingRecord | undefined> {
    const row = await this.#recordings().where('r.id', '=', id).executeTakeFirst();
    return row && toRecording(row);
  }

  async listRecordingsForUser(userId: string): Promise<RecordingRecord[]> {
    const rows = await this.#recordings()
      .where((eb) =>
        eb.or([
          eb('r.organizer_id', '=', userId),
          eb('r.started_by', '=', userId),
          eb('r.id', 'in', eb.selectFrom('recording_shares').select('recording_id').where('user_id', '=', userId)),
        ]),
      )
      .orderBy('r.started_at', 'desc')
      .orderBy('r.id')
      .execute();
    return rows.map(toRecording);
  }

  async listRecordingsBefore(before: string): Promise<RecordingRecord[]> {
    return (await this.#recordings().where('r.started_at', '<', before).execute()).map(toRecording);
  }

  async listUnfinishedRecordings(): Promise<RecordingRecord[]> {
    return (await this.#recordings().where('r.status', '=', 'recording').execute()).map(toRecording);
  }

  async shareRecording(id: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.db
      .insertInto('recording_shares')
      .values(userIds.map((u) => ({ recording_id: id, user_id: u })))
      .onConflict((oc) => oc.columns(['recording_id', 'user_id']).doNothing())
      .execute();
  }

  async unshareRecording(id: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.db.deleteFrom('recording_shares').where('recording_id', '=', id).where('user_id', 'in', userIds).execute();
  }

  async listRecordingShares(id: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('recording_shares')
      .innerJoin('users', 'users.id', 'recording_shares.user_id')
      .select('users.username')
      .where('recording_shares.recording_id', '=', id)
      .orderBy('users.username')
      .execute();
    return rows.map((r) => r.username);
  }

  async isRecordingSharedWith(id: string, userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('recording_shares').select('user_id').where('recording_id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined;
  }

  async deleteRecording(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('recording_shares').where('recording_id', '=', id).execute();
      const res = await tx.deleteFrom('recordings').where('id', '=', id).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async queueMail(m: QueuedMail): Promise<void> {
    await this.db.insertInto('mail_outbox').values({ id: m.id, mail: m.mail, attempts: m.attempts, not_before: m.notBefore, lease_until: m.leaseUntil, created_at: m.createdAt }).execute();
  }

  async listQueuedMail(limit: number): Promise<QueuedMail[]> {
    const rows = await this.db.selectFrom('mail_outbox').selectAll().orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map(queuedMail);
  }

  async claimQueuedMail(now: string, leaseUntil: string, limit: number): Promise<QueuedMail[]> {
    const free = await this.db.selectFrom('mail_outbox').selectAll().where('lease_until', '<', now).orderBy('created_at').orderBy('id').limit(limit).execute();
    const mine: QueuedMail[] = [];
    for (const r of free) {
      // Only if nobody took it meanwhile (another node's claim changed lease_until first).
      const res = await this.db.updateTable('mail_outbox').set({ lease_until: leaseUntil }).where('id', '=', r.id).where('lease_until', '=', r.lease_until).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) mine.push(queuedMail({ ...r, lease_until: leaseUntil }));
    }
    return mine;
  }

  async updateQueuedMail(id: string, attempts: number, notBefore: string, leaseUntil: string): Promise<void> {
    await this.db.updateTable('mail_outbox').set({ attempts, not_before: notBefore, lease_until: leaseUntil }).where('id', '=', id).execute();
  }

  async releaseQueuedMail(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) await this.db.updateTable('mail_outbox').set({ lease_until: '' }).where('id', 'in', ids.slice(i, i + 500)).execute();
  }

  async deleteQueuedMail(id: string): Promise<void> {
    await this.db.deleteFrom('mail_outbox').where('id', '=', id).execute();
  }

  close(): Promise<void> {
    this.closing ??= this.db.destroy();
    return this.closing;
  }
}

async function requireGroup(tx: Transaction<Database>, name: string): Promise<string> {
  const group = await tx.selectFrom('user_groups').select('id').where('name', '=', name).executeTakeFirst();
  if (!group) throw new NotFoundError(`no group "${name}"`);
  return group.id;
}

async function resolveUsernames(tx: Transaction<Database>, usernames: string[]): Promise<{ id: string; username: string }[]> {
  const wanted = [...new Set(usernames)];
  if (wanted.length === 0) return [];
  const found = await tx.selectFrom('users').select(['id', 'username']).where('username', 'in', wanted).execute();
  const known = new Set(found.map((u) => u.username));
  const missing = wanted.filter((n) => !known.has(n));
  if (missing.length > 0) throw new NotFoundError(`no such user: ${missing.join(', ')}`);
  return found;
}

function toUser(r: Selectable<UsersTable>): UserRecord {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    passwordHash: r.password_hash,
    admin: Number(r.admin) === 1,
    createdAt: r.created_at,
    email: r.email ?? null,
  };
}

function toRecording(r: {
  id: string;
  conference_id: string;
  subject: string;
  organizer_id: string;
  organizer_username: string;
  started_by: string;
  started_by_username: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number;
  bytes: number;
  status: string;
  note: string | null;
  has_audio: number;
}): RecordingRecord {
  return {
    id: r.id,
    conferenceId: r.conference_id,
    subject: r.subject,
    organizerId: r.organizer_id,
    organizerUsername: r.organizer_username,
    startedById: r.started_by,
    startedByUsername: r.started_by_username,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    durationMs: Number(r.duration_ms),
    bytes: Number(r.bytes),
    status: r.status as RecordingRecord['status'],
    note: r.note,
    hasAudio: Number(r.has_audio) === 1,
  };
}

function scheduleColumns(s: StoredSchedule | null) {
  return { starts_at: s?.startsAt ?? null, duration_minutes: s?.durationMinutes ?? null, time_zone: s?.timeZone ?? null, rrule: s?.rrule ?? null };
}

function toConference(r: Selectable<ConferencesTable> & { organizer_username: string; organizer_name: string }): ConferenceRecord {
  return {
    schedule:
      r.starts_at !== null && r.duration_minutes !== null && r.time_zone !== null
        ? { startsAt: r.starts_at, durationMinutes: Number(r.duration_minutes), timeZone: r.time_zone, rrule: r.rrule }
        : null,
    sequence: Number(r.sequence),
    openedAt: r.opened_at,
    id: r.id,
    organizerId: r.organizer_id,
    organizerUsername: r.organizer_username,
    organizerName: r.organizer_name,
    subject: r.subject,
    policy: MeetingPolicy.parse(JSON.parse(r.policy)),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toChat(r: Selectable<ChatMessagesTable>, file: ChatFile | null = null): ChatRecord {
  return {
    id: Number(r.id),
    conferenceId: r.conference_id,
    senderId: r.sender_id,
    senderName: r.sender_name,
    senderUser: r.sender_user,
    text: r.text,
    createdAt: r.created_at,
    private:
      r.recipient_key !== null && r.sender_key !== null
        ? { recipientId: r.recipient_id ?? '', recipientName: r.recipient_name ?? '', recipientUser: r.recipient_user, senderKey: r.sender_key, recipientKey: r.recipient_key }
        : null,
    file,
  };
}

function toSlideDeck(r: Selectable<import('./schema.js').SlideDecksTable>): SlideDeckRecord {
  return {
    id: r.id,
    conferenceId: r.conference_id,
    sha256: r.sha256,
    name: r.name,
    pages: r.pages,
    size: Number(r.size),
    converted: r.converted === 1,
    uploaderName: r.uploader_name,
    uploaderUser: r.uploader_user,
    createdAt: r.created_at,
    page: r.page,
    shownAt: r.shown_at,
  };
}

function toFile(r: Selectable<import('./schema.js').FilesTable>): FileRecord {
  return {
    id: r.id,
    conferenceId: r.conference_id,
    sha256: r.sha256,
    name: r.name,
    size: Number(r.size),
    uploaderKey: r.uploader_key,
    uploaderName: r.uploader_name,
    uploaderUser: r.uploader_user,
    deleted: r.deleted === 1,
    createdAt: r.created_at,
  };
}

/** SQLite reports SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY; PostgreSQL SQLSTATE 23505. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** SQLite reports SQLITE_CONSTRAINT_FOREIGNKEY; PostgreSQL SQLSTATE 23503. */
function isForeignKeyViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

function queuedMail(r: { id: string; mail: string; attempts: number | string; not_before: string; lease_until: string; created_at: string }): QueuedMail {
  return { id: r.id, mail: r.mail, attempts: Number(r.attempts), notBefore: r.not_before, leaseUntil: r.lease_until, createdAt: r.created_at };
}

/**
 * The focus factory: creates, modifies and deletes conferences in the conference store, and keeps
 * the live Focus (if any) in step with the record.
 */
import { CloseCode, DEFAULT_POLICY, MAX_SUBJECT_LENGTH, type CreateConferenceRequest, type UpdateConferenceRequest } from '@baton/protocol';
import type { ConferenceRecord, Store, UserRecord } from '../store/Store.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { meetingId } from '../util/ids.js';
import type { FocusRegistry } from './FocusRegistry.js';

export class FocusFactory {
  constructor(
    private readonly store: Store,
    private readonly registry: FocusRegistry,
  ) {}

  async create(organizer: UserRecord, req: CreateConferenceRequest): Promise<ConferenceRecord> {
    return this.store.createConference({
      id: meetingId(),
      organizerId: organizer.id,
      subject: req.subject ?? defaultSubject(organizer),
      policy: { ...DEFAULT_POLICY, ...req.policy },
    });
  }

  /** The record, if `user` organizes it. */
  async getOwned(user: UserRecord, id: string): Promise<ConferenceRecord> {
    const rec = await this.store.getConference(id);
    if (!rec) throw new NotFoundError('no such conference');
    if (rec.organizerId !== user.id) throw new ForbiddenError('only the organizer may do this');
    return rec;
  }

  async modify(user: UserRecord, id: string, req: UpdateConferenceRequest): Promise<ConferenceRecord> {
    const rec = await this.getOwned(user, id);
    const updated = await this.store.updateConference(id, {
      ...(req.subject !== undefined ? { subject: req.subject } : {}),
      ...(req.policy ? { policy: { ...rec.policy, ...req.policy } } : {}),
    });
    if (!updated) throw new NotFoundError('no such conference');
    (await this.registry.get(id))?.updateRecord(updated);
    return updated;
  }

  async delete(user: UserRecord, id: string): Promise<void> {
    await this.getOwned(user, id);
    (await this.registry.get(id))?.end(CloseCode.ConferenceEnded, 'the organizer deleted this meeting');
    await this.store.deleteConference(id);
  }
}

/** The name of a meeting created without a subject: "Alice Liddell's meeting". */
export function defaultSubject(organizer: Pick<UserRecord, 'displayName' | 'username'>): string {
  const who = organizer.displayName.trim() || organizer.username;
  return `${who}'s meeting`.slice(0, MAX_SUBJECT_LENGTH);
}

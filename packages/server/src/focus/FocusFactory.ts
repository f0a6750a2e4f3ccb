/**
 * The focus factory: creates, modifies and deletes conferences in the conference store, and keeps
 * the live Focus (if any) in step with the record.
 */
import { CloseCode, DEFAULT_POLICY, MAX_SUBJECT_LENGTH, type CreateConferenceRequest, type UpdateConferenceRequest } from '@baton/protocol';
import type { ConferenceRecord, Store, UserRecord } from '../store/Store.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { meetingId } from '../util/ids.js';
import { sameSchedule, toStoredSchedule } from '../schedule/recurrence.js';
import type { FocusRegistry } from './FocusRegistry.js';

export class FocusFactory {
  constructor(
    private readonly store: Store,
    private readonly registry: FocusRegistry,
    /** Cluster mode: tell every node (the live Focus may run on another); absent: the local registry. */
    private readonly announce?: (change: { id: string; kind: 'updated' | 'deleted' }) => void,
  ) {}

  async create(organizer: UserRecord, req: CreateConferenceRequest): Promise<ConferenceRecord> {
    return this.store.createConference({
      id: meetingId(),
      organizerId: organizer.id,
      subject: req.subject ?? defaultSubject(organizer),
      policy: { ...DEFAULT_POLICY, ...req.policy },
      schedule: req.schedule ? toStoredSchedule(req.schedule) : null,
    });
  }

  /** The record, if `user` organizes it. */
  async getOwned(user: UserRecord, id: string): Promise<ConferenceRecord> {
    const rec = await this.store.getConference(id);
    if (!rec) throw new NotFoundError('no such conference');
    if (rec.organizerId !== user.id) throw new ForbiddenError('only the organizer may do this');
    return rec;
  }

  /**
   * Changes subject, policy or schedule. `changed`: what an invitee's calendar shows (time or subject)
   * changed, so the .ics SEQUENCE went up and the invitees are to be told.
   */
  async modify(user: UserRecord, id: string, req: UpdateConferenceRequest): Promise<{ record: ConferenceRecord; changed: boolean }> {
    const rec = await this.getOwned(user, id);
    const schedule = req.schedule === undefined ? undefined : req.schedule === null ? null : toStoredSchedule(req.schedule);
    const changed = (schedule !== undefined && !sameSchedule(schedule, rec.schedule)) || (req.subject !== undefined && req.subject !== rec.subject);
    const updated = await this.store.updateConference(id, {
      ...(req.subject !== undefined ? { subject: req.subject } : {}),
      ...(req.policy ? { policy: { ...rec.policy, ...req.policy } } : {}),
      ...(schedule !== undefined ? { schedule } : {}),
      // A new time is a new occurrence to open.
      ...(schedule !== undefined && !sameSchedule(schedule, rec.schedule) ? { openedAt: null } : {}),
      ...(changed ? { bumpSequence: true } : {}),
    });
    if (!updated) throw new NotFoundError('no such conference');
    await this.#changed(id, updated);
    return { record: updated, changed };
  }

  /** The organizer opens a scheduled meeting before its start: guests stop waiting for it. */
  async open(user: UserRecord, id: string): Promise<ConferenceRecord> {
    await this.getOwned(user, id);
    const updated = await this.store.updateConference(id, { openedAt: new Date().toISOString() });
    if (!updated) throw new NotFoundError('no such conference');
    await this.#changed(id, updated);
    return updated;
  }

  async delete(user: UserRecord, id: string): Promise<void> {
    await this.getOwned(user, id);
    if (this.announce) this.announce({ id, kind: 'deleted' });
    else (await this.registry.get(id))?.end(CloseCode.ConferenceEnded, 'the organizer deleted this meeting');
    await this.store.deleteConference(id);
  }

  /** The live Focus hears of a change: here, or (cluster mode) on whichever node runs it. */
  async #changed(id: string, updated: ConferenceRecord): Promise<void> {
    if (this.announce) this.announce({ id, kind: 'updated' });
    else (await this.registry.get(id))?.updateRecord(updated);
  }
}

/** The name of a meeting created without a subject: "Alice Liddell's meeting". */
export function defaultSubject(organizer: Pick<UserRecord, 'displayName' | 'username'>): string {
  const who = organizer.displayName.trim() || organizer.username;
  return `${who}'s meeting`.slice(0, MAX_SUBJECT_LENGTH);
}

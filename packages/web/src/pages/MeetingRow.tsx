import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { MAX_SUBJECT_LENGTH, type ConferenceResource, type MeetingPolicy } from '@baton/protocol';
import { api, errorText } from '../api/client';
import { CopyButton } from '../ui/CopyButton';
import { PolicyFields, policySummary } from '../ui/PolicyFields';

/** One of my meetings: open, copy its URL, edit subject and policy, delete (with confirmation). */
export function MeetingRow({ meeting, highlight, onChanged, onDeleted }: { meeting: ConferenceResource; highlight: boolean; onChanged(): void; onDeleted(): void }) {
  const [mode, setMode] = useState<'view' | 'edit' | 'confirm-delete'>('view');
  const [subject, setSubject] = useState(meeting.subject);
  const [policy, setPolicy] = useState<MeetingPolicy>(meeting.policy);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.updateConference(meeting.id, { subject: subject.trim(), policy });
      setMode('view');
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await api.deleteConference(meeting.id);
      onDeleted();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <li className={highlight ? 'meeting-row highlight' : 'meeting-row'} data-testid={`meeting-${meeting.id}`} data-subject={meeting.subject}>
      {mode === 'edit' ? (
        <form className="form" onSubmit={save} aria-label={`Edit ${meeting.subject}`}>
          <label>
            Subject
            <input value={subject} onChange={(e) => setSubject(e.target.value)} required maxLength={MAX_SUBJECT_LENGTH} data-testid="edit-subject" />
          </label>
          <PolicyFields value={policy} onChange={setPolicy} idPrefix="edit" />
          <div className="actions">
            <button className="primary" type="submit" disabled={busy || !subject.trim()} data-testid="edit-save">
              Save
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setSubject(meeting.subject);
                setPolicy(meeting.policy);
                setMode('view');
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <div className="meeting-info">
            <Link className="subject" to={`/m/${encodeURIComponent(meeting.id)}`}>
              {meeting.subject}
            </Link>
            <div className="muted small">{policySummary(meeting.policy)}</div>
            <div className="url small" title={meeting.url}>
              {meeting.url}
            </div>
          </div>
          <div className="actions">
            <Link className="button primary" to={`/m/${encodeURIComponent(meeting.id)}`} data-testid="meeting-open">
              Open
            </Link>
            <CopyButton text={meeting.url} label="Copy URL" testId="meeting-copy" />
            {mode === 'confirm-delete' ? (
              <>
                <button type="button" className="danger" disabled={busy} onClick={() => void remove()} data-testid="meeting-delete-confirm">
                  Delete for good
                </button>
                <button type="button" className="secondary" onClick={() => setMode('view')}>
                  Keep
                </button>
              </>
            ) : (
              <>
                <button type="button" className="secondary" onClick={() => setMode('edit')} data-testid="meeting-edit">
                  Edit
                </button>
                <button type="button" className="secondary danger-text" onClick={() => setMode('confirm-delete')} data-testid="meeting-delete">
                  Delete
                </button>
              </>
            )}
          </div>
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

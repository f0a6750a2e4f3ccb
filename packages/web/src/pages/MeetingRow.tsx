import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { MAX_SUBJECT_LENGTH, type ConferenceResource, type MeetingPolicy } from '@baton/protocol';
import { useTranslation } from 'react-i18next';
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
  const { t } = useTranslation();

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
        <form className="form" onSubmit={save} aria-label={t('row.editWho', { subject: meeting.subject })}>
          <label>
            {t('home.subject')}
            <input value={subject} onChange={(e) => setSubject(e.target.value)} required maxLength={MAX_SUBJECT_LENGTH} data-testid="edit-subject" />
          </label>
          <PolicyFields value={policy} onChange={setPolicy} idPrefix="edit" />
          <div className="actions">
            <button className="primary" type="submit" disabled={busy || !subject.trim()} data-testid="edit-save">
              {t('settings.save')}
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
              {t('common.cancel')}
            </button>
          </div>
        </form>
      ) : (
        <>
          <div className="meeting-info">
            <Link className="subject" to={`/m/${encodeURIComponent(meeting.id)}`}>
              {meeting.subject}
            </Link>
            <div className="muted small">{policySummary(t, meeting.policy)}</div>
            <div className="url small" title={meeting.url}>
              {meeting.url}
            </div>
          </div>
          <div className="actions">
            <Link className="button primary" to={`/m/${encodeURIComponent(meeting.id)}`} data-testid="meeting-open">
              {t('row.open')}
            </Link>
            <CopyButton text={meeting.url} label={t('row.copyUrl')} testId="meeting-copy" />
            {mode === 'confirm-delete' ? (
              <>
                <button type="button" className="danger" disabled={busy} onClick={() => void remove()} data-testid="meeting-delete-confirm">
                  {t('row.deleteForGood')}
                </button>
                <button type="button" className="secondary" onClick={() => setMode('view')}>
                  {t('row.keep')}
                </button>
              </>
            ) : (
              <>
                <button type="button" className="secondary" onClick={() => setMode('edit')} data-testid="meeting-edit">
                  {t('row.edit')}
                </button>
                <button type="button" className="secondary danger-text" onClick={() => setMode('confirm-delete')} data-testid="meeting-delete">
                  {t('row.delete')}
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

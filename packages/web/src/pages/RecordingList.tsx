/** The dashboard's recordings: mine and those shared with me, each opening its replay page. */
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import type { RecordingResource } from '@baton/protocol';
import { api, errorText } from '../api/client';
import { formatDate } from './Dashboard';

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

export function RecordingList({ username }: { username: string }) {
  const { t } = useTranslation();
  const [list, setList] = useState<RecordingResource[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.recordings().then(setList, (e) => setError(errorText(e)));
  }, []);
  return (
    <section className="card" aria-labelledby="my-recordings">
      <h2 id="my-recordings">{t('recording.listTitle')}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!list ? (
        !error && <p className="muted">{t('home.loading')}</p>
      ) : list.length === 0 ? (
        <p className="muted" data-testid="no-recordings">
          {t('recording.listEmpty')}
        </p>
      ) : (
        <ul className="invitation-list" data-testid="recording-list">
          {list.map((r) => (
            <li key={r.id} data-testid={`recording-${r.id}`}>
              <div className="grow">
                <div className="subject">{r.subject}</div>
                <div className="muted small">
                  {t('recording.details', { when: formatDate(r.startedAt), duration: formatDuration(r.durationMs), size: formatSize(r.bytes) })}
                  {r.organizer !== username && r.startedBy !== username && <> · {t('recording.sharedBy', { who: r.organizer })}</>}
                  {r.status === 'recording' && <> · {t('recording.statusRecording')}</>}
                  {r.status === 'failed' && r.note && <> · {t('recording.statusFailed', { note: r.note })}</>}
                </div>
              </div>
              {r.status !== 'recording' && (
                <Link className="button primary" to={`/recordings/${encodeURIComponent(r.id)}`}>
                  {t('recording.open')}
                </Link>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

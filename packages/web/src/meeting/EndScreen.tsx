import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { CloseCode } from '@baton/protocol';
import type { ConferenceEnd } from '../conference/ConferenceClient';
import { LanguagePicker } from '../i18n/LanguagePicker';

/** The sentence under the title, in the page's language (end.message is the client's English). */
function endMessage(t: TFunction, end: ConferenceEnd): string {
  if (end.reason === 'ended_for_all') {
    if (!end.by) return end.message;
    return end.by.self ? t('end.msg.endedByYou') : t('end.msg.endedBy', { name: end.by.name });
  }
  if (end.reason === 'rejected') {
    const why = { [CloseCode.ProtocolError]: 'protocol', [CloseCode.UnsupportedData]: 'data', [CloseCode.PolicyViolation]: 'policy', [CloseCode.TooBig]: 'tooBig' }[end.code];
    return why ? t(`end.msg.rejected.${why}`) : end.message;
  }
  return t(`end.msg.${end.reason}`);
}

// Where the server's own words add something (e.g. why it refused); elsewhere they only repeat the title.
const SHOW_DETAIL = new Set<ConferenceEnd['reason']>(['denied', 'rejected', 'handshake_failed', 'unsupported_version']);

/** Shown once the connection is over for good, with a clear reason and what can be done next. */
export function EndScreen({
  end,
  subject,
  onRejoin,
  onChangeName,
}: {
  end: ConferenceEnd;
  subject: string | null;
  onRejoin(): void;
  onChangeName?: () => void;
}) {
  const { t } = useTranslation();
  const canRejoin = end.reason === 'left' || end.reason === 'ended_for_all' || end.reason === 'replaced' || end.reason === 'unreachable' || end.reason === 'rejected' || end.reason === 'handshake_failed';
  return (
    <div className="page centered">
      <header className="topbar">
        <Link to="/" className="brand" aria-label={t('topbar.home')}>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Baton
        </Link>
        <div className="topbar-middle" />
        <LanguagePicker />
      </header>
      <main className="narrow">
        <div className={`card center end end-${end.reason}`} data-testid="meeting-ended" data-reason={end.reason} role="alert">
          <h1>{t(`end.title.${end.reason}`)}</h1>
          {subject && <p className="muted">{subject}</p>}
          <p>{endMessage(t, end)}</p>
          {end.detail && SHOW_DETAIL.has(end.reason) && (
            <p className="muted small" data-testid="end-detail">
              {t('end.server', { detail: end.detail })}
            </p>
          )}
          <div className="actions center">
            {end.reason === 'unsupported_version' && (
              <button type="button" className="primary" onClick={() => window.location.reload()}>
                {t('end.reload')}
              </button>
            )}
            {canRejoin && (
              <button type="button" className="primary" onClick={onRejoin} data-testid="rejoin">
                {end.reason === 'replaced' ? t('end.useThisTab') : end.reason === 'ended_for_all' ? t('end.joinAgain') : t('end.rejoin')}
              </button>
            )}
            {onChangeName && end.reason === 'left' && (
              <button type="button" className="secondary" onClick={onChangeName}>
                {t('end.anotherName')}
              </button>
            )}
            <Link className="button secondary" to="/" data-testid="go-home">
              {t('end.home')}
            </Link>
          </div>
        </div>
      </main>
    </div>
  );
}

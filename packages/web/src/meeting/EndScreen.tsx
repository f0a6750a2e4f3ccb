import { Link } from 'react-router-dom';
import type { ConferenceEnd } from '../conference/ConferenceClient';

const TITLES: Record<ConferenceEnd['reason'], string> = {
  left: 'You left the meeting',
  removed: 'You were removed from the meeting',
  denied: 'You were not let in',
  ended: 'This meeting has ended',
  ended_for_all: 'The organizer ended the meeting',
  replaced: 'You joined from somewhere else',
  unsupported_version: 'This page is out of date',
  handshake_failed: 'Could not join the meeting',
  rejected: 'The server closed the connection',
  unreachable: 'Could not connect to the meeting',
};

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
  const canRejoin = end.reason === 'left' || end.reason === 'ended_for_all' || end.reason === 'replaced' || end.reason === 'unreachable' || end.reason === 'rejected' || end.reason === 'handshake_failed';
  return (
    <div className="page centered">
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Baton
        </Link>
      </header>
      <main className="narrow">
        <div className={`card center end end-${end.reason}`} data-testid="meeting-ended" data-reason={end.reason} role="alert">
          <h1>{TITLES[end.reason]}</h1>
          {subject && <p className="muted">{subject}</p>}
          <p>{end.message}</p>
          {end.detail && SHOW_DETAIL.has(end.reason) && (
            <p className="muted small" data-testid="end-detail">
              Server: {end.detail}
            </p>
          )}
          <div className="actions center">
            {end.reason === 'unsupported_version' && (
              <button type="button" className="primary" onClick={() => window.location.reload()}>
                Reload
              </button>
            )}
            {canRejoin && (
              <button type="button" className="primary" onClick={onRejoin} data-testid="rejoin">
                {end.reason === 'replaced' ? 'Use this tab instead' : end.reason === 'ended_for_all' ? 'Join again' : 'Rejoin'}
              </button>
            )}
            {onChangeName && end.reason === 'left' && (
              <button type="button" className="secondary" onClick={onChangeName}>
                Join with another name
              </button>
            )}
            <Link className="button secondary" to="/" data-testid="go-home">
              Go to the home page
            </Link>
          </div>
        </div>
      </main>
    </div>
  );
}

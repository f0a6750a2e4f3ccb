import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams } from 'react-router-dom';
import { MAX_NAME_LENGTH, type ConferencePreview } from '@baton/protocol';
import { useTranslation } from 'react-i18next';
import { ApiRequestError, api, errorText } from '../api/client';
import { ConferenceClient } from '../conference/ConferenceClient';
import { MeetingRoom } from '../meeting/MeetingRoom';
import { useSession } from '../session/SessionContext';
import { TopBar } from '../ui/TopBar';

const GUEST_NAME_KEY = 'baton.guestName';

type PreviewState = { kind: 'loading' } | { kind: 'ok'; preview: ConferencePreview } | { kind: 'missing' } | { kind: 'error'; message: string };

/** /m/:id — decides how to join (signed in, as a guest, or not at all) and then shows the room. */
export function MeetingPage() {
  const { id = '' } = useParams();
  const { user } = useSession();
  const [preview, setPreview] = useState<PreviewState>({ kind: 'loading' });
  // A guest who reloads the page rejoins silently with the name and seat this tab already had.
  const [guestName, setGuestName] = useState<string | null>(() => ConferenceClient.savedSeat(sessionStorage, id)?.name ?? null);
  // Bumped to start a fresh connection after the previous one ended (e.g. "Rejoin").
  const [session, setSession] = useState(0);
  const { t } = useTranslation();

  useEffect(() => {
    let live = true;
    setPreview({ kind: 'loading' });
    api.preview(id).then(
      (p) => live && setPreview({ kind: 'ok', preview: p }),
      (e: unknown) => {
        if (!live) return;
        if (e instanceof ApiRequestError && e.status === 404) setPreview({ kind: 'missing' });
        else setPreview({ kind: 'error', message: errorText(e) });
      },
    );
    return () => {
      live = false;
    };
  }, [id]);

  useEffect(() => {
    if (preview.kind === 'ok') document.title = `${preview.preview.subject} · Baton`;
    return () => {
      document.title = 'Baton';
    };
  }, [preview]);

  if (user === undefined || preview.kind === 'loading') {
    return (
      <Shell>
        <p className="muted" role="status">
          {t('join.loading')}
        </p>
      </Shell>
    );
  }
  if (preview.kind === 'missing') {
    return (
      <Shell>
        <div className="card" data-testid="meeting-missing">
          <h1>{t('join.missingTitle')}</h1>
          <p>{t('join.missing')}</p>
          <Link to="/">{t('join.back')}</Link>
        </div>
      </Shell>
    );
  }

  const next = `/m/${encodeURIComponent(id)}`;
  if (!user && !guestName) {
    return (
      <Shell>
        <GuestJoin
          id={id}
          preview={preview.kind === 'ok' ? preview.preview : null}
          previewError={preview.kind === 'error' ? preview.message : null}
          next={next}
          onJoin={(name) => {
            try {
              localStorage.setItem(GUEST_NAME_KEY, name);
            } catch {
              /* remembering the name is a convenience only */
            }
            setGuestName(name);
          }}
        />
      </Shell>
    );
  }

  return (
    <MeetingRoom
      key={session}
      conferenceId={id}
      name={user ? undefined : (guestName ?? undefined)}
      signedIn={!!user}
      onRejoin={() => setSession((n) => n + 1)}
      onChangeName={user ? undefined : () => setGuestName(null)}
    />
  );
}

function Shell({ children }: { children: ReactNode }) {
  return (
    <div className="page">
      <TopBar />
      <main className="narrow">{children}</main>
    </div>
  );
}

function GuestJoin({
  id,
  preview,
  previewError,
  next,
  onJoin,
}: {
  id: string;
  preview: ConferencePreview | null;
  previewError: string | null;
  next: string;
  onJoin(name: string): void;
}) {
  const [name, setName] = useState(() => {
    try {
      return localStorage.getItem(GUEST_NAME_KEY) ?? '';
    } catch {
      return '';
    }
  });
  const signInLink = `/signin?next=${encodeURIComponent(next)}`;
  const denied = preview?.guests === 'deny';
  const { t } = useTranslation();

  function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed) onJoin(trimmed);
  }

  return (
    <div className="card join" data-testid="guest-join-card" data-conference-id={id}>
      <h1 data-testid="preview-subject">{preview?.subject ?? t('join.meeting')}</h1>
      {preview && <p className="muted">{t('meeting.organizedBy', { name: preview.organizerName ?? preview.organizer })}</p>}
      {previewError && (
        <p className="error" role="alert">
          {previewError}
        </p>
      )}
      {denied ? (
        <>
          <p data-testid="guests-denied">{t('join.guestsDenied')}</p>
          <Link className="button primary" to={signInLink} data-testid="join-signin">
            {t('join.signInToJoin')}
          </Link>
        </>
      ) : (
        <>
          <form className="form" onSubmit={submit} aria-label={t('join.asGuest')}>
            <label>
              {t('join.yourName')}
              <input
                value={name}
                onChange={(e) => setName(e.target.value)}
                required
                maxLength={MAX_NAME_LENGTH}
                autoComplete="name"
                autoFocus
                data-testid="guest-name"
              />
            </label>
            <button className="primary" type="submit" disabled={!name.trim()} data-testid="guest-join">
              {preview?.guests === 'lobby' ? t('join.ask') : t('join.join')}
            </button>
            {preview?.guests === 'lobby' && <p className="muted small">{t('join.willLetIn')}</p>}
          </form>
          <p className="muted small">
            {t('join.haveAccount')}{' '}
            <Link to={signInLink} data-testid="join-signin">
              {t('auth.signIn')}
            </Link>
          </p>
        </>
      )}
    </div>
  );
}

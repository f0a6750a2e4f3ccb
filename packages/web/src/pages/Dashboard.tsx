import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { RecordingList } from './RecordingList';
import { Link } from 'react-router-dom';
import { Trans, useTranslation } from 'react-i18next';
import { DEFAULT_POLICY, MAX_SUBJECT_LENGTH, type ConferenceResource, type Invitation, type MeetingPolicy, type User } from '@baton/protocol';
import { api, errorText } from '../api/client';
import { TopBar } from '../ui/TopBar';
import { PolicyFields } from '../ui/PolicyFields';
import { MeetingRow } from './MeetingRow';
import { CopyButton } from '../ui/CopyButton';
import { JoinByLink } from '../ui/JoinByLink';
import { CalendarCard, ScheduleFields, UpcomingMeetings, draftToInput, newDraft, type ScheduleDraft } from './Schedule';
import { formatDateTime } from '../i18n/format';

/** Meetings shown per page; "Show more" fetches the next page. */
export const MEETINGS_PAGE = 20;

/** The signed-in home page: create a meeting, the meetings I organize, the ones I am invited to. */
export function Dashboard({ user }: { user: User }) {
  const [meetings, setMeetings] = useState<ConferenceResource[] | null>(null);
  // The cursor of the page after the ones shown; null when all are shown.
  const [next, setNext] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [invitations, setInvitations] = useState<Invitation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<ConferenceResource | null>(null);
  const shown = useRef(0);
  // Bumped when a change may alter the upcoming list.
  const [upcoming, setUpcoming] = useState(0);
  const { t } = useTranslation();
  shown.current = meetings?.length ?? 0;

  // After a change, fetch again as many meetings as were shown (at least one page).
  const reload = useCallback(async () => {
    try {
      const [first, i] = await Promise.all([api.conferences({ limit: MEETINGS_PAGE }), api.invitations()]);
      const list = [...first.conferences];
      let cursor = first.next;
      while (cursor && list.length < shown.current) {
        const page = await api.conferences({ limit: MEETINGS_PAGE, cursor });
        list.push(...page.conferences);
        cursor = page.next;
      }
      setMeetings(list);
      setNext(cursor);
      setInvitations(i);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);

  const more = async () => {
    if (!next) return;
    setLoadingMore(true);
    try {
      const page = await api.conferences({ limit: MEETINGS_PAGE, cursor: next });
      setMeetings((list) => [...(list ?? []), ...page.conferences.filter((c) => !(list ?? []).some((x) => x.id === c.id))]);
      setNext(page.next);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <div className="page">
      <TopBar />
      <main className="dashboard">
        <h1 className="welcome">{t('home.hello', { name: user.displayName })}</h1>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {/* Invitations first when there are some: they are most likely why the user is here. */}
        {invitations && invitations.length > 0 && <Invitations invitations={invitations} />}
        <div className="home-row">
          <CreateMeeting
            created={created}
            onDismiss={() => setCreated(null)}
            onCreated={(c) => {
              setCreated(c);
              setMeetings((list) => [c, ...(list ?? []).filter((x) => x.id !== c.id)]);
              if (c.schedule) setUpcoming((n) => n + 1);
            }}
          />
          <JoinByLink />
        </div>
        <UpcomingMeetings version={upcoming} onChanged={() => void reload()} />
        <section className="card" aria-labelledby="my-meetings">
          <h2 id="my-meetings">{t('home.myMeetings')}</h2>
          {meetings === null ? (
            <p className="muted">{t('home.loading')}</p>
          ) : meetings.length === 0 ? (
            <p className="muted" data-testid="no-meetings">
              {t('home.noMeetings')}
            </p>
          ) : (
            <ul className="meeting-list" data-testid="meeting-list">
              {meetings.map((m) => (
                <MeetingRow
                  key={m.id}
                  meeting={m}
                  highlight={m.id === created?.id}
                  onChanged={() => {
                    void reload();
                    setUpcoming((n) => n + 1);
                  }}
                  onDeleted={() => {
                    setMeetings((list) => (list ?? []).filter((x) => x.id !== m.id));
                    setUpcoming((n) => n + 1);
                  }}
                />
              ))}
            </ul>
          )}
          {next && (
            <div className="actions">
              <button type="button" className="secondary" onClick={() => void more()} disabled={loadingMore} data-testid="meetings-more">
                {loadingMore ? t('home.loading') : t('home.showMore')}
              </button>
            </div>
          )}
        </section>
        {invitations && invitations.length === 0 && <Invitations invitations={invitations} />}
        <CalendarCard user={user} />
        <RecordingList username={user.username} />
      </main>
    </div>
  );
}

function Invitations({ invitations }: { invitations: Invitation[] }) {
  const { t } = useTranslation();
  return (
    <section className="card" aria-labelledby="my-invitations">
      <h2 id="my-invitations">{t('home.invitations')}</h2>
      {invitations.length === 0 ? (
        <p className="muted" data-testid="no-invitations">
          {t('home.noInvitations')}
        </p>
      ) : (
        <ul className="invitation-list" data-testid="invitation-list">
          {invitations.map((inv) => (
            <li key={`${inv.conferenceId}-${inv.at}`} data-testid={`invitation-${inv.conferenceId}`}>
              <div className="grow">
                <div className="subject">{inv.subject}</div>
                <div className="muted small">
                  {t('home.invitedBy', { who: inv.invitedBy, when: formatDate(inv.at) })}
                </div>
              </div>
              <Link className="button primary" to={`/m/${encodeURIComponent(inv.conferenceId)}`}>
                {t('home.join')}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function CreateMeeting({ created, onCreated, onDismiss }: { created: ConferenceResource | null; onCreated(c: ConferenceResource): void; onDismiss(): void }) {
  const [subject, setSubject] = useState('');
  const [policy, setPolicy] = useState<MeetingPolicy>({ ...DEFAULT_POLICY });
  const [schedule, setSchedule] = useState<ScheduleDraft | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const enter = useRef<HTMLAnchorElement>(null);
  const { t } = useTranslation();
  // Offer to go in at once: the keyboard lands on "Enter the meeting now".
  useEffect(() => {
    if (created) enter.current?.focus();
  }, [created]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const c = await api.createConference({ ...(subject.trim() ? { subject: subject.trim() } : {}), policy, ...(schedule ? { schedule: draftToInput(schedule) } : {}) });
      setSubject('');
      setSchedule(null);
      onCreated(c);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card form create-meeting" onSubmit={submit} aria-labelledby="new-meeting">
      <h2 id="new-meeting">{t('home.newMeeting')}</h2>
      <label>
        <span>
          {t('home.subject')} <span className="hint">{t('home.optional')}</span>
        </span>
        <input
          value={subject}
          onChange={(e) => setSubject(e.target.value)}
          maxLength={MAX_SUBJECT_LENGTH}
          placeholder={t('home.subjectPlaceholder')}
          data-testid="create-subject"
        />
      </label>
      <label className="check">
        <input type="checkbox" checked={schedule !== null} onChange={(e) => setSchedule(e.target.checked ? newDraft() : null)} data-testid="create-schedule-toggle" />
        {t('schedule.toggle')}
      </label>
      {schedule && <ScheduleFields value={schedule} onChange={setSchedule} idPrefix="create" />}
      <PolicyFields value={policy} onChange={setPolicy} idPrefix="create" />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {created && (
        <div className="created" role="status" data-testid="created-panel">
          <p>
            <Trans i18nKey="home.ready" values={{ subject: created.subject }} components={[<strong key="s" />]} />
          </p>
          <div className="actions">
            <Link className="button primary" to={`/m/${encodeURIComponent(created.id)}`} data-testid="created-enter" ref={enter}>
              {t('home.enterNow')}
            </Link>
            <CopyButton text={created.url} label={t('home.copyLink')} testId="created-copy" />
            <button type="button" className="link" onClick={onDismiss}>
              {t('home.later')}
            </button>
          </div>
        </div>
      )}
      <div className="actions">
        <button className="primary" type="submit" disabled={busy} data-testid="create-submit">
          {busy ? t('home.creating') : t('home.create')}
        </button>
      </div>
    </form>
  );
}

/** A date and time in the UI's language (i18n/format.ts). */
export function formatDate(iso: string): string {
  return formatDateTime(iso);
}

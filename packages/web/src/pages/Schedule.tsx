/**
 * Scheduling on the home page: the schedule fields of the new-meeting form, the upcoming meetings
 * (next occurrences in the viewer's time zone, .ics download, "Open now", change of time, delete) and
 * the calendar card (e-mail address for invitations, calendar feed URL).
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import type { CalendarFeedStatus, ScheduleInput, ScheduleResource, UpcomingMeeting, User } from '@baton/protocol';
import { api, errorText } from '../api/client';
import { CopyButton } from '../ui/CopyButton';

export interface ScheduleDraft {
  date: string;
  time: string;
  duration: number;
  timeZone: string;
  repeat: 'none' | 'daily' | 'weekly';
  ends: 'count' | 'until';
  count: number;
  until: string;
}

/** The viewer's own time zone (Intl), the default for a new meeting. */
export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function timeZones(current: string): string[] {
  const all = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return all.includes(current) ? all : [current, ...all];
}

/** Tomorrow at the next full hour in the viewer's zone: a sensible first value. */
export function newDraft(): ScheduleDraft {
  const d = new Date(Date.now() + 24 * 3600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    time: `${pad((d.getHours() + 1) % 24)}:00`,
    duration: 60,
    timeZone: viewerTimeZone(),
    repeat: 'none',
    ends: 'count',
    count: 4,
    until: '',
  };
}

export function draftFrom(s: ScheduleResource): ScheduleDraft {
  const r = s.recurrence;
  return {
    date: s.localStart.slice(0, 10),
    time: s.localStart.slice(11, 16),
    duration: s.durationMinutes,
    timeZone: s.timeZone,
    repeat: r ? r.freq : 'none',
    ends: r?.until ? 'until' : 'count',
    count: r?.count ?? 4,
    until: r?.until ?? '',
  };
}

export function draftToInput(d: ScheduleDraft): ScheduleInput {
  return {
    start: `${d.date}T${d.time}`,
    durationMinutes: d.duration,
    timeZone: d.timeZone,
    recurrence: d.repeat === 'none' ? null : d.ends === 'count' ? { freq: d.repeat, count: d.count } : { freq: d.repeat, until: d.until },
  };
}

/** Date, time, duration, zone and repetition of a scheduled meeting. */
export function ScheduleFields({ value, onChange, idPrefix }: { value: ScheduleDraft; onChange(d: ScheduleDraft): void; idPrefix: string }) {
  const { t } = useTranslation();
  const set = <K extends keyof ScheduleDraft>(k: K, v: ScheduleDraft[K]) => onChange({ ...value, [k]: v });
  return (
    <fieldset className="schedule-fields" data-testid={`${idPrefix}-schedule`}>
      <div className="schedule-row">
        <label>
          {t('schedule.date')}
          <input type="date" required value={value.date} onChange={(e) => set('date', e.target.value)} data-testid={`${idPrefix}-date`} />
        </label>
        <label>
          {t('schedule.time')}
          <input type="time" required value={value.time} onChange={(e) => set('time', e.target.value)} data-testid={`${idPrefix}-time`} />
        </label>
        <label>
          {t('schedule.duration')}
          <input
            type="number"
            min={5}
            max={1440}
            step={5}
            required
            value={value.duration}
            onChange={(e) => set('duration', Number(e.target.value))}
            data-testid={`${idPrefix}-duration`}
          />
        </label>
      </div>
      <label>
        {t('schedule.timeZone')}
        <select value={value.timeZone} onChange={(e) => set('timeZone', e.target.value)} data-testid={`${idPrefix}-timezone`}>
          {timeZones(value.timeZone).map((tz) => (
            <option key={tz} value={tz}>
              {tz}
            </option>
          ))}
        </select>
      </label>
      <div className="schedule-row">
        <label>
          {t('schedule.repeat')}
          <select value={value.repeat} onChange={(e) => set('repeat', e.target.value as ScheduleDraft['repeat'])} data-testid={`${idPrefix}-repeat`}>
            <option value="none">{t('schedule.repeatNone')}</option>
            <option value="daily">{t('schedule.repeatDaily')}</option>
            <option value="weekly">{t('schedule.repeatWeekly')}</option>
          </select>
        </label>
        {value.repeat !== 'none' && (
          <>
            <label>
              {t('schedule.ends')}
              <select value={value.ends} onChange={(e) => set('ends', e.target.value as ScheduleDraft['ends'])} data-testid={`${idPrefix}-ends`}>
                <option value="count">{t('schedule.endsCount')}</option>
                <option value="until">{t('schedule.endsUntil')}</option>
              </select>
            </label>
            {value.ends === 'count' ? (
              <label>
                {t('schedule.count')}
                <input type="number" min={1} max={500} required value={value.count} onChange={(e) => set('count', Number(e.target.value))} data-testid={`${idPrefix}-count`} />
              </label>
            ) : (
              <label>
                {t('schedule.until')}
                <input type="date" required value={value.until} onChange={(e) => set('until', e.target.value)} data-testid={`${idPrefix}-until`} />
              </label>
            )}
          </>
        )}
      </div>
    </fieldset>
  );
}

/** A start and end in the viewer's time zone (the browser's), with the zone's short name. */
export function formatRange(start: string, end: string, lang: string): { start: string; end: string } {
  const day = new Intl.DateTimeFormat(lang, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  const time = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const zone = new Intl.DateTimeFormat(lang, { timeZoneName: 'short' }).formatToParts(new Date(start)).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const s = new Date(start);
  const e = new Date(end);
  return { start: `${day.format(s)}, ${time.format(s)}`, end: `${time.format(e)} ${zone}`.trim() };
}

/** Upcoming meetings I organize or am invited to, soonest first. */
export function UpcomingMeetings({ version, onChanged }: { version: number; onChanged(): void }) {
  const [list, setList] = useState<UpcomingMeeting[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { t } = useTranslation();
  const load = useCallback(async () => {
    try {
      setList(await api.upcoming());
    } catch (e) {
      setError(errorText(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load, version]);

  return (
    <section className="card" aria-labelledby="upcoming">
      <h2 id="upcoming">{t('schedule.upcoming')}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {list === null ? (
        <p className="muted">{t('home.loading')}</p>
      ) : list.length === 0 ? (
        <p className="muted" data-testid="no-upcoming">
          {t('schedule.noUpcoming')}
        </p>
      ) : (
        <ul className="meeting-list" data-testid="upcoming-list">
          {list.map((m) => (
            <UpcomingRow
              key={m.id}
              meeting={m}
              onChanged={() => {
                void load();
                onChanged();
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function UpcomingRow({ meeting: m, onChanged }: { meeting: UpcomingMeeting; onChanged(): void }) {
  const { t, i18n } = useTranslation();
  const [mode, setMode] = useState<'view' | 'edit' | 'confirm-delete'>('view');
  const [draft, setDraft] = useState<ScheduleDraft | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const when = formatRange(m.start, m.end, i18n.resolvedLanguage ?? 'en');
  const mine = m.role === 'organizer';

  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setMode('view');
      onChanged();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const edit = async () => {
    setError(null);
    try {
      const c = await api.conference(m.id);
      if (c.schedule) setDraft(draftFrom(c.schedule));
      setMode('edit');
    } catch (e) {
      setError(errorText(e));
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    if (draft) void act(() => api.updateConference(m.id, { schedule: draftToInput(draft) }));
  };

  return (
    <li className="meeting-row" data-testid={`upcoming-${m.id}`} data-start={m.start}>
      <div className="meeting-info">
        <Link className="subject" to={`/m/${encodeURIComponent(m.id)}`}>
          {m.subject}
        </Link>
        <div className="small" data-testid="upcoming-when">
          {t('schedule.when', { start: when.start, end: when.end })}
          {m.recurring && <span className="muted"> · {t('schedule.repeats')}</span>}
        </div>
        <div className="muted small">{mine ? t('schedule.organizedByYou') : t('schedule.invitedBy', { who: m.organizerName || m.organizer })}</div>
      </div>
      {mode === 'edit' && draft ? (
        <form className="form" onSubmit={save}>
          <ScheduleFields value={draft} onChange={setDraft} idPrefix="upcoming-edit" />
          <div className="actions">
            <button className="primary" type="submit" disabled={busy} data-testid="upcoming-save">
              {t('schedule.save')}
            </button>
            <button type="button" className="secondary" onClick={() => setMode('view')}>
              {t('schedule.cancel')}
            </button>
          </div>
        </form>
      ) : (
        <div className="actions">
          <Link className="button primary" to={`/m/${encodeURIComponent(m.id)}`} data-testid="upcoming-join">
            {t('schedule.join')}
          </Link>
          {mine &&
            (m.opened ? (
              <span className="muted small" data-testid="upcoming-opened">
                {t('schedule.opened')}
              </span>
            ) : (
              <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => api.openConference(m.id))} data-testid="upcoming-open">
                {t('schedule.open')}
              </button>
            ))}
          <a className="button secondary" href={m.ics} download data-testid="upcoming-ics">
            {t('schedule.ics')}
          </a>
          {mine && mode === 'view' && (
            <>
              <button type="button" className="secondary" onClick={() => void edit()} data-testid="upcoming-edit">
                {t('schedule.editTime')}
              </button>
              <button type="button" className="secondary danger-text" onClick={() => setMode('confirm-delete')} data-testid="upcoming-delete">
                {t('schedule.delete')}
              </button>
            </>
          )}
          {mine && mode === 'confirm-delete' && (
            <>
              <button type="button" className="danger" disabled={busy} onClick={() => void act(() => api.deleteConference(m.id))} data-testid="upcoming-delete-confirm">
                {t('schedule.deleteConfirm')}
              </button>
              <button type="button" className="secondary" onClick={() => setMode('view')}>
                {t('schedule.keep')}
              </button>
            </>
          )}
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** My e-mail address for invitations and my calendar feed URL (made, shown once, renewed, revoked). */
export function CalendarCard({ user }: { user: User }) {
  const { t } = useTranslation();
  const [email, setEmail] = useState(user.email ?? '');
  const [saved, setSaved] = useState(false);
  const [feed, setFeed] = useState<CalendarFeedStatus | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.calendarFeed().then(setFeed, (e: unknown) => setError(errorText(e)));
  }, []);

  const run = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const saveEmail = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.updateEmail(email.trim() || null);
      setSaved(true);
    });
  };

  return (
    <section className="card" aria-labelledby="calendar-card">
      <h2 id="calendar-card">{t('schedule.calendar')}</h2>
      <form className="form" onSubmit={saveEmail}>
        <label>
          {t('schedule.email')}
          <input
            type="email"
            value={email}
            onChange={(e) => {
              setEmail(e.target.value);
              setSaved(false);
            }}
            autoComplete="email"
            data-testid="email-input"
          />
        </label>
        <p className="muted small">{t('schedule.emailHint')}</p>
        <div className="actions">
          <button type="submit" className="secondary" data-testid="email-save">
            {t('schedule.emailSave')}
          </button>
          {saved && (
            <span className="muted small" role="status" data-testid="email-saved">
              {t('schedule.emailSaved')}
            </span>
          )}
        </div>
      </form>
      <h3>{t('schedule.feedTitle')}</h3>
      <p className="muted small">{t('schedule.feedIntro')}</p>
      {shown ? (
        <div className="created" data-testid="feed-url-panel">
          <p>{t('schedule.feedShown')}</p>
          <p className="url small" data-testid="feed-url">
            {shown}
          </p>
          <CopyButton text={shown} label={t('schedule.copy')} testId="feed-copy" />
        </div>
      ) : (
        feed && (
          <p className="small" data-testid="feed-status">
            {feed.active ? t('schedule.feedActive', { when: new Date(feed.createdAt ?? '').toLocaleString() }) : t('schedule.feedNone')}
          </p>
        )
      )}
      <div className="actions">
        <button
          type="button"
          className="secondary"
          onClick={() =>
            void run(async () => {
              const made = await api.createCalendarFeed();
              setShown(made.url);
              setFeed({ active: true, createdAt: made.createdAt });
            })
          }
          data-testid="feed-create"
        >
          {feed?.active ? t('schedule.feedRenew') : t('schedule.feedCreate')}
        </button>
        {feed?.active && (
          <button
            type="button"
            className="secondary danger-text"
            onClick={() =>
              void run(async () => {
                await api.revokeCalendarFeed();
                setShown(null);
                setFeed({ active: false, createdAt: null });
              })
            }
            data-testid="feed-revoke"
          >
            {t('schedule.feedRevoke')}
          </button>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

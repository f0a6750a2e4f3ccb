import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { pollsPolicy, qaPolicy, type ConferenceInfo, type Participant } from '@baton/protocol';
import type { ConferenceClient, ConferenceSnapshot } from '../conference/ConferenceClient';
import { useConference } from '../conference/useConference';
import { CopyButton } from '../ui/CopyButton';
import { LanguagePicker } from '../i18n/LanguagePicker';
import { AgentDialog } from './AgentDialog';
import { Chat } from './Chat';
import { Polls } from './Polls';
import { QandA } from './QandA';
import { SidePanel } from './SidePanel';
import { Gestures, Reactions } from './Gestures';
import { EndScreen } from './EndScreen';
import { EndForAllDialog } from './EndForAllDialog';
import { InviteDialog } from './InviteDialog';
import { Roster } from './Roster';
import { AudioPanel } from './AudioPanel';
import { SettingsDialog } from './SettingsDialog';
import { StageSwitch } from './StageSwitch';
import type { BoardSync } from '../whiteboard/BoardSync';
import { BrowserShareButton } from '../hosting/BrowserShareButton';
import { Notifier } from '../notify/Notifier';
import { NotifierProvider, useSoundSetting } from '../notify/NotifierContext';
import { Toasts } from '../notify/Toasts';
import { useMeetingAlerts } from './useMeetingAlerts';
import { BellIcon } from '../ui/icons';
import { ShortcutsDialog } from './ShortcutsDialog';
import { SHORTCUT_KEYS, press, useShortcuts, type Shortcut } from './shortcuts';
import { RecordingButton, RecordingIndicator, useRecordingAlerts } from './RecordingControl';

type Dialog = 'invite' | 'agent' | 'settings' | 'end' | 'shortcuts' | null;

/** With nobody sharing, the whiteboard's code loads this long after the room shows. */
const BOARD_DEFER_MS = 1000;

/** A live meeting: connects on mount, leaves on unmount. */
export function MeetingRoom({
  conferenceId,
  name,
  signedIn,
  onRejoin,
  onChangeName,
}: {
  conferenceId: string;
  name: string | undefined;
  signedIn: boolean;
  onRejoin(): void;
  onChangeName?: () => void;
}) {
  const { client, snapshot } = useConference(conferenceId, true, name);
  const { t } = useTranslation();
  const meetingUrl = `${window.location.origin}/m/${encodeURIComponent(conferenceId)}`;

  if (snapshot.state === 'closed' && snapshot.end) {
    return <EndScreen end={snapshot.end} subject={snapshot.conference?.subject ?? null} onRejoin={onRejoin} onChangeName={onChangeName} />;
  }
  if (!client || snapshot.state === 'idle' || (snapshot.state !== 'joined' && snapshot.state !== 'lobby' && !snapshot.conference)) {
    return (
      <CenteredCard testId="meeting-connecting">
        <h1>{t('room.joining')}</h1>
        <p className="muted" role="status">
          {snapshot.attempt > 0 ? t('room.retrying', { attempt: snapshot.attempt }) : t('room.connecting')}
        </p>
        <button type="button" className="secondary" onClick={() => client?.close()}>
          {t('common.cancel')}
        </button>
      </CenteredCard>
    );
  }
  const inLobby = snapshot.state === 'lobby' || (snapshot.state !== 'joined' && snapshot.roster.length === 0);
  if (inLobby) {
    return (
      <CenteredCard testId="lobby-wait">
        <h1>{snapshot.conference?.subject}</h1>
        <div className="spinner" aria-hidden="true" />
        <p role="status">
          {snapshot.state === 'lobby' ? t('room.lobbyWait') : t('chat.reconnecting')}
        </p>
        {snapshot.state === 'lobby' && <LobbyStart conference={snapshot.conference} />}
        {snapshot.recording && <LobbyRecordingNotice />}
        {snapshot.state === 'lobby' && snapshot.lobbyNote && (
          <p className="muted small" data-testid="lobby-note">
            {t('room.lobbyAgain')}
          </p>
        )}
        <button type="button" className="secondary" onClick={() => client.close()} data-testid="leave">
          {t('meeting.leave')}
        </button>
      </CenteredCard>
    );
  }
  return <Room client={client} snapshot={snapshot} meetingUrl={meetingUrl} signedIn={signedIn} />;
}

function LobbyRecordingNotice() {
  const { t } = useTranslation();
  return (
    <p className="recording-note" role="status" data-testid="lobby-recording">
      <span className="recording-dot" aria-hidden="true" /> {t('recording.lobbyNotice')}
    </p>
  );
}

function CenteredCard({ children, testId }: { children: ReactNode; testId: string }) {
  const { t } = useTranslation();
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
        <div className="card center" data-testid={testId}>
          {children}
        </div>
      </main>
    </div>
  );
}

function Room({ client, snapshot, meetingUrl, signedIn }: { client: ConferenceClient; snapshot: ConferenceSnapshot; meetingUrl: string; signedIn: boolean }) {
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notifier] = useState(() => new Notifier({ storage: safeLocalStorage() }));
  useEffect(() => () => notifier.close(), [notifier]);
  // The whiteboard's replica lives as long as the meeting page, whichever view the stage shows.
  // Its code (Yjs) is a chunk of its own, fetched when the whiteboard is shown, after the shared
  // screen's first picture (loadBoard), or a moment after the room shows when nobody shares: never
  // before a late joiner's first picture. The client keeps the board's updates until the replica takes them.
  const [board, setBoard] = useState<BoardSync | null>(null);
  const [boardWanted, setBoardWanted] = useState(false);
  const loadBoard = useCallback(() => setBoardWanted(true), []);
  const sharing = snapshot.share !== null;
  useEffect(() => {
    if (boardWanted || sharing) return;
    const timer = setTimeout(() => setBoardWanted(true), BOARD_DEFER_MS);
    return () => clearTimeout(timer);
  }, [boardWanted, sharing]);
  // A failed load (the network dropped just then) is tried again a little later, not left broken.
  const [boardTry, setBoardTry] = useState(0);
  useEffect(() => {
    if (!boardWanted) return;
    let live = true;
    let b: BoardSync | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    import('../whiteboard/BoardSync').then(
      ({ BoardSync }) => {
        if (!live) return;
        b = new BoardSync(client);
        setBoard(b);
      },
      () => {
        if (live) retry = setTimeout(() => setBoardTry((n) => n + 1), Math.min(30_000, 2000 * 2 ** Math.min(boardTry, 4)));
      },
    );
    return () => {
      live = false;
      clearTimeout(retry);
      b?.close();
    };
  }, [client, boardWanted, boardTry]);
  // On a phone the stage has the screen; chat and people open as sheets over it.
  const [chatOpen, setChatOpen] = useState(() => !narrowScreen());
  const [peopleOpen, setPeopleOpen] = useState(false);
  const { t } = useTranslation();
  const shortcuts: Shortcut[] = [
    { key: SHORTCUT_KEYS.mute, label: t('shortcuts.mute'), run: () => press('audio-mute') || notifier.notify('info', t('shortcuts.noAudio')) },
    { key: SHORTCUT_KEYS.chat, label: t('shortcuts.chat'), run: () => setChatOpen((o) => !o) },
    { key: SHORTCUT_KEYS.hand, label: t('shortcuts.hand'), run: () => press('hand-toggle') || notifier.notify('info', t('shortcuts.noHand')) },
    { key: SHORTCUT_KEYS.fullscreen, label: t('shortcuts.fullscreen'), run: () => press('share-fullscreen') || notifier.notify('info', t('shortcuts.noShare')) },
    { key: SHORTCUT_KEYS.help, label: t('shortcuts.help'), run: () => setDialog('shortcuts') },
  ];
  useShortcuts(shortcuts, dialog === null);
  const unread = useMeetingAlerts(client, notifier, chatOpen);
  useRecordingAlerts(snapshot.recording, notifier);
  const sound = useSoundSetting(notifier);
  const conference = snapshot.conference!;
  const self: Participant | null = snapshot.roster.find((p) => p.id === snapshot.selfId) ?? null;
  const isOrganizer = self?.role === 'organizer';
  const mayPresent =
    !!self &&
    (self.role === 'organizer' || conference.policy.present === 'anyone' || (conference.policy.present === 'presenters' && self.role === 'presenter'));
  // What the server will allow, to offer only what works (the server decides each command anyway).
  const pollsRule = pollsPolicy(conference.policy);
  const mayRunPolls = !!self && (pollsRule === 'anyone' || self.role === 'organizer' || (pollsRule === 'presenters' && self.role === 'presenter'));
  const qaRule = qaPolicy(conference.policy);
  const qaRefusal = qaRule === 'off' ? t('data.qaOff') : qaRule === 'signed-in' && !self?.user ? t('data.qaSignIn') : null;
  const banner = snapshot.lastError && snapshot.lastError.command !== 'chat.send' ? snapshot.lastError : null;
  const agentConnected = useAgentConnected(dialog === 'agent', snapshot.roster, self, () => setDialog(null));
  // The tab title counts what waits for this user: unread chat, and people knocking (organizers).
  const knocking = snapshot.roster.filter((p) => p.status === 'lobby').length;
  const attention = unread + knocking;
  useEffect(() => {
    document.title = `${attention > 0 ? `(${attention}) ` : ''}${conference.subject} · Baton`;
  }, [attention, conference.subject]);
  useEffect(() => () => void (document.title = 'Baton'), []);

  // Errors about commands fade after a while; chat errors are shown (and cleared) by the chat.
  useEffect(() => {
    if (!banner) return;
    const t = setTimeout(() => client.clearError(), 6000);
    return () => clearTimeout(t);
  }, [banner, client]);

  return (
    <NotifierProvider notifier={notifier}>
    <div className="meeting" data-testid="meeting" data-state={snapshot.state}>
      <header className="meeting-header">
        <Link to="/" className="brand" aria-label={t('topbar.home')}>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>
        </Link>
        <div className="meeting-title">
          <h1 data-testid="meeting-subject">{conference.subject}</h1>
          <span className="muted small" data-testid="meeting-organizer">
            {t('meeting.organizedBy', { name: conference.organizerName ?? conference.organizer })}
          </span>
        </div>
        <RecordingIndicator recording={snapshot.recording} />
        <div className="meeting-actions">
          <button
            type="button"
            className="secondary"
            aria-pressed={chatOpen}
            aria-controls="chat-panel"
            onClick={() => setChatOpen((o) => !o)}
            data-testid="chat-toggle"
            aria-label={unread > 0 ? t('meeting.chatUnread', { count: unread }) : t('meeting.chat')}
          >
            {t('meeting.chat')}
            {unread > 0 && (
              <span className="unread-badge" data-testid="chat-unread" aria-hidden="true">
                {unread}
              </span>
            )}
          </button>
          <button
            type="button"
            className="secondary phone-only"
            aria-pressed={peopleOpen}
            onClick={() => setPeopleOpen((o) => !o)}
            data-testid="people-toggle"
          >
            {t('meeting.people')}
          </button>
          <HeaderMenu label={t('meeting.more')}>
            <CopyButton text={meetingUrl} label={t('meeting.copyUrl')} testId="copy-url" />
            <button
              type="button"
              className="secondary icon-button"
              onClick={() => setDialog('shortcuts')}
              data-testid="shortcuts-open"
              aria-label={t('meeting.shortcuts')}
              aria-keyshortcuts="?"
              title={t('meeting.shortcutsTitle')}
            >
              ?<span className="menu-label">{t('meeting.shortcuts')}</span>
            </button>
            <button
              type="button"
              className="secondary icon-button"
              aria-pressed={sound}
              onClick={() => notifier.setSound(!sound)}
              data-testid="sound-toggle"
              title={sound ? t('meeting.soundOn') : t('meeting.soundOff')}
              aria-label={t('meeting.sound')}
            >
              <BellIcon off={!sound} />
              <span className="menu-label">{sound ? t('meeting.soundOn') : t('meeting.soundOff')}</span>
            </button>
            {isOrganizer && (
              <button type="button" className="secondary" onClick={() => setDialog('invite')} data-testid="invite-open">
                {t('meeting.invite')}
              </button>
            )}
            {signedIn && mayPresent && (
              <button type="button" className="secondary" onClick={() => setDialog('agent')} data-testid="agent-open">
                {t('meeting.shareDesktop')}
              </button>
            )}
            {mayPresent && (
              <BrowserShareButton
                canShare={!snapshot.share || snapshot.share.hostId === snapshot.selfId}
                sharing={snapshot.share?.hostId === snapshot.selfId && snapshot.share.kind === 'browser'}
                wsUrl="/ws/share"
                onStart={async () => {
                  await client.request({ type: 'share.start', kind: 'browser' });
                  const ack = await client.request({ type: 'share.ticket' });
                  if (!ack.ticket) throw new Error('no ticket');
                  return ack.ticket;
                }}
                onStop={() => client.send({ type: 'share.stop' })}
              />
            )}
            {isOrganizer && signedIn && <RecordingButton client={client} recording={snapshot.recording} policy={conference.policy} />}
            {isOrganizer && (
              <button type="button" className="secondary" onClick={() => setDialog('settings')} data-testid="settings-open">
                {t('meeting.settings')}
              </button>
            )}
            {isOrganizer && (
              <button type="button" className="danger" onClick={() => setDialog('end')} data-testid="end-for-all">
                {t('meeting.endForAll')}
              </button>
            )}
            <LanguagePicker />
          </HeaderMenu>
          <button type="button" className="danger" onClick={() => client.close()} data-testid="leave">
            {t('meeting.leave')}
          </button>
        </div>
      </header>
      {snapshot.state !== 'joined' && (
        <div className="banner warn" role="status" data-testid="connection-banner" data-reason={snapshot.serverRestarting ? 'server-restart' : 'lost'}>
          {snapshot.serverRestarting
            ? t('connection.serverRestarting')
            : snapshot.attempt > 1
              ? t('room.lostAttempt', { attempt: snapshot.attempt })
              : t('room.lost')}
        </div>
      )}
      {banner && (
        <div className="banner error" role="alert" data-testid="error-banner">
          {banner.code === 'offline' ? t('room.offline') : banner.code === 'timeout' ? t('room.timeout') : banner.message}
          <button type="button" className="icon" aria-label={t('common.dismiss')} onClick={() => client.clearError()}>
            ×
          </button>
        </div>
      )}
      {agentConnected && (
        <div className="banner info" role="status" data-testid="agent-connected">
          {t('room.agentConnected')}
        </div>
      )}
      <main className="meeting-body" id="main" tabIndex={-1}>
        <Reactions client={client} />
        <StageSwitch client={client} snapshot={snapshot} self={self} signedIn={signedIn} isOrganizer={isOrganizer} leads={mayPresent} board={board} loadBoard={loadBoard} />
        <aside className="sidebar" data-people={peopleOpen} data-chat={chatOpen} data-testid="sidebar">
          <AudioPanel client={client} snapshot={snapshot} self={self} isOrganizer={isOrganizer} policy={conference.policy} />
          <Gestures client={client} hands={snapshot.hands} self={self} enabled={snapshot.state === 'joined'} />
          <Roster client={client} roster={snapshot.roster} selfId={snapshot.selfId} isOrganizer={isOrganizer} share={snapshot.share} hands={snapshot.hands} phones={snapshot.audio?.phones} />
          <div className="chat-slot" id="chat-panel" hidden={!chatOpen} data-testid="chat-panel">
            <SidePanel client={client}>
              {{
                chat: <Chat client={client} chat={snapshot.chat} selfId={snapshot.selfId} lastError={snapshot.lastError} enabled={snapshot.state === 'joined'} roster={snapshot.roster} />,
                polls: <Polls client={client} polls={snapshot.polls} mayRun={mayRunPolls} enabled={snapshot.state === 'joined'} />,
                qa: <QandA client={client} questions={snapshot.questions} mayAsk={qaRefusal} moderator={!!self && self.role !== 'attendee'} enabled={snapshot.state === 'joined'} />,
              }}
            </SidePanel>
          </div>
        </aside>
      </main>
      {dialog === 'invite' && <InviteDialog conferenceId={conference.id} onClose={() => setDialog(null)} />}
      {dialog === 'agent' && <AgentDialog conferenceId={conference.id} onClose={() => setDialog(null)} />}
      {dialog === 'settings' && <SettingsDialog client={client} policy={conference.policy} onClose={() => setDialog(null)} />}
      {dialog === 'end' && <EndForAllDialog client={client} onClose={() => setDialog(null)} />}
      {dialog === 'shortcuts' && <ShortcutsDialog shortcuts={shortcuts} onClose={() => setDialog(null)} />}
      <Toasts notifier={notifier} />
    </div>
    </NotifierProvider>
  );
}

/**
 * The header's less-used actions. Wide screens show them inline (the menu box is `display:
 * contents`); on a phone they fold into a "More" menu so the header keeps one row (styles.css).
 * The buttons exist once either way, so their test ids and shortcuts do not change.
 */
function HeaderMenu({ label, children }: { label: string; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const outside = (e: PointerEvent) => {
      const target = e.target as Node;
      if (!box.current?.contains(target) && !toggle.current?.contains(target)) setOpen(false);
    };
    const escape = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setOpen(false);
      toggle.current?.focus();
    };
    document.addEventListener('pointerdown', outside);
    document.addEventListener('keydown', escape);
    return () => {
      document.removeEventListener('pointerdown', outside);
      document.removeEventListener('keydown', escape);
    };
  }, [open]);
  return (
    <>
      <button
        ref={toggle}
        type="button"
        className="secondary icon-button phone-only more-toggle"
        aria-expanded={open}
        aria-controls="meeting-more"
        aria-label={label}
        title={label}
        onClick={() => setOpen((o) => !o)}
        data-testid="more-actions"
      >
        ⋯
      </button>
      <div
        ref={box}
        id="meeting-more"
        className="meeting-more"
        data-open={open}
        data-testid="more-menu"
        // An action (a dialog opening, sound, sharing) closes the menu; copying says "Copied!" in it.
        onClick={(e) => {
          const button = (e.target as HTMLElement).closest('button');
          if (button && button.dataset.testid !== 'copy-url') setOpen(false);
        }}
      >
        {children}
      </div>
    </>
  );
}

/** The phone layout's width (styles.css: max-width 860px). */
function narrowScreen(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia('(max-width: 860px)').matches;
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * While the Share desktop dialog is open, an agent seat of this user that was not there when it
 * opened means its one-time token was used: close the dialog and say "Connected" for a while.
 */
function useAgentConnected(open: boolean, roster: readonly Participant[], self: Participant | null, close: () => void): boolean {
  const [baseline, setBaseline] = useState<Set<string> | null>(null);
  const [connected, setConnected] = useState(false);
  const mine = (p: Participant) => p.client === 'agent' && !!self?.user && p.user === self.user;
  useEffect(() => {
    if (open) setBaseline((b) => b ?? new Set(roster.filter(mine).map((p) => p.id)));
    else setBaseline(null);
  }, [open]); // the baseline is taken once, when the dialog opens
  useEffect(() => {
    if (!open || !baseline) return;
    if (roster.some((p) => mine(p) && !baseline.has(p.id))) {
      setConnected(true);
      close();
    }
  });
  useEffect(() => {
    if (!connected) return;
    const t = setTimeout(() => setConnected(false), 8000);
    return () => clearTimeout(t);
  }, [connected]);
  return connected;
}

/** A scheduled meeting not opened yet: when it starts, in the viewer's own time zone. */
function LobbyStart({ conference }: { conference: ConferenceInfo | null }) {
  const { t, i18n } = useTranslation();
  const s = conference?.schedule;
  if (!s || s.opened) return null;
  const time = new Intl.DateTimeFormat(i18n.resolvedLanguage ?? 'en', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(new Date(s.start));
  return (
    <div className="lobby-start" data-testid="lobby-start" data-start={s.start}>
      <p>
        <strong>{t('schedule.lobbyStarts', { time })}</strong>
      </p>
      <p className="muted small">{t('schedule.lobbyWaitOrganizer')}</p>
    </div>
  );
}

import { useCallback, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { Rich } from '../i18n/Rich';
import { annotatePolicy, personHue, type Mark, type MeetingPolicy, type Participant, type ShareState } from '@baton/protocol';
import type { ConferenceClient, ConferenceSnapshot } from '../conference/ConferenceClient';
import { SharedScreen, type SharedScreenHandle, type ViewMode } from '../sharing/SharedScreen';
import { SHARE_WS_PATH, takeEarlyShare } from '../sharing/EarlyShare';
import { ClipboardPanel, useShareClipboard } from './ClipboardPanel';
import { PausedBadge, ShareSourceMenu } from './ShareSourceMenu';
import { AnnotationOverlay, type AnnotationTool, type LaserEvent } from '../annotation/AnnotationOverlay';
import { AnnotationToolbar } from '../annotation/AnnotationToolbar';
import { MarkLegend } from '../annotation/MarkLegend';

const SCREEN_SURFACE = { kind: 'screen' } as const;

export interface StageProps {
  client: ConferenceClient;
  share: ShareState | null;
  /** The host agent's sources, on this account's own pages (for its "Switch source" menu). */
  shareSources?: ConferenceSnapshot['shareSources'];
  roster: readonly Participant[];
  selfId: string | null;
  policy: MeetingPolicy;
  signedIn: boolean;
  isOrganizer: boolean;
  /** The marks on the shared surfaces (the screen's are drawn over it). */
  annotations?: readonly Mark[];
  /** The shared screen's first whole picture is on the canvas (what waited for it may load now). */
  onFirstPicture?: () => void;
}

/**
 * The shared screen and its control bar. Who controls is always visible; the buttons only ask —
 * the Focus authorizes, and only the host's agent can grant control.
 */
export function Stage({ client, share, shareSources, roster, selfId, policy, signedIn, isOrganizer, annotations = [], onFirstPicture }: StageProps) {
  const [mode, setMode] = useState<ViewMode>('fit');
  // The annotation tool in hand: while there is one, the pointer draws and sends nothing to the host.
  const [tool, setTool] = useState<AnnotationTool | null>(null);
  const subscribeLaser = useCallback((fn: (e: LaserEvent) => void) => client.on('laser', fn), [client]);
  const screenHandle = useRef<SharedScreenHandle | null>(null);
  const clipboard = useShareClipboard(screenHandle);
  const fullscreen = useFullscreen();
  const [keyboardHint, setKeyboardHint] = useState(false);
  // The canvas has the keyboard: every key goes to the host, which the page shows with a frame.
  const [keyboardCaptured, setKeyboardCaptured] = useState(false);
  // A share opens by itself for viewers; this user's choice (Hide, or View on its own share) is kept per host.
  const [choice, setChoice] = useState<{ hostId: string; open: boolean } | null>(null);
  const { t } = useTranslation();
  const getTicket = useCallback(async () => {
    // A late joiner's first connection uses the ticket its welcome brought.
    const early = client.takeShareTicket();
    if (early) return early;
    const ack = await client.request({ type: 'share.ticket' });
    if (!ack.ticket) throw new Error('no ticket');
    return ack.ticket;
  }, [client]);

  if (!share) {
    return (
      <section className="stage empty" data-testid="stage" data-sharing="false" aria-label={t('stage.label')}>
        <div className="stage-message">
          <div className="stage-icon" aria-hidden="true">
            ▭
          </div>
          <p className="stage-title">{t('stage.nobody')}</p>
          <p className="muted small">{t('stage.nobodyHint')}</p>
        </div>
      </section>
    );
  }

  const host = roster.find((p) => p.id === share.hostId);
  const controller = share.controllerId ? roster.find((p) => p.id === share.controllerId) : null;
  const selfHosts = share.hostId === selfId;
  const controlling = share.controllerId !== null && share.controllerId === selfId;
  const waiting = selfId !== null && share.requests.includes(selfId);
  const self = roster.find((p) => p.id === selfId);
  // This page's user shares from its agent: the page runs the share (the server checks the same).
  const mine = !selfHosts && share.kind === 'agent' && host?.client === 'agent' && !!self?.user && host.user === self.user;
  // Presents: runs this share, or is a presenter or organizer (the server decides the same way).
  const presenter = mine || self?.role === 'presenter' || self?.role === 'organizer';
  const viewersAllowed = annotatePolicy(policy) === 'anyone';
  const canAnnotate = presenter || viewersAllowed;
  const activeTool = canAnnotate ? tool : null;
  const screenMarks = annotations.filter((m) => m.surface.kind === 'screen');
  const hue = personHue(self?.name ?? '');
  const hostPanel = mine ? <HostPanel client={client} share={share} roster={roster} sources={shareSources ?? null} /> : null;

  const status =
    share.kind === 'browser'
      ? t('stage.viewOnly')
      : controlling
        ? t('stage.youControl')
        : controller
          ? t('stage.inControl', { name: controller.name })
          : mine
            ? t('stage.youHaveControl')
            : host
              ? t('stage.hostHasControl', { name: host.name })
              : t('stage.theHostHasControl');

  if (selfHosts) {
    return (
      <section className="stage" data-testid="stage" data-sharing="true" data-host-id={share.hostId} aria-label={t('stage.label')}>
        <div className="stage-message">
          <p className="stage-title">{t('stage.selfSharing')}</p>
          <p className="muted small">{share.kind === 'browser' ? t('stage.selfSharingHintViewOnly') : t('stage.selfSharingHint')}</p>
        </div>
      </section>
    );
  }

  // The host's own page does not open its desktop by itself (a mirror of what is in front of it).
  const open = choice?.hostId === share.hostId ? choice.open : !mine;
  if (!open) {
    return (
      <section className={`stage${mine ? ' hosting' : ''}`} data-testid="stage" data-sharing="true" data-host-id={share.hostId} aria-label={t('stage.label')}>
        {hostPanel}
        <div className="stage-message">
          <p className="stage-title">
            {mine
              ? t(share.kind === 'agent' ? 'stage.youShareDesktop' : 'stage.youShareScreen')
              : t(share.kind === 'agent' ? 'stage.sharesDesktop' : 'stage.sharesScreen', { name: host?.name ?? t('stage.someone') })}
          </p>
          <p className="muted small" data-testid="control-status" data-controller-id={share.controllerId ?? ''}>
            {status}
          </p>
          {share.paused && <PausedBadge />}
          <button type="button" className="primary" data-testid="share-view" onClick={() => setChoice({ hostId: share.hostId, open: true })}>
            {mine ? t('stage.viewMine') : t('stage.show')}
          </button>
        </div>
      </section>
    );
  }

  return (
    <section
      ref={fullscreen.ref}
      className={`stage viewing${fullscreen.immersive ? ' immersive' : ''}`}
      data-testid="stage"
      data-sharing="true"
      data-host-id={share.hostId}
      data-transport={share.transport}
      aria-label={t('stage.label')}
    >
      {hostPanel}
      <div className="stage-bar" role="toolbar" aria-label={t('stage.controls')}>
        <span className="stage-who">
          <span className="stage-who-text">
            <Rich k={share.kind === 'agent' ? 'stage.whoDesktop' : 'stage.whoBrowser'} nodes={{ name: <strong>{host?.name ?? t('stage.someone')}</strong> }} />
          </span>
          <span className={`control-status${controlling ? ' mine' : ''}`} data-testid="control-status" data-controller-id={share.controllerId ?? ''}>
            {status}
          </span>
          {share.paused && <PausedBadge />}
        </span>
        <span className="stage-actions">
          {!mine && <ControlButton client={client} share={share} policy={policy} signedIn={signedIn} controlling={controlling} waiting={waiting} />}
          {isOrganizer && !mine && share.controllerId && !controlling && (
            <button type="button" className="secondary" data-testid="control-revoke" onClick={() => client.send({ type: 'control.revoke' })}>
              {t('stage.revoke')}
            </button>
          )}
          {isOrganizer && !mine && (
            <button type="button" className="secondary" data-testid="share-stop" onClick={() => client.send({ type: 'share.stop' })}>
              {t('stage.stopShare')}
            </button>
          )}
          {controlling && (
            // A tap here (a user gesture) focuses the hidden field, which opens a phone's keyboard.
            <button type="button" className="secondary" data-testid="share-keyboard" onClick={() => screenHandle.current?.openKeyboard()} title={t('stage.keyboardTitle')}>
              <span aria-hidden="true">⌨</span> {t('stage.keyboard')}
            </button>
          )}
          <button type="button" className="secondary" data-testid="share-hide" onClick={() => setChoice({ hostId: share.hostId, open: false })}>
            {t('stage.hide')}
          </button>
          <span className="segmented" role="group" aria-label={t('stage.zoom')}>
            <button type="button" aria-pressed={mode === 'fit'} data-testid="view-mode-fit" onClick={() => setMode('fit')}>
              {t('stage.fit')}
            </button>
            <button type="button" aria-pressed={mode === '1:1'} data-testid="view-mode-1to1" onClick={() => setMode('1:1')}>
              1:1
            </button>
            {typeof mode === 'number' && (
              <button type="button" aria-pressed="true" data-testid="view-zoom" title={t('stage.zoomedTitle')} onClick={() => setMode('fit')}>
                {Math.round(mode * 100)}%
              </button>
            )}
          </span>
          <button
            type="button"
            className="secondary stage-fullscreen"
            data-testid="share-fullscreen"
            aria-pressed={fullscreen.on}
            onClick={() => void fullscreen.toggle()}
            title={fullscreen.on ? t('stage.fullscreenExitTitle') : t('stage.fullscreenTitle')}
          >
            <FullscreenIcon exit={fullscreen.on} /> {fullscreen.on ? t('stage.fullscreenExit') : t('stage.fullscreen')}
          </button>
        </span>
      </div>
      {controlling &&
        (keyboardCaptured ? (
          <div className="stage-hint captured" data-testid="keyboard-captured" role="status">
            <span aria-hidden="true">⌨</span> {host ? t('stage.keyboardGoesTo', { name: host.name }) : t('stage.keyboardGoesToHost')} · {t('stage.escTwice')}
          </div>
        ) : (
          <div className="stage-hint" data-testid="control-hint" role="status">
            {keyboardHint ? t('stage.keyboardReleased') : t('stage.clickToType')}
          </div>
        ))}
      {controlling && share.kind === 'agent' && <ClipboardPanel clip={clipboard} hostName={host?.name} />}
      <AnnotationToolbar
        tool={activeTool}
        onTool={setTool}
        hue={hue}
        canAnnotate={canAnnotate}
        presenter={presenter}
        viewersAllowed={viewersAllowed}
        onAllowViewers={(viewers) => client.send({ type: 'annotation.allow', viewers })}
        mineCount={screenMarks.filter((m) => m.author.id === selfId).length}
        allCount={screenMarks.length}
        onClearMine={() => client.send({ type: 'annotation.clear', scope: 'mine', surface: SCREEN_SURFACE })}
        onClearAll={() => client.send({ type: 'annotation.clear', scope: 'all', surface: SCREEN_SURFACE })}
      />
      <MarkLegend marks={screenMarks} />
      <div className={`stage-screen${controlling && keyboardCaptured ? ' captured' : ''}`}>
        <SharedScreen
          key={share.hostId}
          className="share-viewport"
          wsUrl={SHARE_WS_PATH}
          getTicket={getTicket}
          adopt={() => takeEarlyShare(client, share.hostId)}
          controlling={controlling && !activeTool}
          mode={mode}
          onReleaseKeyboard={() => setKeyboardHint(true)}
          onKeyboardCapture={setKeyboardCaptured}
          onZoom={setMode}
          handle={screenHandle}
          p2p={{ conference: client, hostId: share.hostId, active: share.transport === 'p2p' && share.kind === 'agent' }}
          onClipboard={clipboard.onClipboard}
          onFirstFrame={onFirstPicture}
          beforePaste={share.kind === 'agent' ? clipboard.beforePaste : undefined}
          overlay={(size) => (
            <AnnotationOverlay
              surface={SCREEN_SURFACE}
              width={size.width}
              height={size.height}
              marks={screenMarks}
              tool={activeTool}
              hue={hue}
              onMark={(mark) => client.send({ type: 'annotation.add', surface: SCREEN_SURFACE, mark })}
              onLaser={(points) => client.send({ type: 'annotation.laser', surface: SCREEN_SURFACE, points })}
              subscribeLaser={subscribeLaser}
            />
          )}
        />
        {controlling && keyboardCaptured && <div className="keyboard-frame" data-testid="keyboard-frame" aria-hidden="true" />}
      </div>
    </section>
  );
}

/** Four corners pointing out (enter) or in (exit); an SVG, as the system fonts here lack the glyph. */
function FullscreenIcon({ exit }: { exit: boolean }) {
  const d = exit ? 'M9 4v5H4M15 4v5h5M9 20v-5H4M15 20v-5h5' : 'M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5';
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d={d} />
    </svg>
  );
}

/**
 * Full screen for the stage: the Fullscreen API where the element supports it; elsewhere (an iPhone's
 * Safari has it for videos only) the stage covers the page instead ("immersive").
 */
function useFullscreen() {
  const ref = useRef<HTMLElement | null>(null);
  const [real, setReal] = useState(false);
  const [immersive, setImmersive] = useState(false);
  useEffect(() => {
    const changed = () => setReal(!!ref.current && document.fullscreenElement === ref.current);
    document.addEventListener('fullscreenchange', changed);
    return () => document.removeEventListener('fullscreenchange', changed);
  }, []);
  useEffect(() => {
    if (!immersive) return;
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setImmersive(false);
    window.addEventListener('keydown', esc);
    return () => window.removeEventListener('keydown', esc);
  }, [immersive]);
  const toggle = async () => {
    const el = ref.current;
    if (!el) return;
    if (document.fullscreenElement) return void (await document.exitFullscreen().catch(() => {}));
    if (immersive) return setImmersive(false);
    if (typeof el.requestFullscreen === 'function' && document.fullscreenEnabled) {
      try {
        await el.requestFullscreen({ navigationUI: 'hide' });
        return;
      } catch {
        // refused (not allowed here): cover the page instead
      }
    }
    setImmersive(true);
  };
  return { ref, on: real || immersive, immersive, toggle };
}

function ControlButton(props: { client: ConferenceClient; share: ShareState; policy: MeetingPolicy; signedIn: boolean; controlling: boolean; waiting: boolean }) {
  const { client, share, policy, signedIn, controlling, waiting } = props;
  const { t } = useTranslation();
  if (controlling) {
    return (
      <button type="button" data-testid="control-release" onClick={() => client.send({ type: 'control.release' })}>
        {t('stage.giveBack')}
      </button>
    );
  }
  if (share.kind === 'agent' && policy.control === 'signed-in' && !signedIn) {
    // Back to this meeting once signed in (the sign-in page accepts only local paths as `next`).
    const next = window.location.pathname;
    return (
      <Link className="small" to={`/signin?next=${encodeURIComponent(next)}`} data-testid="control-unavailable" data-action="signin">
        {t('stage.signInForControl')}
      </Link>
    );
  }
  let refusal: string | null = null;
  if (share.kind === 'browser') refusal = t('stage.browserNoControl');
  else if (policy.control === 'never') refusal = t('stage.controlOff');
  if (refusal) {
    return (
      <span className="muted small" data-testid="control-unavailable">
        {refusal}
      </span>
    );
  }
  if (waiting) {
    return (
      <span className="control-waiting">
        <span role="status" data-testid="control-waiting">
          {t('stage.waiting')}
        </span>{' '}
        <button type="button" className="secondary" data-testid="control-cancel" onClick={() => client.send({ type: 'control.cancel' })}>
          {t('common.cancel')}
        </button>
      </span>
    );
  }
  return (
    <button type="button" data-testid="control-request" onClick={() => client.send({ type: 'control.request' })}>
      {t('stage.request')}
    </button>
  );
}

/**
 * The host's meeting page next to its agent's share: who asks for control, and stop and revoke.
 * Granting stays on the shared computer (the agent asks its local user); the page only says so.
 * Names are React text, never HTML; the account the server authenticated is shown apart from them.
 */
function HostPanel({ client, share, roster, sources }: { client: ConferenceClient; share: ShareState; roster: readonly Participant[]; sources: ConferenceSnapshot['shareSources'] }) {
  const requesters = share.requests.map((id) => roster.find((p) => p.id === id)).filter((p): p is Participant => !!p);
  const controller = share.controllerId ? roster.find((p) => p.id === share.controllerId) : undefined;
  const { t } = useTranslation();
  return (
    <div className="host-panel" data-testid="host-panel" role="region" aria-label={t('host.label')}>
      <div className="host-panel-text">
        <p className="small" data-testid="host-controller">
          {controller ? (
            <Rich k="host.controls" nodes={{ name: <strong>{controller.name}</strong> }} />
          ) : (
            t('host.nobodyControls')
          )}
        </p>
        <div aria-live="polite" data-testid="host-requests">
          {requesters.map((p) => (
            <p key={p.id} className="host-request" data-testid="host-request" data-participant-id={p.id}>
              <Rich
                k="host.asks"
                nodes={{
                  name: <strong data-testid="host-request-name">{p.name}</strong>,
                  who: <span className="muted small">({p.user ? t('host.account', { user: p.user }) : t('host.guest')})</span>,
                }}
              />
            </p>
          ))}
          {requesters.length > 0 && (
            <p className="small" data-testid="host-approve-hint">
              {t('host.approve')}
            </p>
          )}
        </div>
      </div>
      <span className="host-panel-actions">
        {sources && <ShareSourceMenu client={client} sources={sources} />}
        {/* The agent pauses (the server forwards this only from this account's pages) and reports it: the button follows share.paused. */}
        <button type="button" className="secondary" data-testid="host-pause" aria-pressed={!!share.paused} onClick={() => client.send({ type: 'share.setPaused', paused: !share.paused })}>
          {share.paused ? t('host.resume') : t('host.pause')}
        </button>
        {share.controllerId && (
          <button type="button" className="secondary" data-testid="host-revoke" onClick={() => client.send({ type: 'control.revoke' })}>
            {t('stage.revoke')}
          </button>
        )}
        <button type="button" className="danger" data-testid="host-stop" onClick={() => client.send({ type: 'share.stop' })}>
          {t('host.stop')}
        </button>
      </span>
    </div>
  );
}

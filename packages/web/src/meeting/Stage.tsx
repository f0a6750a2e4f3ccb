import { useCallback, useState } from 'react';
import type { MeetingPolicy, Participant, ShareState } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { SharedScreen } from '../sharing/SharedScreen';

export interface StageProps {
  client: ConferenceClient;
  share: ShareState | null;
  roster: readonly Participant[];
  selfId: string | null;
  policy: MeetingPolicy;
  signedIn: boolean;
  isOrganizer: boolean;
}

/**
 * The shared screen and its control bar. Who controls is always visible; the buttons only ask —
 * the Focus authorizes, and only the host's agent can grant control.
 */
export function Stage({ client, share, roster, selfId, policy, signedIn, isOrganizer }: StageProps) {
  const [mode, setMode] = useState<'fit' | '1:1'>('fit');
  const [keyboardHint, setKeyboardHint] = useState(false);
  // Sharing is an invitation to view: the viewer opens the stream when it chooses (per share).
  const [viewing, setViewing] = useState<string | null>(null);
  const getTicket = useCallback(async () => {
    const ack = await client.request({ type: 'share.ticket' });
    if (!ack.ticket) throw new Error('no ticket');
    return ack.ticket;
  }, [client]);

  if (!share) {
    return (
      <section className="stage empty" data-testid="stage" data-sharing="false" aria-label="Shared screen">
        <div className="stage-message">
          <div className="stage-icon" aria-hidden="true">
            ▭
          </div>
          <p className="stage-title">Nobody is sharing</p>
          <p className="muted small">When someone shares their desktop, it appears here.</p>
        </div>
      </section>
    );
  }

  const host = roster.find((p) => p.id === share.hostId);
  const controller = share.controllerId ? roster.find((p) => p.id === share.controllerId) : null;
  const selfHosts = share.hostId === selfId;
  const controlling = share.controllerId !== null && share.controllerId === selfId;
  const waiting = selfId !== null && share.requests.includes(selfId);

  const status = controlling
    ? 'You are in control'
    : controller
      ? `${controller.name} is in control`
      : `${host?.name ?? 'The host'} has control`;

  if (selfHosts) {
    return (
      <section className="stage" data-testid="stage" data-sharing="true" data-host-id={share.hostId} aria-label="Shared screen">
        <div className="stage-message">
          <p className="stage-title">You are sharing your screen</p>
          <p className="muted small">Everyone in the meeting can see it. {share.kind === 'browser' ? 'It is view-only.' : ''}</p>
        </div>
      </section>
    );
  }

  if (viewing !== share.hostId) {
    return (
      <section className="stage" data-testid="stage" data-sharing="true" data-host-id={share.hostId} aria-label="Shared screen">
        <div className="stage-message">
          <p className="stage-title">
            {host?.name ?? 'Someone'} is sharing {share.kind === 'agent' ? 'a desktop' : 'a screen'}
          </p>
          <p className="muted small" data-testid="control-status" data-controller-id={share.controllerId ?? ''}>
            {status}
          </p>
          <button type="button" data-testid="share-view" onClick={() => setViewing(share.hostId)}>
            View
          </button>
        </div>
      </section>
    );
  }

  return (
    <section className="stage viewing" data-testid="stage" data-sharing="true" data-host-id={share.hostId} data-transport={share.transport} aria-label="Shared screen">
      <div className="stage-bar" role="toolbar" aria-label="Shared screen controls">
        <span className="stage-who">
          <strong>{host?.name ?? 'Someone'}</strong> is sharing {share.kind === 'agent' ? 'a desktop' : 'from a browser'}
          <span className={`control-status${controlling ? ' mine' : ''}`} data-testid="control-status" data-controller-id={share.controllerId ?? ''}>
            {status}
          </span>
        </span>
        <span className="stage-actions">
          <ControlButton client={client} share={share} policy={policy} signedIn={signedIn} controlling={controlling} waiting={waiting} />
          {isOrganizer && share.controllerId && !controlling && (
            <button type="button" className="secondary" data-testid="control-revoke" onClick={() => client.send({ type: 'control.revoke' })}>
              Revoke control
            </button>
          )}
          {isOrganizer && (
            <button type="button" className="secondary" data-testid="share-stop" onClick={() => client.send({ type: 'share.stop' })}>
              Stop share
            </button>
          )}
          <button type="button" className="secondary" data-testid="share-hide" onClick={() => setViewing(null)}>
            Hide
          </button>
          <span className="segmented" role="group" aria-label="Zoom">
            <button type="button" aria-pressed={mode === 'fit'} data-testid="view-mode-fit" onClick={() => setMode('fit')}>
              Fit
            </button>
            <button type="button" aria-pressed={mode === '1:1'} data-testid="view-mode-1to1" onClick={() => setMode('1:1')}>
              1:1
            </button>
          </span>
        </span>
      </div>
      {controlling && (
        <div className="stage-hint" data-testid="control-hint">
          {keyboardHint ? 'Keyboard released. Click the screen to type into it again.' : 'Click the screen to type into it. Press Esc twice to release the keyboard.'}
        </div>
      )}
      <SharedScreen
        key={share.hostId}
        className="stage-screen"
        wsUrl="/ws/share"
        getTicket={getTicket}
        controlling={controlling}
        mode={mode}
        onReleaseKeyboard={() => setKeyboardHint(true)}
        p2p={{ conference: client, hostId: share.hostId, active: share.transport === 'p2p' && share.kind === 'agent' }}
      />
    </section>
  );
}

function ControlButton(props: { client: ConferenceClient; share: ShareState; policy: MeetingPolicy; signedIn: boolean; controlling: boolean; waiting: boolean }) {
  const { client, share, policy, signedIn, controlling, waiting } = props;
  if (controlling) {
    return (
      <button type="button" data-testid="control-release" onClick={() => client.send({ type: 'control.release' })}>
        Give control back
      </button>
    );
  }
  let refusal: string | null = null;
  if (share.kind === 'browser') refusal = 'View only: this host shares from a browser; control needs the Baton agent';
  else if (policy.control === 'never') refusal = 'Remote control is off in this meeting';
  else if (policy.control === 'signed-in' && !signedIn) refusal = 'Sign in to ask for control';
  if (refusal) {
    return (
      <span className="muted small" data-testid="control-unavailable">
        {refusal}
      </span>
    );
  }
  return (
    <button type="button" data-testid="control-request" disabled={waiting} onClick={() => client.send({ type: 'control.request' })}>
      {waiting ? 'Waiting for the host…' : 'Request control'}
    </button>
  );
}

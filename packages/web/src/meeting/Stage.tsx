import type { Participant, ShareState } from '@baton/protocol';

/**
 * The area where a shared screen is shown. The screen viewer itself (src/sharing/SharedScreen) plugs
 * in here; until then the stage says who shares.
 */
export function Stage({ share, roster, selfId }: { share: ShareState | null; roster: readonly Participant[]; selfId: string | null }) {
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
  const hostName = share.hostId === selfId ? 'You are' : `${host?.name ?? 'Someone'} is`;
  return (
    <section className="stage" data-testid="stage" data-sharing="true" data-host-id={share.hostId} aria-label="Shared screen">
      <div className="stage-message">
        <p className="stage-title">
          {hostName} sharing {share.kind === 'agent' ? 'a desktop' : 'a browser tab'}
        </p>
        {controller && <p className="muted small">{controller.id === selfId ? 'You are' : `${controller.name} is`} in control</p>}
      </div>
    </section>
  );
}

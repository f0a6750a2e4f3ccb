import { useTranslation } from 'react-i18next';
import type { ShareSource } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';

/**
 * "Switch source" on the host's own meeting page: what its agent can share (the list comes only to
 * this account's pages). The server forwards the choice to the agent only from this account's seats.
 */
export function ShareSourceMenu({ client, sources }: { client: ConferenceClient; sources: { sources: readonly ShareSource[]; current: string } }) {
  const { t } = useTranslation();
  const label = (s: ShareSource): string =>
    `${s.kind === 'screen' ? t('shareSource.screen') : s.kind === 'monitor' ? t('shareSource.monitor', { name: s.label }) : t('shareSource.window', { title: s.label })} (${s.width}×${s.height})`;
  return (
    <label className="share-source small" data-testid="share-source">
      {t('shareSource.switch')}{' '}
      <select
        data-testid="share-source-select"
        value={sources.current}
        onChange={(e) => client.send({ type: 'share.switch', source: e.target.value })}
      >
        {!sources.sources.some((s) => s.id === sources.current) && <option value={sources.current}>{sources.current}</option>}
        {sources.sources.map((s) => (
          <option key={s.id} value={s.id} data-testid="share-source-option">
            {label(s)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Shown over the shared screen while its host has paused it: the picture is frozen, not broken. */
export function PausedBadge() {
  const { t } = useTranslation();
  return (
    <span className="paused-badge" data-testid="share-paused" role="status">
      {t('shareSource.paused')}
    </span>
  );
}

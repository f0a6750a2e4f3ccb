import { useEffect, useState } from 'react';
import { api, errorText } from '../api/client';
import { CopyButton } from '../ui/CopyButton';
import { Modal } from '../ui/Modal';
import { useTranslation } from 'react-i18next';
import { Rich } from '../i18n/Rich';
import { formatDateTime } from '../i18n/format';

/** Gets a one-time token and shows the command that starts the Baton agent on the desktop to share. */
export function AgentDialog({ conferenceId, onClose }: { conferenceId: string; onClose(): void }) {
  const [result, setResult] = useState<{ command: string; token: string; expiresAt: string; agent: { url: string; sha256: string } | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  const { t } = useTranslation();

  useEffect(() => {
    let live = true;
    setResult(null);
    setError(null);
    api.agentToken(conferenceId).then(
      (r) => live && setResult({ command: r.command, token: r.token, expiresAt: r.expiresAt, agent: r.agent ?? null }),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [conferenceId, round]);

  return (
    <Modal title={t('agent.title')} onClose={onClose} testId="agent-dialog">
      <p>{t('agent.intro')}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!result && !error && <p className="muted">{t('agent.getting')}</p>}
      {result && (
        <>
          <pre className="command" data-testid="agent-command">
            {result.command}
          </pre>
          <p className="muted small" data-testid="agent-expiry" title={formatDateTime(result.expiresAt)}>
            {t('agent.expires', { count: minutesLeft(result.expiresAt) })}
          </p>
          {result.agent && <AgentDownload url={result.agent.url} sha256={result.agent.sha256} />}
          <TokenPrivacy command={result.command} token={result.token} />
        </>
      )}
      <div className="actions">
        {result && <CopyButton text={result.command} label={t('agent.copyCommand')} className="primary" testId="agent-copy" />}
        <button type="button" className="secondary" onClick={() => setRound((n) => n + 1)}>
          {t('agent.newToken')}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
    </Modal>
  );
}

/** Where the command gets the agent from, and the hash to check it against. */
function AgentDownload({ url, sha256 }: { url: string; sha256: string }) {
  const { t } = useTranslation();
  return (
    <div className="agent-download small" data-testid="agent-download" style={{ marginBottom: 12 }}>
      <p className="small">
        <Rich
          k="agent.download"
          nodes={{
            npx: <code>npx</code>,
            file: (
              <a href={url} download data-testid="agent-download-link">
                <code>baton-agent.tgz</code>
              </a>
            ),
          }}
        />
      </p>
      <p className="small">
        {t('agent.sha')} <code data-testid="agent-sha256" style={{ wordBreak: 'break-all' }}>{sha256}</code>
      </p>
    </div>
  );
}

/** Whole minutes the token has left, for "expires in 10 minutes" (the exact time is in the tooltip). */
function minutesLeft(expiresAt: string): number {
  return Math.max(1, Math.round((Date.parse(expiresAt) - Date.now()) / 60_000));
}

/**
 * A token on the agent's command line is visible to every user of that computer (ps) while it
 * runs: offer the two ways that keep it out, standard input and the environment.
 */
function TokenPrivacy({ command, token }: { command: string; token: string }) {
  const flag = ` --token ${token}`;
  if (!command.endsWith(flag)) return null;
  const bare = command.slice(0, -flag.length);
  const { t } = useTranslation();
  return (
    <div className="token-privacy" data-testid="agent-token-privacy" style={{ marginBottom: 12 }}>
      <p className="small">
        <Rich k="agent.privacy" nodes={{ ps: <code>ps</code> }} />
      </p>
      <pre className="command" data-testid="agent-command-stdin">
        {`${bare} --token -`}
      </pre>
      <p className="small">
        {t('agent.orEnv')} <code>BATON_AGENT_TOKEN=&lt;token&gt; {bare}</code>
      </p>
      <div className="actions">
        <CopyButton text={`${bare} --token -`} label={t('agent.copyThis')} testId="agent-copy-stdin" className="secondary" />
        <CopyButton text={token} label={t('agent.copyToken')} testId="agent-copy-token" className="secondary" />
      </div>
    </div>
  );
}

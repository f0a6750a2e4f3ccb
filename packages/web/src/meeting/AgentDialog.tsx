import { useEffect, useState } from 'react';
import { api, errorText } from '../api/client';
import { CopyButton } from '../ui/CopyButton';
import { Modal } from '../ui/Modal';
import { formatDate } from '../pages/Dashboard';

/** Gets a one-time token and shows the command that starts the Baton agent on the desktop to share. */
export function AgentDialog({ conferenceId, onClose }: { conferenceId: string; onClose(): void }) {
  const [result, setResult] = useState<{ command: string; token: string; expiresAt: string; agent: { url: string; sha256: string } | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);

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
    <Modal title="Share your desktop with the Baton agent" onClose={onClose} testId="agent-dialog">
      <p>Run this command on the computer whose desktop you want to share. The agent asks there before anyone takes control.</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!result && !error && <p className="muted">Getting a one-time token…</p>}
      {result && (
        <>
          <pre className="command" data-testid="agent-command">
            {result.command}
          </pre>
          <p className="muted small" data-testid="agent-expiry" title={formatDate(result.expiresAt)}>
            The token works once and expires {expiresIn(result.expiresAt)}.
          </p>
          {result.agent && <AgentDownload url={result.agent.url} sha256={result.agent.sha256} />}
          <TokenPrivacy command={result.command} token={result.token} />
        </>
      )}
      <div className="actions">
        {result && <CopyButton text={result.command} label="Copy command" className="primary" testId="agent-copy" />}
        <button type="button" className="secondary" onClick={() => setRound((n) => n + 1)}>
          New token
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}

/** Where the command gets the agent from, and the hash to check it against. */
function AgentDownload({ url, sha256 }: { url: string; sha256: string }) {
  return (
    <div className="agent-download small" data-testid="agent-download" style={{ marginBottom: 12 }}>
      <p className="small">
        The command needs only Node.js 20 or newer: <code>npx</code> fetches the agent from this server (
        <a href={url} download data-testid="agent-download-link">
          baton-agent.tgz
        </a>
        ) and its libraries from the npm registry. The first run takes a minute or so.
      </p>
      <p className="small">
        SHA-256 of the agent: <code data-testid="agent-sha256" style={{ wordBreak: 'break-all' }}>{sha256}</code>
      </p>
    </div>
  );
}

/** "in 10 minutes": the token's lifetime as people say it (the exact time is in the tooltip). */
function expiresIn(expiresAt: string): string {
  const minutes = Math.max(1, Math.round((Date.parse(expiresAt) - Date.now()) / 60_000));
  return `in ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * A token on the agent's command line is visible to every user of that computer (ps) while it
 * runs: offer the two ways that keep it out, standard input and the environment.
 */
function TokenPrivacy({ command, token }: { command: string; token: string }) {
  const flag = ` --token ${token}`;
  if (!command.endsWith(flag)) return null;
  const bare = command.slice(0, -flag.length);
  return (
    <div className="token-privacy" data-testid="agent-token-privacy" style={{ marginBottom: 12 }}>
      <p className="small">
        On a computer that other people use, they can see a token on the command line in their process list (<code>ps</code>) while the agent runs.
        To keep it out, run this and paste the token when the agent asks for it:
      </p>
      <pre className="command" data-testid="agent-command-stdin">
        {`${bare} --token -`}
      </pre>
      <p className="small">
        or pass it in the environment: <code>BATON_AGENT_TOKEN=&lt;token&gt; {bare}</code>
      </p>
      <div className="actions">
        <CopyButton text={`${bare} --token -`} label="Copy this command" testId="agent-copy-stdin" className="secondary" />
        <CopyButton text={token} label="Copy token only" testId="agent-copy-token" className="secondary" />
      </div>
    </div>
  );
}

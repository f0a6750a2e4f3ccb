import { useEffect, useState, type FormEvent } from 'react';
import { api, errorText } from '../api/client';
import { Modal } from '../ui/Modal';

/** The organizer invites users (by username) and groups; invitations appear on their home page. */
export function InviteDialog({ conferenceId, onClose }: { conferenceId: string; onClose(): void }) {
  const [users, setUsers] = useState('');
  const [groups, setGroups] = useState<string[] | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [invited, setInvited] = useState<string[] | null>(null);

  useEffect(() => {
    let live = true;
    api.groups().then(
      (g) => live && setGroups(g),
      (e: unknown) => {
        if (!live) return;
        setGroups([]);
        setError(errorText(e));
      },
    );
    return () => {
      live = false;
    };
  }, []);

  const names = users
    .split(/[,\s;]+/)
    .map((u) => u.trim())
    .filter(Boolean);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setInvited(null);
    try {
      setInvited(await api.invite(conferenceId, { users: names, groups: [...picked] }));
      setUsers('');
      setPicked(new Set());
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Invite people" onClose={onClose} testId="invite-dialog">
      <form className="form" onSubmit={submit}>
        <label>
          <span>
            Usernames <span className="hint">(separated by commas)</span>
          </span>
          <input value={users} onChange={(e) => setUsers(e.target.value)} placeholder="alice, bob" autoComplete="off" data-testid="invite-users" />
        </label>
        <fieldset className="groups">
          <legend>Groups</legend>
          {groups === null ? (
            <p className="muted small">Loading groups…</p>
          ) : groups.length === 0 ? (
            <p className="muted small">No groups are defined on this server.</p>
          ) : (
            groups.map((g) => (
              <label key={g} className="check">
                <input
                  type="checkbox"
                  checked={picked.has(g)}
                  onChange={(e) => {
                    const next = new Set(picked);
                    if (e.target.checked) next.add(g);
                    else next.delete(g);
                    setPicked(next);
                  }}
                  data-testid={`invite-group-${g}`}
                />
                {g}
              </label>
            ))
          )}
        </fieldset>
        {error && (
          <p className="error" role="alert" data-testid="invite-error">
            {error}
          </p>
        )}
        {invited && (
          <p className="success" role="status" data-testid="invite-result">
            {invited.length === 0 ? 'Nobody new was invited.' : `Invited: ${invited.join(', ')}`}
          </p>
        )}
        <div className="actions">
          <button className="primary" type="submit" disabled={busy || (names.length === 0 && picked.size === 0)} data-testid="invite-submit">
            {busy ? 'Inviting…' : 'Send invitations'}
          </button>
          <button className="secondary" type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </Modal>
  );
}

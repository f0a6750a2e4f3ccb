import type { Participant, ShareState } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';

const ROLE_LABEL: Record<Participant['role'], string> = { organizer: 'Organizer', presenter: 'Presenter', attendee: 'Attendee' };
const ROLE_ORDER: Record<Participant['role'], number> = { organizer: 0, presenter: 1, attendee: 2 };

/** Who is here (and, for the organizer, who waits in the lobby), with the organizer's actions. */
export function Roster({
  client,
  roster,
  selfId,
  isOrganizer,
  share,
}: {
  client: ConferenceClient;
  roster: readonly Participant[];
  selfId: string | null;
  isOrganizer: boolean;
  share: ShareState | null;
}) {
  const lobby = roster.filter((p) => p.status === 'lobby');
  // Stable sort: roles first, then the order people arrived in.
  const joined = roster.filter((p) => p.status === 'joined').sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);

  return (
    <section className="panel roster" aria-labelledby="roster-title">
      {isOrganizer && lobby.length > 0 && (
        <div className="lobby" data-testid="lobby">
          <h2 id="lobby-title">Waiting in the lobby ({lobby.length})</h2>
          <ul>
            {lobby.map((p) => (
              <li key={p.id} data-testid={`lobby-${p.name}`} data-participant-id={p.id}>
                <Avatar name={p.name} />
                <span className="who">
                  <span className="name">{p.name}</span>
                  {!p.user && <span className="guest"> (guest)</span>}
                </span>
                <span className="row-actions">
                  <button type="button" className="small primary" onClick={() => client.admit(p.id)} aria-label={`Admit ${p.name}`} data-testid={`admit-${p.name}`}>
                    Admit
                  </button>
                  <button type="button" className="small secondary" onClick={() => client.deny(p.id)} aria-label={`Deny ${p.name}`} data-testid={`deny-${p.name}`}>
                    Deny
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
      <h2 id="roster-title">
        Participants <span className="count">({joined.length})</span>
      </h2>
      <ul data-testid="roster">
        {joined.map((p) => {
          const self = p.id === selfId;
          const canManage = isOrganizer && !self && p.role !== 'organizer';
          return (
            <li
              key={p.id}
              className={p.connection === 'reconnecting' ? 'away' : undefined}
              data-testid={`roster-${p.name}`}
              data-participant-id={p.id}
              data-role={p.role}
              data-connection={p.connection}
            >
              <Avatar name={p.name} />
              <span className="who">
                <span className="name">{p.name}</span>
                {self && <span className="you"> (you)</span>}
                {!p.user && <span className="guest"> (guest)</span>}
                <span className="badges">
                  <span className={`badge role-${p.role}`}>{ROLE_LABEL[p.role]}</span>
                  {p.client === 'agent' && <span className="badge agent">Agent</span>}
                  {share?.hostId === p.id && <span className="badge sharing">Sharing</span>}
                  {share?.controllerId === p.id && <span className="badge control">In control</span>}
                  {p.connection === 'reconnecting' && <span className="reconnecting">reconnecting…</span>}
                </span>
              </span>
              {canManage && (
                <span className="row-actions">
                  {p.role === 'attendee' ? (
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => client.setRole(p.id, 'presenter')}
                      aria-label={`Make ${p.name} a presenter`}
                      data-testid={`make-presenter-${p.name}`}
                    >
                      Make presenter
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => client.setRole(p.id, 'attendee')}
                      aria-label={`Make ${p.name} an attendee`}
                      data-testid={`make-attendee-${p.name}`}
                    >
                      Make attendee
                    </button>
                  )}
                  <button
                    type="button"
                    className="small danger-text"
                    onClick={() => client.remove(p.id)}
                    aria-label={`Remove ${p.name}`}
                    data-testid={`remove-${p.name}`}
                  >
                    Remove
                  </button>
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Avatar({ name }: { name: string }) {
  const initials =
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => [...w][0]!.toUpperCase())
      .join('') || '?';
  // A stable colour per name, so people are easy to tell apart.
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) % 360;
  return (
    <span className="avatar" aria-hidden="true" style={{ background: `hsl(${h} 45% 42%)` }}>
      {initials}
    </span>
  );
}

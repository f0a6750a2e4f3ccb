import type { Participant, PhoneLeg, RaisedHand, ShareState } from '@baton/protocol';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { groupPeople } from './people';
import { PhoneRosterRow } from './PhoneLegs';

const ROLE_ORDER: Record<Participant['role'], number> = { organizer: 0, presenter: 1, attendee: 2 };

/** Who is here (and, for the organizer, who waits in the lobby), with the organizer's actions. */
export function Roster({
  client,
  roster,
  selfId,
  isOrganizer,
  share,
  hands = [],
  phones = [],
}: {
  client: ConferenceClient;
  roster: readonly Participant[];
  selfId: string | null;
  isOrganizer: boolean;
  share: ShareState | null;
  /** Raised hands in the order raised. */
  hands?: readonly RaisedHand[];
  /** Telephones dialled into the audio (their row: PhoneLegs.tsx). */
  phones?: readonly PhoneLeg[];
}) {
  const lobby = roster.filter((p) => p.status === 'lobby');
  // One entry per person (tabs and the agent are devices); stable sort: roles first, then arrival.
  const people = groupPeople(roster, selfId).sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
  /** A person's place in the hand queue, from 1; 0 when their hand is down. */
  const handAt = (key: string) => hands.findIndex((h) => h.person === key) + 1;
  const { t } = useTranslation();

  return (
    <section className="panel roster" aria-labelledby="roster-title">
      {isOrganizer && lobby.length > 0 && (
        <div className="lobby" data-testid="lobby">
          <h2 id="lobby-title">{t('roster.lobby', { count: lobby.length })}</h2>
          <ul>
            {lobby.map((p) => (
              <li key={p.id} data-testid={`lobby-${p.name}`} data-participant-id={p.id}>
                <Avatar name={p.name} />
                <span className="who">
                  <span className="name">{p.name}</span>
                  {!p.user && <span className="guest"> ({t('common.guest')})</span>}
                </span>
                <span className="row-actions">
                  <button type="button" className="small primary" onClick={() => client.admit(p.id)} aria-label={t('roster.admitWho', { name: p.name })} data-testid={`admit-${p.name}`}>
                    {t('roster.admit')}
                  </button>
                  <button type="button" className="small secondary" onClick={() => client.deny(p.id)} aria-label={t('roster.denyWho', { name: p.name })} data-testid={`deny-${p.name}`}>
                    {t('roster.deny')}
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {hands.length > 0 && (
        <div className="hands" data-testid="hands-queue">
          <h2 id="hands-title">{t('roster.hands', { count: hands.length })}</h2>
          <ol aria-labelledby="hands-title">
            {hands.map((h) => {
              const mine = people.some((p) => p.key === h.person && p.seats.some((s) => s.id === selfId));
              return (
                <li key={h.person} data-testid="hand-entry" data-person={h.person} data-participant-id={h.participantId}>
                  <span aria-hidden="true">✋ </span>
                  <span className="name">{h.name}</span>
                  {mine && <span className="you"> ({t('common.you')})</span>}
                  {(isOrganizer || mine) && (
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => (mine ? client.lowerHand() : client.lowerHand(h.participantId))}
                      aria-label={mine ? t('roster.lowerMine') : t('roster.lowerWho', { name: h.name })}
                      data-testid={`lower-hand-${h.name}`}
                    >
                      {t('roster.lower')}
                    </button>
                  )}
                </li>
              );
            })}
          </ol>
        </div>
      )}
      <h2 id="roster-title">
        {t('roster.title')}{' '}
        <span className="count" data-testid="people-count" aria-label={t('roster.count', { count: people.length })}>
          ({people.length})
        </span>
      </h2>
      <ul data-testid="roster">
        {people.map((person) => {
          const p = person.primary;
          const self = person.seats.some((s) => s.id === selfId);
          const canManage = isOrganizer && !self && person.role !== 'organizer';
          const sharing = person.seats.some((s) => share?.hostId === s.id);
          const inControl = person.seats.some((s) => share?.controllerId === s.id);
          // Several seats, or an agent: list them as this person's devices.
          const showDevices = person.seats.length > 1 || p.client === 'agent';
          return (
            <li
              key={person.key}
              className={person.connection === 'reconnecting' ? 'away' : undefined}
              data-testid={`roster-${person.name}`}
              data-participant-id={p.id}
              data-person={person.key}
              data-devices={person.seats.length}
              data-role={person.role}
              data-connection={person.connection}
            >
              <Avatar name={person.name} />
              <span className="who">
                <span className="name">{person.name}</span>
                {self && <span className="you"> ({t('common.you')})</span>}
                {!person.user && <span className="guest"> ({t('common.guest')})</span>}
                <span className="badges">
                  <span className={`badge role-${person.role}`}>{t(`roster.role.${person.role}`)}</span>
                  {sharing && <span className="badge sharing">{t('roster.sharing')}</span>}
                  {inControl && <span className="badge control">{t('roster.inControl')}</span>}
                  {handAt(person.key) > 0 && (
                    <span className="badge hand" data-testid={`hand-${person.name}`} title={t('roster.handTitle', { n: handAt(person.key) })}>
                      ✋ {handAt(person.key)}
                    </span>
                  )}
                  {person.connection === 'reconnecting' && <span className="reconnecting">{t('roster.reconnecting')}</span>}
                </span>
                {showDevices && (
                  <ul className="devices" data-testid={`devices-${person.name}`} aria-label={t('roster.devices', { name: person.name })}>
                    {person.seats.map((s) => (
                      <li key={s.id} data-testid="device" data-participant-id={s.id} data-client={s.client} data-connection={s.connection}>
                        {deviceLabel(t, s, s.id === selfId, share)}
                        {s.connection === 'reconnecting' && <span className="reconnecting"> · {t('roster.reconnecting')}</span>}
                      </li>
                    ))}
                  </ul>
                )}
              </span>
              {canManage && (
                <span className="row-actions">
                  {person.role === 'attendee' ? (
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => person.seats.forEach((s) => client.setRole(s.id, 'presenter'))}
                      aria-label={t('roster.makePresenterWho', { name: person.name })}
                      data-testid={`make-presenter-${person.name}`}
                    >
                      {t('roster.makePresenter')}
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => person.seats.forEach((s) => client.setRole(s.id, 'attendee'))}
                      aria-label={t('roster.makeAttendeeWho', { name: person.name })}
                      data-testid={`make-attendee-${person.name}`}
                    >
                      {t('roster.makeAttendee')}
                    </button>
                  )}
                  <button
                    type="button"
                    className="small danger-text"
                    onClick={() => person.seats.forEach((s) => client.remove(s.id))}
                    aria-label={t('roster.removeWho', { name: person.name })}
                    data-testid={`remove-${person.name}`}
                  >
                    {t('roster.remove')}
                  </button>
                </span>
              )}
            </li>
          );
        })}
        {phones.map((leg) => (
          <PhoneRosterRow key={leg.id} leg={leg} />
        ))}
      </ul>
    </section>
  );
}

/** What one seat of a person is: a browser tab, or the host agent (and whether it shares). */
function deviceLabel(t: TFunction, s: Participant, self: boolean, share: ShareState | null): string {
  if (s.client === 'agent') return share?.hostId === s.id ? t('roster.device.agentSharing') : t('roster.device.agent');
  if (share?.hostId === s.id) return self ? t('roster.device.thisTabSharing') : t('roster.device.tabSharing');
  return self ? t('roster.device.thisTab') : t('roster.device.tab');
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

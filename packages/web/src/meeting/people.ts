import { personOf, type Participant } from '@baton/protocol';

const ROLE_RANK: Record<Participant['role'], number> = { organizer: 2, presenter: 1, attendee: 0 };

/**
 * One person in the meeting with the seats (devices) they joined from: the tabs of a signed-in user
 * and their host agent share a person; each guest is their own. Commands still go to seats.
 */
export interface Person {
  key: string;
  /** The seat that stands for the person: this tab when it is ours, else a browser seat, else the agent. */
  primary: Participant;
  seats: Participant[];
  name: string;
  /** The highest role among the seats (roles are kept per seat, persisted per user). */
  role: Participant['role'];
  connection: Participant['connection'];
  user: string | null;
}

/** Group joined seats into people, in the order each person first arrived. */
export function groupPeople(roster: readonly Participant[], selfId: string | null): Person[] {
  const byKey = new Map<string, Participant[]>();
  for (const p of roster) {
    if (p.status !== 'joined') continue;
    const key = personOf(p);
    const list = byKey.get(key);
    if (list) list.push(p);
    else byKey.set(key, [p]);
  }
  return [...byKey].map(([key, seats]) => {
    const primary =
      seats.find((s) => s.id === selfId) ??
      seats.find((s) => s.client === 'web' && s.connection === 'online') ??
      seats.find((s) => s.client === 'web') ??
      seats[0]!;
    const role = seats.reduce<Participant['role']>((r, s) => (ROLE_RANK[s.role] > ROLE_RANK[r] ? s.role : r), 'attendee');
    return {
      key,
      primary,
      seats,
      name: primary.name,
      role,
      connection: seats.some((s) => s.connection === 'online') ? 'online' : 'reconnecting',
      user: primary.user,
    };
  });
}


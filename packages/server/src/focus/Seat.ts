import { Role, roleName, type ClientKind, type Participant, type ServerMessage } from '@baton/protocol';
import type { ActorView } from './authorize.js';

/** How the Focus talks to one participant's connection; the gateway provides it. */
export interface ParticipantLink {
  send(msg: ServerMessage): void;
  close(code: number, reason: string): void;
}

/** A participant's place in a conference. It outlives a dropped connection for the grace period. */
export interface Seat {
  id: string;
  name: string;
  userId: string | null;
  username: string | null;
  role: Role;
  owner: boolean;
  status: 'lobby' | 'joined';
  client: ClientKind;
  /** The client can carry the sharing protocol over a WebRTC DataChannel. */
  p2p: boolean;
  /** The client's network address at join: guests' rate limits are kept by it. */
  address: string;
  resumeToken: string;
  /** null while the participant is reconnecting. */
  link: ParticipantLink | null;
  graceTimer: NodeJS.Timeout | null;
  /** The client said its page is going away (`leave`): on disconnect, a short grace only. */
  leaving?: boolean;
}

export function seatToWire(s: Seat): Participant {
  return {
    id: s.id,
    name: s.name,
    role: roleName(s.role),
    user: s.username,
    status: s.status,
    connection: s.link ? 'online' : 'reconnecting',
    client: s.client,
    person: personKey(s),
  };
}

/**
 * One person per signed-in user (its tabs and its agent are devices of that person), each guest
 * seat its own. The username is public in the roster already, so the key reveals nothing new.
 */
export function personKey(s: Pick<Seat, 'id' | 'username'>): string {
  return s.username !== null ? `u:${s.username}` : s.id;
}

export function seatToActor(s: Seat): ActorView {
  return { id: s.id, role: s.role, signedIn: s.userId !== null, owner: s.owner, status: s.status, client: s.client, userId: s.userId };
}

export function isModerator(s: Seat): boolean {
  return s.role >= Role.Organizer;
}

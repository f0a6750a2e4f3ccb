/**
 * Where the host streams, from what the Focus says (share.transport) and who is there. Pure, so the
 * rules read in one place:
 * - p2p off (`--no-p2p`): always the server socket, as before p2p existed.
 * - transport 'p2p': the direct channel once it is open; nothing before (the viewer's server socket
 *   waits, prepared, and the relay gets no tiles).
 * - transport 'server': the server socket when someone else is in the meeting; nobody to serve, no
 *   stream (the host alone: nothing is captured for nobody, and a peer-to-peer viewer who joins next
 *   finds no stale screen on the relay).
 */
import type { PathName } from './PathSwitch.js';

export type PathInputs = {
  p2p: boolean;
  transport: 'server' | 'p2p';
  /** Joined participants other than the host. */
  othersJoined: number;
  peerOpen: boolean;
};

export function choosePath(s: PathInputs): PathName | null {
  if (!s.p2p) return 'server';
  if (s.transport === 'p2p') return s.peerOpen ? 'peer' : null;
  return s.othersJoined > 0 ? 'server' : null;
}

import { useEffect, useState, useSyncExternalStore } from 'react';
import { ConferenceClient, IDLE_SNAPSHOT, conferenceSocketUrl, type ConferenceSnapshot } from './ConferenceClient';
import { SnapshotGate } from './SnapshotGate';
import { videoDecodingSupported } from '../sharing/VideoTileDecoder';

const IDLE = IDLE_SNAPSHOT;

/**
 * Connects to a conference while `enabled` and the component is mounted; unmounting leaves it.
 * Returns the client (for commands) and its current snapshot.
 */
export function useConference(conferenceId: string, enabled: boolean, name?: string): { client: ConferenceClient | null; snapshot: ConferenceSnapshot } {
  const [joined, setJoined] = useState<{ client: ConferenceClient; gate: SnapshotGate } | null>(null);

  useEffect(() => {
    if (!enabled) return;
    const c = new ConferenceClient({
      url: conferenceSocketUrl(conferenceId, window.location),
      conferenceId,
      name,
      storage: window.sessionStorage,
      // Two-party agent shares go peer-to-peer when the browser can (the viewer answers the host).
      caps: { p2p: typeof RTCPeerConnection === 'function' },
    });
    // A share running when this page joins opens as the welcome comes, and the room renders once its
    // snapshot is in (SnapshotGate); the gate listens before React does.
    const gate = new SnapshotGate(c);
    setJoined({ client: c, gate });
    // Asked of the media stack now, so the sharing socket's caps need not wait for the answer.
    void videoDecodingSupported();
    // Connect on the next tick: React's StrictMode (dev) mounts, unmounts and remounts at once, and
    // a socket opened by the first mount would only be torn down half-open.
    const start = setTimeout(() => c.connect(), 0);
    // A closed tab (or a navigation away) says so, and the others see this participant go at once
    // instead of "reconnecting…" for the grace period. A reload says the same, then resumes the seat
    // with its token within the server's short leave grace. A page kept in the back/forward cache
    // (persisted) may come back: it keeps the full grace.
    const pagehide = (e: PageTransitionEvent) => {
      if (!e.persisted) c.pageLeaving();
    };
    window.addEventListener('pagehide', pagehide);
    return () => {
      window.removeEventListener('pagehide', pagehide);
      gate.close();
      clearTimeout(start);
      c.close();
      setJoined(null);
    };
  }, [conferenceId, enabled, name]);

  const snapshot = useSyncExternalStore(
    joined?.gate.subscribe ?? noopSubscribe,
    joined?.gate.getSnapshot ?? idleSnapshot,
  );
  return { client: joined?.client ?? null, snapshot };
}

const noopSubscribe = () => () => {};
const idleSnapshot = () => IDLE;

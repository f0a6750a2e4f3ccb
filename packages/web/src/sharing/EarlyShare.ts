/**
 * A late joiner's share, opened the moment its welcome comes rather than when the page has rendered
 * the room around the stage: the welcome carries a sharing ticket, so the sharing socket opens in the
 * same task, the snapshot streams in and the decode workers draw it while React renders the roster,
 * the chat and the stage. The view draws on a canvas of its own until the stage's SharedScreen
 * mounts and takes it over (ScreenView.attach), with the connection as it is, whatever state it is in.
 *
 * Only what the stage would open by itself is started early: someone else's share, not this user's
 * own agent share (its page does not mirror the desktop in front of it), while the stage shows the
 * screen. A share nobody takes within EARLY_SHARE_KEEP_MS is closed again.
 *
 * startEarlyShare also says when the socket has sent its auth: the page renders the room only then
 * (SnapshotGate), because rendering it is one long synchronous task, and made at once it held up the
 * socket's open event and so the auth, the server's whole answer waiting behind it; rendered after the
 * auth, it runs while the server sends the snapshot.
 */
import type { ConferenceClient } from '../conference/ConferenceClient';
import { ViewFeed } from '../p2p/ViewFeed';
import { ScreenView } from './ScreenView';
import { ShareConnection } from './ShareConnection';

export interface EarlyShare {
  /** The sharing participant it shows. */
  readonly hostId: string;
  readonly view: ScreenView;
  readonly feed: ViewFeed;
  readonly conn: ShareConnection;
}

/** The sharing socket's path (the stage's SharedScreen uses the same). */
export const SHARE_WS_PATH = '/ws/share';
/** An early share not taken by a stage by then is closed (the page showed something else). */
export const EARLY_SHARE_KEEP_MS = 15_000;
/** The room is rendered at the latest this long after the welcome, the socket open or not. */
export const EARLY_SHARE_HOLD_MS = 500;

const started = new WeakMap<ConferenceClient, { share: EarlyShare; timer: ReturnType<typeof setTimeout> }>();
/** Clients whose first welcome was looked at: a rejoin's welcome finds the stage's own connection running. */
const looked = new WeakSet<ConferenceClient>();

/**
 * Open the share the client's welcome announced, if the stage will show it by itself (call when the
 * client is joined). Uses the welcome's ticket; does nothing without one, and after the first welcome.
 * Returns, when it opened one, a promise that settles once the socket has sent its auth (or the
 * connection ended, or EARLY_SHARE_HOLD_MS passed); else null.
 */
export function startEarlyShare(client: ConferenceClient): Promise<void> | null {
  if (typeof document === 'undefined' || typeof WebSocket === 'undefined' || looked.has(client)) return null;
  looked.add(client);
  const snap = client.snapshot;
  const share = snap.share;
  if (!share || !snap.selfId || share.hostId === snap.selfId) return null;
  if ((snap.stage?.view ?? 'screen') !== 'screen') return null;
  const host = snap.roster.find((p) => p.id === share.hostId);
  const self = snap.roster.find((p) => p.id === snap.selfId);
  // The same test as the stage's: this user's own agent share is not opened by its page.
  if (share.kind === 'agent' && host?.client === 'agent' && !!self?.user && host.user === self.user) return null;
  const ticket = client.takeShareTicket();
  if (!ticket) return null;
  const view = new ScreenView({});
  const feed = new ViewFeed(view);
  const conn = new ShareConnection({ url: SHARE_WS_PATH, ticket, view: feed.source('server') }).connect();
  const early: EarlyShare = { hostId: share.hostId, view, feed, conn };
  const timer = setTimeout(() => {
    if (started.get(client)?.share !== early) return;
    started.delete(client);
    dispose(early);
  }, EARLY_SHARE_KEEP_MS);
  started.set(client, { share: early, timer });
  // The client ending ends it too (a stage that took it closes it itself).
  client.on('end', () => {
    const s = started.get(client);
    if (s?.share !== early) return;
    started.delete(client);
    clearTimeout(s.timer);
    dispose(early);
  });
  return new Promise<void>((resolve) => {
    // A test may set a longer bound, so that its load cannot decide which of the two comes first.
    const bound = (globalThis as { __batonEarlyShareHoldMs?: number }).__batonEarlyShareHoldMs ?? EARLY_SHARE_HOLD_MS;
    const hold = setTimeout(done, bound);
    // 'authenticating': the socket opened and its auth went out in that same task.
    const offState = conn.on('state', (state) => {
      if (state !== 'connecting') done();
    });
    function done(): void {
      clearTimeout(hold);
      offState();
      resolve();
    }
  });
}

/** The early share of `hostId`'s screen, handed over once (null: none, or another host's, which is closed). */
export function takeEarlyShare(client: ConferenceClient, hostId: string): EarlyShare | null {
  const s = started.get(client);
  if (!s) return null;
  started.delete(client);
  clearTimeout(s.timer);
  if (s.share.hostId === hostId && s.share.conn.state !== 'closed') return s.share;
  dispose(s.share);
  return null;
}

function dispose(share: EarlyShare): void {
  share.conn.close('the viewer was closed');
  share.feed.destroy();
  share.view.destroy();
}

/**
 * The conference snapshot as React reads it (useSyncExternalStore), which may be held at what React
 * last rendered for a moment. A late joiner's welcome would render the whole room (roster, chat, stage)
 * in one synchronous task right after the early share's socket was made (EarlyShare.ts): the socket's
 * open event, so its auth, waited for that task, and the server could send nothing meanwhile. Held
 * until the auth is out (or the hold's bound), the room renders while the server sends the snapshot.
 *
 * Everything else is as the client says: a hold is released at once when the client leaves `joined`,
 * and there is none (or it ends) while the share goes peer-to-peer, whose channel the stage opens.
 */
import type { ConferenceClient, ConferenceSnapshot } from './ConferenceClient';
import { startEarlyShare } from '../sharing/EarlyShare';

export class SnapshotGate {
  readonly #client: ConferenceClient;
  readonly #listeners = new Set<() => void>();
  /** What React was last given. */
  #shown: ConferenceSnapshot;
  /** Given instead of the client's snapshot while a hold lasts. */
  #held: ConferenceSnapshot | null = null;
  #joinedOnce = false;
  /** The share's transport at the last change (a hold ends when it turns to `p2p`). */
  #transport: 'server' | 'p2p' | null = null;
  readonly #off: () => void;

  /** Create it before React subscribes: its own listener must see the welcome first. */
  constructor(client: ConferenceClient) {
    this.#client = client;
    this.#shown = client.getSnapshot();
    this.#off = client.subscribe(() => this.#changed());
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    const off = this.#client.subscribe(listener);
    return () => {
      this.#listeners.delete(listener);
      off();
    };
  };

  getSnapshot = (): ConferenceSnapshot => {
    this.#shown = this.#held ?? this.#client.getSnapshot();
    return this.#shown;
  };

  /** Being held now (for tests and the bench). */
  get holding(): boolean {
    return this.#held !== null;
  }

  close(): void {
    this.#off();
    this.#release();
  }

  #changed(): void {
    const snap = this.#client.getSnapshot();
    // A peer-to-peer share's picture comes over a channel the stage opens: the room must render for
    // it. The welcome may still say `server` when this joiner makes two (the host's agent and this
    // page: the Focus decides after the join), or `p2p` when it makes three (it escalates then).
    const transport = snap.share?.transport ?? null;
    const toPeer = transport === 'p2p' && this.#transport !== 'p2p';
    this.#transport = transport;
    if (this.#held && (snap.state !== 'joined' || toPeer)) return this.#release();
    if (snap.state !== 'joined' || this.#joinedOnce) return;
    this.#joinedOnce = true;
    const snapshotIn = startEarlyShare(this.#client);
    const mayGoPeer = snap.share?.kind === 'agent' && snap.roster.length <= 2;
    if (!snapshotIn || mayGoPeer) return;
    this.#held = this.#shown;
    void snapshotIn.then(() => this.#release());
  }

  #release(): void {
    if (!this.#held) return;
    this.#held = null;
    for (const l of this.#listeners) l();
  }
}

/**
 * The host's paths for one share: the server's sharing socket and, while the Focus says `p2p`, a
 * direct DataChannel to the one other participant. It follows share.updated and the roster, opens
 * a PeerLink (offer, candidates and answer relayed by the Focus with p2p.signal), and switches the
 * session's PathSwitch:
 *
 * - p2p live: every frame goes to the peer; the server socket stays connected and authenticated but
 *   carries nothing, so the relay gets no tiles.
 * - the direct path fails (no answer, ICE, no channel in time, the channel breaks): the host sends
 *   `p2p.signal {kind:'failed'}`; the Focus moves the share to the server for good.
 * - escalation (share.updated 'server' while a peer was served: a third participant, or a failure):
 *   at once a full refresh (screen, every tile, frame) on the server socket, then the direct path
 *   closes once that refresh has gone out. The host never goes back to p2p.
 */
import type { IceServer, Participant, ShareState, SignalData } from '@baton/protocol';
import { TypedEmitter } from '../TypedEmitter.js';
import type { ConferenceClient } from '../ConferenceClient.js';
import type { PassStats } from '../ShareSession.js';
import type { ShareTransport } from '../ShareTransport.js';
import type { DataChannelTransport } from './DataChannelTransport.js';
import { PathSwitch, type PathName } from './PathSwitch.js';
import { PeerLink, type NodeDataChannelModule } from './PeerLink.js';
import { choosePath } from './choosePath.js';

export type SharePathsOptions = {
  conference: Pick<ConferenceClient, 'selfId' | 'welcome' | 'send' | 'request'>;
  /** node-datachannel, loaded; null turns peer-to-peer off (`--no-p2p`, or the module is missing). */
  ndc: NodeDataChannelModule | null;
  /** Reset flow control and the encoder and capture everything: a full refresh on the new path. */
  refresh: () => void;
  /** The controller named by the Focus. */
  controllerId: () => string | null;
  log?: (line: string) => void;
  /** How long a lone host waits, when someone joins, for the Focus to say 'p2p' before streaming to the server. */
  settleMs?: number;
  answerTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** After an open channel breaks: time for the roster to say the peer simply left (no escalation then). */
  closeGraceMs?: number;
  /** Longest wait for the escalation refresh before the direct path is closed anyway. */
  retireTimeoutMs?: number;
};

export type SharePathsEvents = {
  path: [to: PathName | null, from: PathName | null];
  /** The share is on the server for good. */
  escalated: [];
};

export class SharePaths extends TypedEmitter<SharePathsEvents> {
  readonly #o: SharePathsOptions;
  #switch: PathSwitch | null = null;
  #share: ShareState | null = null;
  #others: string[] = [];
  #escalated = false;
  /** Peers whose direct path was already retried once. */
  #retried = new Set<string>();
  /** The link being set up or open, and whom it is for (set before the link exists: ice.refresh is awaited). */
  #link: PeerLink | null = null;
  #linkFor: string | null = null;
  #linkToken = 0;
  /** The open direct channel and its peer. */
  #peer: DataChannelTransport | null = null;
  #peerId: string | null = null;
  #retiring: PeerLink | null = null;
  #retireTimer: NodeJS.Timeout | null = null;
  #settle: NodeJS.Timeout | null = null;
  #grace: NodeJS.Timeout | null = null;
  #closed = false;
  /** For reports and tests: when each path last became active, and link set-up times. */
  readonly timeline: { at: number; event: string }[] = [];

  constructor(o: SharePathsOptions) {
    super();
    this.#o = o;
  }

  get enabled(): boolean {
    return this.#o.ndc !== null;
  }
  get escalated(): boolean {
    return this.#escalated;
  }
  get active(): PathName | null {
    return this.#switch?.active ?? null;
  }
  /** The participant at the other end of the open direct channel. */
  get peerId(): string | null {
    return this.#peer ? this.#peerId : null;
  }
  get pathSwitch(): PathSwitch | null {
    return this.#switch;
  }

  /** A (re)connected server socket: the session streams into the returned switch. */
  attach(server: ShareTransport): PathSwitch {
    const sw = new PathSwitch({
      server,
      peerMayControl: () => this.#peerMayControl(),
      onSwitch: (to, from) => this.#switched(to, from),
    });
    this.#switch = sw;
    if (this.#peer) sw.setPeer(this.#peer);
    // The Focus sent share.updated (and any 'p2p' after it) before acking share.start: the state is
    // settled by now, so the first pass goes straight to its path.
    this.#apply(true);
    this.#review();
    return sw;
  }

  /** Share state or roster changed. */
  update(share: ShareState | null, roster: Iterable<Participant>): void {
    if (this.#closed) return;
    const self = this.#o.conference.selfId;
    const mine = share && share.hostId === self ? share : null;
    const before = this.#share?.transport;
    this.#share = mine;
    this.#others = [...roster].filter((p) => p.id !== self && p.status === 'joined').map((p) => p.id);
    if (before === 'p2p' && mine?.transport === 'server' && this.#others.length > 0) this.#escalate('the meeting moved the share to the server');
    this.#review();
  }

  /** A p2p.signal from another participant. */
  onSignal(from: string, data: SignalData): void {
    if (this.#closed) return;
    if (data.kind === 'failed') {
      // The Focus escalates on this signal itself; nothing to send back.
      this.#log(`The viewer could not reach this host directly (${data.reason}); the share moves to the server.`);
      if (this.#linkFor === from) this.#escalate('the viewer gave up on the direct path');
      this.#review();
      return;
    }
    if (this.#link && this.#link.peerId === from) this.#link.apply(data);
  }

  /** Every batch the session sent: the escalation refresh going out retires the direct path. */
  noteFrame(stats: PassStats): void {
    const sw = this.#switch;
    if (this.#retiring && sw?.active === 'server' && sw.tileCount > 0 && (stats.tiles >= sw.tileCount || stats.snapshotTiles > 0)) {
      this.#mark('escalation refresh sent on the server socket');
      this.#endRetire('the server has the whole screen');
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [this.#settle, this.#grace, this.#retireTimer]) if (t) clearTimeout(t);
    this.#closeLink();
    this.#endRetire(null);
    this.#switch = null;
    this.removeAllListeners();
  }

  // -------------------------------------------------------------------------------------------

  #review(): void {
    if (this.#closed) return;
    const share = this.#share;
    const p2pWanted = this.enabled && !this.#escalated && share?.transport === 'p2p';
    // With a third participant announced but share.updated not yet here, keep things as they are.
    if (p2pWanted && this.#others.length === 1 && this.#linkFor !== this.#others[0]) {
      this.#closeLink();
      void this.#openLink(this.#others[0]!);
    }
    const wasPeer = this.#switch?.active === 'peer';
    this.#apply();
    if (!p2pWanted && this.#linkFor !== null) {
      // Escalated from a live direct path: it lives until the server socket carries the full refresh.
      if (this.#escalated && wasPeer && this.#switch?.active === 'server') this.#retire();
      else this.#closeLink();
    }
  }

  #want(): PathName | null {
    const share = this.#share;
    if (!share) return null;
    return choosePath({
      p2p: this.enabled,
      transport: this.#escalated ? 'server' : share.transport,
      othersJoined: this.#others.length,
      peerOpen: this.#peer !== null,
    });
  }

  #apply(settled = false): void {
    const sw = this.#switch;
    if (!sw) return;
    const want = this.#want();
    if (sw.active === want) return this.#clearSettle();
    if (want === 'server' && sw.active === null && this.enabled && !this.#escalated && !settled) {
      // A joiner who can go peer-to-peer is followed at once by share.updated 'p2p': wait for it, so
      // a peer-to-peer pair never leaves tiles on the relay.
      this.#settle ??= setTimeout(() => {
        this.#settle = null;
        this.#apply(true);
      }, this.#o.settleMs ?? 150);
      return;
    }
    this.#clearSettle();
    sw.switchTo(want);
  }

  #clearSettle(): void {
    if (this.#settle) clearTimeout(this.#settle);
    this.#settle = null;
  }

  #switched(to: PathName | null, from: PathName | null): void {
    this.#mark(`path ${from ?? 'none'} -> ${to ?? 'none'}`);
    if (to) this.#o.refresh();
    if (to === 'peer') this.#log('Streaming directly to the viewer (peer-to-peer); the server relays nothing.');
    else if (to === 'server') this.#log(from === 'peer' ? 'Streaming through the server now (full refresh sent).' : 'Streaming through the server.');
    else if (from) this.#log('Nobody to stream to; sharing is paused until someone watches.');
    this.emit('path', to, from);
  }

  async #openLink(peerId: string): Promise<void> {
    const ndc = this.#o.ndc!;
    const token = ++this.#linkToken;
    this.#linkFor = peerId;
    let servers: readonly IceServer[] = this.#o.conference.welcome.iceServers;
    try {
      // TURN credentials are short-lived: ask for fresh ones for each attempt.
      const ack = await this.#o.conference.request({ type: 'ice.refresh' });
      if (ack.iceServers) servers = ack.iceServers;
    } catch {
      /* the welcome's servers may still do */
    }
    if (this.#closed || token !== this.#linkToken) return;
    let link: PeerLink;
    try {
      link = new PeerLink({ ndc, peerId, iceServers: servers, answerTimeoutMs: this.#o.answerTimeoutMs, connectTimeoutMs: this.#o.connectTimeoutMs });
    } catch (err) {
      this.#failed(peerId, `cannot create a PeerConnection: ${(err as Error).message}`, false);
      return;
    }
    this.#link = link;
    this.#mark(`offer to ${peerId}`);
    if (link.skippedIce.length > 0) this.#log(`Unusable ICE servers skipped: ${link.skippedIce.join(', ')}`);
    link.on('signal', (data) => this.#o.conference.send({ type: 'p2p.signal', to: peerId, data }));
    link.on('open', (t) => {
      this.#peer = t;
      this.#peerId = peerId;
      this.#mark(`direct channel open (${link.openMs} ms)`);
      this.#log(`Direct channel to the viewer open in ${link.openMs} ms (${link.route() ?? 'route unknown'}).`);
      this.#switch?.setPeer(t);
      this.#review();
    });
    link.on('failed', (reason) => {
      if (link.skippedCandidates.length > 0) this.#mark(`remote candidates refused: ${link.skippedCandidates.join('; ')}`);
      this.#failed(peerId, reason, link.openMs !== null, link.answered && !reason.startsWith('the peer gave up'));
    });
  }

  /** The link to `peerId` gave up. A channel that broke after opening may just mean the peer left: wait a moment. */
  #failed(peerId: string, reason: string, wasOpen: boolean, retryable = false): void {
    if (this.#linkFor !== peerId) return;
    this.#link = null;
    this.#dropPeer();
    this.#mark(`direct path failed: ${reason}`);
    const escalate = () => {
      this.#grace = null;
      if (this.#closed || this.#linkFor !== peerId || this.#escalated) return;
      if (!this.#others.includes(peerId) || this.#share?.transport !== 'p2p') {
        this.#linkFor = null;
        return this.#review();
      }
      this.#log(`The direct path to the viewer failed (${reason}); asking the meeting to use the server.`);
      this.#o.conference.send({ type: 'p2p.signal', to: peerId, data: { kind: 'failed', reason: reason.slice(0, 200) } });
      this.#escalate(reason);
      this.#review();
    };
    if (wasOpen) {
      this.#grace = setTimeout(escalate, this.#o.closeGraceMs ?? 1000);
    } else if (retryable && !this.#retried.has(peerId) && this.#others.includes(peerId) && this.#share?.transport === 'p2p' && !this.#escalated) {
      // A connection can fail for a passing reason (a lost packet too many, a stalled host): one fresh
      // offer before moving the meeting to the server for good. The viewer, which sees the attempt fail
      // too, waits for this offer and starts over on it rather than reporting the failure.
      this.#retried.add(peerId);
      this.#log(`The direct path to the viewer failed (${reason}); trying once more.`);
      void this.#openLink(peerId);
    } else {
      escalate();
    }
  }

  #escalate(why: string): void {
    if (this.#escalated) return;
    this.#escalated = true;
    this.#mark(`escalated: ${why}`);
    this.emit('escalated');
  }

  #retire(): void {
    this.#retiring = this.#link;
    this.#link = null;
    this.#linkFor = null;
    this.#linkToken++;
    if (!this.#retiring) return;
    this.#retireTimer = setTimeout(() => this.#endRetire('timed out waiting for the refresh'), this.#o.retireTimeoutMs ?? 3000);
    this.#retireTimer.unref?.();
  }

  #endRetire(why: string | null): void {
    if (this.#retireTimer) clearTimeout(this.#retireTimer);
    this.#retireTimer = null;
    const link = this.#retiring;
    this.#retiring = null;
    if (!link) return;
    link.close();
    this.#dropPeer();
    if (why) this.#log(`Closed the direct path (${why}).`);
  }

  #closeLink(): void {
    this.#linkToken++;
    this.#link?.close();
    this.#link = null;
    this.#linkFor = null;
    if (this.#grace) clearTimeout(this.#grace);
    this.#grace = null;
    if (!this.#retiring) this.#dropPeer();
  }

  #dropPeer(): void {
    if (!this.#peer) return;
    this.#peer = null;
    this.#peerId = null;
    this.#switch?.setPeer(null);
  }

  #peerMayControl(): boolean {
    const c = this.#o.controllerId();
    return c !== null && c === this.#peerId;
  }

  #mark(event: string): void {
    this.timeline.push({ at: Date.now(), event });
    if (this.timeline.length > 200) this.timeline.shift();
  }

  #log(line: string): void {
    this.#o.log?.(line);
  }
}

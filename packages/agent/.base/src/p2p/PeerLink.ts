/**
 * One attempt at a direct path from the host to its peer: a node-datachannel PeerConnection (the
 * offerer) with an ordered, reliable DataChannel `baton-share`. The offer and candidates go out as
 * `signal` events (the owner relays them through the Focus with `p2p.signal`); the answer and the
 * peer's candidates come back through apply().
 *
 * Our candidates go out only once the answer is applied. A browser starts its connectivity checks the
 * moment it has our candidates, so with them in hand before our answer arrived it would reach us
 * first, and libdatachannel's ICE then connects inside setRemoteDescription, before that call has
 * stored the answer: DTLS could verify the browser's certificate against no fingerprint yet
 * ("DTLS alert: unknown CA", the connection failed on both sides), which happened when this process
 * was descheduled there, i.e. on a loaded host. Holding our candidates back costs one relay trip.
 *
 * Time limits: the peer has `answerTimeoutMs` to answer (a viewer answers once it shows the screen),
 * then the channel has `connectTimeoutMs` to open. Missing either, ICE failing, or the channel
 * closing after it opened ends the link with `failed`; the owner then tells the Focus, which moves
 * the share to the server for good. A link is never reused.
 */
import { SHARE_DATACHANNEL_LABEL, SHARE_DATACHANNEL_PROTOCOL, type IceServer, type SignalData } from '@baton/protocol';
import type * as NodeDataChannel from 'node-datachannel';
import { TypedEmitter } from '../TypedEmitter.js';
import { DataChannelTransport } from './DataChannelTransport.js';
import { toNodeIceServers } from './iceServers.js';

export type NodeDataChannelModule = typeof NodeDataChannel;

export type PeerLinkOptions = {
  ndc: NodeDataChannelModule;
  peerId: string;
  iceServers: readonly IceServer[];
  answerTimeoutMs?: number;
  connectTimeoutMs?: number;
};

export type PeerLinkEvents = {
  /** Offer or candidate for the peer. */
  signal: [SignalData];
  /** The DataChannel is open: stream into this transport. */
  open: [DataChannelTransport];
  /** The direct path cannot be used (before or after it opened). Emitted once; the link is closed. */
  failed: [reason: string];
};

export class PeerLink extends TypedEmitter<PeerLinkEvents> {
  readonly peerId: string;
  readonly createdAt = Date.now();
  /** ms from creation to the channel opening, once it has. */
  openMs: number | null = null;
  /** ICE servers that could not be used (logged by the owner). */
  readonly skippedIce: string[];
  /** Remote candidates the ICE agent refused, with why. */
  readonly skippedCandidates: string[] = [];
  readonly #pc: NodeDataChannel.PeerConnection;
  readonly #dc: NodeDataChannel.DataChannel;
  readonly #connectTimeoutMs: number;
  #transport: DataChannelTransport | null = null;
  #remoteSet = false;
  /** Our offer went out: signals that come before it answer an older offer (an earlier link). */
  #offered = false;
  #early: { candidate: string; mid: string }[] = [];
  /** Our own candidates, held until the answer is applied (see above). */
  #held: { candidate: string; mid: string }[] | null = [];
  #timer: NodeJS.Timeout | null = null;
  /** What ICE got to, for naming a failure. */
  #ice: 'connected' | 'failed' | null = null;
  #closed = false;

  constructor(o: PeerLinkOptions) {
    super();
    this.peerId = o.peerId;
    this.#connectTimeoutMs = o.connectTimeoutMs ?? 5000;
    const { entries, skipped } = toNodeIceServers(o.iceServers);
    this.skippedIce = skipped;
    this.#pc = new o.ndc.PeerConnection('baton-agent', { iceServers: entries });
    this.#pc.onLocalDescription((sdp, type) => {
      if (type === 'offer') this.#offered = true;
      // libdatachannel sends candidates apart; any in the SDP itself would reach the browser early too.
      if (type === 'offer' || type === 'answer') this.#signal({ kind: 'description', type, sdp: sdp.replace(/^a=(candidate:|end-of-candidates).*\r?\n/gm, '') });
    });
    this.#pc.onLocalCandidate((candidate, mid) => {
      if (this.#held) this.#held.push({ candidate, mid });
      else this.#signal({ kind: 'candidate', candidate, mid });
    });
    this.#pc.onStateChange((state) => {
      // Named after what got through: with ICE connected, DTLS failed (a certificate that did not verify).
      // The ICE state comes through its own callback queue: a turn later it has been seen.
      if (state === 'failed') setImmediate(() => this.#fail(this.#failure()));
    });
    this.#pc.onIceStateChange((state) => {
      if (state === 'connected' || state === 'completed' || state === 'failed') this.#ice = state === 'failed' ? 'failed' : 'connected';
    });
    this.#dc = this.#pc.createDataChannel(SHARE_DATACHANNEL_LABEL, { protocol: SHARE_DATACHANNEL_PROTOCOL });
    this.#dc.onOpen(() => this.#opened());
    // Before it opens too: node-datachannel (0.33) forgets a channel object only through its close
    // callback; one that never opened, once garbage-collected, stays in its registry as a dangling
    // pointer, and cleanup() then crashes or hangs the process. The transport takes this over on open.
    this.#dc.onClosed(() => {});
    this.#arm(o.answerTimeoutMs ?? 30_000, 'the peer did not answer in time');
  }

  /** Our candidates gathered and not sent yet: the answer has not been applied. */
  get heldCandidates(): number {
    return this.#held?.length ?? 0;
  }

  /** The peer's answer came (a failure after it is ICE or the channel, not a missing viewer). */
  get answered(): boolean {
    return this.#remoteSet;
  }

  get open(): boolean {
    return this.#transport !== null && !this.#closed;
  }

  /** The selected candidate pair, for logs ("host", "srflx", "relay"). */
  route(): string | null {
    try {
      const pair = this.#pc.getSelectedCandidatePair();
      return pair ? `${pair.local.type} ${pair.local.address} ↔ ${pair.remote.type} ${pair.remote.address}` : null;
    } catch {
      return null;
    }
  }

  /** The peer's answer or candidates, relayed by the Focus. */
  apply(data: SignalData): void {
    if (this.#closed) return;
    try {
      if (data.kind === 'description') {
        // We offer; an answer before our offer went out belongs to an earlier link, a second one is noise.
        if (data.type !== 'answer' || this.#remoteSet || !this.#offered) return;
        // Answered: a failure from here on is the connection's (the owner retries it once).
        this.#remoteSet = true;
        if (!this.#transport) this.#arm(this.#connectTimeoutMs, `the direct channel did not open within ${this.#connectTimeoutMs} ms`);
        try {
          this.#pc.setRemoteDescription(data.sdp, 'answer');
        } catch (err) {
          // Candidates inside the answer are added within that call: the connection can fail (and be torn
          // down) before the last one is; its state change reports that, with its cause.
          if (['failed', 'closed'].includes(this.#pc.state())) return;
          throw err;
        }
        for (const c of this.#early.splice(0)) this.#addCandidate(c.candidate, c.mid);
        const held = this.#held ?? [];
        this.#held = null;
        for (const c of held) this.#signal({ kind: 'candidate', ...c });
      } else if (data.kind === 'candidate') {
        if (!this.#offered) return; // for an earlier offer
        if (!this.#remoteSet) this.#early.push({ candidate: data.candidate, mid: data.mid });
        else this.#addCandidate(data.candidate, data.mid);
      } else {
        this.#fail(`the peer gave up: ${data.reason}`);
      }
    } catch (err) {
      this.#fail(`bad signalling from the peer: ${(err as Error).message}`);
    }
  }

  /**
   * One remote candidate. One the ICE agent refuses (stale, or for a transport that is gone) is skipped:
   * the others may still connect, and the connect timeout covers the case where none does.
   */
  #addCandidate(candidate: string, mid: string): void {
    try {
      this.#pc.addRemoteCandidate(candidate, mid);
    } catch (err) {
      this.skippedCandidates.push(`${candidate.slice(0, 60)}: ${(err as Error).message}`);
    }
  }

  /** Close the channel and the PeerConnection. Emits nothing. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#transport?.close(1000, 'the direct path was closed');
    for (const c of [this.#dc, this.#pc]) {
      try {
        c.close();
      } catch {
        /* already closed */
      }
    }
    this.removeAllListeners();
  }

  #opened(): void {
    if (this.#closed || this.#transport) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.openMs = Date.now() - this.createdAt;
    this.#transport = new DataChannelTransport(this.#dc, () => {
      if (!this.#closed) this.#fail('the direct channel closed');
    });
    this.emit('open', this.#transport);
  }

  #failure(): string {
    if (this.#ice === 'connected' || this.#sawCertificate()) return 'the DTLS handshake failed';
    if (this.#ice === 'failed') return 'ICE failed';
    return 'the connection failed (ICE or DTLS)';
  }

  /** DTLS got as far as the peer's certificate (libdatachannel keeps its fingerprint once checked). */
  #sawCertificate(): boolean {
    try {
      return !!this.#pc.remoteFingerprint()?.value;
    } catch {
      return false;
    }
  }

  #arm(ms: number, reason: string): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fail(reason), ms);
    this.#timer.unref?.();
  }

  #signal(data: SignalData): void {
    if (!this.#closed) this.emit('signal', data);
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.emit('failed', reason);
    this.close();
  }
}

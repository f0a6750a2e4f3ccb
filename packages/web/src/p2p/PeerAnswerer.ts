/**
 * The viewer's end of a peer-to-peer share: answers the host's WebRTC offer (relayed by the Focus as
 * `p2p.signal`) with the browser's RTCPeerConnection and hands over the host's DataChannel.
 *
 * The host offers as soon as the Focus says 'p2p', which may be before this page starts viewing, so
 * signals that arrived earlier are replayed from the conference client (`p2pSignals`).
 *
 * The host drives the attempts; this side follows:
 *
 *     waiting ──offer──▶ answering ──channel open──▶ open
 *                         ▲     │ ICE or DTLS failed, or not open within `attemptMs`
 *                   offer │     ▼
 *                        retrying   (connection closed; the host sees the failure too and offers once more)
 *
 * A newer offer always starts a fresh connection, from any of those states. The host makes at most
 * one fresh offer and then gives up itself (`p2p.signal {kind:'failed'}` from it: `failed`, silently).
 * Only when the host goes quiet (no offer `offerTimeoutMs` after start, or `retryWaitMs` after a
 * failed attempt) does this side send `p2p.signal {kind:'failed'}`: the Focus then moves the share to
 * the server for good. Reporting the first failed attempt at once, as before, pre-empted the host's
 * retry. A channel that closes after it opened is only reported; the host decides about it.
 */
import { SHARE_DATACHANNEL_LABEL, type IceServer, type ServerMessage, type SignalData } from '@baton/protocol';
import { Emitter } from '../conference/Emitter';

/** What the answerer needs from the conference client; packages/web's ConferenceClient fits as it is. */
export interface P2PConference {
  send(message: { type: 'p2p.signal'; to: string; data: SignalData }): unknown;
  on(event: 'message', listener: (msg: ServerMessage) => void): () => void;
  readonly snapshot: { readonly iceServers: readonly IceServer[] };
  /** p2p.signal messages of the current attempt that arrived before anyone listened. */
  readonly p2pSignals?: readonly { from: string; data: SignalData }[];
}

export type AnswererState = 'waiting' | 'answering' | 'retrying' | 'open' | 'failed' | 'closed';

export type PeerAnswererEvents = {
  state: AnswererState;
  /** The host's sharing channel (it may still be opening). */
  channel: RTCDataChannel;
};

export interface PeerAnswererOptions {
  conference: P2PConference;
  hostId: string;
  /** From start() to the host's first offer. */
  offerTimeoutMs?: number;
  /** From an offer to the channel being open (the host's own limit, 5 s after our answer, comes first). */
  attemptMs?: number;
  /** From a failed attempt to the host's fresh offer (or its word that it gave up). */
  retryWaitMs?: number;
  RTCPeerConnection?: typeof RTCPeerConnection;
}

export class PeerAnswerer extends Emitter<PeerAnswererEvents> {
  readonly hostId: string;
  /** Why it failed or closed. */
  reason: string | null = null;
  /** When start() ran, the (latest) offer came and the channel opened (performance.now()). */
  readonly times: { start: number; offer: number; open: number } = { start: 0, offer: 0, open: 0 };
  /** Offers answered, and why each attempt before the current one failed. */
  attempts = 0;
  readonly failures: string[] = [];
  #state: AnswererState = 'waiting';
  readonly #o: PeerAnswererOptions;
  #pc: RTCPeerConnection | null = null;
  #remoteSet = false;
  #early: { candidate: string; mid: string }[] = [];
  #off: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #started = false;

  constructor(options: PeerAnswererOptions) {
    super();
    this.#o = options;
    this.hostId = options.hostId;
  }

  get state(): AnswererState {
    return this.#state;
  }

  /** The selected route once open ("host", "srflx", "relay" on each side), for diagnostics. */
  async route(): Promise<string | null> {
    const stats = await this.#pc?.getStats().catch(() => null);
    if (!stats) return null;
    let pair: RTCIceCandidatePairStats | null = null;
    stats.forEach((r) => {
      if (r.type === 'candidate-pair' && (r as RTCIceCandidatePairStats).state === 'succeeded' && (r as RTCIceCandidatePairStats).nominated) pair = r as RTCIceCandidatePairStats;
    });
    if (!pair) return null;
    const p = pair as RTCIceCandidatePairStats;
    const type = (id: string) => (stats.get(id) as { candidateType?: string } | undefined)?.candidateType ?? '?';
    return `${type(p.localCandidateId)} ↔ ${type(p.remoteCandidateId)}`;
  }

  start(): this {
    if (this.#started || this.#state === 'closed') return this;
    this.#started = true;
    this.times.start = performance.now();
    const ms = this.#o.offerTimeoutMs ?? 30_000;
    this.#arm(ms, `no offer from the host within ${ms} ms`);
    this.#off = this.#o.conference.on('message', (m) => {
      if (m.type === 'p2p.signal' && m.from === this.hostId) void this.#onSignal(m.data);
    });
    for (const s of this.#o.conference.p2pSignals ?? []) if (s.from === this.hostId) void this.#onSignal(s.data);
    return this;
  }

  /** Close the PeerConnection (and with it the channel). Emits 'closed'. Safe to call twice. */
  close(reason = 'closed'): void {
    if (this.#state === 'closed') return;
    this.reason ??= reason;
    this.#teardown();
    this.#setState('closed');
    this.removeAllListeners();
  }

  async #onSignal(data: SignalData): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    try {
      if (data.kind === 'description' && data.type === 'offer') await this.#answer(data.sdp);
      else if (data.kind === 'candidate') await this.#candidate(data.candidate, data.mid);
      else if (data.kind === 'failed') this.#fail(`the host gave up: ${data.reason}`, false);
    } catch (err) {
      this.#fail(`cannot answer the host: ${(err as Error).message}`);
    }
  }

  async #answer(sdp: string): Promise<void> {
    if (this.#state === 'open') return; // the channel is up: the host does not offer again on it
    // A new offer is a new attempt: start over with a fresh connection.
    this.#pc?.close();
    this.#remoteSet = false;
    this.#early = [];
    this.attempts++;
    this.times.offer = performance.now();
    const ms = this.#o.attemptMs ?? 15_000;
    this.#arm(ms, `the direct channel did not open within ${ms} ms`, true);
    const PC = this.#o.RTCPeerConnection ?? RTCPeerConnection;
    const pc = new PC({ iceServers: this.#o.conference.snapshot.iceServers.map((s) => ({ ...s, urls: [...s.urls] })) });
    this.#pc = pc;
    this.#setState('answering');
    pc.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate && pc === this.#pc) {
        this.#signal({ kind: 'candidate', candidate: ev.candidate.candidate, mid: ev.candidate.sdpMid ?? '0' });
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.#pc) return;
      // 'closed' without our close() is not a browser's doing, but WebRTC stacks outside one (node-datachannel's
      // polyfill) report a failed connection that way once it has been torn down.
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        if (this.#state === 'open') this.close('the direct connection to the host failed');
        // Failed with ICE through means DTLS failed (e.g. a certificate that did not verify).
        else this.#attemptFailed(pc.iceConnectionState === 'failed' ? 'ICE failed' : 'the DTLS handshake failed');
      }
    };
    pc.ondatachannel = (ev) => {
      if (pc !== this.#pc || ev.channel.label !== SHARE_DATACHANNEL_LABEL) return;
      const ch = ev.channel;
      ch.binaryType = 'arraybuffer';
      const opened = () => {
        if (this.#state !== 'answering' || pc !== this.#pc) return;
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = null;
        this.times.open = performance.now();
        this.#setState('open');
      };
      ch.addEventListener('open', opened);
      ch.addEventListener('close', () => {
        if (pc === this.#pc && this.#state === 'open') this.close('the direct channel closed');
      });
      this.emit('channel', ch);
      if (ch.readyState === 'open') opened();
    };
    let answer: RTCSessionDescriptionInit;
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      if (pc !== this.#pc) return;
      this.#remoteSet = true;
      answer = await pc.createAnswer();
      if (pc !== this.#pc) return;
      await pc.setLocalDescription(answer);
    } catch (err) {
      if (pc !== this.#pc) return; // a newer offer replaced this one (and closed it)
      throw err;
    }
    if (pc !== this.#pc) return;
    this.#signal({ kind: 'description', type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
    for (const c of this.#early.splice(0)) await this.#candidate(c.candidate, c.mid);
  }

  async #candidate(candidate: string, mid: string): Promise<void> {
    const pc = this.#pc;
    if (!pc || !this.#remoteSet) {
      this.#early.push({ candidate, mid });
      return;
    }
    // libdatachannel writes the SDP attribute form ("a=candidate:…"); the browser wants "candidate:…".
    // One the browser refuses is skipped: the others may still connect, and the attempt has its limit.
    await pc.addIceCandidate({ candidate: candidate.replace(/^a=/, ''), sdpMid: mid }).catch(() => undefined);
  }

  #signal(data: SignalData): void {
    this.#o.conference.send({ type: 'p2p.signal', to: this.hostId, data });
  }

  /**
   * This attempt is over; the host, which sees it fail too (or its own 5 s limit after our answer
   * passes), offers once more or gives up. Wait for either, but not for ever.
   */
  #attemptFailed(reason: string): void {
    if (this.#state !== 'answering') return;
    this.failures.push(reason);
    const pc = this.#pc;
    this.#pc = null;
    pc?.close();
    this.#remoteSet = false;
    const ms = this.#o.retryWaitMs ?? 15_000;
    this.#arm(ms, `${reason}, and the host did not offer again within ${ms} ms`);
    this.#setState('retrying');
  }

  /** One timer at a time: the limit of the current state. */
  #arm(ms: number, reason: string, attempt = false): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (attempt) this.#attemptFailed(reason);
      else this.#fail(reason);
    }, ms);
  }

  #fail(reason: string, tellHost = true): void {
    if (this.#state === 'closed' || this.#state === 'failed' || this.#state === 'open') return;
    this.reason = reason;
    if (tellHost) this.#signal({ kind: 'failed', reason: reason.slice(0, 200) });
    this.#teardown();
    this.#setState('failed');
  }

  #teardown(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#off?.();
    this.#off = null;
    const pc = this.#pc;
    this.#pc = null;
    pc?.close();
  }

  #setState(state: AnswererState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }
}

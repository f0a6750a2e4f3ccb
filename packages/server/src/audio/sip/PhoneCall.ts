/**
 * A telephone leg of a conference: the SIP call (SipCall) and its media (RtpRelay), joined into the
 * mixer once the phone answers (joinMixer: the conference's AudioBridge room adds a plain-RTP
 * participant that sends to our relay and tells us where it listens).
 */
import { TypedEmitter } from '../../util/TypedEmitter.js';
import { RtpRelay } from './RtpRelay.js';
import { type SipCall, type SipCallOutcome } from './SipCall.js';
import type { SipUserAgent } from './SipUserAgent.js';
import { offerSdp, parseAnswer, type G711 } from './sdp.js';

export type PhoneCallState = 'calling' | 'ringing' | 'answered' | 'busy' | 'no-answer' | 'failed' | 'ended';

export interface PhoneCallOptions {
  ua: SipUserAgent;
  /** E.164, validated by the caller. */
  number: string;
  /** Adds the leg to the mix: Janus sends to `relay`; resolves with where Janus listens. */
  joinMixer: (codec: G711, payloadType: number, relay: { address: string; port: number }) => Promise<{ address: string; port: number }>;
  log?: { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
}

export type PhoneCallEvents = {
  state: [state: PhoneCallState, reason: string];
  dtmf: [digit: string];
};

const FINAL: Record<SipCallOutcome, PhoneCallState> = { hungup: 'ended', 'remote-hungup': 'ended', busy: 'busy', 'no-answer': 'no-answer', rejected: 'failed', failed: 'failed' };

export class PhoneCall extends TypedEmitter<PhoneCallEvents> {
  readonly #opts: PhoneCallOptions;
  #relay: RtpRelay | null = null;
  #call: SipCall | null = null;
  #state: PhoneCallState = 'calling';
  #hangupWanted = false;
  #closed = false;

  constructor(opts: PhoneCallOptions) {
    super();
    this.#opts = opts;
  }

  get state(): PhoneCallState {
    return this.#state;
  }

  get stats(): RtpRelay['stats'] | null {
    return this.#relay?.stats ?? null;
  }

  get ended(): boolean {
    return !['calling', 'ringing', 'answered'].includes(this.#state);
  }

  async start(): Promise<void> {
    try {
      const relay = new RtpRelay({ phoneBindAddress: await this.#opts.ua.mediaAddress() });
      this.#relay = relay;
      const { phonePort } = await relay.start();
      relay.on('dtmf', (digit, ms) => {
        this.#opts.log?.info({ digit, ms }, 'phone: DTMF received');
        this.emit('dtmf', digit);
      });
      const call = await this.#opts.ua.dial(this.#opts.number, (addr) => offerSdp(addr, phonePort, String(Date.now())));
      this.#call = call;
      call.on('ringing', () => this.#set('ringing', 'ringing'));
      call.on('answered', (sdp) => void this.#answered(sdp));
      call.on('ended', (outcome, reason) => this.#finish(FINAL[outcome], reason));
      if (this.#hangupWanted || this.#closed) call.hangup();
    } catch (err) {
      this.#finish('failed', `the call could not be placed: ${(err as Error).message}`);
    }
  }

  async #answered(sdp: string): Promise<void> {
    try {
      const media = parseAnswer(sdp);
      const relay = this.#relay!;
      relay.setPhone(media.address, media.port, media.payloadType, media.dtmfPayloadType);
      const janus = await this.#opts.joinMixer(media.codec, media.payloadType, relay.janusAddress);
      if (this.ended) return;
      relay.setJanus(janus.address, janus.port);
      this.#set('answered', `answered (${media.codec.toUpperCase()})`);
    } catch (err) {
      this.#call?.hangup();
      this.#finish('failed', `the call was answered but its audio could not be connected: ${(err as Error).message}`);
    }
  }

  hangup(): void {
    this.#hangupWanted = true;
    this.#call?.hangup();
  }

  #set(state: PhoneCallState, reason: string): void {
    if (this.ended || this.#state === state) return;
    this.#state = state;
    this.emit('state', state, reason);
  }

  #finish(state: PhoneCallState, reason: string): void {
    if (this.ended) return;
    this.#state = state;
    this.#relay?.close();
    this.emit('state', state, reason);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#call?.close();
    this.#finish('ended', 'hung up');
    this.#relay?.close();
    this.removeAllListeners();
  }
}

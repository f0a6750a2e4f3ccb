/**
 * One outgoing telephone call (a UAC INVITE dialog) through the trunk: INVITE with our SDP offer,
 * 1xx → ringing, 2xx → ACK and answered, 401/407 → one retry with digest credentials, 486/600 →
 * busy, no final answer within the no-answer time → CANCEL, BYE from either side. It reports
 * states; media is the caller's business (RtpRelay). An incoming INVITE would be its own class
 * using the same transport and the same `SipCallState`s (see SipUserAgent).
 */
import sip, { type SipMessage } from 'sip';
import digest from 'sip/digest.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import { SipTransport } from './SipTransport.js';

export type SipCallState = 'calling' | 'ringing' | 'answered' | 'ended';
/** How a call ended, as the roster says it. */
export type SipCallOutcome = 'hungup' | 'remote-hungup' | 'busy' | 'no-answer' | 'rejected' | 'failed';

export interface SipCallOptions {
  transport: SipTransport;
  /** Request-URI: the number at the trunk, e.g. sip:+441234567890@trunk:5060. */
  uri: string;
  /** From: our identity at the trunk. */
  from: string;
  credentials?: { user: string; password: string } | undefined;
  sdpOffer: string;
  /** Ringing longer than this (no final answer) is cancelled as no-answer. */
  noAnswerMs: number;
  log?: { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
}

export type SipCallEvents = {
  ringing: [];
  answered: [remoteSdp: string];
  ended: [outcome: SipCallOutcome, reason: string];
};

export class SipCall extends TypedEmitter<SipCallEvents> {
  readonly callId = SipTransport.token(12);
  readonly #opts: SipCallOptions;
  readonly #fromTag = SipTransport.token(6);
  #state: SipCallState = 'calling';
  #cseq = 1;
  #invite: SipMessage | null = null;
  #provisional = false;
  #cancelWanted: SipCallOutcome | null = null;
  #authTried = false;
  /** The dialog once answered: the phone's tag, target and route set. */
  #to: { uri: string; params: Record<string, string> } | null = null;
  #target = '';
  #route: unknown[] | undefined;
  #ack: SipMessage | null = null;
  #noAnswer: NodeJS.Timeout | null = null;
  #unlisten: (() => void) | null = null;

  constructor(opts: SipCallOptions) {
    super();
    this.#opts = opts;
  }

  get state(): SipCallState {
    return this.#state;
  }

  start(): void {
    this.#unlisten = this.#opts.transport.onLate2xx((rs) => {
      if (rs.headers['call-id'] !== this.callId) return false;
      if (this.#ack) this.#opts.transport.send(this.#ack); // our ACK was lost
      else if (this.#state === 'ended') {
        // Answered after we gave up on an INVITE that never got a provisional: end that call too.
        this.#to = rs.headers.to;
        this.#target = rs.headers.contact?.[0]?.uri ?? this.#opts.uri;
        this.#ack = this.#inDialog('ACK', this.#invite!.headers.cseq.seq);
        this.#opts.transport.send(this.#ack);
        this.#cseq++;
        this.#opts.transport.request(this.#inDialog('BYE', this.#cseq), () => {});
      }
      return true;
    });
    this.#noAnswer = setTimeout(() => this.#cancel('no-answer'), this.#opts.noAnswerMs);
    this.#sendInvite(null);
  }

  /** We hang up: CANCEL before the answer, BYE after it. */
  hangup(): void {
    if (this.#state === 'ended') return;
    if (this.#state === 'answered') return this.#bye();
    this.#cancel('hungup');
  }

  /** A request inside this dialog (routed by Call-ID): BYE from the phone. */
  handleRequest(rq: SipMessage, reply: (rs: SipMessage) => void): void {
    if (rq.method === 'BYE') {
      reply(sip.makeResponse(rq, 200, 'OK'));
      if (this.#state !== 'ended') this.#end('remote-hungup', 'the phone hung up');
      return;
    }
    if (rq.method === 'INFO' || rq.method === 'OPTIONS' || rq.method === 'UPDATE') return reply(sip.makeResponse(rq, 200, 'OK'));
    if (rq.method === 'INVITE') return reply(sip.makeResponse(rq, 488, 'Not Acceptable Here')); // no re-INVITE support
    reply(sip.makeResponse(rq, 405, 'Method Not Allowed'));
  }

  #sendInvite(challenge: SipMessage | null): void {
    const rq: SipMessage = {
      method: 'INVITE',
      uri: this.#opts.uri,
      version: '2.0',
      headers: {
        via: [this.#opts.transport.via()],
        from: { uri: this.#opts.from, params: { tag: this.#fromTag } },
        to: { uri: this.#opts.uri, params: {} },
        'call-id': this.callId,
        cseq: { seq: this.#cseq, method: 'INVITE' },
        contact: [{ uri: this.#contact(), params: {} }],
        'max-forwards': 70,
        'user-agent': 'Baton',
        allow: 'INVITE, ACK, CANCEL, BYE, OPTIONS',
        'content-type': 'application/sdp',
      },
      content: this.#opts.sdpOffer,
    };
    if (challenge && this.#opts.credentials) digest.signRequest({}, rq, challenge, this.#opts.credentials);
    this.#invite = rq;
    this.#provisional = false;
    this.#opts.transport.request(rq, (rs) => this.#onInviteResponse(rq, rs));
  }

  #contact(): string {
    const l = this.#opts.transport.local;
    return `sip:baton@${l.address}:${l.port}`;
  }

  #onInviteResponse(rq: SipMessage, rs: SipMessage): void {
    if (rq !== this.#invite) return;
    const status = rs.status!;
    if (status < 200) {
      if (status === 100) {
        this.#provisional = true;
      } else {
        this.#provisional = true;
        if (this.#state === 'calling') {
          this.#state = 'ringing';
          this.emit('ringing');
        }
      }
      if (this.#cancelWanted) this.#sendCancel();
      return;
    }
    if (status < 300) return this.#answered(rs);
    if ((status === 401 || status === 407) && this.#opts.credentials && !this.#authTried && this.#state !== 'ended' && !this.#cancelWanted) {
      this.#authTried = true;
      this.#cseq++;
      return this.#sendInvite(rs);
    }
    if (this.#state === 'ended') return;
    const reason = `${status} ${rs.reason ?? ''}`.trim();
    if (this.#cancelWanted && (status === 487 || status === 408 || status === 503)) return this.#end(this.#cancelWanted, this.#cancelWanted === 'no-answer' ? 'no answer' : 'hung up before the answer');
    if (status === 486 || status === 600) return this.#end('busy', `busy (${reason})`);
    if (status === 401 || status === 407) return this.#end('failed', `the trunk refused our credentials (${reason})`);
    if (status === 480 || status === 408) return this.#end('no-answer', `no answer (${reason})`);
    if (status === 603 || status === 403 || status === 404 || status === 484 || status === 410) return this.#end('rejected', `the call was refused (${reason})`);
    this.#end('failed', `the call failed (${reason})`);
  }

  #answered(rs: SipMessage): void {
    this.#to = rs.headers.to;
    this.#target = rs.headers.contact?.[0]?.uri ?? this.#opts.uri;
    const rr = rs.headers['record-route'];
    this.#route = Array.isArray(rr) && rr.length ? [...rr].reverse() : undefined;
    this.#ack = this.#inDialog('ACK', this.#invite!.headers.cseq.seq);
    this.#opts.transport.send(this.#ack);
    if (this.#state === 'ended' || this.#cancelWanted) {
      // Answered while we were hanging up: the call exists now, so end it properly.
      const outcome = this.#cancelWanted ?? 'hungup';
      this.#state = 'answered';
      this.#bye();
      this.#end(outcome, outcome === 'no-answer' ? 'no answer' : 'hung up');
      return;
    }
    this.#state = 'answered';
    if (this.#noAnswer) clearTimeout(this.#noAnswer);
    this.emit('answered', rs.content ?? '');
  }

  #inDialog(method: string, seq: number): SipMessage {
    return {
      method,
      uri: this.#target,
      version: '2.0',
      headers: {
        via: [this.#opts.transport.via()],
        from: { uri: this.#opts.from, params: { tag: this.#fromTag } },
        to: this.#to,
        'call-id': this.callId,
        cseq: { seq, method },
        'max-forwards': 70,
        ...(this.#route ? { route: this.#route } : {}),
        'content-length': 0,
      },
    };
  }

  #cancel(outcome: SipCallOutcome): void {
    if (this.#state === 'ended' || this.#state === 'answered' || this.#cancelWanted) return;
    this.#cancelWanted = outcome;
    // RFC 3261 9.1: CANCEL only once the INVITE got a provisional answer; before that we wait for one,
    // but not forever: a trunk that said nothing at all gets its INVITE abandoned.
    if (this.#provisional) this.#sendCancel();
    else {
      this.#opts.transport.abandon(this.#invite!);
      this.#end(outcome, outcome === 'no-answer' ? 'no answer (the trunk never responded)' : 'hung up before the answer');
    }
  }

  #sendCancel(): void {
    const inv = this.#invite!;
    const cancel: SipMessage = {
      method: 'CANCEL',
      uri: inv.uri,
      version: '2.0',
      headers: { via: [inv.headers.via[0]], from: inv.headers.from, to: inv.headers.to, 'call-id': this.callId, cseq: { seq: inv.headers.cseq.seq, method: 'CANCEL' }, 'max-forwards': 70, ...(inv.headers.route ? { route: inv.headers.route } : {}), 'content-length': 0 },
    };
    this.#opts.transport.request(cancel, () => {});
    // The INVITE's 487 ends the call; if it never comes, end anyway.
    setTimeout(() => {
      if (this.#state !== 'ended' && this.#state !== 'answered') {
        this.#opts.transport.abandon(inv);
        this.#end(this.#cancelWanted!, this.#cancelWanted === 'no-answer' ? 'no answer' : 'hung up before the answer');
      }
    }, 4000).unref();
  }

  #bye(): void {
    this.#cseq++;
    this.#opts.transport.request(this.#inDialog('BYE', this.#cseq), () => {});
    if (this.#state !== 'ended') this.#end('hungup', 'hung up');
  }

  #end(outcome: SipCallOutcome, reason: string): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    if (this.#noAnswer) clearTimeout(this.#noAnswer);
    // Keep hearing late 2xx retransmissions for a while (timer M), then forget the dialog.
    const unlisten = this.#unlisten;
    setTimeout(() => unlisten?.(), 32_000).unref();
    this.#opts.log?.info({ callId: this.callId, outcome, reason }, 'sip call ended');
    this.emit('ended', outcome, reason);
  }

  /** Ends the call (BYE or CANCEL if needed) and forgets it. Idempotent. */
  close(): void {
    this.hangup();
    this.removeAllListeners();
  }
}

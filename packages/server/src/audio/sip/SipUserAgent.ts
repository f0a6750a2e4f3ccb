/**
 * Baton's SIP side: one user agent talking to one trunk (`--sip-trunk`). It places calls
 * (`dial()` → SipCall), routes requests inside a call's dialog to it by Call-ID, and answers
 * anything else. Dial-in would start here: an INVITE outside any dialog is where a conference
 * number would be looked up; today it is refused with 480 so the caller hears a clear failure.
 */
import sip, { type SipMessage } from 'sip';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import { SipCall } from './SipCall.js';
import { SipTransport } from './SipTransport.js';

export interface SipUserAgentOptions {
  /** sip:host:port of the trunk. */
  trunk: string;
  username?: string | undefined;
  password?: string | undefined;
  /** From URI; default sip:<username|baton>@<trunk host>. */
  from?: string | undefined;
  /** How an E.164 number is dialled: `{number}` is its digits without '+'. Default `+{number}`. */
  numberFormat?: string | undefined;
  /** Local address for SIP and RTP (what goes in Via, Contact and SDP); 0.0.0.0: the one that routes to the trunk. */
  bindAddress: string;
  bindPort?: number | undefined;
  noAnswerMs?: number | undefined;
  transactionTimeoutMs?: number | undefined;
  log?: { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void; debug?(obj: unknown, msg?: string): void };
}

export type SipUserAgentEvents = {
  /** The trunk refused our packets (nothing listening): calls in progress failed. */
  unreachable: [reason: string];
};

export class SipUserAgent extends TypedEmitter<SipUserAgentEvents> {
  readonly #opts: SipUserAgentOptions;
  readonly #trunk: { host: string; port: number };
  #transport: SipTransport | null = null;
  #starting: Promise<SipTransport> | null = null;
  readonly #calls = new Map<string, SipCall>();
  #closed = false;

  constructor(opts: SipUserAgentOptions) {
    super();
    this.#opts = opts;
    const u = sip.parseUri(opts.trunk);
    if (!u || !u.host) throw new Error(`--sip-trunk: not a SIP URI: ${opts.trunk}`);
    this.#trunk = { host: u.host, port: u.port ?? 5060 };
  }

  /** The local address the trunk sees (bound, or chosen by the route to the trunk): our SDP's media address. */
  async mediaAddress(): Promise<string> {
    return (await this.#ensureTransport()).local.address;
  }

  /** The Request-URI for an E.164 number (+ and digits). */
  uriFor(e164: string): string {
    const digits = e164.replace(/^\+/, '');
    const user = (this.#opts.numberFormat ?? '+{number}').replace('{number}', digits);
    return `sip:${user}@${this.#trunk.host}:${this.#trunk.port}`;
  }

  async #ensureTransport(): Promise<SipTransport> {
    if (this.#transport) return this.#transport;
    this.#starting ??= (async () => {
      const t = new SipTransport({ host: this.#trunk.host, port: this.#trunk.port, bindAddress: this.#opts.bindAddress, bindPort: this.#opts.bindPort, transactionTimeoutMs: this.#opts.transactionTimeoutMs, log: this.#opts.log });
      await t.start();
      t.on('request', (rq, reply) => this.#onRequest(rq, reply));
      t.on('ack', () => {});
      t.on('unreachable', (reason) => this.emit('unreachable', reason));
      if (this.#closed) t.close();
      this.#transport = t;
      this.#opts.log?.info({ local: t.local, trunk: t.remote }, 'sip: talking to the trunk');
      return t;
    })();
    try {
      return await this.#starting;
    } finally {
      this.#starting = null;
    }
  }

  /** Places a call to an E.164 number offering this SDP; call.start() is already done. */
  async dial(e164: string, makeOffer: (localAddress: string) => string): Promise<SipCall> {
    if (this.#closed) throw new Error('SIP is shut down');
    const transport = await this.#ensureTransport();
    const hasCreds = this.#opts.username !== undefined && this.#opts.password !== undefined;
    const call = new SipCall({
      transport,
      uri: this.uriFor(e164),
      from: this.#opts.from ?? `sip:${this.#opts.username ?? 'baton'}@${this.#trunk.host}`,
      credentials: hasCreds ? { user: this.#opts.username!, password: this.#opts.password! } : undefined,
      sdpOffer: makeOffer(transport.local.address),
      noAnswerMs: this.#opts.noAnswerMs ?? 45_000,
      log: this.#opts.log,
    });
    this.#calls.set(call.callId, call);
    call.on('ended', () => setTimeout(() => this.#calls.delete(call.callId), 32_000).unref());
    call.start();
    return call;
  }

  #onRequest(rq: SipMessage, reply: (rs: SipMessage) => void): void {
    const call = this.#calls.get(rq.headers['call-id']);
    if (call) return call.handleRequest(rq, reply);
    if (rq.method === 'OPTIONS') return reply(sip.makeResponse(rq, 200, 'OK'));
    if (rq.method === 'INVITE') return reply(sip.makeResponse(rq, 480, 'Dial-in Not Configured'));
    reply(sip.makeResponse(rq, 481, 'Call/Transaction Does Not Exist'));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#calls.values()) c.close();
    this.#calls.clear();
    // Let the BYEs and CANCELs leave before the socket goes.
    const t = this.#transport;
    this.#transport = null;
    if (t) setTimeout(() => t.close(), 200).unref();
    this.removeAllListeners();
  }
}

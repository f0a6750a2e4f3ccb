/**
 * SIP over UDP to one trunk: a socket connected to the trunk's address (so an ICMP "port
 * unreachable" surfaces as an error: a trunk that is down is known at once, not after 32 s), the
 * client transactions with RFC 3261's retransmission timers (A/B for INVITE, E/F for the rest), and
 * requests from the trunk handed up as `request` events with a reply function that also answers
 * their retransmissions. Messages are parsed and printed by the `sip` package; nothing else of it
 * is used (its own transport binds fixed ports and has no error handling).
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import sip, { type SipMessage } from 'sip';
import { TypedEmitter } from '../../util/TypedEmitter.js';

export interface SipTransportOptions {
  /** The trunk: host (name or address) and port. */
  host: string;
  port: number;
  /** Local address to bind (and to put in Via/Contact); port 0 picks a free one. */
  bindAddress: string;
  bindPort?: number;
  /** Timer B/F: how long a request may go unanswered (RFC 3261: 64 × T1 = 32 s). */
  transactionTimeoutMs?: number;
  log?: { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void; debug?(obj: unknown, msg?: string): void };
}

export type SipTransportEvents = {
  /** A request from the trunk (not ACK, not a retransmission). Call reply() once with a response. */
  request: [request: SipMessage, reply: (response: SipMessage) => void];
  /** An ACK from the trunk (for a response we sent); dialogs route it by Call-ID. */
  ack: [request: SipMessage];
  /** The trunk's address refused our packets (ICMP port unreachable) or the socket failed. */
  unreachable: [reason: string];
};

/** What a client transaction reports: every response, or a local failure as a status-only response. */
export type ResponseHandler = (response: SipMessage) => void;

interface ClientTransaction {
  request: SipMessage;
  onResponse: ResponseHandler;
  final: boolean;
  retransmit: NodeJS.Timeout | null;
  timeout: NodeJS.Timeout | null;
  /** The ACK sent for a non-2xx final response to an INVITE, resent if the response is. */
  ack: SipMessage | null;
}

const T1 = 500;
const T2 = 4000;

export class SipTransport extends TypedEmitter<SipTransportEvents> {
  readonly #opts: SipTransportOptions;
  #socket: dgram.Socket | null = null;
  #local = { address: '', port: 0 };
  #remote = { address: '', port: 0 };
  readonly #clients = new Map<string, ClientTransaction>();
  /** Responses we sent, by branch, so a retransmitted request gets the same answer. */
  readonly #served = new Map<string, { response: SipMessage | null; expires: number }>();
  #closed = false;

  constructor(opts: SipTransportOptions) {
    super();
    this.#opts = opts;
  }

  get local(): { address: string; port: number } {
    return { ...this.#local };
  }

  get remote(): { address: string; port: number } {
    return { ...this.#remote };
  }

  async start(): Promise<void> {
    const { address } = await lookup(this.#opts.host, { family: 4 });
    this.#remote = { address, port: this.#opts.port };
    const socket = dgram.createSocket('udp4');
    socket.on('message', (buf) => this.#onMessage(buf));
    socket.on('error', (err: NodeJS.ErrnoException) => this.#onError(err));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#opts.bindPort ?? 0, this.#opts.bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    await new Promise<void>((resolve) => socket.connect(this.#remote.port, this.#remote.address, resolve));
    this.#socket = socket;
    // Bound to 0.0.0.0, a connected socket still names the source address the route to the trunk uses.
    const a = socket.address();
    this.#local = { address: a.address, port: a.port };
  }

  /** A fresh branch, Call-ID or tag. */
  static token(bytes = 8): string {
    return randomBytes(bytes).toString('hex');
  }

  /** Via for a new request from us. */
  via(branch = `z9hG4bK${SipTransport.token()}`): object {
    return { version: '2.0', protocol: 'UDP', host: this.#local.address, port: this.#local.port, params: { branch, rport: null } };
  }

  /** Sends a request as a client transaction; onResponse gets every response (408 on timeout, 503 when unreachable). */
  request(request: SipMessage, onResponse: ResponseHandler): void {
    const branch = request.headers.via[0].params.branch as string;
    const method = request.method!;
    const key = `${branch}/${method}`;
    const tx: ClientTransaction = { request, onResponse, final: false, retransmit: null, timeout: null, ack: null };
    this.#clients.set(key, tx);
    this.#send(request);
    let interval = T1;
    const resend = () => {
      if (tx.final) return;
      this.#send(request);
      interval = method === 'INVITE' ? interval * 2 : Math.min(interval * 2, T2);
      tx.retransmit = setTimeout(resend, interval);
    };
    tx.retransmit = setTimeout(resend, interval);
    tx.timeout = setTimeout(() => {
      if (!tx.final) this.#fail(key, 408, 'Request Timeout (no answer from the trunk)');
    }, this.#opts.transactionTimeoutMs ?? 64 * T1);
  }

  /** Sends a message outside any client transaction (ACK for a 2xx, a stateless reply). */
  send(message: SipMessage): void {
    this.#send(message);
  }

  #send(message: SipMessage): void {
    if (!this.#socket || this.#closed) return;
    const text = sip.stringify(message);
    this.#opts.log?.debug?.({ sip: text.split('\r\n')[0] }, 'sip send');
    this.#socket.send(Buffer.from(text, 'utf8'), (err) => {
      if (err) this.#onError(err as NodeJS.ErrnoException);
    });
  }

  #onMessage(buf: Buffer): void {
    let msg: SipMessage | undefined;
    try {
      msg = sip.parse(buf.toString('utf8'));
    } catch {
      msg = undefined;
    }
    if (!msg || !msg.headers?.via?.[0] || !msg.headers.cseq) {
      this.#opts.log?.debug?.({ bytes: buf.length }, 'sip: unparseable datagram dropped');
      return;
    }
    this.#opts.log?.debug?.({ sip: msg.method ?? `${msg.status} ${msg.reason}` }, 'sip recv');
    if (msg.status !== undefined) return this.#onResponse(msg);
    this.#onRequest(msg);
  }

  #onResponse(rs: SipMessage): void {
    const key = `${rs.headers.via[0].params.branch}/${rs.headers.cseq.method}`;
    const tx = this.#clients.get(key);
    if (!tx) {
      // A 2xx to INVITE is retransmitted until ACKed, after its transaction ended: the dialog acks it.
      if (rs.headers.cseq.method === 'INVITE' && rs.status! >= 200 && rs.status! < 300) this.#late2xx(rs);
      return;
    }
    const status = rs.status!;
    if (tx.final) {
      if (tx.ack) this.#send(tx.ack); // the trunk did not hear our ACK
      return;
    }
    if (status < 200) {
      // A provisional answer stops INVITE retransmissions (timer A), not the request's lifetime.
      if (tx.request.method === 'INVITE' && tx.retransmit) {
        clearTimeout(tx.retransmit);
        tx.retransmit = null;
        if (tx.timeout) clearTimeout(tx.timeout); // from here the call's own no-answer timer rules
        tx.timeout = null;
      }
      tx.onResponse(rs);
      return;
    }
    tx.final = true;
    this.#clear(tx);
    if (tx.request.method === 'INVITE' && status >= 300) {
      tx.ack = this.#ackFor(tx.request, rs);
      this.#send(tx.ack);
    }
    // Keep the transaction a while to absorb retransmissions of the final response.
    setTimeout(() => this.#clients.delete(key), 64 * T1).unref();
    tx.onResponse(rs);
  }

  readonly #late2xxHandlers = new Set<(rs: SipMessage) => boolean>();

  /** A dialog listens for retransmitted 2xx of its INVITE (returns true when it was theirs). */
  onLate2xx(handler: (rs: SipMessage) => boolean): () => void {
    this.#late2xxHandlers.add(handler);
    return () => this.#late2xxHandlers.delete(handler);
  }

  #late2xx(rs: SipMessage): void {
    for (const h of this.#late2xxHandlers) if (h(rs)) return;
  }

  #ackFor(rq: SipMessage, rs: SipMessage): SipMessage {
    return {
      method: 'ACK',
      uri: rq.uri,
      version: '2.0',
      headers: {
        via: [rq.headers.via[0]],
        from: rq.headers.from,
        to: rs.headers.to,
        'call-id': rq.headers['call-id'],
        cseq: { seq: rq.headers.cseq.seq, method: 'ACK' },
        'max-forwards': 70,
        ...(rq.headers.route ? { route: rq.headers.route } : {}),
        'content-length': 0,
      },
    };
  }

  #onRequest(rq: SipMessage): void {
    if (rq.method === 'ACK') {
      this.emit('ack', rq);
      return;
    }
    const branch = `${rq.headers.via[0].params.branch}/${rq.method}`;
    const seen = this.#served.get(branch);
    if (seen) {
      if (seen.response) this.#send(seen.response);
      return;
    }
    const entry: { response: SipMessage | null; expires: number } = { response: null, expires: Date.now() + 64 * T1 };
    this.#served.set(branch, entry);
    this.#prune();
    let replied = false;
    const reply = (response: SipMessage) => {
      if (replied && response.status! >= 200) return;
      if (response.status! >= 200) replied = true;
      entry.response = response;
      this.#send(response);
    };
    if (!this.emit('request', rq, reply)) reply(sip.makeResponse(rq, 501, 'Not Implemented'));
  }

  #prune(): void {
    const now = Date.now();
    for (const [k, v] of this.#served) if (v.expires < now) this.#served.delete(k);
  }

  #onError(err: NodeJS.ErrnoException): void {
    if (this.#closed) return;
    const reason = err.code === 'ECONNREFUSED' ? `the SIP trunk ${this.#remote.address}:${this.#remote.port} refused the connection (nothing listening)` : `SIP socket error: ${err.code ?? err.message}`;
    this.#opts.log?.warn({ err: err.code ?? err.message }, 'sip: trunk unreachable');
    // Every open request fails now: the trunk cannot be answering them.
    for (const key of [...this.#clients.keys()]) {
      const tx = this.#clients.get(key)!;
      if (!tx.final) this.#fail(key, 503, reason);
    }
    this.emit('unreachable', reason);
  }

  #fail(key: string, status: number, reason: string): void {
    const tx = this.#clients.get(key);
    if (!tx || tx.final) return;
    tx.final = true;
    this.#clear(tx);
    this.#clients.delete(key);
    tx.onResponse(sip.makeResponse(tx.request, status, reason));
  }

  #clear(tx: ClientTransaction): void {
    if (tx.retransmit) clearTimeout(tx.retransmit);
    if (tx.timeout) clearTimeout(tx.timeout);
    tx.retransmit = tx.timeout = null;
  }

  /** Stop waiting on a request (its dialog is gone); no response will be reported. */
  abandon(request: SipMessage): void {
    const key = `${request.headers.via[0].params.branch}/${request.method}`;
    const tx = this.#clients.get(key);
    if (!tx) return;
    tx.final = true;
    this.#clear(tx);
    this.#clients.delete(key);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tx of this.#clients.values()) this.#clear(tx);
    this.#clients.clear();
    this.#socket?.close();
    this.#socket = null;
    this.removeAllListeners();
  }
}

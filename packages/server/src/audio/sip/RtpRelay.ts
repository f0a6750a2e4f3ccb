/**
 * Carries a telephone leg's RTP between the phone (or the trunk's media gateway) and the Janus
 * AudioBridge plain-RTP participant: two UDP sockets, the phone side on the media address we put in
 * our SDP, the Janus side on loopback. Only the negotiated G.711 payload goes to the mixer; RFC 4733
 * telephone-events are decoded and reported (`dtmf`), never mixed. docs/decisions/0003-sip-rtp-relay.md
 * says why Node relays rather than Janus sending to the phone directly.
 */
import dgram from 'node:dgram';
import { TypedEmitter } from '../../util/TypedEmitter.js';

export interface RtpRelayOptions {
  /** Where the phone sends to (the address in our SDP). */
  phoneBindAddress: string;
  /** Where Janus sends to (loopback when Janus runs on this machine). */
  janusBindAddress?: string;
}

export type RtpRelayEvents = {
  /** A DTMF digit ended (RFC 4733 end bit), with its duration in ms. */
  dtmf: [digit: string, durationMs: number];
  /** First packet from the phone: media flows. */
  media: [];
};

const DTMF_DIGITS = '0123456789*#ABCD';

export class RtpRelay extends TypedEmitter<RtpRelayEvents> {
  readonly #opts: RtpRelayOptions;
  #phoneSock: dgram.Socket | null = null;
  #janusSock: dgram.Socket | null = null;
  #phone: { address: string; port: number } | null = null;
  #payloadType = 0;
  #dtmfPt: number | null = null;
  #janus: { address: string; port: number } | null = null;
  #lastDtmfTs = -1;
  #closed = false;
  readonly stats = { fromPhone: 0, toPhone: 0, dtmf: 0, dropped: 0 };

  constructor(opts: RtpRelayOptions) {
    super();
    this.#opts = opts;
  }

  /** Binds both sockets; returns the phone-side and Janus-side ports. */
  async start(): Promise<{ phonePort: number; janusPort: number }> {
    this.#phoneSock = await bind(this.#opts.phoneBindAddress);
    this.#janusSock = await bind(this.#opts.janusBindAddress ?? '127.0.0.1');
    this.#phoneSock.on('message', (m, r) => this.#fromPhone(m, r));
    this.#janusSock.on('message', (m) => this.#fromJanus(m));
    return { phonePort: this.#phoneSock.address().port, janusPort: this.#janusSock.address().port };
  }

  get janusAddress(): { address: string; port: number } {
    const a = this.#janusSock!.address();
    return { address: a.address, port: a.port };
  }

  /** The phone's answer: where to send, and which payload types it uses. */
  setPhone(address: string, port: number, payloadType: number, dtmfPayloadType: number | null): void {
    this.#phone = { address, port };
    this.#payloadType = payloadType;
    this.#dtmfPt = dtmfPayloadType;
  }

  /** Janus's plain-RTP port for this leg. */
  setJanus(address: string, port: number): void {
    this.#janus = { address, port };
  }

  #fromPhone(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
    // Symmetric RTP: once the phone's address is known, follow the port it really sends from
    // (NAT), but only on the address its SDP named.
    if (this.#phone && rinfo.address === this.#phone.address && rinfo.port !== this.#phone.port) this.#phone = { address: rinfo.address, port: rinfo.port };
    if (this.stats.fromPhone++ === 0) this.emit('media');
    const pt = msg[1]! & 0x7f;
    if (pt === this.#dtmfPt) return this.#dtmf(msg);
    if (pt !== this.#payloadType || !this.#janus) {
      this.stats.dropped++;
      return;
    }
    this.#janusSock?.send(msg, this.#janus.port, this.#janus.address);
  }

  #fromJanus(msg: Buffer): void {
    if (!this.#phone) return;
    this.stats.toPhone++;
    this.#phoneSock?.send(msg, this.#phone.port, this.#phone.address);
  }

  #dtmf(msg: Buffer): void {
    const cc = msg[0]! & 0x0f;
    const off = 12 + cc * 4;
    if (msg.length < off + 4) return;
    const event = msg[off]!;
    const end = (msg[off + 1]! & 0x80) !== 0;
    const duration = msg.readUInt16BE(off + 2);
    const ts = msg.readUInt32BE(4);
    // The end packet is sent three times with the same timestamp: report it once.
    if (!end || ts === this.#lastDtmfTs) return;
    this.#lastDtmfTs = ts;
    this.stats.dtmf++;
    this.emit('dtmf', DTMF_DIGITS[event] ?? `event ${event}`, Math.round(duration / 8));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#phoneSock?.close();
    this.#janusSock?.close();
    this.#phoneSock = this.#janusSock = null;
    this.removeAllListeners();
  }
}

function bind(address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, address, () => {
      s.off('error', reject);
      s.on('error', () => {}); // a phone that went away (ICMP) is not an error of ours
      resolve(s);
    });
  });
}

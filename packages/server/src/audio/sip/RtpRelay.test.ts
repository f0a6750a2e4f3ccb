/**
 * RtpRelay on real UDP sockets: only the negotiated payload reaches the mixer, the mix reaches the
 * phone (following the port the phone really sends from), and RFC 4733 telephone-events are decoded
 * once per digit (the end packet comes three times) and never mixed.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpRelay } from './RtpRelay.js';

const bind = () => new Promise<dgram.Socket>((r) => { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); });
const socks: dgram.Socket[] = [];
const relays: RtpRelay[] = [];
afterEach(() => {
  socks.splice(0).forEach((s) => s.close());
  relays.splice(0).forEach((r) => r.close());
});

function rtp(pt: number, seq: number, ts: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(ts, 4);
  h.writeUInt32BE(0xabcdef, 8);
  return Buffer.concat([h, payload]);
}
const dtmf = (event: number, end: boolean, duration: number) => Buffer.from([event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
const nextMessage = (s: dgram.Socket) => new Promise<{ msg: Buffer; port: number }>((r) => s.once('message', (msg, rinfo) => r({ msg, port: rinfo.port })));

describe('RtpRelay', () => {
  it('relays G.711 both ways, drops other payloads, decodes DTMF once per digit', async () => {
    const phone = await bind();
    const mixer = await bind();
    socks.push(phone, mixer);
    const relay = new RtpRelay({ phoneBindAddress: '127.0.0.1' });
    relays.push(relay);
    const { phonePort, janusPort } = await relay.start();
    relay.setPhone('127.0.0.1', phone.address().port, 0, 101);
    relay.setJanus('127.0.0.1', mixer.address().port);
    const digits: string[] = [];
    relay.on('dtmf', (d, ms) => digits.push(`${d}/${ms}`));
    const atMixer: Buffer[] = [];
    mixer.on('message', (m) => atMixer.push(m));

    // Phone → mixer: PCMU passes; PT 8 (not negotiated) and DTMF do not.
    const voice = rtp(0, 1, 160, Buffer.alloc(160, 0x55));
    const got = nextMessage(mixer);
    phone.send(voice, phonePort, '127.0.0.1');
    expect((await got).msg.equals(voice)).toBe(true);
    for (let i = 0; i < 3; i++) phone.send(rtp(101, 2 + i, 320, dtmf(5, false, 160 * (i + 1))), phonePort, '127.0.0.1');
    for (let i = 0; i < 3; i++) phone.send(rtp(101, 5 + i, 320, dtmf(5, true, 800)), phonePort, '127.0.0.1'); // end, three times
    phone.send(rtp(101, 8, 2000, dtmf(11, true, 400)), phonePort, '127.0.0.1'); // '#'
    phone.send(rtp(8, 9, 2160, Buffer.alloc(160, 0xd5)), phonePort, '127.0.0.1');
    const marker = rtp(0, 10, 2320, Buffer.alloc(160, 0x11));
    const last = nextMessage(mixer);
    phone.send(marker, phonePort, '127.0.0.1');
    await last;
    expect(atMixer.map((m) => m[1]! & 0x7f)).toEqual([0, 0]);
    expect(digits).toEqual(['5/100', '#/50']);
    expect(relay.stats.dtmf).toBe(2);
    expect(relay.stats.dropped).toBe(1);

    // Mixer → phone; and a phone that sends from another port (NAT) is followed there.
    const mix = rtp(0, 1, 160, Buffer.alloc(160, 0x22));
    const toPhone = nextMessage(phone);
    mixer.send(mix, janusPort, '127.0.0.1');
    expect((await toPhone).msg.equals(mix)).toBe(true);
    const moved = await bind();
    socks.push(moved);
    const seen = nextMessage(mixer);
    moved.send(rtp(0, 11, 2480, Buffer.alloc(160, 0x33)), phonePort, '127.0.0.1');
    await seen;
    const toMoved = nextMessage(moved);
    mixer.send(mix, janusPort, '127.0.0.1');
    expect((await toMoved).msg.equals(mix)).toBe(true);
  });
});

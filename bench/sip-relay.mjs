#!/usr/bin/env node
// What the Node RTP relay of a telephone leg costs (docs/decisions/0003-sip-dial-out.md): N legs of
// G.711 at 50 packets a second each way go through RtpRelay instances (phone socket ⇄ relay ⇄ mixer
// socket, all on loopback), against the same traffic sent directly. Reports the added one-way delay
// per packet (median, p99) and the relay's CPU per leg.
// Usage: node bench/sip-relay.mjs [--legs 1,10,50] [--seconds 5]   (needs npm run build)
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { RtpRelay } from '../packages/server/dist/audio/sip/RtpRelay.js';

const { values: opt } = parseArgs({ options: { legs: { type: 'string', default: '1,10,50' }, seconds: { type: 'string', default: '5' } } });
const seconds = Number(opt.seconds);
const bind = () => new Promise((r) => { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); });
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

async function run(legs, relayed) {
  const delays = [];
  const pairs = [];
  for (let i = 0; i < legs; i++) {
    const phone = await bind();
    const mixer = await bind();
    let toMixer, toPhone, relay = null;
    if (relayed) {
      relay = new RtpRelay({ phoneBindAddress: '127.0.0.1' });
      const { phonePort, janusPort } = await relay.start();
      relay.setPhone('127.0.0.1', phone.address().port, 0, 101);
      relay.setJanus('127.0.0.1', mixer.address().port);
      toMixer = phonePort; toPhone = janusPort;
    } else {
      toMixer = mixer.address().port; toPhone = phone.address().port;
    }
    const onMsg = (m) => delays.push(Number(process.hrtime.bigint() - m.readBigUInt64BE(12)) / 1e6);
    phone.on('message', onMsg);
    mixer.on('message', onMsg);
    pairs.push({ phone, mixer, relay, toMixer, toPhone });
  }
  let seq = 0;
  const send = () => {
    for (const p of pairs) {
      const pkt = Buffer.alloc(172);
      pkt[0] = 0x80; pkt[1] = 0; pkt.writeUInt16BE(seq & 0xffff, 2); pkt.writeUInt32BE(seq * 160, 4);
      pkt.writeBigUInt64BE(process.hrtime.bigint(), 12);
      p.phone.send(pkt, p.toMixer, '127.0.0.1');
      const back = Buffer.from(pkt); back.writeBigUInt64BE(process.hrtime.bigint(), 12);
      p.mixer.send(back, p.toPhone, '127.0.0.1');
    }
    seq++;
  };
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const timer = setInterval(send, 20);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 100));
  const cpu = process.cpuUsage(cpu0);
  const wall = (Date.now() - t0) / 1000;
  for (const p of pairs) { p.phone.close(); p.mixer.close(); p.relay?.close(); }
  return { legs, relayed, packets: delays.length, median: pct(delays, 50), p99: pct(delays, 99), cpuPct: ((cpu.user + cpu.system) / 1e6 / wall) * 100 };
}

console.log('legs | path | packets | one-way median ms | p99 ms | process CPU % of a core');
for (const n of opt.legs.split(',').map(Number)) {
  const direct = await run(n, false);
  const relayed = await run(n, true);
  for (const r of [direct, relayed]) console.log(`${r.legs} | ${r.relayed ? 'relayed' : 'direct'} | ${r.packets} | ${r.median.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.cpuPct.toFixed(1)}`);
  console.log(`${n} legs: relay adds ${(relayed.median - direct.median).toFixed(3)} ms median, ${(relayed.p99 - direct.p99).toFixed(3)} ms p99, ${((relayed.cpuPct - direct.cpuPct) / n).toFixed(2)} % of a core per leg`);
}
process.exit(0);

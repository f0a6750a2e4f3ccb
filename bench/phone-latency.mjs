#!/usr/bin/env node
/**
 * Dial-out benchmark (not a test): mouth-to-ear latency browser → Janus AudioBridge → RTP relay →
 * telephone, and back, on loopback. The "telephone" is a small SIP UAS in this script (it answers the
 * server's INVITE through --sip-trunk, receives G.711 µ-law, and sends a 10 ms 2 kHz click once a
 * second); the browser is Debian Chromium whose fake microphone plays a click once a second, joined
 * through the real web client, which dials the phone with "Call a number".
 *
 *   browser → phone: click onset on the talker's own microphone track (after capture processing) to
 *                    the onset in the RTP the phone receives (arrival time, no phone jitter buffer);
 *   phone → browser: onset in the RTP the phone sends to the onset on the browser's remote track
 *                    (after Janus, Opus, WebRTC's jitter buffer and decoding).
 * Sound-card buffers at both ends are left out: lower bounds of mouth-to-ear.
 *
 *   node bench/phone-latency.mjs [--seconds 20]      (built tree, janus, chromium)
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import sip from 'sip';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const seconds = Number(values.seconds);
const { startServer } = await import(path.join(ROOT, 'packages/server/dist/index.js'));
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const now = () => performance.timeOrigin + performance.now();

function wav(samples, rate = 48000) {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, v)) * 32767), i * 2));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8); h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
function ulawEncode(x) {
  let s = Math.max(-32635, Math.min(32635, Math.round(x * 32767)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += 0x84;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  return ~(sign | (exp << 4) | ((s >> (exp + 3)) & 0x0f)) & 0xff;
}
function ulawDecode(u) {
  u = ~u & 0xff;
  const s = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84;
  return (u & 0x80 ? -s : s) / 32768;
}

/** A telephone: answers one INVITE with PCMU, records click onsets it hears, sends clicks. */
async function fakePhone() {
  const sipSock = dgram.createSocket('udp4');
  const rtp = dgram.createSocket('udp4');
  await new Promise((r) => sipSock.bind(0, '127.0.0.1', r));
  await new Promise((r) => rtp.bind(0, '127.0.0.1', r));
  const heard = [];
  const sent = [];
  let peer = null;
  let lastLoud = 0;
  let timer = null;
  rtp.on('message', (m, rinfo) => {
    peer ??= rinfo;
    const arrival = now();
    for (let i = 12; i < m.length; i++) {
      if (Math.abs(ulawDecode(m[i])) > 0.05) {
        const t = arrival - ((m.length - i) / 8000) * 1000;
        if (t - lastLoud > 300) heard.push(t);
        lastLoud = t;
        break;
      }
    }
  });
  sipSock.on('message', (buf, rinfo) => {
    const rq = sip.parse(buf.toString());
    if (!rq?.method) return;
    const reply = (status, reason, extra = {}) => {
      const rs = sip.makeResponse(rq, status, reason);
      rs.headers.to.params.tag ??= 'phone';
      Object.assign(rs, extra);
      sipSock.send(sip.stringify(rs), rinfo.port, rinfo.address);
    };
    if (rq.method === 'INVITE') {
      const sdp = `v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${rtp.address().port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n`;
      reply(200, 'OK', { headers: { ...sip.makeResponse(rq, 200).headers, to: { ...rq.headers.to, params: { tag: 'phone' } }, contact: [{ uri: `sip:phone@127.0.0.1:${sipSock.address().port}` }], 'content-type': 'application/sdp' }, content: sdp });
      const m = /m=audio (\d+)/.exec(rq.content);
      const c = /c=IN IP4 ([\d.]+)/.exec(rq.content);
      const to = { port: Number(m[1]), address: c[1] };
      let seq = 0;
      let ts = 0;
      timer ??= setInterval(() => {
        const p = Buffer.alloc(172);
        p[0] = 0x80; p[1] = 0; p.writeUInt16BE(seq++ & 0xffff, 2); p.writeUInt32BE(ts, 4); p.writeUInt32BE(0xb47011, 8);
        const inClick = ts % 8000 < 80; // a 10 ms click once a second
        for (let i = 0; i < 160; i++) p[12 + i] = ulawEncode(ts % 8000 < 80 - i && inClick ? Math.sin((2 * Math.PI * 2000 * (ts + i)) / 8000) : 0);
        if (ts % 8000 === 0) sent.push(now());
        ts += 160;
        rtp.send(p, to.port, to.address);
      }, 20);
    } else if (rq.method === 'BYE' || rq.method === 'CANCEL' || rq.method === 'OPTIONS') reply(200, 'OK');
  });
  return { port: sipSock.address().port, heard, sent, close() { clearInterval(timer); sipSock.close(); rtp.close(); } };
}

const rate = 48000;
const clicks = Array.from({ length: rate * 4 }, (_, i) => ((i % rate) < rate * 0.01 ? Math.sin((2 * Math.PI * 2000 * i) / rate) : 0));
const dir = mkdtempSync(path.join(tmpdir(), 'baton-phone-bench-'));
const talkWav = path.join(dir, 'clicks.wav');
writeFileSync(talkWav, wav(clicks));
const phone = await fakePhone();
const srv = await startServer({
  port: 0, dataDir: dir, webDir: path.join(ROOT, 'packages/web/dist'), logLevel: 'warn',
  audio: { mode: 'auto', janusUrl: null, janusSecret: null },
  sip: { trunk: `sip:127.0.0.1:${phone.port}`, username: null, password: null, from: null, numberFormat: '+{number}', address: '127.0.0.2', port: 0, noAnswerSeconds: 30 },
});
await new Promise((r) => (srv.conferencing.audioStatus === 'ready' ? r() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && r())));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${talkWav}`, '--autoplay-policy=no-user-gesture-required'] });
try {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    window.__pcs = [];
    const Original = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Original { constructor(c) { super(c); window.__pcs.push(this); } };
  });
  await page.goto(`${srv.url}/`);
  const id = await page.evaluate(async () => {
    const post = (u, b) => fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
    await post('/api/auth/signup', { username: 'bench', password: 'correct horse battery staple 42', displayName: 'Bench' });
    return (await (await post('/api/conferences', { subject: 'Phone bench', policy: {} })).json()).id;
  });
  await page.goto(`${srv.url}/m/${id}`);
  await page.getByTestId('audio-join').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="audio-controls"]')?.getAttribute('data-phase') === 'connected', null, { timeout: 30000 });
  const t0 = Date.now();
  await page.getByTestId('call-a-number').click();
  await page.getByTestId('dial-number').fill('+441234567890');
  await page.getByTestId('dial-submit').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="phone-leg"]')?.getAttribute('data-state') === 'answered', null, { timeout: 30000 });
  const answerMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2000)); // jitter buffers settle
  phone.heard.length = 0;
  phone.sent.length = 0;
  const collect = (which) => page.evaluate(async ([w, ms]) => {
    const pc = [...window.__pcs].reverse().find((x) => x.connectionState === 'connected');
    const track = w === 'local' ? pc.getSenders()[0].track : pc.getReceivers().map((r) => r.track).find((t) => t?.kind === 'audio');
    const ctx = new AudioContext();
    const sp = ctx.createScriptProcessor(256, 1, 1);
    const out = [];
    let lastLoud = 0;
    sp.onaudioprocess = (e) => {
      const t1 = performance.timeOrigin + performance.now();
      const x = e.inputBuffer.getChannelData(0);
      let i = 0;
      while (i < x.length && Math.abs(x[i]) < 0.05) i++;
      if (i < x.length) {
        const t = t1 - ((x.length - i) / ctx.sampleRate) * 1000;
        if (t - lastLoud > 300) out.push(t);
        lastLoud = t1;
      }
    };
    ctx.createMediaStreamSource(new MediaStream([track])).connect(sp);
    sp.connect(ctx.destination);
    await new Promise((r) => setTimeout(r, ms));
    await ctx.close();
    return out;
  }, [which, seconds * 1000]);
  const [browserSent, browserHeard] = await Promise.all([collect('local'), collect('remote')]);
  const match = (from, to) => {
    const lat = [];
    for (const s of from) {
      const r = to.find((h) => h > s && h - s < 900);
      if (r !== undefined) lat.push(r - s);
    }
    lat.sort((a, b) => a - b);
    const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(0) : 'n/a');
    return { clicks: from.length, matched: lat.length, min: q(0), p50: q(0.5), p90: q(0.9), max: q(0.999) };
  };
  // The phone hears the browser's clicks and, mixed in, nothing of its own (the mix leaves it out).
  console.log(JSON.stringify({ answerMs, browserToPhoneMs: match(browserSent, phone.heard), phoneToBrowserMs: match(phone.sent, browserHeard) }, null, 2));
} finally {
  await browser.close();
  await srv.close();
  phone.close();
  rmSync(dir, { recursive: true, force: true });
}

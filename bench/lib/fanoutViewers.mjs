// One worker process of bench/cluster-fanout.mjs: holds many protocol-level viewers of one share
// (a conference socket and a sharing socket each) and does as little as a viewer can per message:
// conference JSON is matched by prefix, never parsed unless it answers a request; sharing messages
// are counted, and a frame (type byte 0x04) is acknowledged from its raw bytes. No decoding.
//
// Driven over the IPC channel by the bench: {cmd:'join', viewers:[{url, name}], conference, concurrency}
// → progress/joined; {cmd:'start'} clears the counters; {cmd:'mark'} ends the rate window; {cmd:'stop'} → 'report'; {cmd:'exit'}.
import WebSocket from 'ws';
import { PROTOCOL_VERSION, SHARE_PROTOCOL_VERSION, encodeShareMessage } from '../../packages/protocol/dist/index.js';

const FRAME = 0x04;
const ACK = 0x07;
/** Delay histogram: 1 ms buckets up to 20 s (the last one holds everything later). */
const BUCKETS = 20_001;
const now = () => performance.timeOrigin + performance.now();

const viewers = [];
let hist = new Uint32Array(BUCKETS);
/** Host frame seq → [viewers that have it or a later one, when the last of them got it]. */
let cover = new Map();
let measuring = false;
let closedDuring = 0;

function confSocket(url, conference, name, localAddress) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/conference/${conference}`, { perMessageDeflate: false, localAddress });
  const waits = new Map();
  let rid = 0;
  const welcome = new Promise((resolve, reject) => {
    ws.on('message', (d) => {
      // Roster news for thousands of seats arrives here: look at the prefix only.
      const head = d.toString('latin1', 0, 24);
      if (head.startsWith('{"type":"welcome"')) return resolve();
      if (!head.startsWith('{"type":"ack"') && !head.startsWith('{"type":"error"')) return;
      const m = JSON.parse(d.toString());
      if (waits.has(m.rid)) {
        waits.get(m.rid)(m);
        waits.delete(m.rid);
      }
    });
    ws.once('close', (c, r) => reject(new Error(`conference socket closed ${c} ${r}`)));
    ws.once('error', reject);
  });
  ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, name })));
  const request = (msg) => new Promise((res) => { const r = `r${++rid}`; waits.set(r, res); ws.send(JSON.stringify({ ...msg, rid: r })); });
  return { ws, welcome, request };
}

async function joinOne(spec, conference, index) {
  const localAddress = `127.0.0.${2 + (index % 250)}`;
  const conf = confSocket(spec.url, conference, spec.name, localAddress);
  let t;
  try {
    await conf.welcome;
    t = await conf.request({ type: 'share.ticket' });
    if (t.type !== 'ack') throw new Error(`share.ticket: ${JSON.stringify(t)}`);
  } catch (err) {
    conf.ws.terminate();
    throw err;
  }
  const ws = new WebSocket(`${spec.url.replace(/^http/, 'ws')}/ws/share`, { perMessageDeflate: false, localAddress });
  const v = { conf, ws, frames: 0, bytes: 0, last: 0 };
  ws.on('message', (d) => {
    v.bytes += d.length;
    if (d[0] !== FRAME) return;
    const t = now();
    const seq = d.readUInt32BE(1);
    const ack = Buffer.allocUnsafe(5);
    ack[0] = ACK;
    ack.writeUInt32BE(seq, 1);
    ws.send(ack);
    v.frames++;
    if (!measuring) return void (v.last = seq);
    const delay = Math.round(t - d.readDoubleBE(5));
    hist[Math.min(BUCKETS - 1, Math.max(0, delay))]++;
    // This viewer now shows every version up to seq (skipped ones are covered by this one).
    for (let s = v.last === 0 ? seq : v.last + 1; s <= seq; s++) {
      const c = cover.get(s);
      if (c) { c[0]++; if (t > c[1]) c[1] = t; } else cover.set(s, [1, t]);
    }
    v.last = seq;
  });
  ws.on('close', () => { if (measuring) closedDuring++; });
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  ws.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: t.ticket }));
  viewers.push(v);
}

process.on('message', async (m) => {
  if (m.cmd === 'join') {
    let next = 0, done = 0, failed = 0;
    const errors = [];
    const lane = async () => {
      while (next < m.viewers.length) {
        const i = next++;
        // A starved server may miss a hello's deadline: a viewer tries three times, as a page would reconnect.
        for (let attempt = 1; ; attempt++) {
          try {
            await joinOne(m.viewers[i], m.conference, m.offset + i);
            break;
          } catch (err) {
            if (attempt < 3) continue;
            failed++;
            if (errors.length < 5) errors.push(err.message);
            break;
          }
        }
        if (++done % 50 === 0) process.send({ type: 'progress', done });
      }
    };
    await Promise.all(Array.from({ length: m.concurrency }, lane));
    process.send({ type: 'joined', joined: viewers.length, failed, errors });
  } else if (m.cmd === 'start') {
    hist = new Uint32Array(BUCKETS);
    cover = new Map();
    closedDuring = 0;
    for (const v of viewers) { v.frames0 = v.frames; v.bytes0 = v.bytes; }
    measuring = true;
  } else if (m.cmd === 'mark') {
    // The end of the window for rates; frames keep being followed until 'stop' (their last viewers).
    for (const v of viewers) v.framesAtMark = v.frames;
  } else if (m.cmd === 'stop') {
    measuring = false;
    process.send({
      type: 'report',
      frames: viewers.map((v) => (v.framesAtMark ?? v.frames) - v.frames0),
      bytes: viewers.reduce((s, v) => s + v.bytes - v.bytes0, 0),
      hist: Array.from(hist),
      cover: [...cover],
      open: viewers.filter((v) => v.ws.readyState === WebSocket.OPEN).length,
      closedDuring,
    });
  } else if (m.cmd === 'exit') {
    for (const v of viewers) { v.ws.terminate(); v.conf.ws.terminate(); }
    process.exit(0);
  }
});

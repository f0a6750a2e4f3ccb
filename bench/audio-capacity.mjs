#!/usr/bin/env node
/**
 * Audio mixer capacity (a benchmark, not a test): how many concurrent two-party audio rooms one core
 * of Janus AudioBridge holds before the mix glitches, and Janus CPU per participant.
 *
 * Janus is started the way the server does it (JanusProcess: private config, only AudioBridge and
 * the WebSocket transport), driven by the server's own JanusAudioService and one AudioBridgeServer
 * per room (one room per conference, as in production). Each party joins with handleJoinPhone, the
 * path a telephone leg takes (plain RTP, G.711 µ-law, 20 ms), but the RTP comes straight from this
 * script's dgram sockets (no RtpRelay, no SIP, no browser): the CPU measured is the mixer's. Party A
 * sends a 600 Hz sine, party B 1000 Hz, both at −10 dBFS. Each receiver decodes every 20 ms mix
 * packet and runs a Goertzel filter at the *other* party's frequency.
 *
 * Janus is pinned to one core with `taskset -a -cp <janus-core>` (every thread, and the mixer threads
 * it starts later inherit it), so "% of one core" means one core; this script pins itself to another.
 * The ramp adds rooms (1, 5, 10, 20, 40, 80, … by default) and measures each step after a warm-up:
 *   - Janus CPU (utime+stime of /proc/<pid>/stat, % of one core) and how long its threads waited
 *     for a CPU (/proc/<pid>/task/<tid>/schedstat: a busy machine shows here, not in CPU);
 *   - this script's CPU (it sends, receives and analyses every packet: the load generator);
 *   - per receiver: packets received vs expected (50/s), inter-arrival jitter (|Δt − 20 ms|, p99),
 *     glitches = expected frames that were missing, silent, or whose tone fell below half (−6 dB)
 *     of the amplitude sent while the other party was sending;
 *   - the 1-minute load average before and after the step.
 * The ramp stops after the first step that fails (glitch rate ≥ 0.5 % or Janus > 100 % of its core),
 * or runs every step with --all (a busy machine can fail a small step and pass a larger one).
 * Prints a table and writes bench/results/audio-capacity-<timestamp>.json (git-ignored).
 *
 *   node bench/audio-capacity.mjs [--steps 1,5,10,20,40,80,160,320] [--seconds 10] [--warmup 3]
 *                                 [--janus-core 0] [--node-core 1] [--no-pin] [--nice=-10] [--all]
 *   (needs npm run build and janus). --nice=N runs Janus and this script in a session of their own
 *   whose autogroup gets nice N, and renices their threads (negative needs root): on a machine busy
 *   with other work it is the difference between measuring the mixer and measuring the scheduler;
 *   the first line of the output says which was used.
 */
import dgram from 'node:dgram';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { EventEmitter } from 'node:events';

// janode's own emitters warn about listener counts that are normal with hundreds of handles.
process.removeAllListeners('warning');
process.on('warning', (w) => { if (w.name !== 'MaxListenersExceededWarning') console.error(w); });
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: opt } = parseArgs({
  options: {
    steps: { type: 'string', default: '1,5,10,20,40,80,160,320' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'janus-core': { type: 'string', default: '0' },
    'node-core': { type: 'string', default: '1' },
    'no-pin': { type: 'boolean', default: false },
    nice: { type: 'string', default: '0' },
    'glitch-limit': { type: 'string', default: '0.5' },
    all: { type: 'boolean', default: false },
  },
});
// --nice: the kernel groups processes by session (autogroup) and shares the CPU between groups
// first, so a thread's own nice only counts inside its group. Run in a session of our own (Janus
// inherits it) and give that group the nice value too.
if (Number(opt.nice) && !process.env.BENCH_AUDIO_CAPACITY_SESSION) {
  const r = spawnSync('setsid', ['-w', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, BENCH_AUDIO_CAPACITY_SESSION: '1' } });
  process.exit(r.status ?? 1);
}
if (Number(opt.nice)) writeFileSync('/proc/self/autogroup', String(opt.nice));
const STEPS = opt.steps.split(',').map(Number);
const SECONDS = Number(opt.seconds);
const WARMUP = Number(opt.warmup);
const GLITCH_LIMIT = Number(opt['glitch-limit']);
const dist = (p) => import(path.join(ROOT, 'packages/server/dist/audio', p));
const { JanusProcess, findJanus } = await dist('JanusProcess.js');
const { JanusAudioService } = await dist('JanusAudioService.js');
const { AudioBridgeServer } = await dist('AudioBridgeServer.js');

// --- G.711 µ-law and the tones ---------------------------------------------------------------
function ulawEncode(x) {
  let s = Math.max(-32635, Math.min(32635, Math.round(x * 32767)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += 0x84;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  return ~(sign | (exp << 4) | ((s >> (exp + 3)) & 0x0f)) & 0xff;
}
const ULAW = Float64Array.from({ length: 256 }, (_, u) => {
  const v = ~u & 0xff;
  const s = ((((v & 0x0f) << 3) + 0x84) << ((v >> 4) & 7)) - 0x84;
  return (v & 0x80 ? -s : s) / 32768;
});
const RATE = 8000;
const N = 160; // 20 ms
const AMP = 0.316; // −10 dBFS
const FREQ = { A: 600, B: 1000 }; // whole cycles in 20 ms: every frame of a tone is the same frame
const frameOf = (f) => Buffer.from(Array.from({ length: N }, (_, i) => ulawEncode(AMP * Math.sin((2 * Math.PI * f * i) / RATE))));
const FRAME = { A: frameOf(FREQ.A), B: frameOf(FREQ.B) };
const COEF = Object.fromEntries(Object.entries(FREQ).map(([k, f]) => [k, 2 * Math.cos((2 * Math.PI * f) / RATE)]));

/** Amplitude of the tone at `coef`'s frequency in 160 µ-law samples (and the frame's RMS). */
function analyse(buf, off, coef) {
  let s1 = 0, s2 = 0, e = 0;
  for (let i = off; i < off + N; i++) {
    const x = ULAW[buf[i]];
    e += x * x;
    const s0 = x + coef * s1 - s2;
    s2 = s1; s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coef * s1 * s2;
  return { amp: (2 * Math.sqrt(Math.max(0, power))) / N, rms: Math.sqrt(e / N) };
}

const pct = (a, p) => { if (!a.length) return NaN; const s = Float64Array.from(a).sort(); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bind = () => new Promise((r) => { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); });
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
function procTicks(pid) {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
}
/** Run-queue wait (ns) of each live thread of the process. */
function schedstat(pid) {
  const wait = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      wait.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]));
    } catch { /* thread ended */ }
  }
  return { wait, threads: wait.size };
}
/** Wait between two schedstat() readings, over the threads alive at both (ended ones drop out). */
const waitDelta = (a, b) => { let d = 0; for (const [tid, w] of b.wait) if (a.wait.has(tid)) d += w - a.wait.get(tid); return d; };

// --- Janus, as the server runs it -----------------------------------------------------------------
const binary = findJanus();
if (!binary) { console.error('janus is not installed (scripts/audio.sh install)'); process.exit(1); }
const dir = mkdtempSync(path.join(os.tmpdir(), 'baton-audio-capacity-'));
const janus = new JanusProcess({ dir, binary });
await janus.start();
const janusPid = janus.pid;
const pinned = !opt['no-pin'];
const NICE = Number(opt.nice);
/** Pins (and renices, with --nice) every thread of Janus and of this script; again after each ramp
 *  step, since nice is per thread and a mixer thread only inherits it from the thread that made it. */
function pinAndNice() {
  if (pinned) {
    execFileSync('taskset', ['-a', '-cp', opt['janus-core'], String(janusPid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-cp', opt['node-core'], String(process.pid)], { stdio: 'ignore' });
  }
  if (NICE) {
    for (const pid of [janusPid, process.pid]) execFileSync('renice', ['-n', String(NICE), '-p', ...readdirSync(`/proc/${pid}/task`)], { stdio: 'ignore' });
  }
}
pinAndNice();
// Every room's AudioBridgeServer listens to the one service (as in the server): more than 10 is normal.
EventEmitter.defaultMaxListeners = 0;
const service = new JanusAudioService({ url: () => janus.url, apiSecret: janus.apiSecret });
await new Promise((resolve) => { service.once('up', resolve); service.start(); });
let janusDied = false;
// The API session lost (Janus destroys every handle and leg then): under a starved Node event loop the
// session's keep-alive can miss Janus's timeout. Counted per step.
let downs = 0;
service.on('down', () => { downs++; });
janus.on('exit', () => { janusDied = true; });

// --- Legs -----------------------------------------------------------------------------------------
const legs = [];
const rooms = [];
let measuring = false;

async function addRoom(i) {
  const bridge = new AudioBridgeServer({ conferenceId: `capacity-${i}`, service });
  rooms.push(bridge);
  const pair = [];
  for (const side of ['A', 'B']) {
    const sock = await bind();
    const leg = { side, other: side === 'A' ? 'B' : 'A', sock, to: null, seq: Math.floor(Math.random() * 65536), ts: 0, ssrc: (Math.random() * 2 ** 32) >>> 0, stats: null };
    sock.on('message', (m) => onPacket(leg, m));
    const at = await bridge.handleJoinPhone(`${side}${i}`, `${side}${i}`, 'pcmu', 0, { address: '127.0.0.1', port: sock.address().port });
    leg.to = { address: at.address === '0.0.0.0' ? '127.0.0.1' : at.address, port: at.port };
    pair.push(leg);
  }
  legs.push(...pair);
}
function freshStats() { return { received: 0, lastArrival: 0, dev: [], silent: 0, weak: 0, afterStall: 0, amps: [] }; }
/** Intervals in which this script's sender was stalled (the machine did not run it): Janus's input
 *  buffer can run dry then, through no fault of the mixer. Glitches heard in them are counted apart. */
const stalls = [];
const STALL_MS = 60;
const inStall = (t) => { for (let i = stalls.length - 1; i >= 0 && i >= stalls.length - 50; i--) if (t >= stalls[i][0] && t <= stalls[i][1]) return true; return false; };
function onPacket(leg, m) {
  if (!measuring || m.length < 12 + N) return;
  const st = leg.stats;
  const t = performance.now();
  if (st.lastArrival) st.dev.push(Math.abs(t - st.lastArrival - 20));
  st.lastArrival = t;
  st.received++;
  const cc = m[0] & 0x0f;
  const { amp, rms } = analyse(m, 12 + 4 * cc, COEF[leg.other]);
  if (st.amps.length < 2000) st.amps.push(amp / AMP);
  const glitch = rms < 0.01 || amp < AMP / 2;
  if (rms < 0.01) st.silent++;
  else if (amp < AMP / 2) st.weak++;
  if (glitch && inStall(t)) st.afterStall++;
}

// One clock for every sender, catching up when a timer fires late (a busy machine), so the
// packets' RTP time stays exact and lateness is recorded rather than hidden.
const sendLate = [];
let tick = 0;
let t0 = 0;
let sending = true;
function pump() {
  if (!sending) return;
  const now = performance.now();
  while (t0 + tick * 20 <= now) {
    const late = now - (t0 + tick * 20);
    if (measuring) sendLate.push(late);
    // A packet sent `late` ms late reaches the mixer's buffer that much late; what it mixes meanwhile
    // reaches us up to its buffer plus a few ticks later.
    if (late > STALL_MS) stalls.push([t0 + tick * 20, now + 300]);
    for (const leg of legs) {
      const p = Buffer.allocUnsafe(12 + N);
      p[0] = 0x80; p[1] = 0; p.writeUInt16BE(leg.seq & 0xffff, 2); p.writeUInt32BE(leg.ts >>> 0, 4); p.writeUInt32BE(leg.ssrc, 8);
      FRAME[leg.side].copy(p, 12);
      leg.seq++; leg.ts += N;
      leg.sock.send(p, leg.to.port, leg.to.address);
    }
    tick++;
  }
  setTimeout(pump, Math.max(0, t0 + tick * 20 - performance.now()));
}

async function measure() {
  for (const l of legs) l.stats = freshStats();
  sendLate.length = 0;
  stalls.length = 0;
  const load0 = os.loadavg();
  const downs0 = downs;
  const j0 = procTicks(janusPid), s0 = schedstat(janusPid), n0 = process.cpuUsage(), w0 = performance.now();
  measuring = true;
  await sleep(SECONDS * 1000);
  measuring = false;
  const wall = (performance.now() - w0) / 1000;
  const j1 = procTicks(janusPid), s1 = schedstat(janusPid), n1 = process.cpuUsage(n0);
  const load1 = os.loadavg();
  const expected = Math.round(wall * 50);
  let received = 0, silent = 0, weak = 0, missing = 0, afterStall = 0;
  const dev = [], amps = [];
  for (const l of legs) {
    received += l.stats.received;
    silent += l.stats.silent;
    weak += l.stats.weak;
    afterStall += l.stats.afterStall;
    missing += Math.max(0, expected - l.stats.received);
    for (const d of l.stats.dev) dev.push(d);
    for (const a of l.stats.amps) amps.push(a);
  }
  const frames = expected * legs.length;
  return {
    rooms: rooms.length,
    participants: legs.length,
    seconds: wall,
    janusCpuPct: ((j1 - j0) / CLK_TCK / wall) * 100,
    janusWaitPct: (waitDelta(s0, s1) / 1e9 / wall) * 100,
    janusThreadsBefore: s0.threads,
    mixerConnectionLost: downs - downs0,
    janusThreads: s1.threads,
    nodeCpuPct: ((n1.user + n1.system) / 1e6 / wall) * 100,
    expected: frames,
    received,
    lossPct: (missing / frames) * 100,
    silentFrames: silent,
    weakFrames: weak,
    glitchPct: ((missing + silent + weak) / frames) * 100,
    glitchesInSenderStalls: afterStall,
    glitchPctOutsideStalls: ((missing + silent + weak - afterStall) / frames) * 100,
    senderStalledPct: (sendLate.filter((x) => x > STALL_MS).length / Math.max(1, sendLate.length)) * 100,
    jitterP50Ms: pct(dev, 50),
    jitterP99Ms: pct(dev, 99),
    toneLevelMedian: pct(amps, 50),
    sendLateP99Ms: pct(sendLate, 99),
    load1Before: load0[0],
    load1After: load1[0],
  };
}

const results = [];
const cols = ['rooms', 'parties', 'janus % core', 'janus wait %', 'per party %', 'node %', 'recv/expected', 'glitch %', 'glitch % outside stalls', 'jitter p99 ms', 'send late p99 ms', 'sender stalled %', 'load1 before→after'];
console.log(`Janus ${janusPid}${pinned ? ` pinned to core ${opt['janus-core']}, this script to core ${opt['node-core']}` : ' not pinned'}; nice ${NICE}${NICE ? ` (autogroup ${readFileSync('/proc/self/autogroup', 'utf8').trim()})` : ''}; ${os.cpus().length} cores; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(cols.join(' | '));
let best = null;
let bestOutside = null;
try {
  t0 = performance.now();
  pump();
  for (const target of STEPS) {
    try {
      while (rooms.length < target) await addRoom(rooms.length);
    } catch (err) {
      // Janus died or its API connection was lost while rooms were being added: that is a result too.
      const r = { rooms: target, participants: 2 * target, error: `${err.message} (after ${rooms.length} rooms; janus ${janusDied ? 'exited' : 'still running'})`, ok: false, load1Before: os.loadavg()[0] };
      r.janusLogTail = (() => { try { return readFileSync(path.join(dir, 'janus.log'), 'utf8').split('\n').slice(-15).join('\n'); } catch { return ''; } })();
      results.push(r);
      console.log(`${target} | ${2 * target} | failed: ${r.error} | load1 ${r.load1Before.toFixed(1)}`);
      break;
    }
    pinAndNice();
    await sleep(WARMUP * 1000);
    if (janusDied) throw new Error('janus died');
    const r = await measure();
    r.ok = r.glitchPct < GLITCH_LIMIT && r.janusCpuPct <= 100 && !r.mixerConnectionLost;
    r.okOutsideStalls = r.glitchPctOutsideStalls < GLITCH_LIMIT && r.janusCpuPct <= 100 && !r.mixerConnectionLost;
    results.push(r);
    console.log([r.rooms, r.participants, r.janusCpuPct.toFixed(1), r.janusWaitPct.toFixed(1), (r.janusCpuPct / r.participants).toFixed(3), r.nodeCpuPct.toFixed(1),
      `${r.received}/${r.expected}`, r.glitchPct.toFixed(2), r.glitchPctOutsideStalls.toFixed(2), r.jitterP99Ms.toFixed(1), r.sendLateP99Ms.toFixed(1), r.senderStalledPct.toFixed(1), `${r.load1Before.toFixed(1)}→${r.load1After.toFixed(1)}`].join(' | ') + (r.ok ? '' : '  FAIL') + (r.mixerConnectionLost ? ' (API session to Janus lost: every leg dropped)' : ''));
    if (r.ok && (!best || r.rooms > best.rooms)) best = r;
    if (r.okOutsideStalls && (!bestOutside || r.rooms > bestOutside.rooms)) bestOutside = r;
    if (!r.ok && !opt.all) break;
  }
} finally {
  sending = false;
  for (const r of rooms) r.close();
  await sleep(300);
  for (const l of legs) l.sock.close();
  service.close();
  janus.close();
  rmSync(dir, { recursive: true, force: true });
}
const summary = best
  ? `largest passing step: ${best.rooms} two-party rooms (${best.participants} participants), Janus ${best.janusCpuPct.toFixed(1)} % of one core = ${(best.janusCpuPct / best.participants).toFixed(3)} % per participant, glitches ${best.glitchPct.toFixed(2)} %, load average ${best.load1Before.toFixed(1)}→${best.load1After.toFixed(1)}`
  : 'no step passed';
const summaryOutside = bestOutside
  ? `counting only glitches outside this script's own stalls: ${bestOutside.rooms} rooms (${bestOutside.participants} participants), Janus ${bestOutside.janusCpuPct.toFixed(1)} % of one core, load average ${bestOutside.load1Before.toFixed(1)}→${bestOutside.load1After.toFixed(1)}`
  : 'counting only glitches outside stalls: no step passed';
console.log(summaryOutside);
console.log(summary + (results.length && results.every((r) => r.ok) ? ' (the ramp ended before anything failed: add larger --steps)' : ''));
const out = path.join(ROOT, 'bench/results');
mkdirSync(out, { recursive: true });
const file = path.join(out, `audio-capacity-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), host: { cores: os.cpus().length, cpu: os.cpus()[0]?.model }, pinned, nice: NICE, janusCore: opt['janus-core'], nodeCore: opt['node-core'], seconds: SECONDS, warmup: WARMUP, glitchLimitPct: GLITCH_LIMIT, freqs: FREQ, amplitude: AMP, results, best, bestOutsideStalls: bestOutside, summary, summaryOutside }, null, 2));
console.log(`wrote ${path.relative(ROOT, file)}`);
process.exit(0);

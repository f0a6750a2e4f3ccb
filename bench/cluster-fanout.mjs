#!/usr/bin/env node
// Fan-out of one share over a cluster (issue 16 benchmark; not a test, asserts nothing).
// A protocol-level host replays a recorded office workload (a workload page captured on Xvfb and
// encoded by the agent's own TileEncoder: bench/lib/fanoutStream.mjs) at its recorded pace, with the
// agent's flow control (at most 2 frames unacknowledged; passes made meanwhile go out merged), to
// --viewers protocol-level viewers (no browser, no decoding: they count each message and acknowledge
// each frame from its bytes) held by --workers viewer processes (bench/lib/fanoutViewers.mjs), spread
// evenly over 1, 2, 4… node processes on real NATS and PostgreSQL. nodes=1 is the single-node path
// (no NATS) in the same run. See bench/README.md.
// --cascade on,off runs each multi-node case with the share cascade (one stream per node) and without
// it (each remote viewer relayed to the home on its own: the reference).
//   node bench/cluster-fanout.mjs [--viewers 250,1000] [--nodes 1,2,4] [--seconds 10] [--workloads typing,doc-slow] [--workers 3] [--cascade on]
import { fork, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { PROTOCOL_VERSION, SHARE_PROTOCOL_VERSION, decodeShareMessage, encodeShareMessage } from '../packages/protocol/dist/index.js';
import { loadStream, tileRects } from './lib/fanoutStream.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/server/dist/cli.js');
const { values: o } = parseArgs({ options: {
  viewers: { type: 'string', default: '250,1000' }, nodes: { type: 'string', default: '1,2,4' }, seconds: { type: 'string', default: '10' },
  workloads: { type: 'string', default: 'typing,doc-slow' }, workers: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '8' },
  'rec-passes': { type: 'string', default: '150' }, cascade: { type: 'string', default: 'on' }, 'rec-fps': { type: 'string', default: '15' },
} });
const SECONDS = Number(o.seconds), WORKERS = Number(o.workers);
/** Frames sent in the window may reach their last viewer this long after it; later counts as never. */
const DRAIN_MS = 3000;
/** The agent's flow-control window (frames unacknowledged by the relay). */
const HOST_WINDOW = 2;
const PG = process.env.BATON_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS = process.env.BATON_TEST_NATS_URL || 'nats://127.0.0.1:4222';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const cpuTicks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
const written = (pid) => Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
const pct = (xs, p) => { if (!xs.length) return NaN; const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const histPct = (h, p) => { const n = h.reduce((a, b) => a + b, 0); let acc = 0; for (let i = 0; i < h.length; i++) { acc += h[i]; if (acc >= (p / 100) * n) return i; } return NaN; };

const streams = {};
for (const w of o.workloads.split(',')) {
  const stream = await loadStream(w, { passes: Number(o['rec-passes']), fps: Number(o['rec-fps']) });
  const loopMs = stream.at(-1).time + (stream.at(-1).time - stream.at(-2).time);
  const kBps = stream.slice(1).reduce((s, p) => s + p.tiles.reduce((a, t) => a + t.length, 0), 0) / loopMs;
  streams[w] = { stream, fullScreen: tileRects(stream[0]), loopMs, kBps: Math.round(kBps), fps: Number(((stream.length - 1) / (loopMs / 1000)).toFixed(1)) };
  console.error(`${w}: ${stream.length} passes over ${(loopMs / 1000).toFixed(1)} s, ${kBps.toFixed(0)} kB/s when every pass is sent`);
}

async function api(base, method, url, body, cookie) {
  const r = await fetch(base + url, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, body: await r.json().catch(() => null), cookie: r.headers.get('set-cookie')?.split(';')[0] };
}

/** The agent's conference socket: says hello and answers requests. */
function confSocket(base, id, hello) {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/conference/${id}`, { perMessageDeflate: false });
  const waits = new Map();
  let rid = 0;
  const welcome = new Promise((resolve, reject) => {
    ws.on('message', (d) => {
      const head = d.toString('latin1', 0, 24);
      if (head.startsWith('{"type":"welcome"')) return resolve();
      if (!head.startsWith('{"type":"ack"') && !head.startsWith('{"type":"error"')) return;
      const m = JSON.parse(d.toString());
      if (waits.has(m.rid)) { waits.get(m.rid)(m); waits.delete(m.rid); }
    });
    ws.once('close', (c, r) => reject(new Error(`closed ${c} ${r}`)));
  });
  ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, ...hello })));
  return { ws, welcome, request: (msg) => new Promise((res) => { const r = `r${++rid}`; waits.set(r, res); ws.send(JSON.stringify({ ...msg, rid: r })); }) };
}

/**
 * The replaying host: pass i of the recording at its recorded time (looping over passes 1..n), each
 * as its tiles and a frame stamped with the send time; with HOST_WINDOW frames unacknowledged the
 * passes wait and go out merged (newest tile of each place; a Copy only when it is still first),
 * as the agent's capture does. A `refresh` (a viewer could not use a Copy) is answered in the next
 * frame with the whole screen's tiles there, and that frame carries no Copy.
 */
function startHost(ws, { stream, fullScreen, loopMs }) {
  let seq = 0, inFlight = 0, acked = 0, overruns = 0, refreshes = 0, refreshBytes = 0, sentBytes = 0;
  let pending = [];
  let refresh = [];
  const sentAt = new Map();
  const flush = () => {
    if (inFlight >= HOST_WINDOW || (pending.length === 0 && refresh.length === 0)) return;
    const byPlace = new Map();
    const keepCopy = pending.length === 1 && refresh.length === 0 && pending[0].copy;
    // A tile's place is (x, y, w, h), the 8 bytes after its type: later passes overwrite earlier tiles there.
    pending.forEach((p) => p.tiles.forEach((t, i) => { if (!(i === 0 && p.copy)) byPlace.set(t.toString('latin1', 1, 9), t); }));
    const tiles = [...(keepCopy ? [pending[0].tiles[0]] : []), ...byPlace.values()];
    for (const r of refresh) for (const t of fullScreen) if (t.x < r.x + r.w && r.x < t.x + t.w && t.y < r.y + r.h && r.y < t.y + t.h) { tiles.push(t.bytes); refreshBytes += t.bytes.length; }
    pending = [];
    refresh = [];
    for (const t of tiles) { ws.send(t); sentBytes += t.length; }
    seq++;
    sentAt.set(seq, now());
    const f = encodeShareMessage({ type: 'frame', seq, time: sentAt.get(seq) });
    ws.send(f);
    sentBytes += f.byteLength;
    inFlight++;
  };
  ws.on('message', (d) => {
    const m = decodeShareMessage(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    if (m.type === 'ack') { inFlight = Math.max(0, seq - m.seq); acked = m.seq; flush(); }
    else if (m.type === 'refresh') { refresh.push(m); refreshes++; }
  });
  ws.send(encodeShareMessage({ type: 'screen', width: 1920, height: 1080, tileSize: 16 }));
  pending = [{ tiles: stream[0].tiles, copy: false }];
  flush();
  let i = 1, base = performance.now(), timer = null;
  const next = () => {
    const at = base + stream[i].time;
    timer = setTimeout(() => {
      if (inFlight >= HOST_WINDOW) overruns++;
      pending.push(stream[i]);
      flush();
      if (++i === stream.length) { i = 1; base += loopMs; }
      next();
    }, Math.max(0, at - performance.now()));
  };
  next();
  return { sentAt, get seq() { return seq; }, get held() { return overruns; }, get refreshes() { return refreshes; }, get refreshBytes() { return refreshBytes; }, get sentBytes() { return sentBytes; }, stop: () => clearTimeout(timer) };
}

async function run(workload, k, VIEWERS, cascade) {
  const db = `baton_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG }); await admin.connect(); await admin.query(`CREATE DATABASE ${db}`); await admin.end();
  const dbUrl = new URL(PG); dbUrl.pathname = `/${db}`;
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const nodes = [];
  const workers = [];
  try {
    for (let i = 0; i < k; i++) {
      const id = String.fromCharCode(65 + i);
      const dataDir = mkdtempSync(join(tmpdir(), `baton-bench-${id}-`));
      const args = [cli, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--audio', 'off', '--store', dbUrl.toString(), '--signup', 'open'];
      // nodes=1 runs the single-node path (no NATS), as a real single node would.
      if (k > 1) args.push('--cluster', NATS, '--node-id', id, '--cluster-prefix', prefix, '--share-cascade', cascade);
      const env = { ...process.env }; for (const key of Object.keys(env)) if (key.startsWith('BATON_')) delete env[key];
      const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
      const url = await new Promise((res, rej) => { let out = ''; proc.stdout.on('data', (d) => { out += d; const m = /running at (http:\/\/\S+)/.exec(out); if (m) res(m[1]); }); proc.once('exit', (c) => rej(new Error(`node exited ${c}`))); });
      // BENCH_NODE_LOGS=<dir>: each node's log (warnings and up) to <dir>/<node>.log, for a run that went wrong.
      if (process.env.BENCH_NODE_LOGS) proc.stdout.pipe(createWriteStream(join(process.env.BENCH_NODE_LOGS, `${workload}-${k}-${cascade}-${id}.log`)));
      else proc.stdout.resume();
      nodes.push({ id, url, proc, dataDir, token: () => JSON.parse(readFileSync(join(dataDir, 'admin-api.json'), 'utf8')).token });
    }
    const cluster = async (n) => (await fetch(`${n.url}/api/cluster`, { headers: { authorization: `Bearer ${n.token()}` } })).json();
    if (k > 1) for (const n of nodes) while ((await cluster(n).catch(() => ({ nodes: [] }))).nodes?.length !== k) await sleep(200);
    const A = nodes[0];
    const org = (await api(A.url, 'POST', '/api/auth/signup', { username: 'bench', password: 'correct horse battery', displayName: 'Bench' })).cookie;
    const conf = (await api(A.url, 'POST', '/api/conferences', { subject: 'fan-out', policy: { guests: 'allow' } }, org)).body.id;
    const tok = (await api(A.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, org)).body.token;
    const agent = confSocket(A.url, conf, { client: 'agent', agentToken: tok });
    await agent.welcome;
    await agent.request({ type: 'share.start', kind: 'agent' });
    const homeId = k > 1 ? (await cluster(A)).nodes.find((n) => n.conferences.includes(conf)).id : 'A';
    const home = nodes.find((n) => n.id === homeId);
    const hostWs = new WebSocket(`${home.url.replace(/^http/, 'ws')}/ws/share`, { perMessageDeflate: false });
    await new Promise((r) => hostWs.once('open', r));
    hostWs.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: (await agent.request({ type: 'share.ticket' })).ticket }));
    const host = startHost(hostWs, streams[workload]);

    // Viewers: round-robin over the nodes, in contiguous slices per worker process.
    const specs = Array.from({ length: VIEWERS }, (_, i) => ({ url: nodes[i % k].url, name: `viewer ${i}` }));
    const t0 = performance.now();
    const joinCpu0 = nodes.map((n) => cpuTicks(n.proc.pid));
    const done = new Array(WORKERS).fill(0);
    const progress = setInterval(() => console.error(`  ${workload}, ${k} node(s): ${done.reduce((a, b) => a + b, 0)}/${VIEWERS} viewers joined after ${Math.round((performance.now() - t0) / 1000)} s`), 15_000);
    for (let w = 0; w < WORKERS; w++) {
      const child = fork(join(root, 'bench/lib/fanoutViewers.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const waiting = new Map();
      child.on('message', (m) => { if (m.type === 'progress') return void (done[w] = m.done); waiting.get(m.type)?.(m); waiting.delete(m.type); });
      const ask = (cmd, answer) => new Promise((res) => { if (answer) waiting.set(answer, res); child.send(cmd); if (!answer) res(); });
      workers.push({ child, ask });
    }
    const per = Math.ceil(VIEWERS / WORKERS);
    const joined = await Promise.all(workers.map((w, j) => w.ask({ cmd: 'join', conference: conf, viewers: specs.slice(j * per, (j + 1) * per), offset: j * per, concurrency: Math.max(1, Math.round(Number(o.concurrency) / WORKERS)) }, 'joined')));
    clearInterval(progress);
    const joinSeconds = (performance.now() - t0) / 1000;
    // What joining cost the nodes: each join sends the roster to the newcomer and the newcomer to everyone.
    const joinCpuMsPerViewer = nodes.reduce((sum, n, i) => sum + (cpuTicks(n.proc.pid) - joinCpu0[i]) * 10, 0) / VIEWERS;
    const failed = joined.reduce((s, j) => s + j.failed, 0);
    if (failed) console.error(`${failed} viewers could not join: ${joined.flatMap((j) => j.errors).slice(0, 3).join('; ')}`);
    const live = VIEWERS - failed;
    await sleep(3000); // warm-up: every viewer past its first whole screen

    const relayed = async () => (k > 1 ? (await Promise.all(nodes.map((n) => cluster(n)))).reduce((s, c) => s + (c.relayedShareBytes ?? 0), 0) : 0);
    const relayed0 = await relayed();
    const cpu0 = nodes.map((n) => cpuTicks(n.proc.pid));
    const wcpu0 = workers.map((w) => cpuTicks(w.child.pid));
    const main0 = process.cpuUsage();
    const io0 = nodes.map((n) => written(n.proc.pid));
    await Promise.all(workers.map((w) => w.ask({ cmd: 'start' })));
    const firstSeq = host.seq + 1;
    const held0 = host.held, refreshes0 = host.refreshes, refreshBytes0 = host.refreshBytes, sent0 = host.sentBytes;
    await sleep(SECONDS * 1000);
    const lastSeq = host.seq;
    const cpu = nodes.map((n, i) => (cpuTicks(n.proc.pid) - cpu0[i]) / 100 / SECONDS);
    const wcpu = workers.reduce((s, w, i) => s + (cpuTicks(w.child.pid) - wcpu0[i]) / 100, 0) / SECONDS;
    const mc = process.cpuUsage(main0);
    const io = nodes.map((n, i) => (written(n.proc.pid) - io0[i]) / SECONDS);
    const rel = (await relayed()) - relayed0;
    await Promise.all(workers.map((w) => w.ask({ cmd: 'mark' })));
    const held = host.held - held0, refreshes = host.refreshes - refreshes0, refreshBytes = host.refreshBytes - refreshBytes0, hostBytes = host.sentBytes - sent0;
    await sleep(DRAIN_MS);
    const reports = await Promise.all(workers.map((w) => w.ask({ cmd: 'stop' }, 'report')));
    host.stop();

    const rates = reports.flatMap((r) => r.frames).map((f) => f / SECONDS);
    const hist = reports.reduce((h, r) => { r.hist.forEach((x, i) => (h[i] += x)); return h; }, new Array(reports[0].hist.length).fill(0));
    const cover = new Map();
    for (const r of reports) for (const [s, [n, t]] of r.cover) { const c = cover.get(s) ?? [0, 0]; c[0] += n; c[1] = Math.max(c[1], t); cover.set(s, c); }
    const lastViewer = [];
    let reachAll = 0;
    for (let s = firstSeq; s <= lastSeq; s++) {
      const c = cover.get(s);
      if (c && c[0] >= live) { reachAll++; lastViewer.push(c[1] - host.sentAt.get(s)); } else lastViewer.push(Infinity);
    }
    const sent = lastSeq - firstSeq + 1;
    const viewerBytes = reports.reduce((s, r) => s + r.bytes, 0) / (SECONDS + DRAIN_MS / 1000);
    const nodeCores = cpu.reduce((a, b) => a + b, 0);
    const p95Last = pct(lastViewer, 95);
    // The cost figure that does not depend on how much CPU the machine gave the nodes: node CPU per
    // frame delivered to a viewer, and the viewers one core would hold at the recording's pass rate.
    const delivered = rates.reduce((a, b) => a + b, 0) * SECONDS;
    const usPerViewerFrame = (nodeCores * SECONDS * 1e6) / delivered;
    const rateMedian = pct(rates, 50);
    const row = {
      workload, nodes: k, cascade: k > 1 ? cascade : '-', viewers: live, failed, joinSeconds: Math.round(joinSeconds), hostFps: Number((sent / SECONDS).toFixed(1)), hostHeld: held,
      // Pixel/keyframe requests that reached the host, and the tile bytes it resent for them (in the stream every viewer gets).
      hostSentMBps: Number((hostBytes / SECONDS / 1e6).toFixed(3)), hostRefreshesPerSecond: Number((refreshes / SECONDS).toFixed(1)), refreshAnswerMBps: Number((refreshBytes / SECONDS / 1e6).toFixed(3)),
      rateMedian: Number(rateMedian.toFixed(1)), rateP5: Number(pct(rates, 5).toFixed(1)),
      p50AnyMs: histPct(hist, 50), p95AnyMs: histPct(hist, 95), p95LastViewerMs: Number.isFinite(p95Last) ? Math.round(p95Last) : null, framesReachingAll: `${reachAll}/${sent}`,
      cpuPerNode: cpu.map((c) => Number(c.toFixed(2))), nodeCores: Number(nodeCores.toFixed(2)), benchCores: Number((wcpu + (mc.user + mc.system) / 1e6 / SECONDS).toFixed(2)),
      homeWrittenMBps: Number((io[nodes.indexOf(home)] / 1e6).toFixed(2)), writtenMBpsPerNode: io.map((x) => Number((x / 1e6).toFixed(2))),
      viewersReceivedMBps: Number((viewerBytes / 1e6).toFixed(2)), relayedMBps: Number((rel / SECONDS / 1e6).toFixed(3)),
      viewersPerCore: Math.round(live / nodeCores),
      usPerViewerFrame: Number(usPerViewerFrame.toFixed(1)),
      viewersPerCoreAtRecordedRate: Math.round(1e6 / (usPerViewerFrame * streams[workload].fps)),
      joinCpuMsPerViewer: Number(joinCpuMsPerViewer.toFixed(1)),
      meets200ms: Number.isFinite(p95Last) && p95Last <= 200 && rateMedian >= 0.9 * (sent / SECONDS),
      load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    };
    hostWs.terminate(); agent.ws.terminate();
    return row;
  } finally {
    for (const w of workers) { w.child.send({ cmd: 'exit' }); }
    await sleep(300);
    for (const w of workers) w.child.kill('SIGKILL');
    for (const n of nodes) { n.proc.kill('SIGKILL'); rmSync(n.dataDir, { recursive: true, force: true }); }
    await sleep(500);
    const c = new pg.Client({ connectionString: PG }); await c.connect(); await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [db]); await c.query(`DROP DATABASE IF EXISTS ${db}`); await c.end();
    if (k > 1) { const nc = await connect({ servers: NATS }); const kvm = new Kvm(nc); for (const b of ['nodes', 'homes']) await (await kvm.open(`${prefix}-${b}`)).destroy().catch(() => {}); await nc.close(); }
  }
}

const rows = [];
for (const w of Object.keys(streams)) {
  for (const v of o.viewers.split(',').map(Number)) {
    for (const k of o.nodes.split(',').map(Number)) {
      for (const c of k > 1 ? o.cascade.split(',') : ['-']) {
        const row = await run(w, k, v, c).catch((err) => ({ workload: w, nodes: k, cascade: c, viewers: v, error: err.message }));
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  }
}
// Against the single-node path at the same viewer count, in this run.
for (const r of rows) { const one = rows.find((x) => x.workload === r.workload && x.nodes === 1 && x.viewers === r.viewers && !x.error); if (one && !r.error && r.p95LastViewerMs !== null && one.p95LastViewerMs !== null) { r.p95LastVsSingle = Number((r.p95LastViewerMs / one.p95LastViewerMs).toFixed(2)); r.coresVsSingle = Number((r.nodeCores / one.nodeCores).toFixed(2)); } }
const cols = [['workload', 9], ['nodes', 5], ['cascade', 8], ['viewers', 8], ['join s', 7], ['host fps', 9], ['fps med/p5', 11], ['p95 any', 8], ['p95 last', 9], ['reach all', 10], ['CPU per node', 20], ['bench', 6], ['host MB/s', 10], ['home MB/s', 10], ['relayed MB/s', 13], ['viewers/core', 13], ['µs/viewer-frame', 16], ['viewers/core @rec fps', 22], ['join CPU ms/viewer', 19], ['≤200ms', 7], ['vs 1 node (p95, cores)', 22]];
console.log(`\n${Object.entries(streams).map(([w, s]) => `${w}: ${s.fps} passes/s, ${s.kBps} kB/s recorded`).join('; ')}; ${SECONDS} s per run, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(cols.map(([c, w]) => c.padEnd(w)).join(' '));
for (const r of rows) {
  if (r.error) { console.log(`${r.workload.padEnd(9)} ${String(r.nodes).padEnd(5)} ${String(r.cascade).padEnd(8)} ${String(r.viewers).padEnd(8)} failed: ${r.error}`); continue; }
  const cells = [r.workload, r.nodes, r.cascade, r.viewers, r.joinSeconds, r.hostFps, `${r.rateMedian}/${r.rateP5}`, r.p95AnyMs, r.p95LastViewerMs ?? '∞', r.framesReachingAll, r.cpuPerNode.join(' '), r.benchCores, r.hostSentMBps, r.homeWrittenMBps, r.relayedMBps, r.viewersPerCore, r.usPerViewerFrame, r.viewersPerCoreAtRecordedRate, r.joinCpuMsPerViewer, r.meets200ms ? 'yes' : 'no', r.p95LastVsSingle === undefined ? '' : `${r.p95LastVsSingle}, ${r.coresVsSingle}`];
  console.log(cells.map((c, i) => String(c).padEnd(cols[i][1])).join(' '));
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, `bench/results/cluster-fanout-${Date.now()}.json`), JSON.stringify({ options: o, streams: Object.fromEntries(Object.entries(streams).map(([w, s]) => [w, { passesPerSecond: s.fps, kBps: s.kBps }])), rows }, null, 2));
process.exit(0);

#!/usr/bin/env node
// Fan-out of one share over a cluster (issue 16 benchmark; not a test, asserts nothing).
// One protocol-level host pushes an office-like workload (--tiles tiles of --tile-bytes each, --fps
// frames a second) to --viewers protocol-level viewers (no browser, no decoding: they read each
// message and acknowledge each frame like a viewer), spread evenly over 1, 2, 4… node processes
// (--nodes 1,2,4) on real NATS and PostgreSQL. Per run: the per-viewer update rate, the p95 delay of
// a frame to each viewer and to its last viewer, CPU per node, and the sharing bytes the non-home
// nodes relayed (what the home sent to them). nodes=1 is the single-node path in the same run.
//   node bench/cluster-fanout.mjs [--viewers 200] [--nodes 1,2,4] [--seconds 10] [--fps 10] [--tiles 20] [--tile-bytes 1500]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { PROTOCOL_VERSION, SHARE_PROTOCOL_VERSION, TileEncoding, decodeShareMessage, encodeShareMessage } from '../packages/protocol/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/server/dist/cli.js');
const { values: o } = parseArgs({ options: { viewers: { type: 'string', default: '200' }, nodes: { type: 'string', default: '1,2,4' }, seconds: { type: 'string', default: '10' },
  fps: { type: 'string', default: '10' }, tiles: { type: 'string', default: '20' }, 'tile-bytes': { type: 'string', default: '1500' } } });
const VIEWERS = Number(o.viewers), SECONDS = Number(o.seconds), FPS = Number(o.fps), TILES = Number(o.tiles), TILE_BYTES = Number(o['tile-bytes']);
const PG = process.env.BATON_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS = process.env.BATON_TEST_NATS_URL || 'nats://127.0.0.1:4222';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuTicks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
const pct = (xs, p) => { if (!xs.length) return NaN; const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

async function api(base, method, url, body, cookie) {
  const r = await fetch(base + url, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, body: await r.json().catch(() => null), cookie: r.headers.get('set-cookie')?.split(';')[0] };
}

/** A conference socket that says hello and answers requests. */
function confSocket(base, id, hello, cookie) {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/conference/${id}`, { headers: cookie ? { cookie } : {} });
  const waits = new Map();
  let rid = 0;
  const welcome = new Promise((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'welcome') resolve(m);
      if ((m.type === 'ack' || m.type === 'error') && waits.has(m.rid)) { waits.get(m.rid)(m); waits.delete(m.rid); }
    });
    ws.once('close', (c, r) => reject(new Error(`closed ${c} ${r}`)));
  });
  ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, ...hello })));
  return { ws, welcome, request: (msg) => new Promise((res) => { const r = `r${++rid}`; waits.set(r, res); ws.send(JSON.stringify({ ...msg, rid: r })); }) };
}

async function run(k) {
  const db = `baton_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG }); await admin.connect(); await admin.query(`CREATE DATABASE ${db}`); await admin.end();
  const dbUrl = new URL(PG); dbUrl.pathname = `/${db}`;
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const nodes = [];
  for (let i = 0; i < k; i++) {
    const id = String.fromCharCode(65 + i);
    const dataDir = mkdtempSync(join(tmpdir(), `baton-bench-${id}-`));
    const args = [cli, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--audio', 'off', '--store', dbUrl.toString(), '--signup', 'open'];
    // nodes=1 runs the single-node path (no NATS), as a real single node would.
    if (k > 1) args.push('--cluster', NATS, '--node-id', id, '--cluster-prefix', prefix);
    const env = { ...process.env }; for (const key of Object.keys(env)) if (key.startsWith('BATON_')) delete env[key];
    const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const logFile = join(tmpdir(), `baton-bench-${prefix}-${id}.log`);
    proc.stdout.on('data', (d) => writeFileSync(logFile, d, { flag: 'a' }));
    const url = await new Promise((res, rej) => { let out = ''; proc.stdout.on('data', (d) => { out += d; const m = /running at (http:\/\/\S+)/.exec(out); if (m) res(m[1]); }); proc.once('exit', (c) => rej(new Error(`node exited ${c}`))); });
    nodes.push({ id, url, proc, dataDir });
  }
  await sleep(k > 1 ? 3000 : 0); // every lease seen by every node
  const A = nodes[0];
  const org = (await api(A.url, 'POST', '/api/auth/signup', { username: 'bench', password: 'correct horse battery', displayName: 'Bench' })).cookie;
  const conf = (await api(A.url, 'POST', '/api/conferences', { subject: 'fan-out', policy: { guests: 'allow' } }, org)).body.id;
  const tok = (await api(A.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, org)).body.token;
  const agent = confSocket(A.url, conf, { client: 'agent', agentToken: tok });
  await agent.welcome;
  await agent.request({ type: 'share.start', kind: 'agent' });
  const host = new WebSocket(`${A.url.replace(/^http/, 'ws')}/ws/share`);
  await new Promise((r) => host.once('open', r));
  host.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: (await agent.request({ type: 'share.ticket' })).ticket }));
  host.send(encodeShareMessage({ type: 'screen', width: 1920, height: 1080, tileSize: 16 }));
  host.on('message', () => {});
  const sentAt = new Map();
  const perFrame = new Map(); // seq -> delays of every viewer
  const viewers = [];
  for (let i = 0; i < VIEWERS; i++) {
    const n = nodes[i % k];
    const c = confSocket(n.url, conf, { name: `viewer ${i}` });
    await c.welcome;
    const t = await c.request({ type: 'share.ticket' });
    const ws = new WebSocket(`${n.url.replace(/^http/, 'ws')}/ws/share`, { perMessageDeflate: false });
    const v = { ws, conf: c, frames: 0, node: n.id };
    ws.on('message', (d) => {
      const m = decodeShareMessage(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      if (m.type !== 'frame') return;
      v.frames++;
      const at = sentAt.get(m.seq);
      if (at !== undefined && measuring) { const list = perFrame.get(m.seq) ?? []; list.push(performance.now() - at); perFrame.set(m.seq, list); }
      ws.send(encodeShareMessage({ type: 'ack', seq: m.seq }));
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: t.ticket }));
    viewers.push(v);
    if (i % 20 === 19) await sleep(1100); // within the per-address ticket and join limits
  }
  let measuring = false;
  let seq = 0;
  const payload = randomBytes(TILE_BYTES);
  const tick = () => {
    seq++;
    for (let t = 0; t < TILES; t++) {
      const cell = (seq * TILES + t) % (120 * 67);
      host.send(encodeShareMessage({ type: 'tile', x: (cell % 120) * 16, y: Math.floor(cell / 120) * 16, w: 16, h: 16, encoding: TileEncoding.Png, flags: 0, data: payload }));
    }
    sentAt.set(seq, performance.now());
    host.send(encodeShareMessage({ type: 'frame', seq, time: seq }));
  };
  const timer = setInterval(tick, 1000 / FPS);
  await sleep(2000); // warm-up
  const relayed0 = k > 1 ? await relayedBytes(nodes) : 0;
  const cpu0 = nodes.map((n) => cpuTicks(n.proc.pid));
  const frames0 = viewers.map((v) => v.frames);
  measuring = true;
  const firstSeq = seq + 1;
  await sleep(SECONDS * 1000);
  measuring = false;
  const lastSeq = seq;
  clearInterval(timer);
  await sleep(1000);
  const cpu = nodes.map((n, i) => (cpuTicks(n.proc.pid) - cpu0[i]) / 100 / SECONDS);
  const rates = viewers.map((v, i) => (v.frames - frames0[i]) / SECONDS);
  const all = [];
  const lastViewer = [];
  for (let s = firstSeq; s <= lastSeq; s++) { const d = perFrame.get(s) ?? []; all.push(...d); if (d.length === VIEWERS) lastViewer.push(Math.max(...d)); }
  const relayed = k > 1 ? (await relayedBytes(nodes)) - relayed0 : 0;
  const row = {
    nodes: k, viewers: VIEWERS, fps: FPS, sent: lastSeq - firstSeq + 1,
    rateMedian: pct(rates, 50), rateMin: Math.min(...rates),
    p95AnyMs: Math.round(pct(all, 95)), p95LastViewerMs: Math.round(pct(lastViewer, 95)), framesReachingAll: `${lastViewer.length}/${lastSeq - firstSeq + 1}`,
    cpuPerNode: cpu.map((c) => Number(c.toFixed(2))), relayedMBps: Number((relayed / SECONDS / 1e6).toFixed(2)),
  };
  for (const v of viewers) { v.ws.terminate(); v.conf.ws.terminate(); }
  host.terminate(); agent.ws.terminate();
  for (const n of nodes) { n.proc.kill('SIGKILL'); rmSync(n.dataDir, { recursive: true, force: true }); }
  await sleep(500);
  const c = new pg.Client({ connectionString: PG }); await c.connect(); await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [db]); await c.query(`DROP DATABASE IF EXISTS ${db}`); await c.end();
  if (k > 1) { const nc = await connect({ servers: NATS }); const kvm = new Kvm(nc); for (const b of ['nodes', 'homes']) await (await kvm.open(`${prefix}-${b}`)).destroy().catch(() => {}); await nc.close(); }
  return row;

  async function relayedBytes(ns) {
    let sum = 0;
    for (const n of ns) {
      const token = JSON.parse(readFileSync(join(n.dataDir, 'admin-api.json'), 'utf8')).token;
      const r = await fetch(`${n.url}/api/cluster`, { headers: { authorization: `Bearer ${token}` } });
      sum += (await r.json()).relayedShareBytes;
    }
    return sum;
  }
}

const rows = [];
for (const k of o.nodes.split(',').map(Number)) {
  const row = await run(k);
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.log('\nnodes viewers  rate(med/min fps)  p95 any  p95 last  reach-all  CPU per node (cores)  relayed MB/s');
for (const r of rows) console.log(`${String(r.nodes).padEnd(6)}${String(r.viewers).padEnd(9)}${`${r.rateMedian}/${r.rateMin}`.padEnd(19)}${String(r.p95AnyMs).padEnd(9)}${String(r.p95LastViewerMs).padEnd(10)}${r.framesReachingAll.padEnd(11)}${r.cpuPerNode.join(' ').padEnd(22)}${r.relayedMBps}`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, `bench/results/cluster-fanout-${Date.now()}.json`), JSON.stringify({ options: o, load: readFileSync('/proc/loadavg', 'utf8').trim(), rows }, null, 2));
process.exit(0);

#!/usr/bin/env node
/**
 * Where a cluster keeps blob bytes (a benchmark, not a test; decision 0008): one file (50 MB by
 * default, random bytes) uploaded and downloaded, streamed, through
 *   - disk:      the single node's BlobStore (the reference: what a node does today),
 *   - postgres:  SqlBlobStore, bytea chunks in the shared PostgreSQL store (what cluster mode uses),
 *                at several chunk sizes,
 *   - nats-obj:  a NATS JetStream Object Store bucket (@nats-io/obj, file storage, 128 KiB chunks).
 * Each backend runs in a child process of its own, so its memory is its own: the table shows the
 * upload and download rate (MB/s, the SHA-256 of what came back checked), the peak RSS (maxRSS of the
 * child) and its growth over the child's RSS before the transfer (what the transfer cost), and the
 * CPU the transfer used. Peak RSS growth that does not grow with --mb means
 * the file is streamed, not held. Ratios are against disk in the same run. Writes
 * bench/results/blob-backends-<time>.json (git-ignored).
 *
 *   node bench/blob-backends.mjs [--mb 50] [--rounds 3] [--backends disk,postgres:1024,postgres:256,postgres:4096,nats-obj]
 *   (needs npm run build, PostgreSQL at BATON_TEST_PG_URL or 127.0.0.1:5432, NATS at BATON_TEST_NATS_URL or 127.0.0.1:4222)
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER = join(HERE, '..', 'packages', 'server', 'dist');
const { values } = parseArgs({ options: { mb: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' }, backends: { type: 'string', default: 'disk,postgres:1024,postgres:256,postgres:4096,nats-obj' }, child: { type: 'string' }, file: { type: 'string' }, sha: { type: 'string' } } });

/** A sink that hashes what it is given. */
function hashingSink(hash) {
  return new Writable({ write(chunk, _enc, done) { hash.update(chunk); done(); } });
}

async function child(backend, file, sha) {
  let upload, download;
  let cleanup = async () => {};
  let ops;
  if (backend === 'disk') {
    const { BlobStore } = await import(join(SERVER, 'data', 'BlobStore.js'));
    const dir = mkdtempSync(join(os.tmpdir(), 'bench-blobs-'));
    const blobs = new BlobStore({ dir });
    ops = { put: () => blobs.put(createReadStream(file), Number.MAX_SAFE_INTEGER), read: (s) => blobs.read(s) };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else if (backend.startsWith('postgres')) {
    const chunkKiB = Number(backend.split(':')[1] ?? 1024);
    const { freshPostgres } = await import(join(SERVER, 'store', 'testing.js'));
    const { openStore } = await import(join(SERVER, 'store', 'index.js'));
    const { SqlBlobStore } = await import(join(SERVER, 'data', 'SqlBlobStore.js'));
    const pg = await freshPostgres('blob bench');
    if (!pg) throw new Error('PostgreSQL unavailable');
    const store = await openStore(pg.url);
    await store.migrate();
    const blobs = new SqlBlobStore({ db: store.kysely, bucket: 'files', chunkBytes: chunkKiB * 1024 });
    ops = { put: () => blobs.put(createReadStream(file), Number.MAX_SAFE_INTEGER), read: (s) => blobs.read(s) };
    cleanup = async () => (await store.close(), await pg.drop());
  } else if (backend === 'nats-obj') {
    const { connect } = await import('@nats-io/transport-node');
    const { Objm } = await import('@nats-io/obj');
    const nc = await connect({ servers: process.env.BATON_TEST_NATS_URL || 'nats://127.0.0.1:4222' });
    const bucket = `bench${randomBytes(4).toString('hex')}`;
    const store = await new Objm(nc).create(bucket, { storage: 'file' });
    ops = {
      put: async () => {
        const h = createHash('sha256');
        const src = createReadStream(file);
        src.on('data', (c) => h.update(c));
        const info = await store.put({ name: 'blob' }, Readable.toWeb(src));
        return { sha256: h.digest('hex'), size: info.size };
      },
      read: (_s) => Readable.from((async function* () { const r = await store.get('blob'); for await (const c of r.data) yield Buffer.from(c); })()),
    };
    cleanup = async () => (await store.destroy(), await nc.close());
  } else throw new Error(`unknown backend ${backend}`);

  // After the backend's set-up (modules, connections): the growth is the transfer's.
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  let t = performance.now();
  const { sha256, size } = await ops.put();
  upload = (performance.now() - t) / 1000;
  if (backend !== 'nats-obj' && sha256 !== sha) throw new Error(`${backend}: stored hash differs`);
  const h = createHash('sha256');
  t = performance.now();
  await pipeline(ops.read(sha256), hashingSink(h));
  download = (performance.now() - t) / 1000;
  if (h.digest('hex') !== sha) throw new Error(`${backend}: the bytes read back differ`);
  const cpu = process.cpuUsage(cpu0);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  await cleanup();
  process.stdout.write(JSON.stringify({ backend, size, upload, download, rssBefore, maxRss, cpuMs: (cpu.user + cpu.system) / 1000 }));
}

if (values.child) {
  await child(values.child, values.file, values.sha);
  process.exit(0);
}

const mb = Number(values.mb);
const tmp = mkdtempSync(join(os.tmpdir(), 'bench-blob-src-'));
const file = join(tmp, 'input.bin');
const hash = createHash('sha256');
await pipeline(Readable.from((function* () { for (let i = 0; i < mb; i++) { const b = randomBytes(1e6); hash.update(b); yield b; } })()), createWriteStream(file));
const sha = hash.digest('hex');
const backends = values.backends.split(',');
const rows = [];
for (let round = 0; round < Number(values.rounds); round++) {
  // Backends take turns in a rotating order, so drifting load from other work hits each alike.
  for (let i = 0; i < backends.length; i++) {
    const b = backends[(i + round) % backends.length];
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', b, '--file', file, '--sha', sha], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) { console.error(`${b}: failed: ${r.stderr.slice(-1500)}`); continue; }
    rows.push({ round, loadavg: os.loadavg()[0], ...JSON.parse(r.stdout) });
  }
}
rmSync(tmp, { recursive: true, force: true });

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const summary = backends.map((b) => {
  const rs = rows.filter((r) => r.backend === b);
  if (!rs.length) return { backend: b, missing: true };
  return {
    backend: b,
    uploadMBs: median(rs.map((r) => r.size / 1e6 / r.upload)),
    downloadMBs: median(rs.map((r) => r.size / 1e6 / r.download)),
    peakRssMB: median(rs.map((r) => r.maxRss / 1e6)),
    rssGrowthMB: median(rs.map((r) => (r.maxRss - r.rssBefore) / 1e6)),
    cpuMs: median(rs.map((r) => r.cpuMs)),
  };
});
const ref = summary.find((s) => s.backend === 'disk' && !s.missing);
console.log(`blob backends: ${mb} MB file, ${values.rounds} rounds (medians), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${os.cpus().length} cores`);
console.log('| backend | upload MB/s | download MB/s | up vs disk | down vs disk | peak RSS MB | RSS growth MB | CPU ms |');
console.log('|---|---|---|---|---|---|---|---|');
for (const s of summary) {
  if (s.missing) { console.log(`| ${s.backend} | failed | | | | | | |`); continue; }
  const ratio = (a, b) => (ref ? (a / b).toFixed(2) : '-');
  console.log(`| ${s.backend} | ${s.uploadMBs.toFixed(1)} | ${s.downloadMBs.toFixed(1)} | ${ratio(s.uploadMBs, ref?.uploadMBs)} | ${ratio(s.downloadMBs, ref?.downloadMBs)} | ${s.peakRssMB.toFixed(0)} | ${s.rssGrowthMB.toFixed(0)} | ${s.cpuMs.toFixed(0)} |`);
}
mkdirSync(join(HERE, 'results'), { recursive: true });
const out = join(HERE, 'results', `blob-backends-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ options: { mb, rounds: Number(values.rounds), backends }, loadavg: os.loadavg(), summary, rows }, null, 2));
console.log(`written to ${out}`);

/**
 * Test helper for cluster mode: real NATS (JetStream) and real PostgreSQL, several node processes
 * (`dist/cli.js --cluster …`) on one machine. Each cluster gets its own database and its own bucket
 * and subject prefix, so runs never collide. When NATS is unreachable: under CI=true this throws
 * (the run must fail); otherwise it warns loudly and returns null so the caller skips.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import type { ServerMessage } from '@baton/protocol';
import { freshPostgres, type FreshPostgres } from '../src/store/testing.js';
import { TestClient } from './support.js';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
const repoRoot = dirname(dirname(pkgDir));
const cli = join(pkgDir, 'dist', 'cli.js');

export const DEFAULT_TEST_NATS_URL = 'nats://127.0.0.1:4222';

export interface TestNode {
  id: string;
  url: string;
  proc: ChildProcess;
  dataDir: string;
  /** The node's admin API token (Bearer), for /api/cluster and /api/admin. */
  adminToken(): string;
  /** Every line the node logged (JSON), for assertions and failure reports. */
  log: string[];
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** kill -9: no shutdown, no lease given back. */
  kill(): Promise<void>;
}

export interface TestCluster {
  natsUrl: string;
  prefix: string;
  pg: FreshPostgres;
  nodes: TestNode[];
  start(id: string, extra?: string[]): Promise<TestNode>;
  dispose(): Promise<void>;
}

export function reachable(url: string): Promise<boolean> {
  const u = new URL(url.replace(/^nats:/, 'http:'));
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 4222), timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });
}

let built = false;
/** The server package's dist, built once per test file (tsc -b is incremental). */
function buildServer(): void {
  if (built) return;
  execFileSync('npx', ['tsc', '-b', 'packages/protocol', 'packages/server'], { cwd: repoRoot, stdio: 'pipe', timeout: 300_000 });
  built = true;
}

export async function freshCluster(what = 'cluster tests'): Promise<TestCluster | null> {
  const natsUrl = process.env.BATON_TEST_NATS_URL || DEFAULT_TEST_NATS_URL;
  if (!(await reachable(natsUrl))) {
    const msg = `NATS at ${natsUrl} is unavailable`;
    if (process.env.CI === 'true') throw new Error(`${msg}; CI=true requires it for ${what}`);
    console.warn(`\n!!! SKIPPING ${what}: ${msg}. Set BATON_TEST_NATS_URL or start nats-server -js to run them. !!!\n`);
    return null;
  }
  const pg = await freshPostgres(what);
  if (!pg) return null;
  buildServer();
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const nodes: TestNode[] = [];
  const cluster: TestCluster = {
    natsUrl,
    prefix,
    pg,
    nodes,
    async start(id, extra = []) {
      const dataDir = mkdtempSync(join(tmpdir(), `baton-cluster-${id}-`));
      const env = { ...process.env };
      for (const k of Object.keys(env)) if (k.startsWith('BATON_')) delete env[k];
      const proc = spawn(process.execPath, [cli, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'info', '--audio', 'off',
        '--store', pg.url, '--cluster', natsUrl, '--node-id', id, '--cluster-prefix', prefix, ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const log: string[] = [];
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (d: Buffer) => {
          out += d;
          for (const line of d.toString().split('\n')) if (line.trim()) log.push(line);
          const m = /running at (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.once('exit', (code) => reject(new Error(`node ${id} exited (${code}): ${out.slice(-2000)}`)));
      });
      const node: TestNode = {
        id,
        url,
        proc,
        dataDir,
        log,
        adminToken: () => (JSON.parse(readFileSync(join(dataDir, 'admin-api.json'), 'utf8')) as { token: string }).token,
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) {
            const exited = new Promise((r) => proc.once('exit', r));
            proc.kill('SIGCONT');
            proc.kill('SIGTERM');
            await exited;
          }
        },
        async kill() {
          if (proc.exitCode === null && proc.signalCode === null) {
            const exited = new Promise((r) => proc.once('exit', r));
            proc.kill('SIGKILL');
            await exited;
          }
        },
      };
      nodes.push(node);
      return node;
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
      for (const n of nodes) rmSync(n.dataDir, { recursive: true, force: true });
      const nc = await connect({ servers: natsUrl });
      const kvm = new Kvm(nc);
      for (const b of ['nodes', 'homes']) await (await kvm.open(`${prefix}-${b}`)).destroy().catch(() => {});
      await nc.close();
      await pg.drop();
    },
  };
  return cluster;
}

/** GET /api/cluster on a node, with its admin token. */
export async function clusterView(node: TestNode): Promise<{ self: string; nodes: { id: string; load: number; conferences: string[]; url: string; draining: boolean }[]; orphans: { conference: string; node: string }[]; relayedShareBytes: number; cascades: { conference: string; home: string; viewers: number; bytesFromHome: number; tilesSkipped: number }[] }> {
  const res = await fetch(`${node.url}/api/cluster`, { headers: { authorization: `Bearer ${node.adminToken()}` } });
  if (res.status !== 200) throw new Error(`GET /api/cluster: ${res.status} ${await res.text()}`);
  return (await res.json()) as never;
}

/** Polls until fn returns a truthy value (the cluster's state changes by heartbeat, not by event we can hear). */
export async function until<T>(fn: () => Promise<T> | T, what: string, ms = 30_000, stepMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** One node per id, started at once. */
export function startNodes<T extends string[]>(cluster: TestCluster, ids: [...T]): Promise<{ [K in keyof T]: TestNode }> {
  return Promise.all(ids.map((id) => cluster.start(id))) as Promise<{ [K in keyof T]: TestNode }>;
}

export type Welcome = Extract<ServerMessage, { type: 'welcome' }>;
export type JoinOptions = { cookie?: string; name?: string; resume?: string };

/**
 * Joins through `node` and waits for welcome, retrying every `retryMs` while the conference is between
 * homes (as clients do), for up to `ms`.
 */
export async function joinThrough(node: TestNode, conferenceId: string, opts: JoinOptions = {}, ms = 20_000, retryMs = 200): Promise<{ client: TestClient; welcome: Welcome; at: number }> {
  const end = Date.now() + ms;
  for (;;) {
    const client = new TestClient(node.url, conferenceId, { cookie: opts.cookie });
    try {
      await client.hello({ ...(opts.name ? { name: opts.name } : {}), ...(opts.resume ? { resume: opts.resume } : {}) });
      const first = await Promise.race([
        client.nextAny((m) => m.type === 'welcome' || m.type === 'lobby.wait', Math.max(1000, end - Date.now())),
        client.closed.then((c) => ({ type: 'closed', ...c }) as const),
      ]);
      if (first.type === 'welcome') return { client, welcome: first, at: Date.now() };
      if (first.type === 'lobby.wait') throw new Error(`went to the lobby: ${JSON.stringify(first)}`);
      // 1012: the conference is moving; a real client reconnects after a moment too.
      if ('code' in first && first.code !== 1012) throw new Error(`closed ${first.code} ${first.reason}`);
    } catch (err) {
      client.close();
      if (!/timed out|ECONNREFUSED|socket hang up/.test((err as Error).message)) throw err;
    }
    if (Date.now() > end) throw new Error(`could not join ${conferenceId} through ${node.id}`);
    await new Promise((r) => setTimeout(r, retryMs));
  }
}

/**
 * Waits until every one of `nodes` lists all of them. Placement reads the placing node's own directory
 * (refreshed each heartbeat, and by GET /api/cluster): a test that expects a meeting on a given node
 * must not place it while some node has not yet seen the others.
 */
export async function untilAllSee(nodes: TestNode[], ms = 30_000): Promise<void> {
  await until(async () => {
    for (const n of nodes) if ((await clusterView(n)).nodes.length !== nodes.length) return null;
    return true;
  }, `every node to see all ${nodes.length}`, ms);
}

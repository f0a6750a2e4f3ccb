/**
 * Bounded memory against a client that never reads its replies (issue 9, item 3): a real server in
 * a child process (so its RSS is its own), an unadmitted lobby guest on a raw ws client that pauses
 * its socket and sends `ping` as fast as the server takes them. The server must drop that
 * connection (the organizer sees the guest's seat go "reconnecting") and its RSS must stay within
 * a bound measured here, also after the drop. The stated close reasons are checked in limits.test.ts,
 * with clients that read them.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION } from '@baton/protocol';
import { TestClient, createConference, signUp } from './support.js';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
const repoRoot = dirname(dirname(pkgDir));
const cli = join(pkgDir, 'dist', 'cli.js');

/** Source files whose compiled output is missing or older than the source (tests excluded). */
function staleOutputs(dir = join(pkgDir, 'src'), rel = ''): string[] {
  const stale: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = join(rel, e.name);
    if (e.isDirectory()) stale.push(...staleOutputs(join(dir, e.name), r));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
      const out = join(pkgDir, 'dist', r.replace(/\.ts$/, '.js'));
      if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(dir, e.name)).mtimeMs) stale.push(r);
    }
  }
  return stale;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** How many pings the attacker sends at most (each about 100 bytes, each pong about as big). */
const PINGS = 400_000;
/** The server's RSS may grow by at most this much while it is attacked (before the fix: hundreds of MiB). */
const BOUND_MIB = 64;

describe('a conference socket that never reads', () => {
  let proc: ChildProcess;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    if (staleOutputs().length) {
      try {
        execFileSync('npx', ['tsc', '-b', 'packages/server'], { cwd: repoRoot, stdio: 'pipe', timeout: 180_000 });
      } catch (err) {
        // A type error elsewhere still emits JavaScript; judge by the result.
        const stale = staleOutputs();
        if (stale.length) throw new Error(`could not build ${stale.join(', ')}: ${(err as { stdout?: Buffer }).stdout?.toString() ?? err}`);
      }
    }
    dataDir = mkdtempSync(join(tmpdir(), 'baton-mem-'));
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('BATON_')) delete env[k];
    proc = spawn(process.execPath, [cli, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d) => {
        out += d;
        const m = /running at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    });
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('an unadmitted lobby guest flooding ping while not reading is dropped, and the server RSS stays bounded', async () => {
    const alice = await signUp(url, 'alice');
    const conf = await createConference(url, alice); // guests wait in the lobby; nobody admits them
    // The organizer watches the lobby: the guest's seat goes "reconnecting" once the server drops its socket.
    const org = new TestClient(url, conf, { cookie: alice });
    await org.hello();
    await org.next('welcome');

    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/conference/${conf}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const lobby = new Promise<{ self: string }>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, name: 'Mallory' }));
    const { self } = await lobby;
    await org.next('participant.joined', (m) => m.participant.id === self, 30_000);
    let dropped = false;
    const drop = org.next('participant.updated', (m) => m.participant.id === self && m.participant.connection === 'reconnecting', 120_000);
    drop.then(() => (dropped = true), () => {});
    const before = rssMiB(proc.pid!);

    ws.on('error', () => {}); // a reset while paused is one of the ways the attacker's socket may end
    ws.pause(); // never read another byte
    const frame = JSON.stringify({ type: 'ping', rid: 'x'.repeat(64) });
    let sent = 0;
    let peak = before;
    while (sent < PINGS && !dropped) {
      for (let i = 0; i < 2000 && sent < PINGS; i++, sent++) ws.send(frame);
      // Wait until the server has taken what we sent, or has dropped us; always give our own I/O a
      // turn (setImmediate runs after it), or the organizer's news would never be read.
      await new Promise<void>((resolve) => {
        const check = () => (dropped || ws.bufferedAmount < 256 * 1024 ? resolve() : setTimeout(check, 5));
        setImmediate(check);
      });
      if (sent % 20_000 === 0) peak = Math.max(peak, rssMiB(proc.pid!));
    }
    const during = Math.max(peak, rssMiB(proc.pid!));
    ws.terminate();
    const after = rssMiB(proc.pid!);
    console.log(`server RSS: ${before.toFixed(0)} MiB before, ${during.toFixed(0)} MiB peak during ${sent} pings, ${after.toFixed(0)} MiB after the drop`);
    expect(dropped, 'the server should have dropped the flooding connection').toBe(true);
    expect(during - before).toBeLessThan(BOUND_MIB);
    expect(after - before).toBeLessThan(BOUND_MIB);
    // The server still answers the others.
    await org.send({ type: 'ping', rid: 'still-there' });
    expect(await org.next('pong', (m) => m.rid === 'still-there', 30_000)).toBeTruthy();
    org.close();
  }, 240_000);
});

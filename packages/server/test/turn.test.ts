/**
 * TURN for external users, end to end on this machine: coturn started by scripts/turn.sh, credentials
 * minted by TurnCredentials, and two real WebRTC peers (node-datachannel / libdatachannel) that can only
 * reach each other through the relay.
 *
 * Why the peers cannot cheat on loopback: each peer binds its ICE sockets to ::1 only and talks to coturn
 * over [::1], while coturn relays on 127.0.0.1 (IPv4). With iceTransportPolicy 'relay' only relay
 * candidates (127.0.0.1:<relay port>) are signalled, and an IPv6-only socket cannot send to them, so the
 * only working pair is relay <-> relay: every byte goes peer -> coturn -> coturn -> peer.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerConnection, cleanup, type DataChannel, type IceServer } from 'node-datachannel';
import { TurnCredentials, type TurnCredential } from '../src/conferencing/TurnCredentials.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts/turn.sh');
const HAVE_TURNSERVER = spawnSync('sh', ['-c', 'command -v turnserver'], { stdio: 'ignore' }).status === 0;
// The relay-only proof needs IPv6 loopback (see above).
const HAVE_IPV6_LOOPBACK = await new Promise<boolean>((resolve) => {
  const s = dgram.createSocket('udp6');
  s.once('error', () => resolve(false));
  s.bind(0, '::1', () => s.close(() => resolve(true)));
});
const HAVE_COTURN = HAVE_TURNSERVER && HAVE_IPV6_LOOPBACK;
if (!HAVE_COTURN) {
  const what = HAVE_TURNSERVER ? 'no IPv6 loopback (::1) to bind' : 'turnserver (Debian package coturn) is not installed: run scripts/turn.sh install';
  if (process.env.CI === 'true') throw new Error(`TURN tests cannot run under CI=true: ${what}`);
  console.warn(`\n!!! SKIPPED packages/server/test/turn.test.ts: ${what}\n`);
}

/** A port free on [::1] for both TCP and UDP (coturn listens on both). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer().listen(0, '::1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
      srv.once('error', reject);
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = dgram.createSocket('udp6');
      s.once('error', () => resolve(false));
      s.bind(port, '::1', () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

/** One STUN Binding request (RFC 5389) to [::1]:port; true when a Binding success response comes back. */
function stunPing(port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp6');
    const txid = randomBytes(12);
    const req = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), txid]);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('message', (m) => done(m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(txid)));
    s.on('error', () => done(false));
    s.send(req, port, '::1');
  });
}

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Turn {
  port: number;
  minPort: number;
  maxPort: number;
  dir: string;
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** coturn in the foreground through scripts/turn.sh, ready when it answers STUN. */
async function startTurn(secret: string, extra: string[]): Promise<Turn> {
  const port = await freePort();
  // A random 200-port relay range, so the relay addresses in the selected pair can be checked against it.
  const minPort = 40_000 + Math.floor(Math.random() * 90) * 200;
  const maxPort = minPort + 199;
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-turn-'));
  const args = [SCRIPT, 'start', '--foreground', '--dir', dir, '--secret', secret, '--port', String(port), '--listen', '::1', '--relay-ip', '127.0.0.1', '--min-port', String(minPort), '--max-port', String(maxPort), '--verbose', ...extra];
  const proc = spawn('bash', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const logFile = path.join(dir, 'turnserver.log');
  const turn: Turn = {
    port, minPort, maxPort, dir, proc,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await until('coturn to answer STUN', async () => {
      if (proc.exitCode !== null) throw new Error(`turn.sh exited ${proc.exitCode}: ${stderr}\n${turn.log()}`);
      return stunPing(port);
    });
  } catch (e) {
    await turn.stop();
    throw e;
  }
  return turn;
}

/** The host and port of a "turn:host:port?transport=udp" URL, as node-datachannel wants them. */
function iceServerFrom(cred: TurnCredential): IceServer {
  const m = /^turn:(?:\[([^\]]+)\]|([^:?]+)):(\d+)\?transport=udp$/.exec(cred.urls[0]!);
  if (!m) throw new Error(`unexpected TURN URL ${cred.urls[0]}`);
  return { hostname: m[1] ?? m[2]!, port: Number(m[3]), username: cred.username, password: cred.credential, relayType: 'TurnUdp' };
}

/** Two peers signalled in-process, relay-only, bound to ::1; resolves once the DataChannel opens or after openWithinMs. */
async function relayPair(cred: TurnCredential, openWithinMs: number) {
  const config = { iceServers: [iceServerFrom(cred)], iceTransportPolicy: 'relay' as const, bindAddress: '::1' };
  const a = new PeerConnection('baton-turn-a', config);
  const b = new PeerConnection('baton-turn-b', config);
  const candidates: string[] = [];
  a.onLocalDescription((sdp, type) => b.setRemoteDescription(sdp, type));
  b.onLocalDescription((sdp, type) => a.setRemoteDescription(sdp, type));
  a.onLocalCandidate((c, mid) => (candidates.push(c), b.addRemoteCandidate(c, mid)));
  b.onLocalCandidate((c, mid) => (candidates.push(c), a.addRemoteCandidate(c, mid)));
  const channelB = new Promise<DataChannel>((resolve) => b.onDataChannel(resolve));
  const t0 = performance.now();
  const channelA = a.createDataChannel('baton-turn-test');
  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), openWithinMs);
    channelA.onOpen(() => (clearTimeout(timer), resolve(true)));
  });
  const openMs = performance.now() - t0;
  return {
    a, b, channelA, channelB, opened, openMs, candidates,
    close() {
      for (const x of [channelA, a, b]) {
        try {
          x.close();
        } catch {
          /* already closed */
        }
      }
    },
  };
}

/** Collects binary messages on a channel until `bytes` have arrived. */
function receive(ch: DataChannel, bytes: number, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    const timer = setTimeout(() => reject(new Error(`received ${n} of ${bytes} bytes`)), timeoutMs);
    ch.onMessage((m) => {
      const buf = typeof m === 'string' ? Buffer.from(m) : Buffer.from(m as ArrayBuffer);
      parts.push(buf);
      n += buf.length;
      if (n >= bytes) {
        clearTimeout(timer);
        resolve(Buffer.concat(parts));
      }
    });
  });
}

/** Sends `data` in chunks, waiting on bufferedAmount so SCTP is never flooded. */
async function send(ch: DataChannel, data: Buffer, chunk = 16 * 1024): Promise<void> {
  let wake: (() => void) | undefined;
  ch.setBufferedAmountLowThreshold(256 * 1024);
  ch.onBufferedAmountLow(() => wake?.());
  for (let off = 0; off < data.length; off += chunk) {
    // The callback arrives through the event loop, so checking and then waiting cannot miss it.
    if (ch.bufferedAmount() > 1024 * 1024) await new Promise<void>((r) => (wake = r));
    ch.sendMessageBinary(data.subarray(off, off + chunk));
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!HAVE_COTURN)('TURN relay for external users (coturn via scripts/turn.sh)', () => {
  const secret = randomBytes(24).toString('hex');
  let turn: Turn;
  const live: { close(): void }[] = [];
  const urls = () => [`turn:[::1]:${turn.port}?transport=udp`];

  beforeAll(async () => {
    turn = await startTurn(secret, ['--allow-loopback-peers']);
  });

  afterAll(async () => {
    for (const p of live) p.close();
    await turn?.stop();
    cleanup();
  });

  it('relays a DataChannel between two relay-only peers with credentials minted by TurnCredentials', async () => {
    const cred = new TurnCredentials({ secret, urls: urls(), ttlSeconds: 600 }).issue('p-alice');
    expect(TurnCredentials.verify(secret, cred.username, cred.credential)).toBe(true);

    const pair = await relayPair(cred, 10_000);
    live.push(pair);
    expect(pair.opened, `DataChannel did not open through TURN\n${turn.log().slice(-3000)}`).toBe(true);

    // Only relay candidates were signalled (host candidates filtered by the relay policy).
    expect(pair.candidates.length).toBeGreaterThan(0);
    for (const c of pair.candidates) expect(c).toMatch(/ typ relay /);

    // Both ends of the selected pair, on both peers, are coturn relay addresses from our relay range.
    for (const pc of [pair.a, pair.b]) {
      const sel = pc.getSelectedCandidatePair();
      expect(sel).not.toBeNull();
      for (const side of [sel!.local, sel!.remote]) {
        expect(side.type).toBe('relay');
        expect(side.address).toBe('127.0.0.1');
        expect(side.port).toBeGreaterThanOrEqual(turn.minPort);
        expect(side.port).toBeLessThanOrEqual(turn.maxPort);
      }
    }

    // Bytes both ways: small and large messages, compared by hash.
    const chB = await pair.channelB;
    const toB = randomBytes(200_000);
    const toA = randomBytes(150_000);
    const gotB = receive(chB, toB.length);
    const gotA = receive(pair.channelA, toA.length);
    await send(pair.channelA, toB);
    await send(chB, toA);
    expect(sha(await gotB)).toBe(sha(toB));
    expect(sha(await gotA)).toBe(sha(toA));

    // Bulk through the relay, for the report.
    const bulk = randomBytes(8 * 1024 * 1024);
    const t0 = performance.now();
    const gotBulk = receive(chB, bulk.length, 60_000);
    await send(pair.channelA, bulk);
    expect(sha(await gotBulk)).toBe(sha(bulk));
    const secs = (performance.now() - t0) / 1000;
    console.log(`TURN relay: DataChannel open in ${pair.openMs.toFixed(0)} ms; 8 MiB one way in ${secs.toFixed(2)} s = ${(8 / secs).toFixed(1)} MiB/s`);

    // coturn saw the minted username allocate relays.
    const log = await until('ALLOCATE success in the coturn log', () => {
      const l = turn.log();
      return l.includes(`user <${cred.username}>: incoming packet ALLOCATE processed, success`) && l;
    });
    expect(log).toMatch(/Local relay addr: 127\.0\.0\.1:\d+/);
    pair.close();
  });

  it('refuses a credential whose expiry is in the past (401, no channel)', async () => {
    // Right secret, but minted two minutes ago with a one-minute lifetime.
    const cred = new TurnCredentials({ secret, urls: urls(), ttlSeconds: 60, now: () => Date.now() - 120_000 }).issue('p-late');
    expect(Number(cred.username.split(':')[0]) * 1000).toBeLessThan(Date.now());
    expect(TurnCredentials.verify(secret, cred.username, cred.credential)).toBe(false);
    const pair = await relayPair(cred, 4000);
    live.push(pair);
    expect(pair.opened).toBe(false);
    expect(pair.candidates).toEqual([]); // no relay could be allocated
    await until('a 401 for the expired username', () => turn.log().includes(`user <${cred.username}>: incoming packet message processed, error 401`));
    expect(turn.log()).not.toContain(`user <${cred.username}>: incoming packet ALLOCATE processed, success`);
    pair.close();
  });

  it('refuses a credential signed with another secret (401, no channel)', async () => {
    const cred = new TurnCredentials({ secret: randomBytes(24).toString('hex'), urls: urls() }).issue('p-forger');
    expect(TurnCredentials.verify(secret, cred.username, cred.credential)).toBe(false);
    const pair = await relayPair(cred, 4000);
    live.push(pair);
    expect(pair.opened).toBe(false);
    expect(pair.candidates).toEqual([]);
    await until('a 401 for the forged username', () => turn.log().includes(`user <${cred.username}>: incoming packet message processed, error 401`));
    expect(turn.log()).not.toContain(`user <${cred.username}>: incoming packet ALLOCATE processed, success`);
    pair.close();
  });
});

describe.skipIf(!HAVE_COTURN)('scripts/turn.sh defaults', () => {
  const secret = randomBytes(24).toString('hex');

  it('without --allow-loopback-peers coturn allocates but refuses to relay to loopback (403 Forbidden IP)', async () => {
    const turn = await startTurn(secret, []);
    try {
      const cred = new TurnCredentials({ secret, urls: [`turn:[::1]:${turn.port}?transport=udp`] }).issue('p-ssrf');
      const pair = await relayPair(cred, 4000);
      try {
        expect(pair.opened).toBe(false);
        await until('a 403 on CREATE_PERMISSION', () => turn.log().includes(`user <${cred.username}>: incoming packet CREATE_PERMISSION processed, error 403: Forbidden IP`));
        expect(turn.log()).toContain(`user <${cred.username}>: incoming packet ALLOCATE processed, success`);
      } finally {
        pair.close();
      }
    } finally {
      await turn.stop();
    }
  });

  it('writes a private config with authentication and peer restrictions, and refuses weak secrets', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-turn-conf-'));
    try {
      const r = spawnSync('bash', [SCRIPT, 'config', '--dir', dir, '--secret', secret], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const conf = path.join(dir, 'turnserver.conf');
      expect(r.stdout.trim()).toBe(conf);
      const text = readFileSync(conf, 'utf8');
      const lines = text.split('\n');
      for (const l of ['use-auth-secret', `static-auth-secret=${secret}`, 'fingerprint', 'no-cli', 'no-tlsv1', 'no-tlsv1_1', 'no-multicast-peers', 'realm=baton', 'listening-port=3478', 'listening-ip=127.0.0.1', 'denied-peer-ip=10.0.0.0-10.255.255.255', 'denied-peer-ip=172.16.0.0-172.31.255.255', 'denied-peer-ip=192.168.0.0-192.168.255.255']) {
        expect(lines).toContain(l);
      }
      expect(lines).not.toContain('allow-loopback-peers');
      expect(lines).not.toContain('no-auth');
      // The secret is in this file: owner-only.
      expect(spawnSync('stat', ['-c', '%a', conf], { encoding: 'utf8' }).stdout.trim()).toBe('600');

      const weak = spawnSync('bash', [SCRIPT, 'config', '--dir', dir, '--secret', 'short'], { encoding: 'utf8' });
      expect(weak.status).not.toBe(0);
      expect(weak.stderr).toMatch(/at least 16/);
      const none = spawnSync('bash', [SCRIPT, 'config', '--dir', dir], { encoding: 'utf8', env: { ...process.env, BATON_TURN_SECRET: '' } });
      expect(none.status).not.toBe(0);
      expect(none.stderr).toMatch(/secret is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('start (daemon), status and stop manage one turnserver through its pid file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-turn-daemon-'));
    const port = await freePort();
    const sh = (...a: string[]) => spawnSync('bash', [SCRIPT, ...a, '--dir', dir], { encoding: 'utf8' });
    try {
      const start = sh('start', '--secret', secret, '--port', String(port), '--listen', '::1', '--relay-ip', '127.0.0.1');
      expect(start.status, start.stderr).toBe(0);
      const pid = Number(readFileSync(path.join(dir, 'turnserver.pid'), 'utf8').trim());
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('turnserver');
      expect(await until('the daemon to answer STUN', () => stunPing(port))).toBe(true);
      expect(sh('status').stdout).toContain(`running, pid ${pid}`);
      // A second start is refused instead of starting a second relay on the same files.
      expect(sh('start', '--secret', secret, '--port', String(port)).status).not.toBe(0);
      const stop = sh('stop');
      expect(stop.status, stop.stderr).toBe(0);
      expect(existsSync(`/proc/${pid}`)).toBe(false);
      expect(sh('status').status).toBe(3);
      expect(await stunPing(port)).toBe(false);
    } finally {
      sh('stop');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

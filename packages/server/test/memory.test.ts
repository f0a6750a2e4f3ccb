/**
 * Bounded memory against a client that never reads its replies (issue 9, item 3): a real server in
 * a child process (so its RSS is its own), an unadmitted lobby guest on a raw ws client that pauses
 * its socket and sends `ping` as fast as the server takes them. The server must drop that
 * connection (the organizer sees the guest's seat go "reconnecting") and its RSS must stay within
 * a bound measured here, also after the drop. The stated close reasons are checked in limits.test.ts,
 * with clients that read them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION } from '@baton/protocol';
import { TestClient, createConference, signUp } from './support.js';
import { startServerProcess, type ServerProcess } from './serverProcess.js';

/** How many pings the attacker sends at most (each about 100 bytes, each pong about as big). */
const PINGS = 400_000;
/** The server's RSS may grow by at most this much while it is attacked (before the fix: hundreds of MiB). */
const BOUND_MIB = 64;

describe('a conference socket that never reads', () => {
  let server: ServerProcess;
  let url: string;

  beforeAll(async () => {
    server = await startServerProcess('baton-mem-');
    url = server.url;
  });

  afterAll(async () => {
    await server?.stop();
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
    const before = server.rssMiB();

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
      if (sent % 20_000 === 0) peak = Math.max(peak, server.rssMiB());
    }
    const during = Math.max(peak, server.rssMiB());
    // The server refuses the flood at once (rate_limited, then close 4009), but lets go of the socket
    // only when the close handshake completes, or 5 s later for a client that never reads: on a quick
    // machine every ping is sent before that. Wait for the drop itself (terminating first would cause it).
    await drop.catch(() => {});
    ws.terminate();
    const after = server.rssMiB();
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

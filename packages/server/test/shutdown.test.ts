/**
 * A server that stops (restart, upgrade) does not wait forever for a client that stalls in the middle
 * of an HTTP request: after a bounded wait it cuts that connection and finishes closing, so the store
 * is closed and a new server can start on the same data.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { testServer } from './support.js';

describe('shutdown', () => {
  it('cuts an HTTP request that stalls mid-body, and closes', async () => {
    const srv = await testServer();
    const { port } = new URL(srv.url);
    const sock = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    const cut = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => {});
    // Headers promising 1000 bytes, then only 10 of them: the request stays under way.
    sock.write('POST /api/auth/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"usernam');
    // The server has the request (it answers /readyz meanwhile on another connection) before it is told to stop.
    expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);
    await srv.dispose();
    await cut;
    expect(sock.destroyed).toBe(true);
  }, 30_000);
});

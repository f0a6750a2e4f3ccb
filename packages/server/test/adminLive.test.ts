/**
 * baton-admin's operator commands against a real running server and its store: conference list and
 * end (through /api/admin with the token the server leaves in the data directory), session list and
 * revoke, chat export as JSON and text. The CLI runs in-process (runAdmin, what the bin calls) with
 * its output captured; the server is real (HTTP, WebSockets, SQLite).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from '../src/admin.js';
import { TestClient, api, createConference, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;

async function admin(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runAdmin(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([]),
    env,
  });
  return { code, stdout, stderr };
}

describe('baton-admin: live conferences, sessions, chat export', () => {
  let srv: Server;
  let alice = '';
  let conf = '';
  let host: TestClient;
  let guest: TestClient;
  const dd = () => ['--data-dir', srv.dataDir];

  beforeAll(async () => {
    srv = await testServer();
    alice = await signUp(srv.url, 'alice');
    await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, alice, { guests: 'allow' }, 'Quarterly review');
    host = new TestClient(srv.url, conf, { cookie: alice });
    await host.hello();
    const welcome = await host.next('welcome');
    guest = new TestClient(srv.url, conf);
    await guest.hello({ name: 'Gus' });
    const gw = await guest.next('welcome');
    expect((await host.request({ type: 'chat.send', text: 'Welcome, everyone.\nAgenda below.' })).type).toBe('ack');
    expect((await guest.request({ type: 'chat.send', text: 'hi' })).type).toBe('ack');
    expect((await guest.request({ type: 'chat.send', text: 'just for you', to: welcome.self })).type).toBe('ack');
    void gw;
  });
  afterAll(async () => {
    host?.close();
    guest?.close();
    await srv?.dispose();
  });

  it('the server leaves its URL and a token for baton-admin in the data directory, readable by its user only', () => {
    const file = path.join(srv.dataDir, 'admin-api.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ url: srv.url, pid: process.pid });
  });

  it('refuses /api/admin without the token or to a user without admin rights', async () => {
    expect((await api(srv.url, 'GET', '/api/admin/conferences')).status).toBe(401);
    expect((await api(srv.url, 'GET', '/api/admin/conferences', undefined, alice)).status).toBe(403);
    const wrong = await fetch(`${srv.url}/api/admin/conferences`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('conference list shows the live meeting with who is in it', async () => {
    const r = await admin([...dd(), 'conference', 'list']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [head, row] = r.stdout.trim().split('\n');
    expect(head).toMatch(/^MEETING\s+SUBJECT\s+ORGANIZER\s+PARTICIPANTS\s+LOBBY\s+SHARING\s+LIVE SINCE$/);
    expect(row).toContain(conf);
    expect(row).toContain('Quarterly review');
    expect(row!.split(/\s{2,}/).slice(2, 6)).toEqual(['alice', '2', '0', '-']);
  });

  it('chat export: text for people (a message\'s lines indented), JSON with private messages only when asked', async () => {
    const text = await admin([...dd(), 'chat', 'export', conf]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Chat of "Quarterly review"');
    expect(text.stdout).toMatch(/\] Alice \(alice\): Welcome, everyone\.\n {4}Agenda below\.\n/);
    expect(text.stdout).toMatch(/\] Gus \(guest\): hi\n/);
    expect(text.stdout).not.toContain('just for you');

    const json = await admin([...dd(), 'chat', 'export', conf, '--format', 'json', '--private']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { meeting: { id: string }; messages: { from: string; user: string | null; to?: string; text: string }[] };
    expect(doc.meeting.id).toBe(conf);
    expect(doc.messages.map((m) => m.text)).toEqual(['Welcome, everyone.\nAgenda below.', 'hi', 'just for you']);
    expect(doc.messages[2]).toMatchObject({ from: 'Gus', user: null, to: 'Alice' });

    expect((await admin([...dd(), 'chat', 'export', 'no-such-meeting'])).code).toBe(1);
    expect((await admin([...dd(), 'chat', 'export', conf, '--format', 'xml'])).code).toBe(2);
  });

  it('session list and revoke: one session, or all of them', async () => {
    const second = (await api(srv.url, 'POST', '/api/auth/signin', { username: 'bob', password: 'correct horse battery' })).setCookie!.split(';')[0]!;
    const list = await admin([...dd(), 'session', 'list', 'bob']);
    expect(list.code).toBe(0);
    const ids = list.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]!);
    expect(ids).toHaveLength(2);
    // The newest first: the sign-in above.
    expect((await api(srv.url, 'GET', '/api/me', undefined, second)).status).toBe(200);
    const revoke = await admin([...dd(), 'session', 'revoke', 'bob', ids[0]!]);
    expect(revoke.stdout).toContain('revoked 1 session of bob');
    expect((await api(srv.url, 'GET', '/api/me', undefined, second)).status).toBe(401);
    expect((await admin([...dd(), 'session', 'list', 'bob'])).stdout.trim().split('\n')).toHaveLength(2);
    // An id that names no session revokes nothing.
    expect((await admin([...dd(), 'session', 'revoke', 'bob', 'abcdef'])).code).toBe(1);
    expect((await admin([...dd(), 'session', 'revoke', 'bob'])).code).toBe(2);
    expect((await admin([...dd(), 'session', 'revoke', 'bob', '--all'])).stdout).toContain('revoked 1 session of bob');
    expect((await admin([...dd(), 'session', 'list', 'bob'])).stdout).toBe('bob has no sessions\n');
    expect((await admin([...dd(), 'session', 'list', 'nobody'])).code).toBe(1);
  });

  it('conference end: everyone is told and disconnected; the list is empty after', async () => {
    const r = await admin([...dd(), 'conference', 'end', conf]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await host.next('conference.ended')).toMatchObject({ name: 'An administrator' });
    expect((await guest.closed).code).toBe(4004);
    expect((await admin([...dd(), 'conference', 'list'])).stdout).toBe('no live conferences\n');
    // Not live any more: a clear refusal.
    const again = await admin([...dd(), 'conference', 'end', conf]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no such live conference');
  });

  it('live commands say when no server is there', async () => {
    const r = await admin(['--data-dir', path.join(srv.dataDir, 'elsewhere'), 'conference', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no running server found');
    const token = JSON.parse(readFileSync(path.join(srv.dataDir, 'admin-api.json'), 'utf8')).token as string;
    const explicit = await admin(['conference', 'list', '--server', srv.url], { BATON_ADMIN_TOKEN: token });
    expect(explicit.code).toBe(0);
    expect(existsSync(path.join(srv.dataDir, 'admin-api.json'))).toBe(true);
  });
});

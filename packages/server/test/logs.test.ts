/**
 * The JSON log of a real server through a sign-in, an agent token, a resume, a sharing ticket and a
 * scrape: every line is JSON, request lines carry a request id, conference lines the conference id,
 * and no secret (password, session cookie, tokens, ticket, metrics token, query values) appears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, encodeShareMessage } from '@baton/protocol';
import { TestClient, api, createConference, testServer } from './support.js';
import { redactUrl } from '../src/logging.js';

type Server = Awaited<ReturnType<typeof testServer>>;
const PASSWORD = 'Zq7-unguessable-passphrase';
const METRICS_TOKEN = 'metrics-secret-9f8e7d6c5b4a';

describe('the server log', () => {
  let srv: Server;
  const lines: string[] = [];
  beforeAll(async () => {
    srv = await testServer({ logLevel: 'debug', metricsToken: METRICS_TOKEN, logStream: { write: (l: string) => void lines.push(l) } });
  });
  afterAll(async () => srv.dispose());

  it('has request ids and conference ids, and no secrets', async () => {
    const secrets: string[] = [PASSWORD, METRICS_TOKEN];
    const signup = await api(srv.url, 'POST', '/api/auth/signup', { username: 'alice', password: PASSWORD, displayName: 'Alice' });
    expect(signup.status).toBe(201);
    const signin = await api(srv.url, 'POST', '/api/auth/signin', { username: 'alice', password: PASSWORD });
    expect(signin.status).toBe(200);
    const cookie = signin.setCookie!.split(';')[0]!;
    secrets.push(cookie.split('=')[1]!, signup.setCookie!.split(';')[0]!.split('=')[1]!);
    // A wrong password too: the failure is logged, the password is not.
    expect((await api(srv.url, 'POST', '/api/auth/signin', { username: 'alice', password: `${PASSWORD}-wrong` })).status).toBe(401);
    // The session cookie on a plain request, and a query string carrying a token.
    expect((await api(srv.url, 'GET', '/api/me', undefined, cookie)).status).toBe(200);
    await fetch(`${srv.url}/api/nothing-here?token=query-secret-123456&ticket=query-ticket-654321`);
    secrets.push('query-secret-123456', 'query-ticket-654321');
    // The metrics token, right and wrong.
    expect((await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${srv.url}/metrics`, { headers: { authorization: 'Bearer wrong-but-secret-777777' } })).status).toBe(401);
    secrets.push('wrong-but-secret-777777');

    const conf = await createConference(srv.url, cookie, { guests: 'allow' });
    const tok = await api(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, cookie);
    secrets.push(tok.body.token);
    const agent = new TestClient(srv.url, conf);
    await agent.hello({ client: 'agent', agentToken: tok.body.token });
    const w = await agent.next('welcome');
    secrets.push(w.resumeToken);
    // A spent agent token, used again: refused (and logged, if at all, without the token).
    const again = new TestClient(srv.url, conf);
    await again.hello({ client: 'agent', agentToken: tok.body.token });
    await again.closed;
    // The agent's connection drops and it comes back with its resume token.
    agent.ws.terminate();
    const back = new TestClient(srv.url, conf);
    await back.hello({ client: 'agent', resume: w.resumeToken });
    expect((await back.next('welcome')).self).toBe(w.self);
    // A sharing ticket, redeemed on the sharing socket, and a forged one.
    expect(await back.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    const ticket = ((await back.request({ type: 'share.ticket' })) as unknown as { ticket: string }).ticket;
    secrets.push(ticket);
    for (const t of [ticket, 'forged-ticket-abcdef123456']) {
      const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/ws/share?ticket=${t}`);
      ws.on('error', () => {});
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: t }));
      if (t !== ticket) await new Promise((resolve) => ws.once('close', resolve));
      else ws.close();
    }
    secrets.push('forged-ticket-abcdef123456');
    // A guest, and a chat message.
    const guest = new TestClient(srv.url, conf);
    await guest.hello({ name: 'Gus' });
    const gw = await guest.next('welcome');
    secrets.push(gw.resumeToken);
    expect(await guest.request({ type: 'chat.send', text: 'hello' })).toMatchObject({ type: 'ack' });
    // A bad frame on the conference socket: a warning line about this conference.
    guest.ws.send('{not json');
    await guest.closed;
    back.close();
    await back.closed;
    // Should code ever log a message or headers whole, the known secret fields are censored.
    srv.app.log.info({ token: 'field-secret-1111', msg: { resume: 'field-secret-2222', ticket: 'field-secret-3333' }, headers: { authorization: 'Bearer field-secret-4444', cookie: 'baton_session=field-secret-5555' } }, 'a careless line');
    secrets.push('field-secret-1111', 'field-secret-2222', 'field-secret-3333', 'field-secret-4444', 'field-secret-5555');

    const log = lines.join('');
    if (process.env.SHOW_LOG) console.log(log);
    const records = lines.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const s of secrets) expect(log, `a secret (${s.slice(0, 4)}…) is in the log`).not.toContain(s);

    const requests = records.filter((r) => r.req || r.res);
    expect(requests.length).toBeGreaterThan(10);
    for (const r of requests) expect(r.reqId, JSON.stringify(r)).toMatch(/^[0-9a-f]{16}$/);
    // The query string is logged by name only.
    expect(requests.some((r) => (r.req as { url?: string } | undefined)?.url === '/api/nothing-here?token=…&ticket=…')).toBe(true);
    // Lines about the conference carry its id.
    const aboutConference = records.filter((r) => r.conference === conf);
    expect(aboutConference.map((r) => r.msg)).toEqual(expect.arrayContaining(['conference started', 'joined', 'closing a conference socket', 'conference socket closed']));
    expect(records.find((r) => r.msg === 'a careless line')).toMatchObject({ token: '[redacted]', headers: { authorization: '[redacted]', cookie: '[redacted]' } });
  });

  it('hides every query value', () => {
    expect(redactUrl('/ws/share?ticket=abc&x=1')).toBe('/ws/share?ticket=…&x=…');
    expect(redactUrl('/api/me')).toBe('/api/me');
  });
});

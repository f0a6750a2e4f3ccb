/**
 * Web security over real HTTP (a listening server, Node's fetch and http, the ws client): security
 * headers, Origin checks on every mutating request and on the WebSocket handshake, the per-user
 * conference cap, the paginated conference list, the sign-up password policy, and meeting URLs
 * from the configured public URL.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

async function call(base: string, method: string, url: string, opts: { body?: unknown; cookie?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const res = await fetch(base + url, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...opts.headers,
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* HTML */
  }
  return { status: res.status, headers: res.headers, body };
}

/** A request with a Host header of our choosing (fetch does not let us set one). */
function rawRequest(base: string, method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const u = new URL(base);
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method, path: url, headers: { ...headers, ...(data ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function directives(csp: string | null): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const part of (csp ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) m.set(name, values);
  }
  return m;
}

/** The status of a WebSocket handshake: 101 when it opened, else the HTTP status of the refusal. */
function handshake(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('error', (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

describe('security headers', () => {
  let srv: Server;
  let webDir: string;
  beforeAll(async () => {
    // A web directory of our own: the e2e tests rebuild packages/web/dist meanwhile.
    webDir = mkdtempSync(path.join(tmpdir(), 'baton-web-'));
    mkdirSync(path.join(webDir, 'assets'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Baton</title><script type="module" src="/assets/app.js"></script>');
    writeFileSync(path.join(webDir, 'assets/app.js'), 'export {};');
    srv = await testServer({ webDir });
  });
  afterAll(async () => {
    await srv.dispose();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('the pages, assets and API carry a strict CSP that forbids framing, and the other headers', async () => {
    for (const url of ['/', '/m/some-meeting-id', '/assets/app.js', '/api/me', '/healthz']) {
      const r = await call(srv.url, 'GET', url);
      const csp = directives(r.headers.get('content-security-policy'));
      expect(csp.get('frame-ancestors'), url).toEqual(["'none'"]);
      expect(csp.get('script-src'), url).toEqual(["'self'"]);
      expect(csp.get('script-src-attr'), url).toEqual(["'none'"]);
      expect(csp.get('object-src'), url).toEqual(["'none'"]);
      expect(csp.get('default-src'), url).toEqual(["'self'"]);
      expect(csp.get('worker-src'), url).toEqual(["'self'"]);
      expect(csp.get('connect-src'), url).toContain("'self'");
      expect([...csp.values()].flat().some((v) => /unsafe-(inline|eval)/.test(v)), url).toBe(false);
      // Plain http: no upgrade and no HSTS.
      expect(csp.has('upgrade-insecure-requests'), url).toBe(false);
      expect(r.headers.get('strict-transport-security'), url).toBeNull();
      expect(r.headers.get('x-frame-options'), url).toBe('DENY');
      expect(r.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(r.headers.get('referrer-policy'), url).toBe('same-origin');
      const pp = (r.headers.get('permissions-policy') ?? '').split(/,\s*/);
      for (const f of ['display-capture', 'microphone', 'camera', 'fullscreen', 'clipboard-read', 'clipboard-write']) expect(pp, url).toContain(`${f}=(self)`);
      expect(pp, url).toContain('geolocation=()');
    }
  });

  it('HSTS and upgrade-insecure-requests only with an https public URL', async () => {
    const https = await testServer({ publicUrl: 'https://meet.example.org' });
    try {
      const r = await call(https.url, 'GET', '/api/me');
      expect(r.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}$/);
      const csp = directives(r.headers.get('content-security-policy'));
      expect(csp.has('upgrade-insecure-requests')).toBe(true);
      expect(csp.get('connect-src')).toEqual(["'self'", 'wss://meet.example.org']);
    } finally {
      await https.dispose();
    }
  });
});

describe('cross-site request forgery', () => {
  let srv: Server;
  let alice: string;
  let conf: string;
  beforeAll(async () => {
    srv = await testServer();
    alice = await signUp(srv.url, 'alice');
    conf = (await call(srv.url, 'POST', '/api/conferences', { body: { subject: 'Plans' }, cookie: alice })).body.id;
  });
  afterAll(async () => srv.dispose());

  const stillSignedIn = async () => (await call(srv.url, 'GET', '/api/me', { cookie: alice })).status === 200;

  it('refuses signout (an empty-body POST) from a foreign Origin with a 403 JSON error, and the session stays', async () => {
    const r = await call(srv.url, 'POST', '/api/auth/signout', { cookie: alice, headers: { origin: 'https://evil.example' } });
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body.error.code).toBe('forbidden');
    expect(r.body.error.message).toMatch(/cross-site request refused: Origin "https:\/\/evil.example" is not http:\/\/127\.0\.0\.1:\d+/);
    expect(await stillSignedIn()).toBe(true);
  });

  it('refuses agent-token minting from a foreign Origin, or from the same host with another scheme or port', async () => {
    const port = Number(new URL(srv.url).port);
    for (const origin of ['https://evil.example', 'null', `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`, `http://localhost:${port}`, 'not a url']) {
      const r = await call(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, { body: {}, cookie: alice, headers: { origin } });
      expect(r.status, origin).toBe(403);
      expect(r.body.token, origin).toBeUndefined();
      expect(r.body.error.code, origin).toBe('forbidden');
    }
    // Without a body type too (the old check let any empty-body request through).
    const bare = await call(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, { cookie: alice, headers: { origin: 'https://evil.example' } });
    expect(bare.status).toBe(403);
    // DELETE and PATCH are mutating as well.
    expect((await call(srv.url, 'PATCH', `/api/conferences/${conf}`, { body: { subject: 'pwned' }, cookie: alice, headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect((await call(srv.url, 'DELETE', `/api/conferences/${conf}`, { cookie: alice, headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect((await call(srv.url, 'GET', `/api/conferences/${conf}`, { cookie: alice })).body.subject).toBe('Plans');
  });

  it('refuses a browser request without Origin whose Sec-Fetch-Site is cross-site or same-site', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const r = await call(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, { body: {}, cookie: alice, headers: { 'sec-fetch-site': site } });
      expect(r.status, site).toBe(403);
      expect(r.body.error.message).toMatch(/cross-site request refused \(Sec-Fetch-Site/);
    }
    const hidden = await call(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, { body: {}, cookie: alice, headers: { origin: 'null', 'sec-fetch-site': 'cross-site' } });
    expect(hidden.status).toBe(403);
  });

  it('accepts same-origin requests, Sec-Fetch-Site same-origin or none, and non-browser clients (no Origin, no Sec-Fetch-Site)', async () => {
    const cases: Record<string, string>[] = [
      { origin: srv.url },
      { origin: `${srv.url}/` },
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
      { origin: 'null', 'sec-fetch-site': 'same-origin' }, // Firefox hides the origin under some referrer policies
      {},
    ];
    for (const headers of cases) {
      const r = await call(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, { body: {}, cookie: alice, headers });
      expect(r.status, JSON.stringify(headers)).toBe(200);
      expect(r.body.token).toMatch(/\S{20,}/);
    }
    const other = await signUp(srv.url, 'ollie');
    const out = await call(srv.url, 'POST', '/api/auth/signout', { cookie: other, headers: { origin: srv.url, 'sec-fetch-site': 'same-origin' } });
    expect(out.status).toBe(204);
    expect((await call(srv.url, 'GET', '/api/me', { cookie: other })).status).toBe(401);
  });

  it('accepts the configured public URL as an origin (behind a reverse proxy)', async () => {
    const proxied = await testServer({ publicUrl: 'https://meet.example.org' });
    try {
      const cookie = await signUp(proxied.url, 'petra');
      expect((await call(proxied.url, 'POST', '/api/auth/signout', { cookie, headers: { origin: 'https://meet.example.org' } })).status).toBe(204);
      expect((await call(proxied.url, 'POST', '/api/auth/signout', { cookie, headers: { origin: 'http://meet.example.org' } })).status).toBe(403);
    } finally {
      await proxied.dispose();
    }
  });

  it('behind a reverse proxy with --trust-proxy, the forwarded scheme and host make the own origin', async () => {
    const proxied = await testServer({ trustProxy: true });
    try {
      const cookie = await signUp(proxied.url, 'rita');
      const headers = { origin: 'https://meet.example.org', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'meet.example.org' };
      expect((await call(proxied.url, 'POST', '/api/conferences', { body: { subject: 'x' }, cookie, headers })).status).toBe(201);
      expect((await call(proxied.url, 'POST', '/api/conferences', { body: { subject: 'x' }, cookie, headers: { ...headers, 'x-forwarded-proto': 'http' } })).status).toBe(403);
      const ws = `${proxied.url.replace(/^http/, 'ws')}/ws/conference/nonexistent-conference`;
      expect(await handshake(ws, { cookie, ...headers, origin: 'https://evil.example' })).toBe(403);
    } finally {
      await proxied.dispose();
    }
    // Without --trust-proxy the same forwarded headers are ignored: the request came to plain http.
    const forged = await call(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {
      body: {},
      cookie: alice,
      headers: { origin: 'https://meet.example.org', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'meet.example.org' },
    });
    expect(forged.status).toBe(403);
  });

  it('the WebSocket handshake compares scheme, host and port of the Origin', async () => {
    const ws = `${srv.url.replace(/^http/, 'ws')}/ws/conference/${conf}`;
    const port = Number(new URL(srv.url).port);
    expect(await handshake(ws, { cookie: alice, origin: srv.url })).toBe(101);
    expect(await handshake(ws, {})).toBe(101); // the agent: no Origin
    for (const origin of [`https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`, 'https://evil.example', 'null']) {
      expect(await handshake(ws, { cookie: alice, origin }), origin).toBe(403);
    }
  });
});

describe('limits', () => {
  let srv: Server;
  beforeAll(async () => {
    srv = await testServer({ maxConferencesPerUser: 5, publicUrl: 'https://meet.example.org' });
  });
  afterAll(async () => srv.dispose());

  it('caps the conferences one user organizes, exactly, even under racing requests', async () => {
    const cookie = await signUp(srv.url, 'racer');
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => call(srv.url, 'POST', '/api/conferences', { body: { subject: `m${i}` }, cookie })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    expect(refused[0]!.body.error.message).toMatch(/you organize 5 meetings, the most this server allows \(5\); delete some first/);
    // Deleting one frees a place; other users have their own.
    const first = results.find((r) => r.status === 201)!.body.id;
    expect((await call(srv.url, 'DELETE', `/api/conferences/${first}`, { cookie })).status).toBe(204);
    expect((await call(srv.url, 'POST', '/api/conferences', { body: { subject: 'again' }, cookie })).status).toBe(201);
    expect((await call(srv.url, 'POST', '/api/conferences', { body: { subject: 'sixth' }, cookie })).status).toBe(403);
    const other = await signUp(srv.url, 'calm');
    expect((await call(srv.url, 'POST', '/api/conferences', { body: { subject: 'mine' }, cookie: other })).status).toBe(201);
  });

  it('pages the conference list, newest first, with a cursor that survives deletions', async () => {
    const big = await testServer({ maxConferencesPerUser: 50 });
    try {
      const cookie = await signUp(big.url, 'pager');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await call(big.url, 'POST', '/api/conferences', { body: { subject: `p${i}` }, cookie })).body.id);
      const all = (await call(big.url, 'GET', '/api/conferences', { cookie })).body;
      expect(all.next).toBeNull();
      expect(all.conferences).toHaveLength(7);
      const order: string[] = all.conferences.map((c: { id: string }) => c.id);
      expect(new Set(order)).toEqual(new Set(ids));

      const p1 = (await call(big.url, 'GET', '/api/conferences?limit=3', { cookie })).body;
      expect(p1.conferences.map((c: { id: string }) => c.id)).toEqual(order.slice(0, 3));
      expect(p1.next).toEqual(expect.any(String));
      // A meeting of page 1 is deleted meanwhile: page 2 neither repeats nor skips.
      await call(big.url, 'DELETE', `/api/conferences/${order[1]}`, { cookie });
      const p2 = (await call(big.url, 'GET', `/api/conferences?limit=3&cursor=${p1.next}`, { cookie })).body;
      expect(p2.conferences.map((c: { id: string }) => c.id)).toEqual(order.slice(3, 6));
      const p3 = (await call(big.url, 'GET', `/api/conferences?limit=3&cursor=${p2.next}`, { cookie })).body;
      expect(p3.conferences.map((c: { id: string }) => c.id)).toEqual(order.slice(6));
      expect(p3.next).toBeNull();

      for (const q of ['limit=0', 'limit=101', 'limit=x', 'cursor=garbage', 'other=1']) {
        expect((await call(big.url, 'GET', `/api/conferences?${q}`, { cookie })).status, q).toBe(400);
      }
      // Someone else's cursor shows nothing of the owner's.
      const stranger = await signUp(big.url, 'stranger');
      expect((await call(big.url, 'GET', `/api/conferences?limit=3&cursor=${p1.next}`, { cookie: stranger })).body.conferences).toEqual([]);
    } finally {
      await big.dispose();
    }
  });

  it('sign-up refuses common and low-entropy passwords with a clear message', async () => {
    for (const password of ['password123', 'Qwerty123!', 'iloveyou', 'aaaaaaaaaa', 'abcdefgh1234']) {
      const r = await call(srv.url, 'POST', '/api/auth/signup', { body: { username: 'weak', password } });
      expect(r.status, password).toBe(400);
      expect(r.body.error.message, password).toMatch(/(most common passwords|too easy to guess).*; choose another/);
    }
    expect((await call(srv.url, 'POST', '/api/auth/signup', { body: { username: 'weak', password: 'weak12345!' } })).status).toBe(400); // the username and little else
    expect((await call(srv.url, 'POST', '/api/auth/signup', { body: { username: 'weak', password: 'violet tractor lamp' } })).status).toBe(201);
  });

  it('meeting URLs use the configured public URL, whatever Host the request names', async () => {
    const cookie = await signUp(srv.url, 'hosty');
    const headers = { host: 'evil.example', cookie };
    const created = await rawRequest(srv.url, 'POST', '/api/conferences', headers, { subject: 'Host test' });
    expect(created.status).toBe(201);
    expect(created.body.url).toBe(`https://meet.example.org/m/${created.body.id}`);
    const token = await rawRequest(srv.url, 'POST', `/api/conferences/${created.body.id}/agent-tokens`, headers, {});
    expect(token.body.command).toContain(` https://meet.example.org/m/${created.body.id} `);
    const list = await rawRequest(srv.url, 'GET', '/api/conferences', headers);
    expect(list.body.conferences[0].url).toBe(`https://meet.example.org/m/${created.body.id}`);
  });
});

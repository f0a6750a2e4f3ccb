/**
 * The OpenAPI description at /api/docs: valid OpenAPI 3 (swagger-parser), and it lists every route
 * the server registered (Fastify's onRoute, collected in BatonServer.routes), so a route added
 * without a schema fails here. Hidden routes are allowed only for the web client's static files,
 * the documentation's own pages and routes that say why (route config `undocumented`).
 * Also: zod validation keeps the API's error shape, and /healthz and /readyz answer as docs/deploy.md says.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;
type Doc = { openapi: string; paths: Record<string, Record<string, { summary?: string; security?: unknown[]; parameters?: unknown[]; requestBody?: unknown }>> };

describe('OpenAPI at /api/docs', () => {
  let srv: Server;
  let webDir = '';
  let doc: Doc;

  beforeAll(async () => {
    // A small web build of its own, so the static file routes are there whether or not the web is built.
    webDir = mkdtempSync(path.join(tmpdir(), 'baton-openapi-web-'));
    mkdirSync(path.join(webDir, 'assets'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Baton</title>');
    writeFileSync(path.join(webDir, 'assets', 'app.js'), '');
    srv = await testServer({ webDir, metricsToken: 'scrape-me-0123456789abcdef' });
    const res = await fetch(`${srv.url}/api/docs/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });
  afterAll(async () => {
    await srv?.dispose();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('is valid OpenAPI 3', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('lists every registered route', () => {
    // @fastify/swagger lists a route without a schema too, bare: a documented route has its summary.
    const documented = (method: string, url: string) => !!doc.paths[url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[method.toLowerCase()]?.summary;
    const staticFile = (url: string) => url === '/' || existsSync(path.join(webDir, url));
    const allowedHidden = (r: Server['routes'][number]) => !!r.undocumented || r.url === '/api/docs' || r.url.startsWith('/api/docs/') || staticFile(r.url);
    const byKey = new Map(srv.routes.map((r) => [`${r.method} ${r.url}`, r]));
    const missing: string[] = [];
    for (const r of srv.routes) {
      // Fastify adds HEAD for every GET; it is documented (or allowed) through its GET.
      const base = r.method === 'HEAD' ? byKey.get(`GET ${r.url}`) : r;
      if (r.method === 'HEAD' && base) continue;
      if (r.hidden ? !allowedHidden(r) : !documented(r.method, r.url)) missing.push(`${r.method} ${r.url}`);
    }
    expect(missing).toEqual([]);
    // The check is not vacuous: the API's routes are there, and the static files were seen as routes.
    expect(srv.routes.some((r) => r.url === '/assets/app.js')).toBe(true);
    for (const p of ['/api/auth/signin', '/api/conferences', '/api/conferences/{id}', '/healthz', '/readyz', '/metrics']) expect(doc.paths[p], p).toBeTruthy();
  });

  it('describes bodies, parameters and sign-in from the zod schemas', () => {
    const create = doc.paths['/api/conferences']!.post!;
    expect(create.security).toEqual([{ session: [] }]);
    expect(JSON.stringify(create.requestBody)).toContain('policy');
    expect(JSON.stringify(doc.paths['/api/conferences/{id}']!.patch!.parameters)).toContain('"id"');
    expect(JSON.stringify(doc.paths['/api/conferences']!.get!.parameters)).toContain('"cursor"');
  });

  it('serves a readable page at /api/docs', async () => {
    const res = await fetch(`${srv.url}/api/docs/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('swagger');
  });

  it('keeps the API error shape: 401 before validation, 400 with the field named', async () => {
    expect((await api(srv.url, 'POST', '/api/conferences', { nonsense: 1 })).status).toBe(401);
    const bad = await api(srv.url, 'POST', '/api/auth/signup', { username: '!', password: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('bad_request');
    expect(bad.body.error.message).toContain('username');
    const cookie = await signUp(srv.url, 'olga');
    const list = await api(srv.url, 'GET', '/api/conferences?limit=0', undefined, cookie);
    expect(list.status).toBe(400);
    expect(list.body.error.message).toContain('limit');
    expect((await api(srv.url, 'GET', '/api/conferences?limit=5', undefined, cookie)).status).toBe(200);
  });

  it('/healthz and /readyz: ready with the store up, audio optional; 503 once the store is gone', async () => {
    expect((await api(srv.url, 'GET', '/healthz')).body).toMatchObject({ ok: true });
    const ready = await api(srv.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, store: 'ok', shuttingDown: false, audio: 'unconfigured' });
    await srv.store.close();
    const down = await api(srv.url, 'GET', '/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ready: false, store: 'unreachable' });
    expect((await api(srv.url, 'GET', '/healthz')).status).toBe(200);
  });
});

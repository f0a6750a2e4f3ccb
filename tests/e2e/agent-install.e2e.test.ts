/**
 * End to end, issue 12 item 4 "install from the server": the organizer's Share desktop dialog gives
 * an `npx --yes <server>/agent/baton-agent.tgz share …` command; run exactly that from an empty
 * directory outside the repository (its own HOME and npm cache, so nothing comes from this checkout
 * or an earlier run; the npm registry is reached as this machine reaches it), on Xvfb, and a viewer's
 * canvas shows the host's pixels. Also: the /agent routes' content type, ETag, SHA-256 and that
 * nothing else under /agent/ is served.
 *
 * The first npx run downloads sharp, node-datachannel and the rest from the registry: about 20-60 s
 * on a good line, so the test allows minutes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { Painter, type Rgb } from '../../packages/agent/test/helpers/painter.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/agent-install.e2e.test.ts');
const W = 1024;
const H = 640;
const LEFT: Rgb = [210, 40, 40];
const RIGHT: Rgb = [40, 90, 210];

describe.skipIf(!OK)('the agent installs from the Baton server with npx and shares', () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let sandbox: string;
  let browser: Browser;
  let org: Page;
  let bob: Page;
  let conf = '';
  let agent: ChildProcess | undefined;
  let agentOut = '';

  beforeAll(async () => {
    buildWeb();
    // `npm run build` packs the agent; packed again here so the test serves this tree's agent.
    execFileSync(process.execPath, [path.join(ROOT, 'packages/agent/scripts/pack.mjs')], { stdio: 'inherit' });
    xvfb = await startXvfb(W, H);
    painter = await Painter.open(xvfb.display);
    await painter.window(0, 0, W / 2, H, LEFT);
    await painter.window(W / 2, 0, W / 2, H, RIGHT);
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-install-e2e-'));
    sandbox = mkdtempSync(path.join(tmpdir(), 'baton-install-host-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    const alice = await signUp(srv.url, 'alice');
    const bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, alice, { guests: 'allow', control: 'signed-in' }, 'Install demo');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = async (cookie: string) => {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
      await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: srv.url }]);
      ctx.setDefaultTimeout(15_000);
      return ctx.newPage();
    };
    org = await page(alice);
    bob = await page(bobCookie);
  }, 180_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await browser?.close();
    await srv?.close();
    await painter?.close();
    await xvfb?.stop();
    for (const d of [dataDir, sandbox]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('serves the tarball and its SHA-256 with an ETag, and nothing else under /agent/', async () => {
    const tgz = await fetch(`${srv.url}/agent/baton-agent.tgz`);
    expect(tgz.status).toBe(200);
    expect(tgz.headers.get('content-type')).toBe('application/gzip');
    const bytes = Buffer.from(await tgz.arrayBuffer());
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(tgz.headers.get('etag')).toBe(`"${sha}"`);
    const sum = await fetch(`${srv.url}/agent/baton-agent.tgz.sha256`);
    expect(sum.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await sum.text()).toBe(`${sha}  baton-agent.tgz\n`);
    // The same file under the name of this build; another build's name is not found.
    const named = await fetch(`${srv.url}/agent/${sha.slice(0, 16)}/baton-agent.tgz`);
    expect(named.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await named.arrayBuffer())).digest('hex')).toBe(sha);
    expect((await fetch(`${srv.url}/agent/0123456789abcdef/baton-agent.tgz`)).status).toBe(404);
    // A cached copy is revalidated, not sent again.
    const again = await fetch(`${srv.url}/agent/baton-agent.tgz`, { headers: { 'If-None-Match': `"${sha}"` } });
    expect(again.status).toBe(304);
    // Only the two names exist: no traversal out of the pack directory, no index.html fallback.
    // Sent as raw request lines: fetch() would resolve the dot segments itself before sending.
    const raw = (p: string) =>
      new Promise<{ status: number; type: string }>((resolve, reject) => {
        http.get(`${srv.url}/`, { path: p }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '' });
        }).on('error', reject);
      });
    for (const p of ['/agent/', '/agent/package.json', '/agent/../../package.json', '/agent/..%2f..%2fpackage.json', '/agent/%2e%2e/%2e%2e/package.json', '/agent/baton-agent.tgz%00.sha256', '/agent/baton-agent.tgz/', `/agent/..%2f..%2f/baton-agent.tgz`, '/agent/x/../baton-agent.tgz.sha256/']) {
      const r = await raw(p);
      expect.soft(r.status, p).toBe(404);
      expect.soft(r.type, p).toMatch(/json/);
    }
  });

  it("the dialog's command, run from an empty directory with only Node.js, shares the desktop and a viewer sees it", async () => {
    await org.goto(`${srv.url}/m/${conf}`);
    await org.getByTestId('agent-open').click();
    const command = ((await org.getByTestId('agent-command').textContent()) ?? '').trim();
    expect(command).toMatch(new RegExp(`^npx --yes ${srv.url}/agent/[0-9a-f]{16}/baton-agent\\.tgz share ${srv.url}/m/${conf} --token \\S+$`));
    // The hash on the page is the one of the file served.
    const served = Buffer.from(await (await fetch(`${srv.url}/agent/baton-agent.tgz`)).arrayBuffer());
    expect(await org.getByTestId('agent-sha256').textContent()).toBe(createHash('sha256').update(served).digest('hex'));
    await org.keyboard.press('Escape');

    // The host: an empty working directory, HOME and npm cache of its own; only PATH (for node and
    // npx), the display, and the machine's proxy/registry settings if it has any.
    const home = path.join(sandbox, 'home');
    const work = path.join(sandbox, 'work');
    for (const d of [home, work]) mkdirSync(d);
    const env: NodeJS.ProcessEnv = { PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: home, DISPLAY: xvfb.display, npm_config_cache: path.join(sandbox, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
    for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'npm_config_registry']) if (process.env[k]) env[k] = process.env[k];
    expect(existsSync(path.join(work, 'node_modules'))).toBe(false);
    const t0 = Date.now();
    agent = spawn('sh', ['-c', command], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (d) => (agentOut += d));
    agent.stderr!.on('data', (d) => (agentOut += d));
    const exited = new Promise<void>((resolve) => agent!.once('exit', () => resolve()));
    const sharing = async () => (await srv.registry.get(conf))?.snapshot().share?.kind === 'agent';
    const end = Date.now() + 420_000;
    while (Date.now() < end && agent.exitCode === null && !(await sharing())) await Promise.race([exited, new Promise((r) => setTimeout(r, 250))]);
    if (!(await sharing())) throw new Error(`the agent installed with npx did not start sharing (exit ${agent.exitCode}):\n${agentOut}`);
    console.log(`agent install from the server: npx install + start to sharing in ${((Date.now() - t0) / 1000).toFixed(1)} s (empty npm cache)`);

    // A viewer sees the host's pixels.
    await bob.goto(`${srv.url}/m/${conf}`);
    const pixel = (x: number, y: number) =>
      bob.evaluate(
        ([x, y]) => {
          const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement | null;
          if (!c || c.width === 0) return null;
          return Array.from(c.getContext('2d')!.getImageData(x!, y!, 1, 1).data.slice(0, 3));
        },
        [x, y],
      );
    const near = (a: number[] | null, c: Rgb) => !!a && a.every((v, i) => Math.abs(v - c[i]!) <= 12);
    await expect.poll(async () => near(await pixel(40, 40), LEFT) && near(await pixel(W - 40, H - 40), RIGHT), { timeout: 30_000 }).toBe(true);
    expect(await bob.evaluate(() => (document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement).width)).toBe(W);
    // The agent really runs from the npx cache in the sandbox, not from this repository.
    expect(agentOut).not.toContain(ROOT);
  }, 600_000);
});

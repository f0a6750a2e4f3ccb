/**
 * End to end, issue 9 items 8-10 in Debian's Chromium: the web client works under the server's strict
 * Content-Security-Policy with zero violations (the landing page, sign-up, the dashboard, the meeting
 * page and the shared-screen viewer with its workers, fed by the real host agent on an Xvfb desktop),
 * sign-up shows why a common password is refused, the dashboard pages its meeting list, and the
 * meeting page refuses to be framed by another site.
 *
 * Violations are watched where Chromium reports them: DevTools issues (Audits) of each page and of
 * every worker it starts (auto-attached before the worker's first line runs, since a probe at load
 * time is exactly what would be missed otherwise), policy messages in the log, and the page's own
 * `securitypolicyviolation` events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { Painter } from '../../packages/agent/test/helpers/painter.js';
import { api } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/security.e2e.test.ts');
const W = 1280;
const H = 720;
const PAGE_SIZE = 20; // the dashboard's MEETINGS_PAGE
const BACKGROUND: [number, number, number] = [40, 120, 200];

/** Everything Chromium says about content security on one page and its workers. */
class PolicyWatch {
  readonly violations: string[] = [];
  readonly workers: string[] = [];

  static async attach(ctx: BrowserContext, page: Page, who: string): Promise<PolicyWatch> {
    const w = new PolicyWatch();
    const cdp = await ctx.newCDPSession(page);
    let id = 1_000_000;
    const toWorker = (sessionId: string, method: string) => cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: id++, method, params: {} }) });
    const issue = (where: string, i: { code: string; details: unknown }) => {
      if (/ContentSecurityPolicy|PermissionsPolicy|Cors|MixedContent/i.test(i.code)) w.violations.push(`${who} ${where}: ${i.code} ${JSON.stringify(i.details)}`);
    };
    cdp.on('Audits.issueAdded', (e) => issue('page', e.issue));
    cdp.on('Log.entryAdded', (e) => {
      if (/content security policy|permissions.policy|refused to/i.test(e.entry.text)) w.violations.push(`${who} log: ${e.entry.text}`);
    });
    // Workers start paused until we have enabled issues in them.
    cdp.on('Target.attachedToTarget', (e) => {
      w.workers.push(e.targetInfo.url);
      void toWorker(e.sessionId, 'Audits.enable').then(() => toWorker(e.sessionId, 'Runtime.runIfWaitingForDebugger'));
    });
    cdp.on('Target.receivedMessageFromTarget', (e) => {
      const m = JSON.parse(e.message) as { method?: string; params?: { issue?: { code: string; details: unknown } } };
      if (m.method === 'Audits.issueAdded' && m.params?.issue) issue(`worker ${e.targetId ?? ''}`, m.params.issue);
    });
    await cdp.send('Audits.enable');
    await cdp.send('Log.enable');
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
    page.on('console', (m) => {
      if (/content security policy|permissions.policy|refused to/i.test(m.text())) w.violations.push(`${who} console: ${m.text()}`);
    });
    return w;
  }

  /** Violations the page itself saw (securitypolicyviolation events, recorded by the init script). */
  async pageEvents(page: Page): Promise<string[]> {
    return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
  }
}

describe.skipIf(!OK)('the web client under the security headers (Chromium)', () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let watch: PolicyWatch;
  let framer: Server;
  let agent: AgentRun | undefined;
  let cookie = '';
  let conf = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWeb();
    xvfb = await startXvfb(W, H);
    painter = await Painter.open(xvfb.display);
    // A plain background, and a window of four-colour noise: big lossless tiles the viewer
    // inflates in its workers.
    await painter.window(0, 0, W, H, BACKGROUND);
    const noise = await painter.window(300, 200, 512, 256, [0, 0, 0]);
    const rgb = new Uint8Array(512 * 256 * 3);
    const colours = [[250, 250, 250], [10, 10, 10], [200, 40, 40], [40, 200, 40]];
    let seed = 7;
    for (let i = 0; i < 512 * 256; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      rgb.set(colours[(seed >>> 16) & 3]!, i * 3);
    }
    await painter.putRgb(noise, 0, 0, 512, 256, rgb);

    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-security-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST, maxConferencesPerUser: 30 });
    // Another site, on another port, that tries to frame the meeting page.
    framer = createServer((req, res) => {
      const target = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>evil</title><iframe id="victim" width="800" height="600" src="${target.replace(/"/g, '')}"></iframe>`);
    });
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve));

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    ctx.setDefaultTimeout(15_000);
    await ctx.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const w = window as unknown as { __cspViolations?: string[] };
        (w.__cspViolations ??= []).push(`${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    watch = await PolicyWatch.attach(ctx, page, 'organizer');
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await browser?.close();
    await new Promise((r) => (framer ? framer.close(r) : r(null)));
    await srv?.close();
    await painter?.close();
    await xvfb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const expectClean = async () => {
    expect(watch.violations).toEqual([]);
    expect(await watch.pageEvents(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  };

  it('the landing page loads under the CSP, and sign-up says why a common password is refused', async () => {
    const res = await page.goto(`${srv.url}/`);
    const csp = res!.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    await page.getByTestId('signin-form').waitFor();
    await page.getByTestId('goto-signup').click();
    expect(await page.getByTestId('signup-password-hint').textContent()).toMatch(/Common passwords .* are refused/);
    await page.getByLabel('Username').fill('carla');
    await page.getByLabel('Password').fill('Password123');
    await page.getByTestId('signup-submit').click();
    await expect.poll(() => page.getByTestId('signup-error').textContent()).toMatch(/^This password is one of the most common passwords; choose another/);
    await page.getByLabel('Password').fill('violet tractor lamp');
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('current-user').waitFor();
    cookie = (await ctx.cookies(srv.url)).filter((c) => c.name === 'baton_session').map((c) => `${c.name}=${c.value}`)[0] ?? '';
    expect(cookie).not.toBe('');
    await expectClean();
  }, 60_000);

  it('the dashboard shows one page of meetings and fetches the next on demand', async () => {
    for (let i = 0; i < PAGE_SIZE + 3; i++) {
      const r = await api(srv.url, 'POST', '/api/conferences', { subject: `Meeting ${String(i).padStart(2, '0')}`, policy: { guests: 'allow', control: 'signed-in' } }, cookie);
      expect(r.status).toBe(201);
      if (i === PAGE_SIZE + 2) conf = r.body.id;
    }
    await page.reload();
    const rows = page.locator('[data-testid="meeting-list"] > li');
    await expect.poll(() => rows.count()).toBe(PAGE_SIZE);
    // Newest first.
    expect(await rows.first().getAttribute('data-subject')).toBe(`Meeting ${PAGE_SIZE + 2}`);
    await page.getByTestId('meetings-more').click();
    await expect.poll(() => rows.count()).toBe(PAGE_SIZE + 3);
    expect(await rows.last().getAttribute('data-subject')).toBe('Meeting 00');
    expect(await page.getByTestId('meetings-more').count()).toBe(0);
    // Creating past the cap shows the server's reason.
    for (let i = 0; i < 30 - (PAGE_SIZE + 3); i++) await api(srv.url, 'POST', '/api/conferences', { subject: `Extra ${i}` }, cookie);
    await page.getByTestId('create-subject').fill('One too many');
    await page.getByTestId('create-submit').click();
    await expect.poll(() => page.locator('.create-meeting [role="alert"]').textContent()).toMatch(/the most this server allows \(30\)/);
    await expectClean();
  }, 60_000);

  it('the meeting page and the shared-screen viewer (workers, p2p or relay) work under the CSP', async () => {
    const res = await page.goto(`${srv.url}/m/${conf}`);
    expect(res!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.getByTestId('meeting-subject').waitFor();
    // The agent dialog mints a token with a same-origin POST: the Origin check lets it through.
    await page.getByTestId('agent-open').click();
    await expect.poll(() => page.getByTestId('agent-command').textContent()).toContain(`/m/${conf}`);
    await page.keyboard.press('Escape');

    agent = await startAgentShare(srv, conf, cookie, xvfb.display);
    await page.getByTestId('share-view').click();
    const pixel = (x: number, y: number) =>
      page.evaluate(
        ([x, y]) => {
          const c = document.querySelector<HTMLCanvasElement>('[data-testid="share-canvas"]');
          if (!c || c.width === 0) return null;
          return Array.from(c.getContext('2d')!.getImageData(x!, y!, 1, 1).data.slice(0, 3));
        },
        [x, y],
      );
    const near = (p: number[] | null, c: number[]) => !!p && p.every((v, i) => Math.abs(v - c[i]!) <= 8);
    await expect.poll(async () => near(await pixel(40, 40), BACKGROUND), { timeout: 20_000 }).toBe(true);
    // The noise window's pixels are exact colours of its palette.
    await expect.poll(async () => {
      const p = await pixel(300 + 17, 200 + 33);
      return !!p && [[250, 250, 250], [10, 10, 10], [200, 40, 40], [40, 200, 40]].some((c) => near(p, c));
    }, { timeout: 20_000 }).toBe(true);
    // The ZRgb/Palette workers ran (and were watched) under the CSP.
    expect(watch.workers.some((u) => /zrgbWorker/.test(u))).toBe(true);
    await expectClean();
  }, 90_000);

  it('the meeting page refuses to be framed by another site', async () => {
    const evil = await ctx.newPage();
    const { port } = framer.address() as AddressInfo;
    const meeting = `${srv.url}/m/${conf}`;
    const refusals: string[] = [];
    const cdp = await ctx.newCDPSession(evil);
    cdp.on('Audits.issueAdded', (e) => refusals.push(JSON.stringify(e.issue.details)));
    await cdp.send('Audits.enable');
    evil.on('console', (m) => refusals.push(m.text()));
    await evil.goto(`http://127.0.0.1:${port}/?src=${encodeURIComponent(meeting)}`);
    await expect.poll(() => refusals.some((r) => /frame-ancestors/i.test(r)), { timeout: 10_000 }).toBe(true);
    const child = evil.frames().find((f) => f !== evil.mainFrame());
    expect(child).toBeDefined();
    const rendered = await child!.evaluate(() => document.getElementById('root') !== null).catch(() => false);
    expect(rendered).toBe(false);
    await evil.close();
  }, 30_000);
});

/**
 * End to end, issue 11 item 5: the roster shows people, not connections. Alice joins from two tabs
 * and shares her Xvfb desktop with the real agent; a guest sees one entry for Alice with her three
 * devices ("sharing from baton-agent" among them) and a count of 2 people, not 4 seats.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';

const OK = haveBrowserAndX('tests/e2e/roster-people.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.skipIf(!OK)('the roster groups seats into people', { timeout: 90_000 }, () => {
  let xvfb: Xvfb;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let browser: Browser;
  let agent: AgentRun | undefined;
  let tab1: Page;
  let tab2: Page;
  let guest: Page;
  let conf = '';
  let alice = '';

  beforeAll(async () => {
    buildWeb();
    xvfb = await startXvfb(1280, 720);
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-roster-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST, logLevel: 'silent' });
    alice = await signUp(srv.url, 'alice');
    conf = await createConference(srv.url, alice, { guests: 'allow', present: 'anyone' }, 'People demo');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const aliceCtx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await aliceCtx.addCookies([{ name: 'baton_session', value: alice.split('=')[1]!, url: srv.url }]);
    aliceCtx.setDefaultTimeout(15_000);
    tab1 = await aliceCtx.newPage();
    tab2 = await aliceCtx.newPage();
    const guestCtx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    guestCtx.setDefaultTimeout(15_000);
    guest = await guestCtx.newPage();
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await browser?.close();
    await srv?.close();
    await xvfb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('two tabs of one user are one person with two devices; the count is of people', async () => {
    await tab1.goto(`${srv.url}/m/${conf}`);
    await tab1.getByTestId('roster-Alice').waitFor();
    await tab2.goto(`${srv.url}/m/${conf}`);
    await tab2.getByTestId('roster-Alice').waitFor();
    await guest.goto(`${srv.url}/m/${conf}`);
    await guest.getByTestId('guest-name').fill('Gus');
    await guest.getByTestId('guest-join').click();
    await guest.getByTestId('roster-Gus').waitFor();

    await poll(() => guest.getByTestId('roster-Alice').getAttribute('data-devices')).toBe('2');
    expect(await guest.getByTestId('roster-Alice').count()).toBe(1);
    expect(await guest.locator('[data-testid="roster"] > li').count()).toBe(2);
    expect(await guest.getByTestId('people-count').textContent()).toBe('(2)');
    expect(await guest.getByTestId('devices-Alice').getByTestId('device').allTextContents()).toEqual(['browser tab', 'browser tab']);
    // Alice's own tab says which device is this one.
    await poll(() => tab1.getByTestId('devices-Alice').getByTestId('device').allTextContents()).toEqual(['this tab', 'browser tab']);
    expect(await tab1.getByTestId('roster-Alice').textContent()).toContain('(you)');
  });

  it('the agent shows as Alice\'s device, "sharing from baton-agent", not as a second Alice', async () => {
    agent = await startAgentShare(srv, conf, alice, xvfb.display);
    await poll(() => guest.getByTestId('roster-Alice').getAttribute('data-devices')).toBe('3');
    expect(await guest.getByTestId('roster-Alice').count()).toBe(1);
    expect(await guest.locator('[data-testid="roster"] > li').count()).toBe(2);
    expect(await guest.getByTestId('people-count').textContent()).toBe('(2)');
    const devices = guest.getByTestId('devices-Alice').getByTestId('device');
    await poll(() => devices.allTextContents()).toContain('sharing from baton-agent');
    expect(await guest.locator('[data-testid="device"][data-client="agent"]').textContent()).toBe('sharing from baton-agent');
    expect(await guest.getByTestId('roster-Alice').textContent()).toContain('Sharing');
    await guest.screenshot({ path: path.join(tmpdir(), 'baton-roster-people-1280x720.png') });
    await guest.setViewportSize({ width: 390, height: 844 });
    await guest.screenshot({ path: path.join(tmpdir(), 'baton-roster-people-390x844.png') });
    await guest.setViewportSize({ width: 1280, height: 720 });
  });

  it('a tab that leaves takes only its device away; the person stays', async () => {
    await tab2.getByTestId('leave').click();
    await poll(() => guest.getByTestId('roster-Alice').getAttribute('data-devices')).toBe('2');
    expect(await guest.getByTestId('people-count').textContent()).toBe('(2)');
  });
});

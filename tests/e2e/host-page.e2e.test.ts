/**
 * End to end, issue 11 item 1: the host's meeting page runs its agent's share. Bob (an attendee, not
 * an organizer) shares his Xvfb desktop with the real agent in "ask" mode; his meeting page in
 * Chromium shows a guest's control request as it comes (name as text, never HTML), says the grant
 * happens on the shared computer, and its "Revoke control" and "Stop sharing" work. The guest sees
 * "Waiting for the host…" with a Cancel, which also ends the question on the agent's terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ServerMessage, ShareState } from '@baton/protocol';
import { startServer } from '../../packages/server/dist/index.js';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { Painter } from '../../packages/agent/test/helpers/painter.js';
import { TestClient, api, createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/host-page.e2e.test.ts');
// A display name that would be markup if anything put it into innerHTML.
const EVIL = '<img src=x onerror="window.__pwned=1">Eve';
// Conditions, not timers: the page may take a while on a loaded machine.
const poll = <T>(fn: () => T | Promise<T>, opts: { timeout?: number } = {}) => expect.poll(fn, { timeout: 15_000, ...opts });

describe.skipIf(!OK)("the host's meeting page runs its agent share", { timeout: 60_000 }, () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let agent: ChildProcess | undefined;
  let agent2: ChildProcess | undefined;
  let agentOut = '';
  let browser: Browser;
  let host: Page;
  let guest: Page;
  let conf = '';
  let bobCookie = '';
  let alice = '';
  let observer: TestClient;
  const shares: (ShareState | null)[] = [];

  const focus = async () => (await srv.registry.get(conf))!;

  beforeAll(async () => {
    buildWeb();
    xvfb = await startXvfb(1280, 720);
    painter = await Painter.open(xvfb.display);
    await painter.window(0, 0, 1280, 720, [40, 90, 160]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-hostpage-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    alice = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, alice, { guests: 'allow', present: 'anyone', control: 'anyone' }, 'Host page demo');

    // Bob's agent, asking on its terminal (a pipe here, so the test answers as Bob would).
    const token = (await api(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, bobCookie)).body.token as string;
    agent = spawn(process.execPath, [path.join(ROOT, 'packages/agent/dist/cli.js'), 'share', `${srv.url}/m/${conf}`, '--token', token, '--allow-control', 'ask'], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    agent.stdout!.on('data', (d) => (agentOut += d));
    agent.stderr!.on('data', (d) => (agentOut += d));
    const sharing = async () => (await srv.registry.get(conf))?.snapshot().share?.kind === 'agent';
    const exited = new Promise<void>((resolve) => agent!.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    while (!gone && !(await sharing())) await new Promise((r) => setTimeout(r, 100)); // until the agent shares or exits
    if (!(await sharing())) throw new Error(`the agent did not start sharing:\n${agentOut}`);

    // A second seat of Bob's: control requests must reach his other seats, not only the agent.
    observer = new TestClient(srv.url, conf, { cookie: bobCookie });
    await observer.hello();
    await observer.next('welcome');
    observer.ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'share.updated') shares.push(m.share);
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const hostCtx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await hostCtx.addCookies([{ name: 'baton_session', value: bobCookie.split('=')[1]!, url: srv.url }]);
    hostCtx.setDefaultTimeout(15_000);
    host = await hostCtx.newPage();
    const guestCtx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    guestCtx.setDefaultTimeout(15_000);
    guest = await guestCtx.newPage();
  }, 180_000);

  afterAll(async () => {
    observer?.close();
    agent?.kill('SIGKILL');
    agent2?.kill('SIGKILL');
    await browser?.close();
    await srv?.close();
    await painter?.close();
    await xvfb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the host page shows its share with "Stop sharing", and no request button of its own', async () => {
    await host.goto(`${srv.url}/m/${conf}`);
    await poll(() => host.getByTestId('host-panel').isVisible()).toBe(true);
    expect(await host.getByTestId('host-stop').textContent()).toBe('Stop sharing');
    expect(await host.getByTestId('host-revoke').count()).toBe(0);
    expect(await host.getByTestId('stage').textContent()).toContain('You are sharing a desktop');
  });

  it('a request shows on the host page as it comes, escaped; the guest waits readably', async () => {
    await guest.goto(`${srv.url}/m/${conf}`);
    await guest.getByTestId('guest-name').fill(EVIL);
    await guest.getByTestId('guest-join').click();
    await guest.getByTestId('control-request').click();
    await poll(() => guest.getByTestId('control-waiting').textContent()).toBe('Waiting for the host…');
    expect(await guest.getByTestId('control-cancel').isEnabled()).toBe(true);

    await poll(() => host.getByTestId('host-request-name').textContent()).toBe(EVIL);
    expect(await host.getByTestId('host-request').textContent()).toContain('(guest)');
    expect(await host.getByTestId('host-approve-hint').textContent()).toBe('Approve on the computer you are sharing.');
    expect(await host.locator('[data-testid="host-panel"] img').count()).toBe(0);
    expect(await host.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    // The request reached Bob's other seat too, with the name as data.
    const req = (await observer.next('control.requested')) as Extract<ServerMessage, { type: 'control.requested' }>;
    expect(req).toMatchObject({ name: EVIL, user: null });
    // And the agent asks its local user.
    await poll(() => agentOut, { timeout: 10_000 }).toMatch(/Allow this guest to control your screen\?/);
    await host.screenshot({ path: path.join(tmpdir(), 'baton-host-page-request-1280x720.png') });
    await host.setViewportSize({ width: 390, height: 844 });
    expect(await host.getByTestId('host-approve-hint').isVisible()).toBe(true);
    await host.screenshot({ path: path.join(tmpdir(), 'baton-host-page-request-390x844.png') });
    await host.setViewportSize({ width: 1280, height: 720 });
    await guest.screenshot({ path: path.join(tmpdir(), 'baton-guest-waiting-1280x720.png') });
  });

  it('Cancel withdraws the request: the agent\'s question ends unanswered, and asking again asks the host again', async () => {
    const id = (await focus()).snapshot().share!.requests[0]!;
    await guest.getByTestId('control-cancel').click();
    await poll(() => guest.getByTestId('control-request').isVisible()).toBe(true);
    await poll(() => host.getByTestId('host-request').count()).toBe(0);
    expect((await focus()).snapshot().share!.requests).toEqual([]);
    const cancelledAt = shares.length;

    // The question on Bob's terminal ends: no late "yes" there can stand for this guest. (The server
    // also refuses a grant that comes after a cancel: ControlManager.test.ts.)
    await poll(() => agentOut, { timeout: 10_000 }).toMatch(/withdrew the request: nothing to answer/);
    const asked = (): number => (agentOut.match(/Allow this guest to control your screen\?/g) ?? []).length;
    const before = asked();
    expect((await focus()).snapshot().share!.controllerId).toBeNull();

    // The guest asks again: Bob is asked again, and his "yes" gives control.
    await guest.getByTestId('control-request').click();
    await poll(asked, { timeout: 10_000 }).toBe(before + 1);
    agent!.stdin!.write('y\n');
    await poll(() => guest.getByTestId('control-status').textContent()).toBe('You are in control');
    const firstControl = shares.findIndex((s) => s?.controllerId === id);
    const askedAgain = shares.findIndex((s, i) => i >= cancelledAt && !!s?.requests.includes(id));
    expect(askedAgain).toBeGreaterThanOrEqual(cancelledAt);
    expect(firstControl).toBeGreaterThan(askedAgain);
  });

  it('"Revoke control" on the host page takes control back', async () => {
    await poll(() => host.getByTestId('host-controller').textContent()).toBe(`${EVIL} controls your desktop`);
    await host.getByTestId('host-revoke').click();
    await poll(() => guest.getByTestId('control-status').textContent()).toBe('Bob has control');
    expect((await focus()).snapshot().share!.controllerId).toBeNull();
    await poll(() => host.getByTestId('host-revoke').count()).toBe(0);
  });

  it('under "signed-in" control a guest gets a sign-in link that brings it back to this meeting', async () => {
    const org = new TestClient(srv.url, conf, { cookie: alice });
    try {
      await org.hello();
      await org.next('welcome');
      expect(await org.request({ type: 'policy.update', policy: { control: 'signed-in' } })).toMatchObject({ type: 'ack' });
    } finally {
      org.close();
    }
    const link = guest.getByTestId('control-unavailable');
    await poll(() => link.textContent()).toBe('Sign in to ask for control');
    expect(await link.evaluate((a) => a.tagName)).toBe('A');
    await link.click();
    await guest.waitForURL((u) => u.pathname === '/signin' && u.searchParams.get('next') === `/m/${conf}`);
    // No account yet: "Create one" keeps the way back.
    await guest.getByTestId('goto-signup').click();
    await guest.getByTestId('signup-username').fill('carol');
    await guest.getByTestId('signup-displayname').fill('Carol');
    await guest.getByTestId('signup-password').fill('correct horse battery');
    await guest.getByTestId('signup-submit').click();
    await guest.waitForURL((u) => u.pathname === `/m/${conf}`);
    expect(await guest.getByTestId('control-request').textContent()).toBe('Request control');
  });

  it('"Stop sharing" on the host page ends the share; the agent hears it', async () => {
    await host.getByTestId('host-stop').click();
    await poll(() => guest.getByTestId('stage').getAttribute('data-sharing')).toBe('false');
    await poll(() => agentOut, { timeout: 10_000 }).toMatch(/stopped in the meeting/);
    expect((await focus()).snapshot().share).toBeNull();
  });

  it('a view-only browser share never says who "has control"', async () => {
    expect(await observer.request({ type: 'share.start', kind: 'browser' })).toMatchObject({ type: 'ack' });
    await poll(() => guest.getByTestId('control-status').textContent()).toBe('View only');
    expect(await guest.getByTestId('stage').textContent()).not.toContain('has control');
    expect(await observer.request({ type: 'share.stop' })).toMatchObject({ type: 'ack' });
  });

  it('the Share desktop dialog says "expires in 10 minutes" and closes with "Connected" when the agent joins', async () => {
    await host.getByTestId('agent-open').click();
    await poll(() => host.getByTestId('agent-expiry').textContent()).toBe('The token works once and expires in 10 minutes.');
    const command = (await host.getByTestId('agent-command').textContent())!;
    const token = /--token (\S+)$/.exec(command.trim())![1]!;
    agent2 = spawn(process.execPath, [path.join(ROOT, 'packages/agent/dist/cli.js'), 'share', `${srv.url}/m/${conf}`, '--token', token], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    await poll(() => host.getByTestId('agent-connected').textContent()).toBe('Connected: your desktop agent joined the meeting.');
    expect(await host.getByTestId('agent-dialog').count()).toBe(0);
    await host.screenshot({ path: path.join(tmpdir(), 'baton-agent-connected-1280x720.png') });
  });
});

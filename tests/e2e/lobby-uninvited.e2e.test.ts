/**
 * End to end, issue 11 item 3: with the lobby "for everyone not invited", signing up does not skip
 * the lobby. A signed-in user the organizer did not invite waits on the lobby page; an invited user
 * goes straight in; the organizer switching the lobby to "for guests only" in Settings lets the
 * waiting user in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { api, createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/lobby-uninvited.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.skipIf(!OK)('the lobby for everyone not invited', { timeout: 60_000 }, () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let browser: Browser;
  let conf = '';
  const pages: Record<string, Page> = {};

  const open = async (cookie: string) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: srv.url }]);
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    await page.goto(`${srv.url}/m/${conf}`);
    return page;
  };
  const statusOf = async (username: string) =>
    (await srv.registry.get(conf))?.snapshot().roster.find((p) => p.user === username)?.status;

  beforeAll(async () => {
    buildWeb();
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-lobby-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    const alice = await signUp(srv.url, 'alice');
    const carol = await signUp(srv.url, 'carol');
    const dave = await signUp(srv.url, 'dave');
    conf = await createConference(srv.url, alice, { guests: 'lobby', lobby: 'uninvited' }, 'Invited only');
    expect((await api(srv.url, 'POST', `/api/conferences/${conf}/invitations`, { users: ['dave'] }, alice)).status).toBeLessThan(300);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    pages.alice = await open(alice);
    await pages.alice.getByTestId('meeting').waitFor();
    pages.carol = await open(carol);
    pages.dave = await open(dave);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a signed-in user who was not invited waits in the lobby', async () => {
    await poll(() => pages.carol!.getByTestId('lobby-wait').isVisible()).toBe(true);
    expect(await pages.carol!.getByTestId('lobby-wait').textContent()).toContain('You are waiting in the lobby');
    expect(await pages.carol!.getByTestId('meeting').count()).toBe(0);
    expect(await statusOf('carol')).toBe('lobby');
    await pages.carol!.screenshot({ path: path.join(tmpdir(), 'baton-lobby-uninvited-1280x720.png') });
  });

  it('an invited user goes straight in', async () => {
    await poll(() => pages.dave!.getByTestId('meeting').getAttribute('data-state')).toBe('joined');
    expect(await statusOf('dave')).toBe('joined');
  });

  it('the organizer sets "Lobby: for guests only" in Settings, and the waiting user is let in', async () => {
    const alice = pages.alice!;
    await alice.getByTestId('settings-open').click();
    const lobby = alice.getByTestId('settings-lobby');
    expect(await lobby.inputValue()).toBe('uninvited');
    await lobby.selectOption('guests');
    await alice.getByTestId('settings-save').click();
    await poll(() => pages.carol!.getByTestId('meeting').getAttribute('data-state')).toBe('joined');
    expect((await srv.registry.get(conf))!.policy).toMatchObject({ guests: 'lobby', lobby: 'guests' });
  });
});

/**
 * End to end, issue 11 items 4 and 11, in Chromium against the built server run as its own process:
 * - a guest admitted from the lobby; the server process is stopped and started again on the same
 *   data directory and port; the guest's page comes back into the meeting by itself, never showing
 *   the lobby;
 * - Leave ends the meeting for nobody else; the organizer's "End meeting for all" shows every other
 *   page (a joined guest, a signed-in attendee, a guest waiting in the lobby) "The organizer ended
 *   the meeting", and the meeting can be started again from the same link.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { api, createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/meeting-lifecycle.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout });
const CLI = path.join(ROOT, 'packages/server/dist/cli.js');

/** The built server as a process of its own: a restart is a real stop and start on the same data dir and port. */
async function startProcess(dataDir: string, port: number): Promise<{ proc: ChildProcess; url: string }> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('BATON_')) delete env[k];
  const args = [CLI, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--web-dir', WEB_DIST, '--audio', 'off', '--log-level', 'warn'];
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return { proc, url };
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

describe.skipIf(!OK)('meeting lifecycle: a restart keeps admissions; End meeting for all', { timeout: 90_000 }, () => {
  let dataDir = '';
  let server: { proc: ChildProcess; url: string };
  let port = 0;
  let browser: Browser;
  let conf = '';
  let alice = '';
  let bob = '';
  const pages: Record<string, Page> = {};

  const page = async (cookie?: string) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    if (cookie) await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: server.url }]);
    ctx.setDefaultTimeout(20_000);
    return ctx.newPage();
  };
  const guestJoins = async (p: Page, name: string) => {
    await p.goto(`${server.url}/m/${conf}`);
    await p.getByLabel('Your name').fill(name);
    await p.getByTestId('guest-join').click();
    await p.getByTestId('lobby-wait').waitFor();
  };
  const stateOf = (p: Page) => p.getByTestId('meeting').getAttribute('data-state', { timeout: 1000 }).catch(() => null);

  beforeAll(async () => {
    buildWeb();
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-lifecycle-e2e-'));
    server = await startProcess(dataDir, 0);
    port = Number(new URL(server.url).port);
    alice = await signUp(server.url, 'alice');
    bob = await signUp(server.url, 'bob');
    conf = await createConference(server.url, alice, { guests: 'lobby' }, 'Lifecycle');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    pages.alice = await page(alice);
    await pages.alice.goto(`${server.url}/m/${conf}`);
    await pages.alice.locator('[data-testid="meeting"][data-state="joined"]').waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await stopProcess(server.proc);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('an admitted guest returns into the meeting after the server restarts, without the lobby', async () => {
    const gail = (pages.gail = await page());
    await guestJoins(gail, 'Gail');
    await pages.alice!.getByTestId('admit-Gail').click();
    await poll(() => stateOf(gail)).toBe('joined');
    await gail.getByTestId('roster-Gail').waitFor();
    // From now on, note whether the lobby page ever shows on the guest's page.
    await gail.evaluate(() => {
      const w = window as unknown as { sawLobby: boolean };
      w.sawLobby = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="lobby-wait"]')) w.sawLobby = true;
      }).observe(document.body, { childList: true, subtree: true });
    });

    // Otto knocks but is not let in before the restart.
    const otto = (pages.otto = await page());
    await guestJoins(otto, 'Otto');
    await pages.alice!.getByTestId('lobby-Otto').waitFor();

    await stopProcess(server.proc);
    await poll(() => gail.getByTestId('connection-banner').isVisible()).toBe(true);
    server = await startProcess(dataDir, port);
    const t0 = Date.now();

    // The page reconnects on its own (backoff up to 8 s) and is back in the meeting.
    await poll(() => stateOf(gail), 30_000).toBe('joined');
    await poll(() => gail.getByTestId('connection-banner').count()).toBe(0);
    console.log(`guest back in the meeting ${Date.now() - t0} ms after the server was up again`);
    expect(await gail.evaluate(() => (window as unknown as { sawLobby: boolean }).sawLobby)).toBe(false);
    expect(await gail.getByTestId('lobby-wait').count()).toBe(0);
    await gail.getByTestId('roster-Gail').waitFor();
    // The organizer's page is back too and sees Gail in the meeting, not knocking.
    await poll(() => stateOf(pages.alice!), 30_000).toBe('joined');
    await pages.alice!.getByTestId('roster-Gail').waitFor();
    expect(await pages.alice!.getByTestId('lobby-Gail').count()).toBe(0);
    await gail.screenshot({ path: path.join(tmpdir(), 'baton-rejoin-after-restart-1280x720.png') });
    // Otto, never admitted, waits again, and his page says why.
    await poll(() => otto.getByTestId('lobby-note').isVisible(), 30_000).toBe(true);
    expect(await otto.getByTestId('lobby-note').textContent()).toContain('could not be restored');
    await otto.screenshot({ path: path.join(tmpdir(), 'baton-lobby-again-1280x720.png') });
    await pages.alice!.getByTestId('lobby-Otto').waitFor();
  });

  it('Leave ends the meeting for nobody else', async () => {
    const b = (pages.bob = await page(bob));
    await b.goto(`${server.url}/m/${conf}`);
    await poll(() => stateOf(b)).toBe('joined');
    await pages.alice!.getByTestId('roster-Bob').waitFor();
    // Only the organizer is offered "End meeting for all".
    expect(await b.getByTestId('end-for-all').count()).toBe(0);
    expect(await pages.gail!.getByTestId('end-for-all').count()).toBe(0);
    await b.getByTestId('leave').click();
    await b.getByTestId('meeting-ended').waitFor();
    expect(await b.getByTestId('meeting-ended').textContent()).toContain('You left the meeting');
    await poll(() => pages.alice!.getByTestId('roster-Bob').count()).toBe(0);
    expect(await stateOf(pages.gail!)).toBe('joined');
    expect(await stateOf(pages.alice!)).toBe('joined');
    // Bob comes back for the next part.
    await b.getByTestId('rejoin').click();
    await poll(() => stateOf(b)).toBe('joined');
  });

  it('End meeting for all: every other page shows that the organizer ended it; it can start again', async () => {
    const walt = (pages.walt = await page());
    await guestJoins(walt, 'Walt');
    const org = pages.alice!;
    await org.getByTestId('lobby-Walt').waitFor();

    await org.setViewportSize({ width: 390, height: 844 });
    await org.screenshot({ path: path.join(tmpdir(), 'baton-organizer-header-390x844.png') });
    await org.setViewportSize({ width: 1280, height: 720 });
    await org.getByTestId('end-for-all').click();
    await org.getByTestId('end-for-all-dialog').waitFor();
    await org.screenshot({ path: path.join(tmpdir(), 'baton-end-for-all-dialog-1280x720.png') });
    await org.getByTestId('end-for-all-confirm').click();

    for (const name of ['gail', 'bob', 'walt']) {
      const p = pages[name]!;
      await p.getByTestId('meeting-ended').waitFor();
      const text = await p.getByTestId('meeting-ended').textContent();
      expect(text, name).toContain('The organizer ended the meeting');
      expect(text, name).toContain('Alice ended the meeting for everyone');
    }
    await pages.gail!.screenshot({ path: path.join(tmpdir(), 'baton-ended-by-organizer-1280x720.png') });
    // On a phone the end screen fits the width, its text and buttons whole.
    await pages.walt!.setViewportSize({ width: 390, height: 844 });
    const card = await pages.walt!.getByTestId('meeting-ended').boundingBox();
    expect(card!.x).toBeGreaterThanOrEqual(0);
    expect(card!.x + card!.width).toBeLessThanOrEqual(390);
    expect(await pages.walt!.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await pages.walt!.screenshot({ path: path.join(tmpdir(), 'baton-ended-by-organizer-390x844.png') });
    await org.getByTestId('meeting-ended').waitFor();
    expect(await org.getByTestId('meeting-ended').textContent()).toContain('You ended the meeting for everyone');
    // The meeting is not deleted.
    expect((await api(server.url, 'GET', `/api/conferences/${conf}`, undefined, alice)).status).toBe(200);

    // Started again with the same link: the organizer goes in; the guest who was admitted before waits again.
    await org.getByTestId('rejoin').click();
    await poll(() => stateOf(org)).toBe('joined');
    const gail = pages.gail!;
    await gail.getByTestId('rejoin').click();
    await gail.getByTestId('lobby-wait').waitFor();
    await org.getByTestId('lobby-Gail').waitFor();
  });
});

/**
 * End to end, issue 14 item 6: a guest shares a file from the chat in Chromium; the organizer's chat
 * shows it as a download link, the browser downloads it as an attachment with the same bytes; a
 * name with HTML shows as text; a file over the limit is refused with the reason; the organizer
 * removes it and both chats say so.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/files.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000 });

describe.skipIf(!OK)('files in the chat', { timeout: 180_000 }, () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dir: string;
  let browser: Browser;
  let alice: Page;
  let gus: Page;
  const pageErrors: string[] = [];

  const open = async (cookie: string | null) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 }, locale: 'en-US', acceptDownloads: true });
    if (cookie) await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: srv.url }]);
    ctx.setDefaultTimeout(30_000);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return page;
  };

  beforeAll(async () => {
    buildWeb();
    dir = mkdtempSync(path.join(tmpdir(), 'baton-files-e2e-'));
    srv = await startServer({ port: 0, dataDir: path.join(dir, 'data'), webDir: WEB_DIST, logLevel: 'silent', maxFileBytes: 300_000 });
    const a = await signUp(srv.url, 'alice');
    const conf = await createConference(srv.url, a, { guests: 'allow' }, 'Files demo');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    [alice, gus] = await Promise.all([open(a), open(null)]);
    for (const p of [alice, gus]) await p.goto(`${srv.url}/m/${conf}`);
    await gus.getByTestId('guest-name').fill('Gus');
    await gus.getByTestId('guest-join').click();
    for (const p of [alice, gus]) await p.getByTestId('roster-Gus').waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a guest shares a file; the organizer downloads the same bytes; a name with HTML is only text', async () => {
    const bytes = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 7) % 256));
    const file = path.join(dir, '<img src=x onerror=alert(1)>.bin');
    writeFileSync(file, bytes);
    await gus.getByTestId('chat-file-input').setInputFiles(file);
    const link = alice.getByTestId('chat-file-link');
    await link.waitFor();
    expect(await link.textContent()).toBe('📎 _img src=x onerror=alert(1)_.bin');
    expect(await alice.locator('.chat-log img').count()).toBe(0);
    expect(await alice.getByTestId('chat-file').textContent()).toContain('150 kB');
    expect(await alice.getByTestId('chat-message').last().getAttribute('data-sender')).toBe('Gus');

    const [download] = await Promise.all([alice.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('_img src=x onerror=alert(1)_.bin');
    const saved = path.join(dir, 'downloaded.bin');
    await download.saveAs(saved);
    expect(readFileSync(saved).equals(bytes)).toBe(true);
    await alice.screenshot({ path: path.join(tmpdir(), 'baton-files', 'chat-file-1280x720.png') });
  });

  it('a file over the limit is refused with the reason, and nothing reaches the chat', async () => {
    const big = path.join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(400_000, 1));
    const before = await alice.getByTestId('chat-message').count();
    await gus.getByTestId('chat-file-input').setInputFiles(big);
    await poll(() => gus.getByTestId('upload-error').textContent()).toBe('the file is larger than 300 kB');
    expect(await alice.getByTestId('chat-message').count()).toBe(before);
  });

  it('the organizer removes the file: both chats say it was removed, the link is gone', async () => {
    expect(await gus.getByTestId('chat-file-remove').count()).toBe(1); // its sharer may remove it too
    await alice.getByTestId('chat-file-remove').click();
    for (const p of [alice, gus]) await poll(() => p.getByTestId('chat-file-removed').count()).toBe(1);
    expect(await gus.getByTestId('chat-file-link').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});

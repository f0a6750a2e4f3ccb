/**
 * End to end, issue 14 item 6: a guest shares a file from the chat in Chromium; the organizer's chat
 * shows it as a download link, the browser downloads it as an attachment with the same bytes; a
 * name with HTML shows as text; a file over the limit is refused with the reason; the organizer
 * removes it and both chats say so.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { haveBrowserAndX } from '../support/browser.js';
import { BrowserMeeting } from '../support/meeting.js';

const OK = haveBrowserAndX('tests/e2e/files.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000 });

describe.skipIf(!OK)('files in the chat', { timeout: 180_000 }, () => {
  let meeting: BrowserMeeting;
  let dir: string;
  let alice: Page;
  let gus: Page;

  beforeAll(async () => {
    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-files-e2e-', server: { maxFileBytes: 300_000 }, context: { locale: 'en-US', acceptDownloads: true } });
    dir = meeting.dir;
    const a = await signUp(meeting.url, 'alice');
    const conf = await createConference(meeting.url, a, { guests: 'allow' }, 'Files demo');
    [alice, gus] = await meeting.join(conf, [a, null], ['Gus']);
    for (const p of [alice, gus]) await p.getByTestId('roster-Gus').waitFor();
  }, 180_000);

  afterAll(() => meeting?.close());

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
    expect(meeting.pageErrors).toEqual([]);
  });
});

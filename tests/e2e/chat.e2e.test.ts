/**
 * End to end, issue 11 item 17: chat links and private messages in Chromium. A web address in a
 * message is a link (new tab, rel="noopener noreferrer"), a `javascript:` text is not; a private
 * message shows for the recipient and the sender, and never on a third participant's page.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { haveBrowserAndX } from '../support/browser.js';
import { BrowserMeeting } from '../support/meeting.js';

const OK = haveBrowserAndX('tests/e2e/chat.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.skipIf(!OK)('chat: links and private messages', { timeout: 60_000 }, () => {
  let meeting: BrowserMeeting;
  let alice: Page;
  let bob: Page;
  let gus: Page;
  let conf = '';

  const say = async (page: Page, text: string) => {
    await page.getByTestId('chat-input').fill(text);
    await page.getByTestId('chat-send').click();
  };
  const message = (page: Page, text: string) => page.getByTestId('chat-message').filter({ hasText: text });

  beforeAll(async () => {
    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-chat-e2e-', timeout: 15_000 });
    const aliceCookie = await signUp(meeting.url, 'alice');
    const bobCookie = await signUp(meeting.url, 'bob');
    conf = await createConference(meeting.url, aliceCookie, { guests: 'allow' }, 'Chat demo');
    alice = await meeting.open(aliceCookie);
    bob = await meeting.open(bobCookie);
    gus = await meeting.open(null);
    await alice.goto(`${meeting.url}/m/${conf}`);
    await bob.goto(`${meeting.url}/m/${conf}`);
    await gus.goto(`${meeting.url}/m/${conf}`);
    await meeting.guestJoins(gus, 'Gus');
    for (const p of [alice, bob, gus]) await p.getByTestId('roster-Gus').waitFor();
    await alice.getByTestId('roster-Bob').waitFor();
  }, 120_000);

  afterAll(() => meeting?.close());

  it('a web address is a safe link; a javascript: text stays text', async () => {
    await say(alice, 'notes at https://example.org/a?b=1. and javascript:alert(document.cookie) or <a href="javascript:x">y</a>');
    const m = message(bob, 'notes at');
    await m.waitFor();
    const links = m.getByTestId('chat-link');
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://example.org/a?b=1');
    expect(await links.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await links.getAttribute('target')).toBe('_blank');
    expect(await links.textContent()).toBe('https://example.org/a?b=1');
    // The trailing full stop and the rest are text; nothing became a javascript: link or markup.
    expect(await m.getByTestId('chat-text').textContent()).toBe(
      'notes at https://example.org/a?b=1. and javascript:alert(document.cookie) or <a href="javascript:x">y</a>',
    );
    expect(await bob.locator('[data-testid="chat-log"] a:not([href^="https:"]):not([href^="http:"])').count()).toBe(0);
    expect(await bob.locator('[data-testid="chat-log"] a').count()).toBe(1);
  });

  it('a private message shows for the recipient and the sender, not on a third page', async () => {
    await alice.getByTestId('chat-to').selectOption({ label: 'Bob (private)' });
    await say(alice, 'for bob only');
    await message(bob, 'for bob only').waitFor();
    expect(await message(bob, 'for bob only').getAttribute('data-private')).toBe('true');
    expect(await message(bob, 'for bob only').getByTestId('chat-private').textContent()).toBe(' privately to you');
    await message(alice, 'for bob only').waitFor();
    expect(await message(alice, 'for bob only').getByTestId('chat-private').textContent()).toBe(' privately to Bob');
    await bob.screenshot({ path: path.join(tmpdir(), 'baton-chat-private-1280x720.png') });

    // Back to everyone: once Gus sees this one, he would have seen the private one before it.
    await alice.getByTestId('chat-to').selectOption({ label: 'Everyone' });
    await say(alice, 'back to everyone');
    await message(gus, 'back to everyone').waitFor();
    expect(await message(gus, 'for bob only').count()).toBe(0);
    expect(await gus.getByTestId('chat-log').textContent()).not.toContain('for bob only');
    // A reload of Gus's page (history from the server) has no trace of it either; Bob's has it.
    await gus.reload();
    await message(gus, 'back to everyone').waitFor();
    expect(await message(gus, 'for bob only').count()).toBe(0);
    await bob.reload();
    await message(bob, 'back to everyone').waitFor();
    expect(await message(bob, 'for bob only').count()).toBe(1);
    // Gus answers Bob privately: Alice never sees it.
    await gus.getByTestId('chat-to').selectOption({ label: 'Bob (private)' });
    await say(gus, 'gus to bob');
    await message(bob, 'gus to bob').waitFor();
    await say(bob, 'bob again');
    await message(alice, 'bob again').waitFor();
    expect(await message(alice, 'gus to bob').count()).toBe(0);
    await bob.setViewportSize({ width: 390, height: 844 });
    await bob.screenshot({ path: path.join(tmpdir(), 'baton-chat-private-390x844.png') });
  });

  it('the font stack ends with emoji fonts', async () => {
    const family = await bob.evaluate(() => getComputedStyle(document.documentElement).fontFamily);
    expect(family).toMatch(/Noto Color Emoji/);
    expect(family).toMatch(/emoji$/);
    expect(meeting.pageErrors).toEqual([]);
  });
});

/**
 * End to end, issue 11 item 12: raised hands and reactions in Chromium. Hands raised on three pages
 * appear in the organizer's queue in the order raised; a participant can lower only their own (no
 * button for anyone else's), the organizer lowers anyone's; a reaction shows briefly on the others'
 * pages with the sender's name.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { haveBrowserAndX } from '../support/browser.js';
import { BrowserMeeting } from '../support/meeting.js';

const OK = haveBrowserAndX('tests/e2e/hands.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.skipIf(!OK)('raised hands and reactions', { timeout: 60_000 }, () => {
  let meeting: BrowserMeeting;
  let alice: Page;
  let bob: Page;
  let carol: Page;
  let gus: Page;

  const queue = (page: Page) => page.getByTestId('hands-queue').getByTestId('hand-entry').locator('.name').allTextContents();

  beforeAll(async () => {
    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-hands-e2e-', timeout: 15_000 });
    const a = await signUp(meeting.url, 'alice');
    const b = await signUp(meeting.url, 'bob');
    const c = await signUp(meeting.url, 'carol');
    const conf = await createConference(meeting.url, a, { guests: 'allow' }, 'Hands demo');
    [alice, bob, carol, gus] = await meeting.join(conf, [a, b, c, null], ['Gus']);
    for (const p of [alice, bob, carol, gus]) await p.getByTestId('roster-Gus').waitFor();
  }, 120_000);

  afterAll(() => meeting?.close());

  it("hands appear in the organizer's queue in the order raised", async () => {
    await carol.getByTestId('hand-toggle').click();
    await poll(() => queue(alice)).toEqual(['Carol']);
    await gus.getByTestId('hand-toggle').click();
    await poll(() => queue(alice)).toEqual(['Carol', 'Gus']);
    await bob.getByTestId('hand-toggle').click();
    await poll(() => queue(alice)).toEqual(['Carol', 'Gus', 'Bob']);
    expect(await alice.getByTestId('hand-Bob').textContent()).toBe('✋ 3');
    expect(await bob.getByTestId('hand-toggle').textContent()).toContain('Lower hand');
    expect(await bob.getByTestId('hand-toggle').getAttribute('aria-pressed')).toBe('true');
    // Everyone sees the same order; a participant has a Lower button for their own hand only.
    await poll(() => queue(carol)).toEqual(['Carol', 'Gus', 'Bob']);
    expect(await carol.locator('[data-testid^="lower-hand-"]').count()).toBe(1);
    expect(await carol.getByTestId('lower-hand-Carol').count()).toBe(1);
    expect(await alice.locator('[data-testid^="lower-hand-"]').count()).toBe(3);
    await alice.screenshot({ path: path.join(tmpdir(), 'baton-hands-queue-1280x720.png') });
    await alice.emulateMedia({ colorScheme: 'dark' });
    await alice.screenshot({ path: path.join(tmpdir(), 'baton-hands-queue-dark-1280x720.png') });
    await alice.emulateMedia({ colorScheme: 'light' });
  });

  it('the organizer lowers a hand; a participant lowers their own', async () => {
    await alice.getByTestId('lower-hand-Gus').click();
    await poll(() => queue(carol)).toEqual(['Carol', 'Bob']);
    await poll(() => gus.getByTestId('hand-toggle').textContent()).toContain('Raise hand');
    await bob.getByTestId('hand-toggle').click();
    await poll(() => queue(alice)).toEqual(['Carol']);
    await carol.getByTestId('lower-hand-Carol').click();
    await poll(() => alice.getByTestId('hands-queue').count()).toBe(0);
  });

  it('on a phone (390x844) the hand is raised from the People sheet, and the queue is there', async () => {
    await bob.setViewportSize({ width: 390, height: 844 });
    expect(await bob.getByTestId('hand-toggle').isVisible()).toBe(false);
    await bob.getByTestId('people-toggle').click();
    await bob.getByTestId('hand-toggle').click();
    await poll(() => queue(alice)).toEqual(['Bob']);
    await poll(() => bob.getByTestId('hands-queue').isVisible()).toBe(true);
    expect(await bob.getByTestId('lower-hand-Bob').isVisible()).toBe(true);
    await bob.screenshot({ path: path.join(tmpdir(), 'baton-hands-390x844.png') });
    await bob.getByTestId('lower-hand-Bob').click();
    await poll(() => alice.getByTestId('hands-queue').count()).toBe(0);
    await bob.setViewportSize({ width: 1280, height: 720 });
  });

  it('a reaction shows briefly on the other pages with who sent it', async () => {
    await gus.locator('[data-testid="react"][data-emoji="🎉"]').click();
    const shown = alice.locator('[data-testid="reaction"][data-emoji="🎉"]');
    await shown.waitFor();
    expect(await shown.textContent()).toContain('Gus');
    await bob.locator('[data-testid="reaction"][data-emoji="🎉"]').waitFor();
    await alice.screenshot({ path: path.join(tmpdir(), 'baton-reaction-1280x720.png') });
    // It goes away by itself.
    await poll(() => shown.count()).toBe(0);
    expect(meeting.pageErrors).toEqual([]);
  });
});

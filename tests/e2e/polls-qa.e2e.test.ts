/**
 * End to end, issue 14 items 4, 5 and 7: polls and Q&A in Chromium, served by the
 * data-collaboration server. The organizer starts a poll; a signed-in attendee and a guest vote
 * from their side panels and see only their own choice until the results are published; the
 * organizer watches the counts come in, closes and publishes, and everyone sees the bars. People
 * ask (one anonymously) and upvote; the list follows the votes; the organizer marks one answered.
 * The server refuses what the page would not offer (an attendee's poll, 13 options, a 10,000-option
 * frame), and after a restart everything is back. Screenshots at 1280x720 and 390x844.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TestClient, createConference, signUp } from '../../packages/server/test/support.js';
import { haveBrowserAndX } from '../support/browser.js';
import { BrowserMeeting } from '../support/meeting.js';

const OK = haveBrowserAndX('tests/e2e/polls-qa.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000 });
const SHOTS = path.join(tmpdir(), 'baton-polls-qa');

describe.skipIf(!OK)('polls and Q&A in the browser', { timeout: 180_000 }, () => {
  let meeting: BrowserMeeting;
  let conf: string;
  let aliceCookie: string;
  let bobCookie: string;
  let alice: Page;
  let bob: Page;
  let gus: Page;
  const results = (page: Page) => page.getByTestId('poll').first().getByTestId('poll-result').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
  const questionTexts = (page: Page) => page.getByTestId('question-text').allTextContents();

  beforeAll(async () => {
    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-polls-e2e-', context: { locale: 'en-US' } });
    aliceCookie = await signUp(meeting.url, 'alice');
    bobCookie = await signUp(meeting.url, 'bob');
    conf = await createConference(meeting.url, aliceCookie, { guests: 'allow' }, 'Polls demo');
    [alice, bob, gus] = await meeting.join(conf, [aliceCookie, bobCookie, null], ['Gus']);
    for (const p of [alice, bob, gus]) await p.getByTestId('roster-Gus').waitFor();
  }, 120_000);

  afterAll(() => meeting?.close());

  it('the organizer starts a poll; votes stay private until the results are published', async () => {
    // Only who may run polls (presenters and organizers by default) gets the New poll button.
    await bob.getByTestId('tab-polls').click();
    await bob.getByTestId('polls').waitFor();
    expect(await bob.getByTestId('poll-new').count()).toBe(0);

    await alice.getByTestId('tab-polls').click();
    await alice.getByTestId('poll-new').click();
    await alice.getByTestId('poll-question').fill('Where do we meet next?');
    const inputs = alice.getByTestId('poll-option-input');
    await inputs.nth(0).fill('Berlin');
    await inputs.nth(1).fill('Lisbon');
    await alice.getByTestId('poll-add-option').click();
    await inputs.nth(2).fill('Online');
    await alice.getByTestId('poll-anonymous').uncheck();
    await alice.getByTestId('poll-start').click();
    await alice.getByTestId('poll').waitFor();
    expect(await alice.getByTestId('poll-title').textContent()).toBe('Where do we meet next?');
    await poll(() => results(alice)).toEqual([0, 0, 0]);

    // Gus is on the chat tab: the Polls tab gets a badge, and a toast says who started what.
    await gus.getByTestId('tab-polls-badge').waitFor();
    expect(await gus.getByTestId('tab-polls-badge').textContent()).toBe('1');
    await poll(() => gus.getByTestId('toast').allTextContents()).toContainEqual(expect.stringContaining('Alice started a poll: Where do we meet next?'));
    await gus.getByTestId('tab-polls').click();
    expect(await gus.getByTestId('tab-polls-badge').count()).toBe(0);

    await bob.getByTestId('poll-choice').nth(1).check();
    await bob.getByTestId('poll-vote').click();
    await bob.getByTestId('poll-voted').waitFor();
    await gus.getByTestId('poll-choice').nth(2).check();
    await gus.getByTestId('poll-vote').click();
    await gus.getByTestId('poll-voted').waitFor();
    // Gus changes his mind: one vote per person, the new choice replaces the old.
    await gus.getByTestId('poll-choice').nth(1).check();
    await gus.getByTestId('poll-vote').click();

    await poll(() => results(alice)).toEqual([0, 2, 0]);
    expect(await alice.getByTestId('poll').textContent()).toContain('2 votes');
    expect(await alice.getByTestId('poll-result').nth(1).textContent()).toContain('Bob, Gus'); // a named poll
    expect(await bob.getByTestId('poll-results').count()).toBe(0); // voters see only their own choice
    await alice.screenshot({ path: path.join(SHOTS, 'poll-running-organizer-1280x720.png') });

    await alice.getByTestId('poll-close').click();
    await poll(() => bob.getByTestId('poll-state').textContent()).toBe('Closed');
    expect(await bob.getByTestId('poll-waiting').textContent()).toContain('You chose Lisbon');
    expect(await bob.getByTestId('poll-choice').count()).toBe(0);
    await alice.getByTestId('poll-publish').click();
    await poll(() => results(bob)).toEqual([0, 2, 0]);
    await poll(() => results(gus)).toEqual([0, 2, 0]);
    expect(await bob.getByTestId('poll-state').textContent()).toBe('Results');
    // The bars are drawn in proportion: Lisbon's fills its track, the others are empty.
    const fill = (i: number) => bob.getByTestId('poll-result').nth(i).locator('.bar-fill').evaluate((el) => el.getBoundingClientRect().width / el.parentElement!.getBoundingClientRect().width);
    expect(await fill(1)).toBeCloseTo(1, 2);
    expect(await fill(0)).toBe(0);
    await bob.screenshot({ path: path.join(SHOTS, 'poll-published-attendee-1280x720.png') });
  });

  it('the server refuses what the page would not offer, and only that connection suffers from a huge frame', async () => {
    const asBob = new TestClient(meeting.url, conf, { cookie: bobCookie });
    await asBob.hello();
    await asBob.next('welcome');
    const refused = await asBob.request({ type: 'poll.create', poll: { question: 'Mine?', options: ['a', 'b'] } });
    expect(refused).toMatchObject({ type: 'error', code: 'policy', message: 'the meeting policy lets only presenters and organizers run polls' });
    const marked = await asBob.request({ type: 'qa.mark', questionId: 'x', state: 'answered' });
    expect(marked).toMatchObject({ type: 'error', code: 'forbidden' });
    asBob.close();

    const asAlice = new TestClient(meeting.url, conf, { cookie: aliceCookie });
    await asAlice.hello();
    await asAlice.next('welcome');
    const thirteen = await asAlice.request({ type: 'poll.create', poll: { question: 'Too many?', options: Array.from({ length: 13 }, (_, i) => `o${i}`) } });
    expect(thirteen).toMatchObject({ type: 'error', code: 'bad_request' });
    expect((thirteen as { message: string }).message).toContain('a poll has at most 12 options');
    const html = await asAlice.request({ type: 'qa.ask', text: 'Hi\u202egnp.exe' });
    expect(html).toMatchObject({ type: 'error', code: 'bad_request' });
    // 10,000 options do not fit in a conference frame: that socket is closed with the reason.
    await asAlice.send({ type: 'poll.create', rid: 'big', poll: { question: 'Huge', options: Array.from({ length: 10_000 }, (_, i) => `option ${i}`) } });
    const closed = await asAlice.closed;
    expect(closed.code).toBe(1009);
    // Everyone else carries on.
    for (const p of [alice, bob]) await p.getByTestId('tab-chat').click();
    await bob.getByTestId('chat-input').fill('still here');
    await bob.getByTestId('chat-send').click();
    await poll(() => alice.getByTestId('chat-text').allTextContents()).toContain('still here');
    await alice.getByTestId('tab-polls').click();
    expect(await alice.getByTestId('poll').count()).toBe(1);
  });

  it('Q&A: ask (also without a name), upvote, ranked by votes; presenters mark answered', async () => {
    for (const p of [alice, bob, gus]) await p.getByTestId('tab-qa').click();
    await bob.getByTestId('qa-input').fill('Will the meeting be recorded?');
    await bob.getByTestId('qa-anonymous').check();
    await bob.getByTestId('qa-ask').click();
    await gus.getByTestId('qa-input').fill('When is lunch?');
    await gus.getByTestId('qa-ask').click();
    await poll(() => questionTexts(alice)).toEqual(['Will the meeting be recorded?', 'When is lunch?']);
    // Anonymous to everyone, the organizer included; its author still sees it as theirs.
    expect(await alice.getByTestId('question').nth(0).getByTestId('question-author').textContent()).toBe('Anonymous');
    expect(await bob.getByTestId('question').nth(0).textContent()).toContain('your question');
    expect(await bob.getByTestId('question').nth(0).getByTestId('question-vote').isDisabled()).toBe(true); // not your own
    expect(await alice.getByTestId('question').nth(1).getByTestId('question-author').textContent()).toBe('Gus');

    // Two upvotes for lunch move it to the top on every page.
    await bob.getByTestId('question').filter({ hasText: 'When is lunch?' }).getByTestId('question-vote').click();
    await alice.getByTestId('question').filter({ hasText: 'When is lunch?' }).getByTestId('question-vote').click();
    for (const p of [alice, bob, gus]) await poll(() => questionTexts(p)).toEqual(['When is lunch?', 'Will the meeting be recorded?']);
    await poll(() => gus.getByTestId('question-votes').first().textContent()).toBe('2');
    expect(await bob.getByTestId('question').first().getByTestId('question-vote').getAttribute('aria-pressed')).toBe('true');

    // Attendees get no moderation buttons; the organizer marks lunch answered, which sinks below open ones.
    expect(await bob.getByTestId('question-answered').count()).toBe(0);
    await alice.getByTestId('question').filter({ hasText: 'When is lunch?' }).getByTestId('question-answered').click();
    await poll(() => questionTexts(gus)).toEqual(['Will the meeting be recorded?', 'When is lunch?']);
    await poll(() => gus.getByTestId('question').nth(1).getAttribute('data-state')).toBe('answered');
    await gus.screenshot({ path: path.join(SHOTS, 'qa-guest-1280x720.png') });
  });

  it('on a phone the panel is a sheet with the same tabs, without sideways scrolling', async () => {
    const phone = await meeting.open(bobCookie, { width: 390, height: 844 });
    await phone.goto(`${meeting.url}/m/${conf}`);
    await phone.getByTestId('chat-toggle').click();
    await phone.getByTestId('tab-polls').click();
    await phone.getByTestId('poll-results').waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const box = await phone.getByTestId('polls').boundingBox();
    expect(box!.width).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: path.join(SHOTS, 'poll-phone-390x844.png') });
    await phone.getByTestId('tab-qa').click();
    await phone.getByTestId('qa').waitFor();
    await phone.screenshot({ path: path.join(SHOTS, 'qa-phone-390x844.png') });
    await phone.context().close();
  });

  it('polls and questions survive a restart of the server', async () => {
    await meeting.restart();
    const again = await meeting.open(bobCookie);
    await again.goto(`${meeting.url}/m/${conf}`);
    await again.getByTestId('tab-polls').click();
    await poll(() => results(again)).toEqual([0, 2, 0]);
    expect(await again.getByTestId('poll-state').textContent()).toBe('Results');
    await again.getByTestId('tab-qa').click();
    await poll(() => questionTexts(again)).toEqual(['Will the meeting be recorded?', 'When is lunch?']);
    expect(await again.getByTestId('question').nth(1).getAttribute('data-state')).toBe('answered');
    expect(await again.getByTestId('question').nth(1).getByTestId('question-vote').getAttribute('aria-pressed')).toBe('true');
    expect(meeting.pageErrors).toEqual([]);
  });
});

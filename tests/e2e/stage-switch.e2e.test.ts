/**
 * End to end, issue 14 item 7: the stage switch in Chromium. The organizer switches everyone's stage
 * with the tabs above it (Screen | Whiteboard | Slides); an attendee follows, looks at another tab
 * on their own while the presenter moves on, and goes back with "Follow presenter"; a late joiner
 * starts on the presenter's view; a share that starts turns the stage to the screen. Screenshots
 * at 1280x720 and 390x844.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TestClient, createConference, signUp } from '../../packages/server/test/support.js';
import { haveBrowserAndX } from '../support/browser.js';
import { BrowserMeeting } from '../support/meeting.js';

const OK = haveBrowserAndX('tests/e2e/stage-switch.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000 });
const SHOTS = path.join(tmpdir(), 'baton-stage-switch');

describe.skipIf(!OK)('the stage switch in the browser', { timeout: 180_000 }, () => {
  let meeting: BrowserMeeting;
  let conf: string;
  let aliceCookie: string;
  let bobCookie: string;
  let alice: Page;
  let bob: Page;
  const view = (p: Page) => p.getByTestId('stage-area').getAttribute('data-view');

  beforeAll(async () => {
    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-stage-e2e-', context: { locale: 'en-US' } });
    aliceCookie = await signUp(meeting.url, 'alice');
    bobCookie = await signUp(meeting.url, 'bob');
    conf = await createConference(meeting.url, aliceCookie, { guests: 'allow' }, 'Stage demo');
    [alice, bob] = await meeting.join(conf, [aliceCookie, bobCookie]);
    for (const p of [alice, bob]) await p.getByTestId('roster-Bob').waitFor();
  }, 120_000);

  afterAll(() => meeting?.close());

  it('the presenter switches everyone; a viewer looks elsewhere privately and follows again', async () => {
    for (const p of [alice, bob]) expect(await view(p)).toBe('screen');
    await alice.getByTestId('stage-tab-whiteboard').click();
    await poll(() => view(bob)).toBe('whiteboard');
    expect(await bob.getByTestId('stage-tab-whiteboard').getAttribute('aria-selected')).toBe('true');
    expect(await bob.getByTestId('stage-tab-whiteboard').getAttribute('data-live')).toBe('true');

    // Bob looks at the screen on his own: Alice's stage is not touched, Bob may follow again.
    await bob.getByTestId('stage-tab-screen').click();
    expect(await view(bob)).toBe('screen');
    expect(await bob.getByTestId('stage-area').getAttribute('data-following')).toBe('false');
    expect(await bob.getByTestId('stage-private').textContent()).toBe('The presenter shows: Whiteboard');
    await bob.screenshot({ path: path.join(SHOTS, 'viewer-private-1280x720.png') });

    // Alice moves on to the slides; Bob stays where he chose to be, and is told.
    await alice.getByTestId('stage-tab-slides').click();
    await poll(() => bob.getByTestId('stage-area').getAttribute('data-shared-view')).toBe('slides');
    expect(await view(bob)).toBe('screen');
    expect(await bob.getByTestId('stage-private').textContent()).toBe('The presenter shows: Slides');
    expect(await view(alice)).toBe('slides');
    expect(await alice.getByTestId('stage-follow').count()).toBe(0);

    await bob.getByTestId('stage-follow').click();
    expect(await view(bob)).toBe('slides');
    await bob.getByTestId('slides-empty').waitFor();
    expect(await bob.getByTestId('stage-follow').count()).toBe(0);
    await alice.screenshot({ path: path.join(SHOTS, 'presenter-slides-1280x720.png') });
  });

  it('a late joiner starts on the presenter\'s view; the server refuses an attendee; a new share turns the stage to the screen', async () => {
    const [gus] = await meeting.join(conf, [null], ['Gus']);
    await poll(() => view(gus)).toBe('slides');

    const asBob = new TestClient(meeting.url, conf, { cookie: bobCookie });
    await asBob.hello();
    await asBob.next('welcome');
    expect(await asBob.request({ type: 'stage.set', view: 'screen' })).toMatchObject({ type: 'error', code: 'policy' });
    asBob.close();
    expect(await view(alice)).toBe('slides');

    const asAlice = new TestClient(meeting.url, conf, { cookie: aliceCookie });
    await asAlice.hello();
    await asAlice.next('welcome');
    expect(await asAlice.request({ type: 'share.start', kind: 'browser' })).toMatchObject({ type: 'ack' });
    for (const p of [alice, bob, gus]) await poll(() => view(p)).toBe('screen');
    await gus.getByTestId('stage').waitFor();
    asAlice.close();
    await gus.context().close();
  });

  it('on a phone the tabs sit above the stage without sideways scrolling', async () => {
    const phone = await meeting.open(bobCookie, { width: 390, height: 844 });
    await phone.goto(`${meeting.url}/m/${conf}`);
    await phone.getByTestId('stage-tabs').waitFor();
    await phone.getByTestId('stage-tab-whiteboard').click();
    await phone.getByTestId('stage-follow').waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await phone.screenshot({ path: path.join(SHOTS, 'viewer-phone-390x844.png') });
    await phone.context().close();
    expect(meeting.pageErrors).toEqual([]);
  });
});

/**
 * End to end, issue 15 items 1 and 2 in Chromium: the organizer (in New York) schedules a weekly
 * meeting at 10:00 Europe/Berlin on the home page and sees it listed at 04:00 her time, at 1280x720
 * and 390x844, and downloads its .ics; a guest (in Tokyo) who arrives early waits in the lobby and is
 * shown the start at 18:00 his time; the organizer opens it from the home page and admits the guest.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/schedule.e2e.test.ts');
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });
const SUBJECT = 'Planning review';

describe.skipIf(!OK)('scheduling a meeting and the lobby until it is opened', { timeout: 90_000 }, () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let browser: Browser;
  let cookie = '';
  let conf = '';
  let org: Page;
  let guest: Page;
  const contexts: BrowserContext[] = [];

  const context = async (opts: { width: number; height: number; timezoneId: string; signedIn: boolean }) => {
    const ctx = await browser.newContext({ viewport: { width: opts.width, height: opts.height }, timezoneId: opts.timezoneId, locale: 'en-US', acceptDownloads: true });
    ctx.setDefaultTimeout(20_000);
    if (opts.signedIn) await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: srv.url }]);
    contexts.push(ctx);
    return ctx.newPage();
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(tmpdir(), `baton-schedule-${name}.png`) });

  beforeAll(async () => {
    buildWeb();
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-schedule-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST });
    cookie = await signUp(srv.url, 'alice');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    org = await context({ width: 1280, height: 720, timezoneId: 'America/New_York', signedIn: true });
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await srv?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the organizer schedules a weekly meeting and sees it at her local time (1280x720)', async () => {
    await org.goto(srv.url);
    await org.getByTestId('create-subject').fill(SUBJECT);
    await org.getByTestId('create-schedule-toggle').check();
    await org.getByTestId('create-date').fill('2027-01-12');
    await org.getByTestId('create-time').fill('10:00');
    await org.getByTestId('create-duration').fill('45');
    await org.getByTestId('create-timezone').selectOption('Europe/Berlin');
    await org.getByTestId('create-repeat').selectOption('weekly');
    await org.getByTestId('create-count').fill('3');
    await org.getByTestId('create-submit').click();
    await org.getByTestId('created-panel').waitFor();

    const row = org.locator('[data-testid^="upcoming-"][data-start]');
    await row.waitFor();
    conf = ((await row.getAttribute('data-testid')) ?? '').replace('upcoming-', '');
    expect(await row.getAttribute('data-start')).toBe('2027-01-12T09:00:00.000Z');
    // 10:00 in Berlin (UTC+1) is 04:00 in New York (UTC-5).
    const when = (await row.getByTestId('upcoming-when').textContent()) ?? '';
    expect(when).toContain('Tue, Jan 12, 2027, 04:00');
    expect(when).toContain('04:45 EST');
    expect(when).toContain('repeats');
    const stored = await srv.store.getConference(conf);
    expect(stored?.schedule).toEqual({ startsAt: '2027-01-12T09:00:00.000Z', durationMinutes: 45, timeZone: 'Europe/Berlin', rrule: 'FREQ=WEEKLY;COUNT=3' });
    await shot(org, 'dashboard-1280x720');
  });

  it('downloads the meeting’s .ics', async () => {
    const row = org.getByTestId(`upcoming-${conf}`);
    const [download] = await Promise.all([org.waitForEvent('download'), row.getByTestId('upcoming-ics').click()]);
    expect(download.suggestedFilename()).toBe('Planning-review.ics');
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toMatch(/^BEGIN:VCALENDAR/);
    expect(text).toMatch(/^DTSTART;TZID=Europe\/Berlin:20270112T100000\r?$/m);
    expect(text).toMatch(/^RRULE:FREQ=WEEKLY;COUNT=3\r?$/m);
    expect(text).toMatch(new RegExp(`^UID:${conf}@baton\\r?$`, 'm'));
    expect(text).toContain(`/m/${conf}`);
  });

  it('the same list fits a phone (390x844)', async () => {
    const phone = await context({ width: 390, height: 844, timezoneId: 'America/New_York', signedIn: true });
    await phone.goto(srv.url);
    const row = phone.getByTestId(`upcoming-${conf}`);
    await row.waitFor();
    expect(await row.getByTestId('upcoming-when').textContent()).toContain('04:00');
    await row.getByTestId('upcoming-ics').waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.getByTestId('create-schedule-toggle').check();
    await phone.getByTestId('create-timezone').waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(phone, 'dashboard-390x844');
  });

  it('a guest who arrives early waits in the lobby and sees the start in his time zone', async () => {
    guest = await context({ width: 1280, height: 720, timezoneId: 'Asia/Tokyo', signedIn: false });
    await guest.goto(`${srv.url}/m/${conf}`);
    await guest.getByTestId('guest-name').fill('Gus');
    await guest.getByTestId('guest-join').click();
    const start = guest.getByTestId('lobby-start');
    await start.waitFor();
    // 09:00 UTC is 18:00 in Tokyo.
    const text = (await start.textContent()) ?? '';
    expect(text).toContain('Tuesday, January 12');
    expect(text).toContain('18:00');
    expect(text).toContain('GMT+9');
    expect(text).toContain('once the organizer opens the meeting');
    await shot(guest, 'lobby-before-start-1280x720');
  });

  it('the organizer opens it from the home page, then admits the guest', async () => {
    await org.getByTestId(`upcoming-${conf}`).getByTestId('upcoming-open').click();
    await org.getByTestId(`upcoming-${conf}`).getByTestId('upcoming-opened').waitFor();
    // Open now, but the lobby policy still holds guests: the start notice goes, the lobby stays.
    await poll(() => guest.getByTestId('lobby-start').count()).toBe(0);
    expect(await guest.getByTestId('lobby-wait').textContent()).toContain('waiting in the lobby');

    await org.getByTestId(`upcoming-${conf}`).getByTestId('upcoming-join').click();
    await org.getByTestId('admit-Gus').click();
    await guest.getByTestId('meeting').waitFor();
    await poll(() => guest.getByTestId('meeting').getAttribute('data-state')).toBe('joined');
  });
});

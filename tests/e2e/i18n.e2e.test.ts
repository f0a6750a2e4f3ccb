/**
 * End to end, issue 11 item 19 and two leftovers, in Chromium against the real server:
 * - the meeting room switches to German at run time with the language picker (roster, chat, stage,
 *   a dialog, the header), and a German browser (locale de-DE) gets German from the start: the guest
 *   join card, the lobby card, the sign-in page; German's longer words break no layout at 1280x720 or
 *   390x844 (nothing wider than the page, no button's text cut);
 * - on a 390x844 phone the organizer's meeting header is one row (less-used actions in "More");
 * - a closed tab leaves the others' roster at once (`leave` on pagehide), a reload keeps its seat.
 * Screenshots go to <tmp>/i18n-shots for a look by eye.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { ServerMessage } from '@baton/protocol';
import { startServer } from '../../packages/server/dist/index.js';
import { TestClient, createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/i18n.e2e.test.ts');
const DESKTOP = { width: 1280, height: 720 };
const PHONE = { width: 390, height: 844 };
const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout });

/**
 * What a layout check finds on a page: how far the page is wider than the window, and every
 * visible button or link whose text does not fit in it, or that sticks out of the window in a bar
 * that does not scroll (the stage bar scrolls sideways on a phone by design).
 */
async function layoutProblems(page: Page): Promise<{ overflow: number; clipped: string[] }> {
  return page.evaluate(() => {
    const overflow = document.documentElement.scrollWidth - window.innerWidth;
    const clipped: string[] = [];
    const controls = document.querySelectorAll<HTMLElement>('button, a.button, select, .stage-bar .control-status, .meeting-title h1');
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      const name = `${el.dataset.testid ?? el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
      // Text cut inside the control (a subject may end in an ellipsis: that one is allowed to).
      if (!el.matches('.meeting-title h1, .control-status') && el.scrollWidth > el.clientWidth + 1) clipped.push(`${name}: text ${el.scrollWidth} > ${el.clientWidth}`);
      const scroller = el.closest('.stage-actions, .chat-log, .sidebar, dialog');
      if (!scroller && (r.left < -1 || r.right > window.innerWidth + 1)) clipped.push(`${name}: outside the window (${Math.round(r.left)}..${Math.round(r.right)})`);
    }
    return { overflow, clipped };
  });
}

describe.skipIf(!OK)('translations, the phone header, leaving', { timeout: 90_000 }, () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let browser: Browser;
  let aliceCookie = '';
  let bobCookie = '';
  let conf = '';
  const shots = path.join(tmpdir(), 'i18n-shots');
  const pageErrors: string[] = [];
  const clients: TestClient[] = [];
  const contexts: BrowserContext[] = [];

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
  const open = async (opts: { cookie?: string; locale?: string; viewport?: { width: number; height: number } } = {}) => {
    const ctx = await browser.newContext({ viewport: opts.viewport ?? DESKTOP, locale: opts.locale ?? 'en-US' });
    contexts.push(ctx);
    if (opts.cookie) await ctx.addCookies([{ name: 'baton_session', value: opts.cookie.split('=')[1]!, url: srv.url }]);
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return page;
  };
  const join = async (conference: string, extra: Record<string, unknown> = {}, cookie?: string) => {
    const c = new TestClient(srv.url, conference, cookie ? { cookie } : {});
    clients.push(c);
    await c.hello(extra);
    return c;
  };

  beforeAll(async () => {
    buildWeb();
    mkdirSync(shots, { recursive: true });
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-i18n-e2e-'));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST, logLevel: 'silent' });
    aliceCookie = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, aliceCookie, { guests: 'lobby', present: 'anyone', control: 'signed-in' }, 'Quartalsplanung');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    console.log(`i18n screenshots: ${shots}`);
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await browser?.close();
    await srv?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the organizer switches the meeting room to German with the language picker: roster, chat, stage, a dialog', async () => {
    const alice = await open({ cookie: aliceCookie });
    await alice.goto(`${srv.url}/m/${conf}`);
    await alice.getByTestId('roster-Alice').waitFor();
    expect(await alice.getByTestId('leave').textContent()).toBe('Leave');
    // Bob joins and says something; a guest knocks; Bob shares a screen from his browser.
    const bob = await join(conf, {}, bobCookie);
    await bob.next('welcome');
    await alice.getByTestId('roster-Bob').waitFor();
    expect(await bob.request({ type: 'chat.send', text: 'Guten Morgen!' })).toMatchObject({ type: 'ack' });
    await alice.getByTestId('chat-text').filter({ hasText: 'Guten Morgen!' }).waitFor();
    const gus = await join(conf, { name: 'Gus' });
    await gus.next('lobby.wait');
    await alice.getByTestId('lobby-Gus').waitFor();
    expect(await bob.request({ type: 'share.start', kind: 'browser' })).toMatchObject({ type: 'ack' });
    await poll(() => alice.getByTestId('control-status').textContent()).toBe('View only');

    await alice.getByTestId('language').selectOption('de');
    // The header and the rest of the room change at once, without a reload.
    await poll(() => alice.getByTestId('leave').textContent()).toBe('Verlassen');
    expect(await alice.evaluate(() => document.documentElement.lang)).toBe('de');
    expect(await alice.getByTestId('meeting-organizer').textContent()).toBe('Organisiert von Alice');
    expect(await alice.getByTestId('end-for-all').textContent()).toBe('Für alle beenden');
    // Roster: the heading, the count (plural), roles, the lobby with its buttons.
    expect(await alice.locator('#roster-title').textContent()).toBe('Teilnehmende (2)');
    expect(await alice.getByTestId('people-count').getAttribute('aria-label')).toBe('2 Personen');
    expect(await alice.getByTestId('roster-Alice').textContent()).toContain('(Sie)');
    expect(await alice.getByTestId('roster-Alice').textContent()).toContain('Organisator');
    expect(await alice.getByTestId('roster-Bob').textContent()).toContain('Teilt');
    expect(await alice.locator('#lobby-title').textContent()).toBe('Warten in der Lobby (1)');
    expect(await alice.getByTestId('admit-Gus').textContent()).toBe('Einlassen');
    expect(await alice.getByTestId('admit-Gus').getAttribute('aria-label')).toBe('Gus einlassen');
    // Chat.
    expect(await alice.locator('#chat-title').textContent()).toBe('Chat');
    expect(await alice.getByTestId('chat-input').getAttribute('placeholder')).toBe('Nachricht an alle');
    expect(await alice.getByTestId('chat-send').textContent()).toBe('Senden');
    expect(await alice.getByTestId('chat-to').locator('option').first().textContent()).toBe('Alle');
    // A time in the chat is written the German way (24 hours, no AM/PM).
    expect(await alice.locator('[data-testid="chat-message"] time').first().textContent()).toMatch(/^\d\d:\d\d$/);
    // Stage.
    expect(await alice.getByTestId('control-status').textContent()).toBe('Nur ansehen');
    expect(await alice.locator('.stage-who-text').textContent()).toBe('Bob teilt aus einem Browser');
    expect(await alice.getByTestId('share-hide').textContent()).toBe('Ausblenden');
    expect(await alice.getByTestId('view-mode-fit').textContent()).toBe('Einpassen');
    expect(await alice.getByTestId('share-fullscreen').textContent()).toContain('Vollbild');
    expect(await alice.getByTestId('stage').getAttribute('aria-label')).toBe('Geteilter Bildschirm');
    expect(await alice.getByTestId('hand-toggle').textContent()).toContain('Hand heben');
    await shot(alice, 'de-meeting-organizer-1280x720');
    expect(await layoutProblems(alice)).toEqual({ overflow: 0, clipped: [] });

    // A dialog: the meeting settings, whole.
    await alice.getByTestId('settings-open').click();
    const dialog = alice.getByTestId('settings-dialog');
    await dialog.waitFor();
    expect(await dialog.locator('h2').first().textContent()).toBe('Besprechungseinstellungen');
    expect(await dialog.getByTestId('settings-lobby').locator('option:checked').textContent()).toBe('Nur für Gäste');
    expect(await dialog.getByTestId('settings-save').textContent()).toBe('Speichern');
    expect(await layoutProblems(alice)).toEqual({ overflow: 0, clipped: [] });
    await shot(alice, 'de-settings-dialog-1280x720');
    await alice.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // The same room on a phone, in German: one header row, nothing sticks out, no text cut.
    await alice.setViewportSize(PHONE);
    await alice.getByTestId('more-actions').waitFor();
    expect(await layoutProblems(alice)).toEqual({ overflow: 0, clipped: [] });
    await shot(alice, 'de-meeting-organizer-390x844');
    await alice.getByTestId('more-actions').click();
    await alice.getByTestId('invite-open').waitFor();
    expect(await layoutProblems(alice)).toEqual({ overflow: 0, clipped: [] });
    await shot(alice, 'de-meeting-more-390x844');
    await alice.getByTestId('settings-open').click();
    await dialog.waitFor();
    expect(await layoutProblems(alice)).toEqual({ overflow: 0, clipped: [] });
    await shot(alice, 'de-settings-dialog-390x844');
    await alice.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Back to English for the next reader of this context.
    await alice.getByTestId('more-actions').click();
    await alice.getByTestId('language').selectOption('en');
    await poll(() => alice.getByTestId('leave').textContent()).toBe('Leave');
    await alice.context().close();
    bob.close();
    gus.close();
  });

  it('a German browser (de-DE): the guest join card, the lobby card and the sign-in page in German, at both sizes', async () => {
    const alice = await join(conf, {}, aliceCookie);
    await alice.next('welcome');
    for (const [viewport, size] of [
      [DESKTOP, '1280x720'],
      [PHONE, '390x844'],
    ] as const) {
      const page = await open({ locale: 'de-DE', viewport });
      await page.goto(`${srv.url}/m/${conf}`);
      const card = page.getByTestId('guest-join-card');
      await card.waitFor();
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('de');
      expect(await card.textContent()).toContain('Organisiert von Alice');
      expect(await card.locator('label').first().textContent()).toBe('Ihr Name');
      expect(await page.getByTestId('guest-join').textContent()).toBe('Um Einlass bitten');
      expect(await page.getByTestId('join-signin').textContent()).toBe('Anmelden');
      expect(await layoutProblems(page)).toEqual({ overflow: 0, clipped: [] });
      await shot(page, `de-guest-join-${size}`);

      await page.getByTestId('guest-name').fill(`Gisela ${size}`);
      await page.getByTestId('guest-join').click();
      const lobby = page.getByTestId('lobby-wait');
      await lobby.waitFor();
      expect(await lobby.locator('[role="status"]').textContent()).toBe('Sie warten in der Lobby. Der Organisator lässt Sie gleich herein.');
      expect(await lobby.getByTestId('leave').textContent()).toBe('Verlassen');
      expect(await layoutProblems(page)).toEqual({ overflow: 0, clipped: [] });
      await shot(page, `de-lobby-${size}`);
      // Admitted, the guest's room is German too.
      const knock = await alice.next('participant.joined', (m) => m.participant.name === `Gisela ${size}`);
      expect(await alice.request({ type: 'lobby.admit', participantId: knock.participant.id })).toMatchObject({ type: 'ack' });
      await poll(() => page.getByTestId('leave').textContent()).toBe('Verlassen');
      expect(await page.getByTestId('roster').textContent()).toContain('(Gast)');
      expect(await layoutProblems(page)).toEqual({ overflow: 0, clipped: [] });
      await shot(page, `de-meeting-guest-${size}`);

      // The sign-in page, which the guest reaches from the join card.
      await page.goto(`${srv.url}/signin`);
      const form = page.getByTestId('signin-form');
      await form.waitFor();
      expect(await form.locator('h2').textContent()).toBe('Anmelden');
      expect(await form.locator('label').first().textContent()).toBe('Benutzername');
      expect(await page.getByTestId('signin-submit').textContent()).toBe('Anmelden');
      expect(await page.getByTestId('goto-signup').textContent()).toBe('Jetzt anlegen');
      // A wrong password is answered in German where the words are the client's own.
      expect(await layoutProblems(page)).toEqual({ overflow: 0, clipped: [] });
      await shot(page, `de-signin-${size}`);
      await page.getByTestId('goto-signup').click();
      await page.getByTestId('signup-form').waitFor();
      expect(await page.getByTestId('signup-password-hint').textContent()).toContain('Mindestens 8 Zeichen');
      expect(await layoutProblems(page)).toEqual({ overflow: 0, clipped: [] });
      await shot(page, `de-signup-${size}`);
      await page.context().close();
    }
    alice.close();
  });

  it('on a 390x844 phone the organizer\'s header is one row, in English and German; the rest is in "More"', async () => {
    const alice = await open({ cookie: aliceCookie, viewport: PHONE });
    await alice.goto(`${srv.url}/m/${conf}`);
    await alice.getByTestId('roster-Alice').waitFor({ state: 'attached' }); // in the People sheet, closed
    for (const lang of ['en', 'de']) {
      if (lang === 'de') {
        await alice.getByTestId('more-actions').click();
        await alice.getByTestId('language').selectOption('de');
        await poll(() => alice.getByTestId('leave').textContent()).toBe('Verlassen');
        await alice.keyboard.press('Escape');
      }
      await poll(() => alice.getByTestId('more-menu').isVisible()).toBe(false);
      const header = await alice.locator('.meeting-header').boundingBox();
      // One row of buttons (about 32 px) with its padding: well under the two rows a wrap would need.
      expect(header!.height).toBeLessThanOrEqual(60);
      const rows = await alice.locator('.meeting-header button:visible').evaluateAll((els) => els.map((e) => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; }));
      expect(Math.max(...rows) - Math.min(...rows)).toBeLessThanOrEqual(4); // one row: every button on the same line
      for (const id of ['chat-toggle', 'people-toggle', 'more-actions', 'leave']) expect(await alice.getByTestId(id).isVisible()).toBe(true);
      for (const id of ['invite-open', 'settings-open', 'end-for-all', 'copy-url']) expect(await alice.getByTestId(id).isVisible()).toBe(false);
      expect(await layoutProblems(alice)).toEqual({ overflow: 0, clipped: [] });
      await shot(alice, `header-${lang}-390x844`);
      // "More" holds the rest; a choice closes it (here: the invite dialog).
      await alice.getByTestId('more-actions').click();
      expect(await alice.getByTestId('more-actions').getAttribute('aria-expanded')).toBe('true');
      for (const id of ['copy-url', 'shortcuts-open', 'sound-toggle', 'invite-open', 'agent-open', 'browser-share-start', 'settings-open', 'end-for-all', 'language']) {
        expect(await alice.getByTestId('more-menu').getByTestId(id).isVisible()).toBe(true);
      }
      await shot(alice, `header-more-${lang}-390x844`);
      await alice.getByTestId('invite-open').click();
      await alice.getByTestId('invite-dialog').waitFor();
      expect(await alice.getByTestId('more-menu').isVisible()).toBe(false);
      await alice.keyboard.press('Escape');
      await alice.getByTestId('invite-dialog').waitFor({ state: 'detached' });
    }
    // At 1280x720 there is no "More": everything is in the header; German's longer buttons may take
    // a second row, but the subject keeps its room and nothing is cut.
    await alice.setViewportSize(DESKTOP);
    expect(await alice.getByTestId('more-actions').isVisible()).toBe(false);
    expect(await alice.getByTestId('invite-open').isVisible()).toBe(true);
    expect((await alice.getByTestId('meeting-subject').boundingBox())!.width).toBeGreaterThanOrEqual(120);
    expect(await layoutProblems(alice)).toEqual({ overflow: 0, clipped: [] });
    await shot(alice, 'header-de-1280x720');
    await alice.context().close();
  });

  describe('leaving (pagehide)', () => {
    const seatOf = async (page: Page, name: string) => page.getByTestId(`roster-${name}`).getAttribute('data-participant-id');

    it("closing the tab removes the participant from the others' roster at once, as left", async () => {
      const room = await createConference(srv.url, aliceCookie, { guests: 'allow' }, 'Leaving');
      const watcher = await join(room, {}, aliceCookie);
      await watcher.next('welcome');
      const alice = await open({ cookie: aliceCookie });
      await alice.goto(`${srv.url}/m/${room}`);
      const bob = await open({ cookie: bobCookie });
      await bob.goto(`${srv.url}/m/${room}`);
      await alice.getByTestId('roster-Bob').waitFor();
      const bobSeat = await seatOf(alice, 'Bob');
      await bob.close({ runBeforeUnload: true });
      // The server heard "leave": the seat goes as left (a plain drop would be "reconnecting", then
      // "timeout" after 30 s), and Alice's roster drops Bob.
      const left = (await watcher.next('participant.left', (m) => m.participantId === bobSeat, 20_000)) as Extract<ServerMessage, { type: 'participant.left' }>;
      expect(left.reason).toBe('left');
      expect(watcher.received.some((m) => m.type === 'participant.updated' && m.participant.id === bobSeat && m.participant.connection === 'reconnecting')).toBe(false);
      await poll(() => alice.getByTestId('roster-Bob').count(), 20_000).toBe(0);
      await alice.context().close();
      watcher.close();
    });

    it('a reload keeps the same roster entry: no leave, no "reconnecting", no new seat', async () => {
      const room = await createConference(srv.url, aliceCookie, { guests: 'allow' }, 'Reloading');
      const watcher = await join(room, {}, aliceCookie);
      await watcher.next('welcome');
      const alice = await open({ cookie: aliceCookie });
      await alice.goto(`${srv.url}/m/${room}`);
      const guest = await open();
      await guest.goto(`${srv.url}/m/${room}`);
      await guest.getByTestId('guest-name').fill('Gus');
      await guest.getByTestId('guest-join').click();
      await alice.getByTestId('roster-Gus').waitFor();
      const seat = await seatOf(alice, 'Gus');
      const toastsBefore = await alice.getByTestId('toast').count();
      watcher.received.length = 0; // from here on, anything about Gus would be news
      await guest.reload();
      // Back on the same seat (its resume token), before the short leave grace ran out.
      await guest.getByTestId('roster-Gus').waitFor();
      expect(await seatOf(guest, 'Gus')).toBe(seat);
      // Then a round trip through the server (Gus chats): nothing about a leave came before it.
      await guest.getByTestId('chat-input').fill('still here');
      await guest.getByTestId('chat-input').press('Enter');
      await watcher.next('chat.message', (m) => m.message.text === 'still here');
      expect(watcher.received.filter((m) => m.type === 'participant.left' || m.type === 'participant.joined')).toEqual([]);
      expect(watcher.received.some((m) => m.type === 'participant.updated' && m.participant.connection === 'reconnecting')).toBe(false);
      expect(await seatOf(alice, 'Gus')).toBe(seat);
      expect(await alice.getByTestId('roster-Gus').getAttribute('data-connection')).toBe('online');
      expect(await alice.getByTestId('toast').count()).toBe(toastsBefore);
      await alice.context().close();
      await guest.context().close();
      watcher.close();
    });
  });

  it('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

/**
 * End to end, issue 11 (meeting experience): what a user sees of notifications, dialogs, buttons,
 * the home page, invitations, dark mode and keyboard shortcuts. The real server (SQLite in a temp
 * dir) serves the built client to Debian's Chromium; other participants are real conference sockets.
 * Screenshots at 1280x720 and 390x844 go to <tmp>/shots-ux for a look by eye.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { TestClient, api, createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb } from '../support/browser.js';

const OK = existsSync(CHROMIUM);
if (!OK) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing (CI=true)`);
  console.warn(`\n*** SKIPPING tests/e2e/meeting-ux.e2e.test.ts: ${CHROMIUM} is not installed ***\n`);
}

const DESKTOP = { width: 1280, height: 720 };
const PHONE = { width: 390, height: 844 };
const SUBJECT = 'Design sync';
const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout });
/** On a phone the header's less-used buttons are in the "More" menu: open it when they are hidden there. */
const reveal = async (page: Page, testId: string) => {
  if (!(await page.getByTestId(testId).isVisible()) && (await page.getByTestId('more-actions').isVisible())) await page.getByTestId('more-actions').click();
};

describe.skipIf(!OK)('meeting experience in the browser', { timeout: 60_000 }, () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let shots: string;
  let browser: Browser;
  let aliceCtx: BrowserContext;
  let bobCtx: BrowserContext;
  let alice: Page;
  let bob: Page;
  let aliceCookie = '';
  let bobCookie = '';
  let carolCookie = '';
  let conf = '';
  const clients: TestClient[] = [];
  const pageErrors: string[] = [];

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
  const cookieCtx = async (cookie: string, viewport = DESKTOP) => {
    const ctx = await browser.newContext({ viewport });
    await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: srv.url }]);
    ctx.setDefaultTimeout(15_000);
    return ctx;
  };
  const watch = (page: Page, who: string) => {
    page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
  };
  /** A participant on a plain conference socket (not a browser). */
  const join = async (cookie?: string, extra: Record<string, unknown> = {}) => {
    const c = new TestClient(srv.url, conf, cookie ? { cookie } : {});
    clients.push(c);
    await c.hello(extra);
    return c;
  };

  beforeAll(async () => {
    buildWeb();
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-ux-e2e-'));
    shots = path.join(tmpdir(), 'shots-ux');
    mkdirSync(shots, { recursive: true });
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST, logLevel: 'silent' });
    aliceCookie = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    carolCookie = await signUp(srv.url, 'carol');
    conf = await createConference(srv.url, aliceCookie, { guests: 'lobby', present: 'anyone', control: 'anyone' }, SUBJECT);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    aliceCtx = await cookieCtx(aliceCookie);
    bobCtx = await cookieCtx(bobCookie);
    alice = await aliceCtx.newPage();
    bob = await bobCtx.newPage();
    watch(alice, 'alice');
    watch(bob, 'bob');
    console.log(`meeting-ux screenshots: ${shots}`);
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await browser?.close();
    await srv?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe('notifications (item 9)', () => {
    it('a chat message while the chat is hidden: toast, live region, unread badge, tab title', async () => {
      await alice.goto(`${srv.url}/m/${conf}`);
      await bob.goto(`${srv.url}/m/${conf}`);
      await alice.getByTestId('roster-Bob').waitFor();
      await poll(() => alice.title()).toBe(`${SUBJECT} · Baton`);

      // The chat is open: a message from Bob is simply in the log, no toast, nothing unread.
      await bob.getByTestId('chat-input').fill('First, with the chat open');
      await bob.getByTestId('chat-input').press('Enter');
      await poll(() => alice.getByTestId('chat-text').allTextContents()).toEqual(['First, with the chat open']);
      expect(await alice.getByTestId('toast').count()).toBe(0);

      await alice.getByTestId('chat-toggle').click();
      expect(await alice.getByTestId('chat-toggle').getAttribute('aria-pressed')).toBe('false');
      expect(await alice.getByTestId('chat-panel').isVisible()).toBe(false);
      await bob.getByTestId('chat-input').fill('Can you see the <b>mockups</b>?');
      await bob.getByTestId('chat-input').press('Enter');

      const toast = alice.getByTestId('toast').filter({ hasText: 'mockups' });
      await poll(() => toast.textContent()).toContain('Bob: Can you see the <b>mockups</b>?');
      expect(await toast.getAttribute('data-kind')).toBe('chat');
      // Announced: the toast sits inside a polite live region that was in the page before it.
      const live = alice.locator('[aria-live="polite"]').filter({ hasText: 'Can you see the' });
      expect(await live.count()).toBeGreaterThan(0);
      expect(await alice.getByTestId('toasts').getAttribute('aria-live')).toBe('polite');
      expect(await alice.locator('[data-testid="toasts"] b').count()).toBe(0);
      expect(await alice.getByTestId('chat-unread').textContent()).toBe('1');
      await poll(() => alice.title()).toBe(`(1) ${SUBJECT} · Baton`);

      await bob.getByTestId('chat-input').fill('And a second one');
      await bob.getByTestId('chat-input').press('Enter');
      await poll(() => alice.getByTestId('chat-unread').textContent()).toBe('2');
      await poll(() => alice.title()).toBe(`(2) ${SUBJECT} · Baton`);
      expect(await alice.getByTestId('chat-toggle').getAttribute('aria-label')).toBe('Chat, 2 unread');
      await shot(alice, 'notify-chat-toast-1280x720');
      await alice.setViewportSize(PHONE);
      await shot(alice, 'notify-chat-toast-390x844');
      await alice.setViewportSize(DESKTOP);

      // Opening the chat reads them.
      await alice.getByTestId('chat-toggle').click();
      await poll(() => alice.getByTestId('chat-unread').count()).toBe(0);
      await poll(() => alice.title()).toBe(`${SUBJECT} · Baton`);
      expect(await alice.getByTestId('chat-text').last().textContent()).toBe('And a second one');
    });

    it('a knock in the lobby, someone starting to share, a control request: each a toast', async () => {
      // A guest knocks: the organizer is told, and the title counts the waiting guest.
      const guest = await join(undefined, { name: 'Gus' });
      await guest.next('lobby.wait');
      await poll(() => alice.getByTestId('toast').filter({ hasText: 'Gus (guest) is waiting in the lobby' }).count()).toBe(1);
      expect(await alice.getByTestId('toast').filter({ hasText: 'Gus' }).getAttribute('data-kind')).toBe('lobby');
      await poll(() => alice.title()).toBe(`(1) ${SUBJECT} · Baton`);
      // Bob is no organizer: he sees no lobby, so no knock.
      expect(await bob.getByTestId('toast').filter({ hasText: 'Gus' }).count()).toBe(0);
      await alice.getByTestId('admit-Gus').click();
      await guest.next('welcome');
      await poll(() => alice.title()).toBe(`${SUBJECT} · Baton`);

      // Bob's agent starts sharing: Alice is told, Bob's own page is not (its dialog says "Connected").
      const tok = await api(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, bobCookie);
      const agent = await join(undefined, { client: 'agent', agentToken: tok.body.token });
      await agent.next('welcome');
      expect(await agent.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
      const started = alice.getByTestId('toast').filter({ hasText: 'Bob started sharing a desktop' });
      await poll(() => started.count()).toBe(1);
      expect(await started.getAttribute('data-kind')).toBe('share');

      // Carol asks for control: the host's page hears it.
      const carol = await join(carolCookie);
      await carol.next('welcome');
      expect(await carol.request({ type: 'control.request' })).toMatchObject({ type: 'ack' });
      const asks = bob.getByTestId('toast').filter({ hasText: 'Carol asks to control your screen' });
      await poll(() => asks.count()).toBe(1);
      expect(await asks.getAttribute('data-kind')).toBe('control');
      expect(await bob.locator('[aria-live="polite"]').filter({ hasText: 'Carol asks to control your screen' }).count()).toBeGreaterThan(0);
      await shot(bob, 'notify-control-request-1280x720');

      // A toast can be dismissed.
      await asks.getByRole('button', { name: 'Dismiss notification' }).click();
      await poll(() => asks.count()).toBe(0);
      agent.close();
      carol.close();
      guest.close();
    });

    it('the notification sound is off by default and its setting is kept', async () => {
      const toggle = alice.getByTestId('sound-toggle');
      expect(await toggle.getAttribute('aria-pressed')).toBe('false');
      await toggle.click();
      await poll(() => toggle.getAttribute('aria-pressed')).toBe('true');
      expect(await alice.evaluate(() => localStorage.getItem('baton.notifySound'))).toBe('on');
      await alice.reload();
      await alice.getByTestId('meeting').waitFor();
      expect(await alice.getByTestId('sound-toggle').getAttribute('aria-pressed')).toBe('true');
      await alice.getByTestId('sound-toggle').click();
      await poll(() => alice.getByTestId('sound-toggle').getAttribute('aria-pressed')).toBe('false');
      expect(pageErrors).toEqual([]);
    });
  });

  describe('dialogs (item 10)', () => {
    /** Where the focus is: inside the open dialog or not, and what it is. */
    const focusInside = (page: Page, testId: string) =>
      page.evaluate((id) => {
        const d = document.querySelector(`[data-testid="${id}"]`);
        const a = document.activeElement;
        return { inside: !!d && !!a && d.contains(a), what: a ? `${a.tagName}.${a.className}` : 'none' };
      }, testId);
    /** For each select: the widest option's text against the room inside the box (less the arrow). */
    const selectFits = (page: Page, testId: string) =>
      page.evaluate((id) => {
        const ctx = document.createElement('canvas').getContext('2d')!;
        return [...document.querySelectorAll<HTMLSelectElement>(`[data-testid="${id}"] select`)].map((s) => {
          const cs = getComputedStyle(s);
          ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
          const widest = Math.max(...[...s.options].map((o) => ctx.measureText(o.text).width));
          const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
          return { select: s.dataset.testid, fits: widest <= room, widest: Math.round(widest), room: Math.round(room) };
        });
      }, testId);

    for (const [open, dialog] of [
      ['settings-open', 'settings-dialog'],
      ['invite-open', 'invite-dialog'],
      ['agent-open', 'agent-dialog'],
    ] as const) {
      it(`${dialog}: Tab and Shift+Tab stay inside, Escape closes, focus returns to the opener`, async () => {
        await alice.getByTestId(open).focus();
        await alice.keyboard.press('Enter');
        await alice.getByTestId(dialog).waitFor();
        expect(await alice.getByTestId(dialog).evaluate((d) => d.tagName === 'DIALOG' && (d as HTMLDialogElement).open && d.matches(':modal'))).toBe(true);
        expect((await focusInside(alice, dialog)).inside).toBe(true);
        for (let i = 0; i < 14; i++) {
          await alice.keyboard.press('Tab');
          const f = await focusInside(alice, dialog);
          expect(f.inside, `Tab ${i + 1} left the dialog for ${f.what}`).toBe(true);
        }
        for (let i = 0; i < 14; i++) {
          await alice.keyboard.press('Shift+Tab');
          const f = await focusInside(alice, dialog);
          expect(f.inside, `Shift+Tab ${i + 1} left the dialog for ${f.what}`).toBe(true);
        }
        await alice.keyboard.press('Escape');
        await alice.getByTestId(dialog).waitFor({ state: 'detached' });
        await poll(() => alice.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe(open);
      });
    }

    it('the settings dialog shows its choices whole, at 1280x720 and 390x844', async () => {
      for (const [viewport, name] of [
        [DESKTOP, '1280x720'],
        [PHONE, '390x844'],
      ] as const) {
        await alice.setViewportSize(viewport);
        await reveal(alice, 'settings-open');
        await alice.getByTestId('settings-open').click();
        await alice.getByTestId('settings-dialog').waitFor();
        const fits = await selectFits(alice, 'settings-dialog');
        expect(fits.length).toBeGreaterThanOrEqual(5);
        expect(fits.filter((f) => !f.fits)).toEqual([]);
        // Nothing of the dialog is off screen sideways.
        const box = (await alice.getByTestId('settings-dialog').boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
        await shot(alice, `settings-dialog-${name}`);
        // A click on the backdrop closes it too.
        await alice.mouse.click(3, viewport.height - 3);
        await alice.getByTestId('settings-dialog').waitFor({ state: 'detached' });
      }
      await alice.setViewportSize(DESKTOP);
    });
  });
  describe('one button style, a steady header, the organizer by name (item 13)', () => {
    /** Visible buttons that still look like the browser's default (grey, outset, 13.33px Arial). */
    const defaultButtons = (page: Page) =>
      page.evaluate(() =>
        [...document.querySelectorAll('button')]
          .filter((b) => b.getClientRects().length > 0 && getComputedStyle(b).visibility !== 'hidden')
          .map((b) => {
            const cs = getComputedStyle(b);
            return { text: b.textContent?.trim() || b.getAttribute('aria-label'), bg: cs.backgroundColor, border: cs.borderTopStyle, font: cs.fontSize };
          })
          .filter((b) => b.bg === 'rgb(239, 239, 239)' || b.bg === 'rgb(107, 107, 107)' || b.border === 'outset' || b.font === '13.3333px'),
      );

    it('no button on the meeting page, in its dialogs or on the home page has the default look', async () => {
      expect(await defaultButtons(alice)).toEqual([]);
      expect(await defaultButtons(bob)).toEqual([]);
      for (const [open, dialog] of [
        ['settings-open', 'settings-dialog'],
        ['invite-open', 'invite-dialog'],
        ['agent-open', 'agent-dialog'],
      ] as const) {
        await alice.getByTestId(open).click();
        await alice.getByTestId(dialog).waitFor();
        expect(await defaultButtons(alice), dialog).toEqual([]);
        await alice.keyboard.press('Escape');
        await alice.getByTestId(dialog).waitFor({ state: 'detached' });
      }
      const home = await aliceCtx.newPage();
      await home.goto(`${srv.url}/`);
      await home.getByTestId('meeting-list').waitFor();
      expect(await defaultButtons(home)).toEqual([]);
      await home.close();
    });

    it('"Copied!" does not move anything in the header', async () => {
      const boxes = () =>
        alice.evaluate(() =>
          [...document.querySelectorAll('.meeting-header button, .meeting-header h1')].map((e) => {
            const r = e.getBoundingClientRect();
            return `${e.textContent?.trim() === 'Copied!' ? 'copy' : e.textContent?.trim()}@${Math.round(r.x)},${Math.round(r.y)},${Math.round(r.width)}x${Math.round(r.height)}`;
          }),
        );
      for (const viewport of [DESKTOP, PHONE]) {
        await alice.setViewportSize(viewport);
        await poll(() => alice.getByTestId('copy-url').textContent(), 5000).toBe('Copy meeting URL');
        await reveal(alice, 'copy-url');
        const before = (await boxes()).map((b) => b.replace('Copy meeting URL@', 'copy@'));
        await alice.getByTestId('copy-url').click();
        await poll(() => alice.getByTestId('copy-url').textContent()).toBe('Copied!');
        const after = await boxes();
        expect(after).toEqual(before);
      }
      await alice.setViewportSize(DESKTOP);
    });

    it("the header names the organizer by display name, and so does the guest's join card", async () => {
      expect(await alice.getByTestId('meeting-organizer').textContent()).toBe('Organized by Alice');
      expect(await bob.getByTestId('meeting-organizer').textContent()).toBe('Organized by Alice');
      const ctx = await browser.newContext({ viewport: DESKTOP });
      const page = await ctx.newPage();
      await page.goto(`${srv.url}/m/${conf}`);
      await page.getByTestId('guest-join-card').waitFor();
      expect(await page.getByTestId('guest-join-card').textContent()).toContain('Organized by Alice');
      expect(await defaultButtons(page)).toEqual([]);
      await ctx.close();
    });
  });
  describe('home page (item 14)', () => {
    let created = '';

    it('a meeting created without a subject gets a default name, and can be entered at once', async () => {
      const home = await aliceCtx.newPage();
      watch(home, 'alice home');
      await home.goto(`${srv.url}/`);
      await home.getByTestId('meeting-list').waitFor();
      expect(await home.getByTestId('create-subject').getAttribute('required')).toBeNull();
      await shot(home, 'home-1280x720');
      await home.setViewportSize(PHONE);
      await shot(home, 'home-390x844');
      await home.setViewportSize(DESKTOP);
      await home.getByTestId('create-submit').click();
      const panel = home.getByTestId('created-panel');
      await poll(() => panel.textContent()).toContain("Alice's meeting is ready.");
      // The keyboard is already on the way in.
      expect(await home.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('created-enter');
      await shot(home, 'home-created-1280x720');
      created = (await home.getByTestId('created-copy').getAttribute('data-copy-text')) ?? '';
      expect(created).toMatch(new RegExp(`^${srv.url}/m/[\\w-]+$`));
      await home.getByTestId('created-enter').click();
      await home.waitForURL(created);
      await poll(() => home.getByTestId('meeting-subject').textContent()).toBe("Alice's meeting");
      await home.close();
    });

    it('joining by a pasted link or code lands in the meeting; anything else says why not', async () => {
      const home = await bobCtx.newPage();
      watch(home, 'bob home');
      await home.goto(`${srv.url}/`);
      const box = home.getByTestId('join-link');
      await box.fill('not a meeting');
      await home.getByTestId('join-link-submit').click();
      await poll(() => home.getByTestId('join-link-error').textContent()).toContain('not a meeting link or code');
      expect(new URL(home.url()).pathname).toBe('/');

      await box.fill(`  ${created}  `);
      await box.press('Enter');
      await home.waitForURL(created);
      await poll(() => home.getByTestId('meeting-subject').textContent()).toBe("Alice's meeting");
      await home.getByTestId('leave').click();

      const code = created.split('/m/')[1]!;
      await home.goto(`${srv.url}/`);
      await home.getByTestId('join-link').fill(code);
      await home.getByTestId('join-link-submit').click();
      await home.waitForURL(created);
      await home.getByTestId('meeting').waitFor();
      await home.close();

      // Signed out, the landing page has the same box: a guest goes to the meeting's join card.
      const ctx = await browser.newContext({ viewport: PHONE });
      const anon = await ctx.newPage();
      await anon.goto(`${srv.url}/`);
      await anon.getByTestId('join-link').fill(created.replace(srv.url, 'https://meet.example.org'));
      await anon.getByTestId('join-link-submit').click();
      await anon.getByTestId('guest-join-card').waitFor();
      expect(new URL(anon.url()).pathname).toBe(`/m/${code}`);
      await ctx.close();
    });
  });
  describe('invitations with autocomplete (item 15)', () => {
    it('typing suggests users and groups; unknown entries are named and the rest still sent', async () => {
      await srv.store.createGroup('design');
      await alice.getByTestId('invite-open').click();
      const box = alice.getByTestId('invite-users');
      await box.pressSequentially('car');
      const carol = alice.getByTestId('suggest-user-carol');
      await poll(() => carol.textContent()).toBe('Carol carol');
      expect(await box.getAttribute('aria-expanded')).toBe('true');
      expect(await alice.getByRole('listbox', { name: 'Suggestions' }).count()).toBe(1);
      await shot(alice, 'invite-autocomplete-1280x720');
      // Enter picks the highlighted suggestion (and does not send the form).
      await box.press('Enter');
      await poll(() => box.inputValue()).toBe('carol, ');
      expect(await alice.getByTestId('invite-result').count()).toBe(0);

      // A group is suggested too; picking it ticks it.
      await box.pressSequentially('desi');
      await alice.getByTestId('suggest-group-design').click();
      expect(await alice.getByTestId('invite-group-design').isChecked()).toBe(true);
      await poll(() => box.inputValue()).toBe('carol, ');

      // Escape closes the list, not the dialog.
      await box.pressSequentially('bo');
      await alice.getByTestId('suggest-user-bob').waitFor();
      await box.press('Escape');
      await poll(() => alice.getByTestId('invite-suggestions').count()).toBe(0);
      expect(await alice.getByTestId('invite-dialog').isVisible()).toBe(true);

      await box.fill('carol, nobody-here');
      await alice.getByTestId('invite-submit').click();
      await poll(() => alice.getByTestId('invite-result').textContent()).toBe('Invited: carol');
      expect(await alice.getByTestId('invite-error').textContent()).toBe('Not found: user “nobody-here”. The other invitations were sent.');
      // What was not found stays in the box to be corrected.
      expect(await box.inputValue()).toBe('nobody-here');
      await shot(alice, 'invite-result-1280x720');

      await box.fill('nobody-here');
      await alice.getByTestId('invite-submit').click();
      await poll(() => alice.getByTestId('invite-error').textContent()).toBe('no such user: nobody-here. Nothing was sent.');
      await alice.keyboard.press('Escape');
      await alice.getByTestId('invite-dialog').waitFor({ state: 'detached' });
      const inv = await api(srv.url, 'GET', '/api/invitations', undefined, carolCookie);
      expect(inv.body.invitations.map((i: { subject: string }) => i.subject)).toContain(SUBJECT);
    });

    it('a guest cannot search the directory', async () => {
      const anon = await api(srv.url, 'GET', `/api/conferences/${conf}/invite-suggestions?q=car`);
      expect(anon.status).toBe(401);
      expect(JSON.stringify(anon.body)).not.toContain('carol');
    });
  });
  describe('dark mode, keyboard shortcuts, skip link (item 18)', () => {
    const blur = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    /** Relative luminance (0 black .. 1 white) of a computed CSS colour. */
    const luminance = (page: Page, selector: string, prop: 'backgroundColor' | 'color') =>
      page.evaluate(
        ([sel, p]) => {
          const c = getComputedStyle(document.querySelector(sel)!)[p as 'color'];
          const [r, g, b] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
            const x = Number(v) / 255;
            return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        },
        [selector, prop] as const,
      );

    it('"?" lists the shortcuts; C, H and M work, and not while typing', async () => {
      await blur(alice);
      await alice.keyboard.press('?');
      const help = alice.getByTestId('shortcuts-dialog');
      await help.waitFor();
      const rows = await alice.getByTestId('shortcut').allTextContents();
      expect(rows).toEqual([
        'MMute or unmute your microphone',
        'CShow or hide the chat',
        'HRaise or lower your hand',
        'FShared screen on the whole screen (and back)',
        '?Show these shortcuts',
      ]);
      await shot(alice, 'shortcuts-dialog-1280x720');
      // Keys do nothing behind an open dialog.
      await alice.keyboard.press('c');
      expect(await alice.getByTestId('chat-toggle').getAttribute('aria-pressed')).toBe('true');
      await alice.keyboard.press('Escape');
      await help.waitFor({ state: 'detached' });
      // The header's "?" button opens the same dialog.
      await alice.getByTestId('shortcuts-open').click();
      await help.waitFor();
      await alice.keyboard.press('Escape');
      await help.waitFor({ state: 'detached' });

      await blur(alice);
      await alice.keyboard.press('c');
      await poll(() => alice.getByTestId('chat-toggle').getAttribute('aria-pressed')).toBe('false');
      await alice.keyboard.press('c');
      await poll(() => alice.getByTestId('chat-toggle').getAttribute('aria-pressed')).toBe('true');
      // Typing a "c" in the chat is typing.
      await alice.getByTestId('chat-input').pressSequentially('chmf');
      expect(await alice.getByTestId('chat-input').inputValue()).toBe('chmf');
      expect(await alice.getByTestId('chat-toggle').getAttribute('aria-pressed')).toBe('true');
      await alice.getByTestId('chat-input').fill('');

      // H raises Alice's hand; Bob is notified.
      await blur(alice);
      await alice.keyboard.press('h');
      await poll(() => alice.getByTestId('hand-toggle').getAttribute('aria-pressed')).toBe('true');
      await poll(() => bob.getByTestId('toast').filter({ hasText: 'Alice raised their hand' }).count()).toBe(1);
      expect(await bob.getByTestId('toast').filter({ hasText: 'Alice raised their hand' }).getAttribute('data-kind')).toBe('hand');
      await alice.keyboard.press('h');
      await poll(() => alice.getByTestId('hand-toggle').getAttribute('aria-pressed')).toBe('false');

      // M without audio on this server says why nothing happened.
      await alice.keyboard.press('m');
      await poll(() => alice.getByTestId('toast').filter({ hasText: 'Join the audio first' }).count()).toBe(1);
    });

    it('a skip link is the first stop of Tab and moves focus to the main content', async () => {
      for (const url of [`${srv.url}/m/${conf}`, `${srv.url}/`]) {
        const page = await bobCtx.newPage();
        await page.goto(url);
        await page.locator('main').first().waitFor();
        await page.keyboard.press('Tab');
        const link = page.getByTestId('skip-link');
        expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('skip-link');
        const box = (await link.boundingBox())!;
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(await link.textContent()).toBe('Skip to main content');
        await page.keyboard.press('Enter');
        await poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('MAIN');
        await page.close();
      }
    });

    it('dark mode follows the system setting: dark backgrounds, light text (screenshots in both)', async () => {
      const home = await aliceCtx.newPage();
      await home.goto(`${srv.url}/`);
      await home.getByTestId('meeting-list').waitFor();
      expect(await luminance(home, 'html', 'backgroundColor')).toBeGreaterThan(0.8);
      await home.emulateMedia({ colorScheme: 'dark' });
      await poll(() => luminance(home, 'html', 'backgroundColor')).toBeLessThan(0.05);
      expect(await luminance(home, '.card', 'backgroundColor')).toBeLessThan(0.05);
      expect(await luminance(home, 'h1', 'color')).toBeGreaterThan(0.6);
      for (const [viewport, name] of [
        [DESKTOP, '1280x720'],
        [PHONE, '390x844'],
      ] as const) {
        await home.setViewportSize(viewport);
        await shot(home, `dark-home-${name}`);
      }
      await home.close();

      for (const [viewport, name] of [
        [DESKTOP, '1280x720'],
        [PHONE, '390x844'],
      ] as const) {
        await alice.setViewportSize(viewport);
        await bob.setViewportSize(viewport);
        for (const page of [alice, bob]) await page.emulateMedia({ colorScheme: 'light' });
        await shot(alice, `light-meeting-organizer-${name}`);
        await shot(bob, `light-meeting-attendee-${name}`);
        for (const page of [alice, bob]) await page.emulateMedia({ colorScheme: 'dark' });
        await poll(() => luminance(alice, '.meeting', 'backgroundColor')).toBeLessThan(0.05);
        expect(await luminance(alice, '.meeting-header', 'backgroundColor')).toBeLessThan(0.05);
        expect(await luminance(alice, '[data-testid="meeting-subject"]', 'color')).toBeGreaterThan(0.6);
        await shot(alice, `dark-meeting-organizer-${name}`);
        await shot(bob, `dark-meeting-attendee-${name}`);
        for (const [open, dialog] of [
          ['settings-open', 'settings-dialog'],
          ['invite-open', 'invite-dialog'],
          ['shortcuts-open', 'shortcuts-dialog'],
        ] as const) {
          await reveal(alice, open);
          await alice.getByTestId(open).click();
          await alice.getByTestId(dialog).waitFor();
          expect(await luminance(alice, `[data-testid="${dialog}"] .modal`, 'backgroundColor')).toBeLessThan(0.05);
          await shot(alice, `dark-${dialog}-${name}`);
          await alice.emulateMedia({ colorScheme: 'light' });
          await shot(alice, `light-${dialog}-${name}`);
          await alice.emulateMedia({ colorScheme: 'dark' });
          await alice.keyboard.press('Escape');
          await alice.getByTestId(dialog).waitFor({ state: 'detached' });
        }
      }
      for (const page of [alice, bob]) {
        await page.emulateMedia({ colorScheme: 'light' });
        await page.setViewportSize(DESKTOP);
      }
      expect(pageErrors).toEqual([]);
    });
  });
  describe('translations (item 19)', () => {
    it("the browser's language by default (German here), switchable at run time, kept for next time", async () => {
      const ctx = await browser.newContext({ viewport: DESKTOP, locale: 'de-DE' });
      const page = await ctx.newPage();
      watch(page, 'german visitor');
      await page.goto(`${srv.url}/`);
      await poll(() => page.locator('h1').textContent()).toBe('Besprechungen rund um Ihren Desktop');
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('de');
      expect(await page.getByTestId('join-by-link').locator('h2').textContent()).toBe('Mit Link oder Code beitreten');
      expect(await page.getByTestId('language').inputValue()).toBe('de');
      await shot(page, 'german-landing-1280x720');
      // Switch without a reload: the same page changes its text.
      await page.getByTestId('language').selectOption('en');
      await poll(() => page.locator('h1').textContent()).toBe('Meetings built around your desktop');
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
      await page.reload();
      await poll(() => page.locator('h1').textContent()).toBe('Meetings built around your desktop');
      await page.getByTestId('language').selectOption('de');

      // Signed in: the home page and the meeting header in German.
      await ctx.addCookies([{ name: 'baton_session', value: bobCookie.split('=')[1]!, url: srv.url }]);
      await page.goto(`${srv.url}/`);
      await poll(() => page.locator('#new-meeting').textContent()).toBe('Neue Besprechung');
      expect(await page.getByTestId('create-submit').textContent()).toBe('Besprechung anlegen');
      await page.goto(`${srv.url}/m/${conf}`);
      await poll(() => page.getByTestId('leave').textContent()).toBe('Verlassen');
      expect(await page.getByTestId('meeting-organizer').textContent()).toBe('Organisiert von Alice');
      expect(await page.getByTestId('copy-url').textContent()).toBe('Besprechungslink kopieren');
      // Notifications too.
      await alice.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await alice.keyboard.press('h');
      await poll(() => page.getByTestId('toast').filter({ hasText: 'Alice hat die Hand gehoben' }).count()).toBe(1);
      await alice.keyboard.press('h');
      await poll(() => alice.getByTestId('hand-toggle').getAttribute('aria-pressed')).toBe('false');
      await shot(page, 'german-meeting-1280x720');
      await ctx.close();
    });
  });
});

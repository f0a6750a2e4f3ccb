/**
 * End to end, dial-out to a telephone with real parts: the Baton server in-process running its own
 * Janus (AudioBridge), a SIP trunk that is baresip itself (auto-answer, a 440 Hz sine as its
 * microphone, recording what it hears with sndfile), and Debian Chromium with a fake microphone
 * playing a 660 Hz tone. Through the real web client the organizer joins the audio and has the
 * server call the phone: the phone's recording must hold the browser's tone and the browser must hear
 * the phone's tone; hanging up from the page or from the phone updates the roster; "Call my phone"
 * remembers the number; a number that is not a number is refused in words.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { findJanus } from '../../packages/server/dist/audio/JanusProcess.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb } from '../support/browser.js';
import { pageProbe } from '../support/audioProbe.js';
import { haveBaresip, hasTone, startBaresip, toneWav, type Baresip } from '../support/phone.js';

const missing = [existsSync(CHROMIUM) ? null : CHROMIUM, findJanus() ? null : 'janus', haveBaresip ? null : 'baresip'].filter(Boolean);
if (missing.length) {
  if (process.env.CI === 'true') throw new Error(`dial-out e2e needs ${missing.join(', ')} (scripts/system-deps.sh)`);
  console.warn(`\n*** SKIPPING tests/e2e/dialout.e2e.test.ts: missing ${missing.join(', ')} (scripts/system-deps.sh) ***\n`);
}

const BROWSER_TONE = 660;
const PHONE_TONE = 440;
const NUMBER = '+441234567890';
const PASSWORD = 'correct horse battery staple 42';


describe.skipIf(missing.length > 0)('dial-out to a telephone (baresip) through Janus, from Chromium', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let phone: Baresip;
  let dataDir: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const leg = () => page.getByTestId('phone-leg').first();
  const legState = () => leg().getAttribute('data-state').catch(() => null);
  const levels = () => page.evaluate(([a, b]) => (window as unknown as { __levels: (f: number[], ms: number) => Promise<Record<string, number>> }).__levels([a!, b!], 1500), [PHONE_TONE, BROWSER_TONE]);

  beforeAll(async () => {
    buildWeb();
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-dialout-e2e-'));
    const wav = path.join(dataDir, 'tone.wav');
    writeFileSync(wav, toneWav(BROWSER_TONE, 30));
    phone = await startBaresip(PHONE_TONE, NUMBER);
    srv = await startServer({
      port: 0,
      dataDir,
      webDir: WEB_DIST,
      audio: { mode: 'auto', janusUrl: null, janusSecret: null },
      // The trunk is the phone itself; Baton's SIP side on another loopback address.
      sip: { trunk: `sip:127.0.0.1:${phone.port}`, username: null, password: null, from: null, numberFormat: '+{number}', address: '127.0.0.2', port: 0, noAnswerSeconds: 30 },
    });
    await new Promise<void>((resolve) => (srv.conferencing.audioStatus === 'ready' ? resolve() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && resolve())));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
    });
    page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await page.addInitScript(pageProbe);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await phone?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the organizer joins the audio; the page offers to call phones', async () => {
    await page.goto(`${srv.url}/`);
    const id = await page.evaluate(async (password) => {
      const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const r1 = await post('/api/auth/signup', { username: 'olga', password, displayName: 'Olga' });
      if (!r1.ok) throw new Error(`signup: ${r1.status} ${await r1.text()}`);
      const r2 = await post('/api/conferences', { subject: 'Phone check', policy: { guests: 'allow' } });
      if (!r2.ok) throw new Error(`create: ${r2.status} ${await r2.text()}`);
      return ((await r2.json()) as { id: string }).id;
    }, PASSWORD);
    await page.goto(`${srv.url}/m/${id}`);
    await page.getByTestId('audio-join').click();
    await expect.poll(() => page.getByTestId('audio-controls').getAttribute('data-phase'), { timeout: 20_000 }).toBe('connected');
    await page.getByTestId('call-my-phone').waitFor();
    await page.getByTestId('call-a-number').waitFor();
  }, 60_000);

  it('a number that is not a number is refused, in words', async () => {
    await page.getByTestId('call-a-number').click();
    await page.getByTestId('dial-number').fill('call me maybe');
    await page.getByTestId('dial-submit').click();
    expect(await page.getByTestId('dial-error').textContent()).toMatch(/not a phone number/);
    expect(await page.getByTestId('phone-leg').count()).toBe(0);
  });

  it('calls a number: the phone rings and answers, each side hears the other; hang up from the page', async () => {
    const t0 = Date.now();
    await page.getByTestId('dial-number').fill('+44 1234 567890');
    await page.getByTestId('dial-submit').click();
    await leg().waitFor();
    expect(await leg().textContent()).toContain('+44••••••7890');
    await expect.poll(legState, { timeout: 20_000 }).toBe('answered');
    console.log(`phone answered ${Date.now() - t0} ms after the click`);
    // The participant list shows the phone too, masked, with its state.
    const row = page.getByTestId('roster-phone').first();
    expect(await row.getAttribute('data-state')).toBe('answered');
    expect(await row.textContent()).toMatch(/\+44••••••7890.*on the phone/);
    expect(await page.locator('body').textContent()).not.toContain('1234567890');
    expect(await page.getByTestId('phone-message').textContent()).toMatch(/answered/);
    // The browser hears the phone's tone (through Janus, G.711 → mix → Opus).
    let last: Record<string, number> = {};
    await expect
      .poll(async () => ((last = await levels()), last[PHONE_TONE]! > -60 && last[PHONE_TONE]! - last[BROWSER_TONE]! > 15), { timeout: 20_000, intervals: [0], message: () => `the page hears the phone: ${JSON.stringify(last)}` })
      .toBe(true);
    console.log(`levels (dB) in the browser: ${JSON.stringify(last)}`);
    // The phone hears the browser's tone: its recording of this call.
    let heard = { level: 0, control: 0 };
    await expect
      .poll(
        () => {
          const rec = phone.heard();
          if (!rec || rec.samples.length < rec.rate * 3) return false;
          heard = hasTone(rec.samples.slice(-rec.rate * 2), rec.rate, BROWSER_TONE);
          return heard.level > 0.01 && heard.level > heard.control * 5;
        },
        { timeout: 20_000, message: () => `the phone hears the browser: ${JSON.stringify(heard)}` },
      )
      .toBe(true);
    console.log(`phone's recording: ${BROWSER_TONE} Hz amplitude ${heard.level.toFixed(3)} vs ${heard.control.toFixed(4)} off-tone`);
    // Muting the phone leg (it is the organizer's dialled number) shows in the roster.
    await page.getByTestId('phone-mute').click();
    await expect.poll(() => leg().getAttribute('data-muted')).toBe('true');
    await page.getByTestId('phone-hangup').click();
    await expect.poll(legState, { timeout: 10_000 }).toBe('ended');
    expect(await page.getByTestId('roster-phone').first().textContent()).toContain('hung up');
    await phone.waitFor(/terminated|closed/i);
  }, 90_000);

  it('a guest may call numbers only once the organizer lets anyone (Settings: calling other people\'s phones)', async () => {
    const ctx = await browser.newContext();
    const guest = await ctx.newPage();
    guest.setDefaultTimeout(15_000);
    try {
      await guest.goto(page.url());
      await guest.getByTestId('guest-name').fill('Gus');
      await guest.getByTestId('guest-join').click();
      await guest.getByTestId('audio-panel').waitFor();
      // Signed out, default policy: neither button (calls cost money; a guest is anonymous).
      expect(await guest.getByTestId('dial-out').count()).toBe(0);
      await page.getByTestId('settings-open').click();
      await page.getByTestId('settings-dial-out').selectOption('anyone');
      await page.getByTestId('settings-save').click();
      await guest.getByTestId('call-a-number').waitFor();
      await guest.getByTestId('call-my-phone').waitFor();
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('"Call my phone" remembers the number; the phone hangs up and the roster says so', async () => {
    await expect.poll(() => page.getByTestId('phone-leg').count(), { timeout: 15_000 }).toBe(0); // the ended leg lingers, then goes
    const before = phone.calls();
    await page.getByTestId('call-my-phone').click();
    await page.getByTestId('dial-number').fill(NUMBER);
    await page.getByTestId('dial-submit').click();
    await expect.poll(legState, { timeout: 20_000 }).toBe('answered');
    expect(await leg().textContent()).toContain('Olga (phone)');
    await phone.hangup();
    await expect.poll(legState, { timeout: 10_000 }).toBe('ended');
    expect(await leg().getAttribute('title')).toMatch(/phone hung up/);
    expect(await page.getByTestId('phone-message').textContent()).toMatch(/phone hung up/);
    // Again with no number typed: the remembered one is called.
    await expect.poll(() => page.getByTestId('phone-leg').count(), { timeout: 15_000 }).toBe(0);
    await page.getByTestId('call-my-phone').click();
    await page.getByTestId('dial-submit').click();
    await expect.poll(legState, { timeout: 20_000 }).toBe('answered');
    expect(phone.calls()).toBe(before + 2);
    await page.getByTestId('phone-hangup').click();
    await expect.poll(legState, { timeout: 10_000 }).toBe('ended');
    expect(pageErrors).toEqual([]);
  }, 90_000);
});

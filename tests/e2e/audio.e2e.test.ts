/**
 * End to end, audio conferencing with real parts: the Baton server in-process running its own Janus
 * (AudioBridge) on free ports, and two Debian Chromium browsers, each with a fake microphone playing
 * a different tone from a WAV file written here. Through the real web client (AudioPanel/AudioCall)
 * both join the audio; each must hear the other's tone and not its own (WebAudio AnalyserNode on the
 * remote track), mute must stop a tone reaching the other, the speaking indicator must name the right
 * person, and when Janus is killed mid-call the roster clears and everyone is back in audio, with
 * sound, after the server restarts Janus and re-creates the room.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { startServer } from '../../packages/server/dist/index.js';
import { findJanus } from '../../packages/server/dist/audio/JanusProcess.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb } from '../support/browser.js';
import { pageProbe } from '../support/audioProbe.js';
import { toneWav } from '../support/phone.js';
import { existsSync } from 'node:fs';

const missing = [existsSync(CHROMIUM) ? null : CHROMIUM, findJanus() ? null : 'janus'].filter(Boolean);
if (missing.length) {
  if (process.env.CI === 'true') throw new Error(`audio e2e needs ${missing.join(', ')} (scripts/system-deps.sh)`);
  console.warn(`\n*** SKIPPING tests/e2e/audio.e2e.test.ts: missing ${missing.join(', ')} (scripts/audio.sh install) ***\n`);
}

const TONE_A = 550; // Olga's microphone
const TONE_B = 1330; // Gus's microphone
const PASSWORD = 'correct horse battery staple 42';



describe.skipIf(missing.length > 0)('audio conferencing through Janus AudioBridge (two Chromium clients)', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let browserA: Browser;
  let browserB: Browser;
  let org: Page;
  let guest: Page;
  let conferenceId = '';
  let observer: WebSocket;
  const audioStates: { service: string; participants: { id: string; speaking: boolean; muted: boolean; connected: boolean }[] }[] = [];
  const pageErrors: string[] = [];
  const ids: { org: string; guest: string } = { org: '', guest: '' };

  const launch = (wav: string) =>
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  const levels = (page: Page) => page.evaluate(([a, b]) => (window as unknown as { __levels: (f: number[], ms: number) => Promise<Record<string, number>> }).__levels([a!, b!], 1500), [TONE_A, TONE_B]);
  const audioRow = (page: Page, id: string) => page.locator(`[data-testid="audio-participant"][data-participant-id="${id}"]`);
  const bothConnected = async (page: Page) =>
    (await audioRow(page, ids.org).getAttribute('data-connected').catch(() => null)) === 'true' &&
    (await audioRow(page, ids.guest).getAttribute('data-connected').catch(() => null)) === 'true';
  /** Poll a page's tone levels until the check passes (the jitter buffer and AGC settle in a second or two). */
  const hears = async (page: Page, check: (l: Record<string, number>) => boolean, what: string) => {
    let last: Record<string, number> = {};
    await expect
      .poll(async () => check((last = await levels(page))), { timeout: 20_000, intervals: [0], message: () => `${what}: ${JSON.stringify(last)}` })
      .toBe(true);
    return last;
  };

  beforeAll(async () => {
    buildWeb();
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-audio-e2e-'));
    const wavA = path.join(dataDir, 'tone-a.wav');
    const wavB = path.join(dataDir, 'tone-b.wav');
    writeFileSync(wavA, toneWav(TONE_A));
    writeFileSync(wavB, toneWav(TONE_B));
    const t0 = Date.now();
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST, audio: { mode: 'auto', janusUrl: null, janusSecret: null } });
    await new Promise<void>((resolve) => (srv.conferencing.audioStatus === 'ready' ? resolve() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && resolve())));
    console.log(`janus up and connected ${Date.now() - t0} ms after server start`);
    browserA = await launch(wavA);
    browserB = await launch(wavB);
    org = await browserA.newPage();
    guest = await browserB.newPage();
    for (const [p, who] of [[org, 'organizer'], [guest, 'guest']] as const) {
      p.setDefaultTimeout(15_000);
      await p.addInitScript(pageProbe);
      p.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
    }
  }, 120_000);

  afterAll(async () => {
    observer?.close();
    await browserA?.close();
    await browserB?.close();
    await srv?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the organizer and a guest meet; the page offers audio', async () => {
    await org.goto(`${srv.url}/`);
    conferenceId = await org.evaluate(async (password) => {
      const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const r1 = await post('/api/auth/signup', { username: 'olga', password, displayName: 'Olga' });
      if (!r1.ok) throw new Error(`signup: ${r1.status} ${await r1.text()}`);
      const r2 = await post('/api/conferences', { subject: 'Audio check', policy: { guests: 'allow' } });
      if (!r2.ok) throw new Error(`create: ${r2.status} ${await r2.text()}`);
      return ((await r2.json()) as { id: string }).id;
    }, PASSWORD);
    await org.goto(`${srv.url}/m/${conferenceId}`);
    await org.getByTestId('audio-panel').waitFor();
    ids.org = (await org.getByTestId('roster-Olga').getAttribute('data-participant-id')) ?? '';
    await guest.goto(`${srv.url}/m/${conferenceId}`);
    await guest.getByTestId('guest-name').fill('Gus');
    await guest.getByTestId('guest-join').click();
    await guest.getByTestId('audio-panel').waitFor();
    ids.guest = (await guest.getByTestId('roster-Gus').getAttribute('data-participant-id')) ?? '';
    expect(ids.org).not.toBe('');
    expect(ids.guest).not.toBe('');
    expect(await org.getByTestId('audio-join').textContent()).toBe('Add audio');

    // A third participant on a raw socket watches the audio state the server broadcasts.
    observer = new WebSocket(`${srv.url.replace('http', 'ws')}/ws/conference/${conferenceId}`);
    await new Promise((r) => observer.once('open', r));
    const welcomed = new Promise<void>((resolve) =>
      observer.on('message', (data) => {
        const msg = JSON.parse(String(data));
        if (msg.type === 'welcome') resolve();
        if (msg.type === 'audio.updated') audioStates.push(msg.audio);
      }),
    );
    observer.send(JSON.stringify({ type: 'hello', v: 1, name: 'Observer' }));
    await welcomed;
  });

  it('both join with their microphones; each hears the other and not itself', async () => {
    const t0 = Date.now();
    await org.getByTestId('audio-join').click();
    await guest.getByTestId('audio-join').click();
    await expect.poll(() => bothConnected(org), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => bothConnected(guest), { timeout: 20_000 }).toBe(true);
    console.log(`both legs connected ${Date.now() - t0} ms after the first click`);
    console.log(`Olga's peer connection: ${(await org.evaluate(() => (window as unknown as { __timeline: string[] }).__timeline)).join(', ')}`);
    const a = await hears(org, (l) => l[TONE_B]! > -60 && l[TONE_B]! - l[TONE_A]! > 20, 'Olga hears Gus, not herself');
    const b = await hears(guest, (l) => l[TONE_A]! > -60 && l[TONE_A]! - l[TONE_B]! > 20, 'Gus hears Olga, not himself');
    console.log(`levels (dB) at Olga: ${JSON.stringify(a)}; at Gus: ${JSON.stringify(b)}`);
    // Both talk, so both show as speaking, on both pages.
    for (const page of [org, guest])
      for (const id of [ids.org, ids.guest]) await expect.poll(() => audioRow(page, id).getAttribute('data-speaking'), { timeout: 10_000 }).toBe('true');
    const shots = path.join(tmpdir(), 'baton-e2e-shots');
    mkdirSync(shots, { recursive: true });
    await org.setViewportSize({ width: 1280, height: 720 });
    await org.screenshot({ path: path.join(shots, 'audio-in-call-1280x720.png') });
  }, 90_000);

  it('a third participant listens only: hears both, sends nothing, shows as listening', async () => {
    // No getUserMedia on this page, so Chromium hides its addresses behind mDNS names: Janus must cope.
    const ctx = await browserA.newContext();
    const lena = await ctx.newPage();
    lena.setDefaultTimeout(15_000);
    await lena.addInitScript(pageProbe);
    lena.on('pageerror', (e) => pageErrors.push(`listener: ${e.message}`));
    try {
      await lena.goto(`${srv.url}/m/${conferenceId}`, { waitUntil: 'domcontentloaded', timeout: 30_000 });
      await lena.getByTestId('guest-name').fill('Lena');
      await lena.getByTestId('guest-join').click();
      await lena.getByTestId('audio-listen').click();
      const lenaId = (await lena.getByTestId('roster-Lena').getAttribute('data-participant-id')) ?? '';
      await expect.poll(() => audioRow(org, lenaId).getAttribute('data-connected'), { timeout: 20_000 }).toBe('true');
      expect(await audioRow(org, lenaId).textContent()).toContain('listening');
      expect(await lena.getByTestId('audio-mute').count()).toBe(0);
      const l = await hears(lena, (x) => x[TONE_A]! > -60 && x[TONE_B]! > -60, 'Lena hears Olga and Gus');
      console.log(`levels (dB) at the listener: ${JSON.stringify(l)}`);
      await lena.getByTestId('audio-leave').click();
      await expect.poll(() => audioRow(org, lenaId).count(), { timeout: 10_000 }).toBe(0);
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('mute stops the tone reaching the other, push-to-talk sends while space is held, and the speaking indicator follows', async () => {
    const mutedAt = Date.now();
    await org.getByTestId('audio-mute').click();
    await expect.poll(() => audioRow(guest, ids.org).getAttribute('data-muted'), { timeout: 10_000, interval: 20 }).toBe('true');
    console.log(`mute click -> Gus's page shows Olga muted: ${Date.now() - mutedAt} ms`);
    await hears(guest, (l) => l[TONE_A]! < -85, 'Gus no longer hears Olga');
    await expect.poll(() => audioRow(guest, ids.org).getAttribute('data-speaking'), { timeout: 10_000 }).toBe('false');
    await expect.poll(() => audioRow(guest, ids.guest).getAttribute('data-speaking'), { timeout: 10_000 }).toBe('true');
    // Olga still hears Gus.
    await hears(org, (l) => l[TONE_B]! > -60, 'Olga still hears Gus');
    // Push-to-talk: holding the space bar while muted sends; letting go mutes again.
    await org.locator('body').focus();
    await org.keyboard.down('Space');
    await expect.poll(() => audioRow(guest, ids.org).getAttribute('data-muted'), { timeout: 10_000 }).toBe('false');
    await hears(guest, (l) => l[TONE_A]! > -60, 'Gus hears Olga while she holds space');
    await org.keyboard.up('Space');
    await expect.poll(() => audioRow(guest, ids.org).getAttribute('data-muted'), { timeout: 10_000 }).toBe('true');
    await hears(guest, (l) => l[TONE_A]! < -85, 'Gus no longer hears Olga after she lets go of space');
    expect(await org.getByTestId('audio-mute').textContent()).toBe('Unmute');
    // Unmute: the tone is back.
    await org.getByTestId('audio-mute').click();
    const unmutedAt = Date.now();
    await expect.poll(() => audioRow(guest, ids.org).getAttribute('data-muted'), { timeout: 10_000 }).toBe('false');
    await expect.poll(() => audioRow(guest, ids.org).getAttribute('data-speaking'), { timeout: 10_000, interval: 20 }).toBe('true');
    console.log(`unmute click -> Gus's page shows Olga speaking: ${Date.now() - unmutedAt} ms`);
    await hears(guest, (l) => l[TONE_A]! > -60, 'Gus hears Olga again');
  }, 90_000);

  it('when Janus dies mid-call the roster clears, and everyone is back in audio after the restart', async () => {
    const janus = srv.conferencing.janus!;
    const oldPid = janus.pid;
    const before = audioStates.length;
    const t0 = Date.now();
    janus.kill('SIGKILL');
    // The server tells everyone: mixer down, nobody in audio.
    await expect.poll(() => audioStates.slice(before).some((s) => s.service === 'down' && s.participants.length === 0), { timeout: 10_000 }).toBe(true);
    // Janus is restarted, the room re-created, and both clients rejoin on their own.
    await expect.poll(() => srv.conferencing.audioStatus, { timeout: 20_000 }).toBe('ready');
    expect(janus.pid).not.toBe(oldPid);
    await expect.poll(() => bothConnected(org), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => bothConnected(guest), { timeout: 30_000 }).toBe(true);
    console.log(`audio back for both ${Date.now() - t0} ms after janus was killed`);
    await hears(guest, (l) => l[TONE_A]! > -60 && l[TONE_A]! - l[TONE_B]! > 20, 'Gus hears Olga after the restart');
    await hears(org, (l) => l[TONE_B]! > -60 && l[TONE_B]! - l[TONE_A]! > 20, 'Olga hears Gus after the restart');
  }, 120_000);

  it('the organizer mutes the guest (never unmutes) and removes them from the audio', async () => {
    await org.getByRole('button', { name: 'Mute Gus' }).click();
    await expect.poll(() => audioRow(org, ids.guest).getAttribute('data-muted'), { timeout: 10_000 }).toBe('true');
    await expect.poll(() => guest.getByTestId('audio-mute').textContent(), { timeout: 10_000 }).toBe('Unmute');
    await hears(org, (l) => l[TONE_B]! < -85, 'Olga no longer hears Gus');
    await org.getByRole('button', { name: 'Remove Gus from the audio' }).click();
    await expect.poll(() => audioRow(org, ids.guest).count(), { timeout: 10_000 }).toBe(0);
    await guest.getByTestId('audio-join').waitFor(); // back to the join buttons, not rejoined
    expect(await guest.getByTestId('audio-error').textContent()).toContain('taken out of the audio');
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('a server without audio says so plainly on the meeting page', async () => {
    const quietDir = mkdtempSync(path.join(tmpdir(), 'baton-noaudio-'));
    const quiet = await startServer({ port: 0, dataDir: quietDir, webDir: WEB_DIST, audio: { mode: 'off', janusUrl: null, janusSecret: null } });
    // A fresh context: cookies are per host, not per port, and Olga's session must not be overwritten.
    const ctx = await browserA.newContext();
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(30_000);
      await page.goto(`${quiet.url}/`, { waitUntil: 'domcontentloaded' });
      const id = await page.evaluate(async (password) => {
        const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await post('/api/auth/signup', { username: 'quinn', password, displayName: 'Quinn' });
        const r = await post('/api/conferences', { subject: 'No audio here' });
        if (!r.ok) throw new Error(`create: ${r.status} ${await r.text()}`);
        return ((await r.json()) as { id: string }).id;
      }, PASSWORD);
      await page.goto(`${quiet.url}/m/${id}`, { waitUntil: 'domcontentloaded' });
      await page.getByTestId('audio-panel').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('audio-unavailable').textContent()).toBe('Audio is not configured on this server.');
      expect(await page.getByTestId('audio-join').count()).toBe(0);
    } finally {
      await ctx.close();
      await quiet.close();
      rmSync(quietDir, { recursive: true, force: true });
    }
  }, 120_000);
});

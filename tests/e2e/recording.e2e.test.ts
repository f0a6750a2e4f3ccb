/**
 * End to end, issue 15 item 3 (recording): an Xvfb desktop shared by the real agent, the organizer and
 * a participant in Debian's Chromium. The organizer records while the desktop turns red, then green,
 * with chat in between; everyone sees the indicator; the participant has no button and the server
 * refuses them. Replayed in a fresh browser context, a seek shows at each moment the pixels the live
 * viewer had then and the chat up to then; the lossless export's frame at that moment matches too.
 * The participant cannot open the replay until the organizer shares it with them.
 */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { BatonServer } from '../../packages/server/dist/index.js';
import { XDesktop } from '../../packages/agent/test/helpers/xDesktop.js';
import type { Painter, Rgb } from '../../packages/agent/test/helpers/painter.js';
import { TestClient, api, createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { BrowserMeeting } from '../support/meeting.js';
import { canvasPixel, closeTo as near } from '../support/hostDesktop.js';
import { haveBrowserAndX } from '../support/browser.js';

const HAVE_FFMPEG = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const OK = haveBrowserAndX('tests/e2e/recording.e2e.test.ts') && HAVE_FFMPEG;
const W = 640;
const H = 360;
const RED: Rgb = [210, 30, 40];
const GREEN: Rgb = [30, 190, 70];

describe.skipIf(!OK)('recording a meeting and replaying it', () => {
  let desktop: XDesktop;
  let painter: Painter;
  let meeting: BrowserMeeting;
  let srv: BatonServer;
  let agent: AgentRun | undefined;
  let aliceCtx: BrowserContext;
  let alice: Page;
  let bob: Page;
  let conf = '';
  let aliceCookie = '';
  let bobCookie = '';

  const pixel = (page: Page, testId: string, x: number, y: number) => canvasPixel(page, x, y, testId);
  const viewport = { width: 1280, height: 800 };

  beforeAll(async () => {
    desktop = await XDesktop.start(W, H);
    painter = desktop.painter;
    await painter.window(0, 0, W, H, [90, 90, 90]);
    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-recording-e2e-', timeout: 20_000 });
    srv = meeting.srv;
    aliceCookie = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, aliceCookie, { guests: 'lobby' }, 'Recorded demo');
    agent = await startAgentShare(srv, conf, aliceCookie, desktop.display);
    alice = await meeting.open(aliceCookie, viewport);
    aliceCtx = alice.context();
    bob = await meeting.open(bobCookie, viewport);
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await meeting?.close();
    await desktop?.stop();
  });

  let recordingId = '';
  let startedAt = 0;
  // Moments on the recording's timeline (ms) where the viewers saw red / green, and what they saw.
  let atRed = 0;
  let atGreen = 0;
  let liveRed: number[] = [];
  let liveGreen: number[] = [];

  it('the organizer records; everyone sees the indicator; a participant cannot start or stop it', async () => {
    await alice.goto(`${srv.url}/m/${conf}`);
    await bob.goto(`${srv.url}/m/${conf}`);
    await expect.poll(() => pixel(bob, 'share-canvas', 50, 50).then((p) => near(p, [90, 90, 90])), { timeout: 20_000 }).toBe(true);
    // Only the organizer has the button; the server refuses the participant anyway.
    await alice.getByTestId('recording-start').waitFor();
    expect(await bob.getByTestId('recording-start').count()).toBe(0);
    const bobWs = new TestClient(srv.url, conf, { cookie: bobCookie });
    await bobWs.hello();
    await bobWs.next('welcome');
    expect(await bobWs.request({ type: 'recording.start' })).toMatchObject({ type: 'error', code: 'forbidden' });

    await alice.getByTestId('recording-start').click();
    for (const p of [alice, bob]) await p.getByTestId('recording-indicator').waitFor();
    expect(await bob.getByTestId('recording-indicator').textContent()).toContain('Recording');
    // Told in a toast too.
    await bob.getByText('started recording the meeting').waitFor();
    expect(await bobWs.request({ type: 'recording.stop' })).toMatchObject({ type: 'error', code: 'forbidden' });
    bobWs.close();
    const list = await api(srv.url, 'GET', '/api/recordings', undefined, aliceCookie);
    recordingId = list.body.recordings[0].id;
    startedAt = Date.parse(list.body.recordings[0].startedAt);
  }, 120_000);

  it('red then green on the host, chat in between, and the recording stops', async () => {
    const red = await painter.window(0, 0, W, H, RED);
    await expect.poll(() => pixel(bob, 'share-canvas', 300, 200).then((p) => near(p, RED)), { timeout: 20_000 }).toBe(true);
    liveRed = (await pixel(bob, 'share-canvas', 300, 200))!;
    await bob.getByTestId('chat-input').fill('red is on screen');
    await bob.getByTestId('chat-input').press('Enter');
    await alice.getByText('red is on screen').waitFor();
    // Distinct moments on the timeline: this one lies after the red frame and the first message, before green.
    atRed = Date.now() - startedAt;
    await sleep(1000);
    await painter.destroy(red);
    await painter.window(0, 0, W, H, GREEN);
    await expect.poll(() => pixel(bob, 'share-canvas', 300, 200).then((p) => near(p, GREEN)), { timeout: 20_000 }).toBe(true);
    liveGreen = (await pixel(bob, 'share-canvas', 300, 200))!;
    await alice.getByTestId('chat-input').fill('now it is green');
    await alice.getByTestId('chat-input').press('Enter');
    await bob.getByText('now it is green').waitFor();
    atGreen = Date.now() - startedAt;
    await sleep(1000);
    await alice.getByTestId('recording-stop').click();
    for (const p of [alice, bob]) await p.getByTestId('recording-indicator').waitFor({ state: 'detached' });
    await expect
      .poll(async () => (await api(srv.url, 'GET', `/api/recordings/${recordingId}`, undefined, aliceCookie)).body.status, { timeout: 20_000 })
      .toBe('done');
  }, 120_000);

  it('replayed in another browser context, a seek shows what the viewers saw then and the chat up to then', async () => {
    const page = await meeting.open(aliceCookie, viewport);
    await page.goto(`${srv.url}/recordings/${recordingId}`);
    await page.getByTestId('replay').waitFor();
    const seek = async (t: number) => {
      await page.getByTestId('replay-seek').evaluate((el, t) => {
        const input = el as HTMLInputElement;
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, String(t));
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }, t);
      await expect.poll(() => page.getByTestId('replay').getAttribute('data-seeked'), { timeout: 20_000 }).toBe(String(Math.round(t)));
    };
    await seek(atRed);
    expect(await pixel(page, 'replay-canvas', 300, 200)).toEqual(liveRed);
    expect(await page.getByTestId('replay-chat').textContent()).toContain('red is on screen');
    expect(await page.getByTestId('replay-chat').textContent()).not.toContain('now it is green');
    await page.screenshot({ path: path.join(tmpdir(), 'baton-replay-red.png') });
    await seek(atGreen);
    expect(await pixel(page, 'replay-canvas', 300, 200)).toEqual(liveGreen);
    expect(await page.getByTestId('replay-chat').textContent()).toContain('now it is green');
    // And back, before the green frame: the player starts from the keyframe before it.
    await seek(atRed);
    expect(await pixel(page, 'replay-canvas', 300, 200)).toEqual(liveRed);
    // Playing runs on from there and reaches the green picture.
    await page.getByTestId('replay-play').click();
    await expect.poll(() => pixel(page, 'replay-canvas', 300, 200), { timeout: 20_000 }).toEqual(liveGreen);
    await page.context().close();
  }, 120_000);

  it('exports a lossless video whose frames at those moments match, with progress on the page', async () => {
    const page = await aliceCtx.newPage();
    await page.goto(`${srv.url}/recordings/${recordingId}`);
    await page.getByTestId('export-mkv').click();
    await page.getByTestId('export-download-mkv').waitFor({ timeout: 90_000 });
    const res = await fetch(`${srv.url}/api/recordings/${recordingId}/exports/mkv/file`, { headers: { cookie: aliceCookie } });
    expect(res.status).toBe(200);
    const video = Buffer.from(await res.arrayBuffer());
    const frameAt = (ms: number) => {
      const raw = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-ss', (ms / 1000).toFixed(3), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: video });
      const o = (200 * W + 300) * 3;
      return [...raw.subarray(o, o + 3)];
    };
    expect(frameAt(atRed)).toEqual(liveRed);
    expect(frameAt(atGreen)).toEqual(liveGreen);
    await page.close();
  }, 150_000);

  it('a participant cannot open the replay until the organizer shares it with them', async () => {
    await bob.goto(`${srv.url}/recordings/${recordingId}`);
    await bob.getByTestId('recording-missing').waitFor();
    const page = await aliceCtx.newPage();
    await page.goto(`${srv.url}/recordings/${recordingId}`);
    await page.getByTestId('recording-share-users').fill('bob');
    await page.getByTestId('recording-share').click();
    await page.getByTestId('recording-shared-with').waitFor();
    await bob.reload();
    await bob.getByTestId('replay').waitFor();
    // Shared, not handed over: no sharing, export or delete for them.
    expect(await bob.getByTestId('recording-manage').count()).toBe(0);
    await page.close();
  }, 60_000);
});

/**
 * End to end, issue 15 (recording keeps the audio mix): the server in-process runs its own Janus; the
 * organizer, in Debian's Chromium with a fake microphone playing a tone from a WAV file written here,
 * starts recording first and joins the audio later, mutes and unmutes, and Janus is killed and
 * restarted mid-recording. The recording's audio is Janus's mix in segments, each placed by its start.
 *
 * Checked: the WebM export's audio (decoded with ffmpeg, Goertzel at the tone's frequency) has the
 * tone exactly where the meeting had it (silent before the join, while muted and while Janus was down;
 * the tone's onset after the unmute and after the restart at the right moment); the replay page's
 * <audio> plays with the replay clock, follows a seek, and is really decoded (a WebAudio analyser on
 * the element shows the tone where it was, and not where it was not).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../packages/server/dist/index.js';
import { findJanus } from '../../packages/server/dist/audio/JanusProcess.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb } from '../support/browser.js';
import { toneWav } from '../support/phone.js';

const HAVE_FFMPEG = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const missing = [existsSync(CHROMIUM) ? null : CHROMIUM, findJanus() ? null : 'janus', HAVE_FFMPEG ? null : 'ffmpeg'].filter(Boolean);
if (missing.length) {
  if (process.env.CI === 'true') throw new Error(`recording audio e2e needs ${missing.join(', ')} (scripts/system-deps.sh)`);
  console.warn(`\n*** SKIPPING tests/e2e/recording-audio.e2e.test.ts: missing ${missing.join(', ')} ***\n`);
}

const TONE = 700;
const RATE = 48_000;
const PASSWORD = 'correct horse battery staple 42';

/** Goertzel amplitude (0..1 of full scale) of `freq` in samples [from, to). */
function toneAmplitude(pcm: Int16Array, from: number, to: number, freq = TONE): number {
  const a = Math.max(0, Math.floor(from));
  const b = Math.min(pcm.length, Math.floor(to));
  const n = b - a;
  if (n <= 0) return 0;
  const k = 2 * Math.cos((2 * Math.PI * freq) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (let i = a; i < b; i++) {
    const s0 = pcm[i]! / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - k * s1 * s2))) / n;
}

describe.skipIf(missing.length > 0)('the recording keeps the audio mix (Janus AudioBridge, Chromium, ffmpeg)', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  let browser: Browser;
  let org: Page;
  let conferenceId = '';
  let recordingId = '';
  let startedAt = 0;
  let self = '';
  // Moments on the recording's timeline (ms).
  const m = { joinClick: 0, connected: 0, muteClick: 0, mutedSeen: 0, unmuteClick: 0, unmutedSeen: 0, kill: 0, back: 0, stop: 0 };
  const now = () => Date.now() - startedAt;
  const row = () => org.locator(`[data-testid="audio-participant"][data-participant-id="${self}"]`);
  const apiGet = (p: string) => org.evaluate(async (url) => (await fetch(url)).json(), p);

  beforeAll(async () => {
    buildWeb();
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-recaudio-e2e-'));
    const wav = path.join(dataDir, 'tone.wav');
    writeFileSync(wav, toneWav(TONE));
    srv = await startServer({ port: 0, dataDir, webDir: WEB_DIST, audio: { mode: 'auto', janusUrl: null, janusSecret: null } });
    await new Promise<void>((resolve) => (srv.conferencing.audioStatus === 'ready' ? resolve() : srv.conferencing.on('audioStatus', (s) => s === 'ready' && resolve())));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
    });
    org = await browser.newPage();
    org.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('recording starts before the audio; join, mute, unmute, and Janus dies and comes back mid-recording', async () => {
    await org.goto(`${srv.url}/`);
    conferenceId = await org.evaluate(async (password) => {
      const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const r1 = await post('/api/auth/signup', { username: 'olga', password, displayName: 'Olga' });
      if (!r1.ok) throw new Error(`signup: ${r1.status} ${await r1.text()}`);
      const r2 = await post('/api/conferences', { subject: 'Recorded call' });
      if (!r2.ok) throw new Error(`create: ${r2.status} ${await r2.text()}`);
      return ((await r2.json()) as { id: string }).id;
    }, PASSWORD);
    await org.goto(`${srv.url}/m/${conferenceId}`);
    await org.getByTestId('audio-panel').waitFor();
    self = (await org.getByTestId('roster-Olga').getAttribute('data-participant-id')) ?? '';
    await org.getByTestId('recording-start').click();
    await org.getByTestId('recording-indicator').waitFor();
    const list = await apiGet('/api/recordings');
    recordingId = list.recordings[0].id;
    startedAt = Date.parse(list.recordings[0].startedAt);

    // Audio begins a while after the recording did: the first segment starts late on the timeline.
    await sleep(2500);
    m.joinClick = now();
    await org.getByTestId('audio-join').click();
    await expect.poll(() => row().getAttribute('data-connected').catch(() => null), { timeout: 30_000 }).toBe('true');
    m.connected = now();
    await sleep(3500);
    m.muteClick = now();
    await org.getByTestId('audio-mute').click();
    await expect.poll(() => row().getAttribute('data-muted'), { timeout: 10_000, interval: 20 }).toBe('true');
    m.mutedSeen = now();
    await sleep(3000);
    m.unmuteClick = now();
    await org.getByTestId('audio-mute').click();
    await expect.poll(() => row().getAttribute('data-muted'), { timeout: 10_000, interval: 20 }).toBe('false');
    m.unmutedSeen = now();
    await sleep(4500);

    // Janus dies: the segment ends; the client rejoins the re-created room and a new segment begins.
    m.kill = now();
    srv.conferencing.janus!.kill('SIGKILL');
    await expect.poll(() => srv.conferencing.audioStatus, { timeout: 10_000, interval: 20 }).not.toBe('ready');
    await expect.poll(() => srv.conferencing.audioStatus, { timeout: 30_000 }).toBe('ready');
    await expect.poll(() => row().getAttribute('data-connected').catch(() => null), { timeout: 30_000, interval: 50 }).toBe('true');
    m.back = now();
    await sleep(4000);
    m.stop = now();
    await org.getByTestId('recording-stop').click();
    await org.getByTestId('recording-indicator').waitFor({ state: 'detached' });
    await expect.poll(async () => (await apiGet(`/api/recordings/${recordingId}`)).status, { timeout: 60_000 }).toBe('done');
    const rec = await apiGet(`/api/recordings/${recordingId}`);
    expect(rec.hasAudio).toBe(true);
    console.log(`timeline (ms): ${JSON.stringify(m)}; duration ${rec.durationMs} ms`);
    const dir = path.join(dataDir, 'recordings', recordingId);
    const audioBytes = statSync(path.join(dir, 'audio.webm')).size;
    // The WAV segments are gone once joined.
    expect(existsSync(path.join(dir, 'audio-1.wav'))).toBe(false);
    console.log(`audio.webm: ${audioBytes} bytes for ${rec.durationMs} ms -> ${((audioBytes / rec.durationMs) * 3_600_000 / 1024 / 1024).toFixed(1)} MiB per hour`);
  }, 240_000);

  it('the WebM export carries the tone exactly where the meeting had it', async () => {
    await org.goto(`${srv.url}/recordings/${recordingId}`);
    await org.getByTestId('export-webm').click();
    await org.getByTestId('export-download-webm').waitFor({ timeout: 150_000 });
    const video = Buffer.from(await (await org.request.get(`${srv.url}/api/recordings/${recordingId}/exports/webm/file`)).body());
    const probe = execFileSync('ffprobe', ['-hide_banner', '-loglevel', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0', 'pipe:0'], { input: video }).toString();
    expect(probe).toContain('vp9,video');
    expect(probe).toContain('opus,audio');
    const raw = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-map', '0:a', '-f', 's16le', '-ac', '1', '-ar', String(RATE), 'pipe:1'], { input: video, maxBuffer: 256 * 1024 * 1024 });
    const pcm = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
    const at = (ms: number) => (ms * RATE) / 1000;
    const amp = (fromMs: number, toMs: number) => toneAmplitude(pcm, at(fromMs), at(toMs));
    const windows = {
      beforeJoin: amp(300, m.joinClick - 200),
      talking: amp(m.connected + 1500, m.muteClick - 200),
      muted: amp(m.mutedSeen + 500, m.unmuteClick - 200),
      unmuted: amp(m.unmutedSeen + 1000, m.kill - 200),
      // Janus is back within a second or less and the page rejoins at once, so the silent stretch ends
      // before the test sees the page connected again (m.back): measure only up to shortly before that.
      janusDown: amp(m.kill + 250, Math.max(m.kill + 350, Math.min(m.kill + 900, m.back - 250))),
      afterRestart: amp(m.back + 1500, m.stop - 300),
    };
    console.log(`tone amplitude by stretch: ${JSON.stringify(windows, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(4)) : v))}`);
    for (const k of ['talking', 'unmuted', 'afterRestart'] as const) expect(windows[k], k).toBeGreaterThan(0.02);
    for (const k of ['beforeJoin', 'muted', 'janusDown'] as const) expect(windows[k], k).toBeLessThan(0.004);
    // The onset after the unmute, in 20 ms steps: no earlier than the click, soon after the page saw it.
    const onset = (fromMs: number, toMs: number) => {
      for (let t = fromMs; t < toMs; t += 20) if (amp(t, t + 40) > 0.02) return t;
      return -1;
    };
    const unmuteOnset = onset(m.mutedSeen + 500, m.kill);
    const restartOnset = onset(m.kill + 300, m.stop);
    console.log(`tone onset after unmute: ${unmuteOnset} ms (click ${m.unmuteClick}, seen ${m.unmutedSeen}); after the restart: ${restartOnset} ms (back ${m.back})`);
    expect(unmuteOnset).toBeGreaterThanOrEqual(m.unmuteClick - 100);
    expect(unmuteOnset).toBeLessThanOrEqual(m.unmutedSeen + 500);
    expect(restartOnset).toBeGreaterThan(m.kill + 300);
    expect(restartOnset).toBeLessThanOrEqual(m.back + 1000);
  }, 240_000);

  it('the replay page plays the audio with the replay clock, follows a seek, and the tone is really decoded', async () => {
    await org.goto(`${srv.url}/recordings/${recordingId}`);
    await org.getByTestId('replay').waitFor();
    await org.getByTestId('replay-audio').waitFor({ state: 'attached' });
    // A WebAudio analyser on the element itself: what the page plays, decoded.
    await org.evaluate(() => {
      const el = document.querySelector('[data-testid="replay-audio"]') as HTMLAudioElement;
      const ctx = new AudioContext();
      const an = ctx.createAnalyser();
      an.fftSize = 4096;
      an.smoothingTimeConstant = 0;
      ctx.createMediaElementSource(el).connect(an);
      an.connect(ctx.destination);
      (window as unknown as { __tone: (f: number, ms: number) => Promise<number> }).__tone = async (f, ms) => {
        await ctx.resume();
        const buf = new Float32Array(an.frequencyBinCount);
        let max = -200;
        const end = performance.now() + ms;
        while (performance.now() < end) {
          await new Promise((r) => setTimeout(r, 40));
          an.getFloatFrequencyData(buf);
          const b = Math.round(f / (ctx.sampleRate / an.fftSize));
          for (let i = b - 2; i <= b + 2; i++) max = Math.max(max, buf[i]!);
        }
        return Math.round(max);
      };
    });
    const tone = (ms = 1200) => org.evaluate(([f, ms]) => (window as unknown as { __tone: (f: number, ms: number) => Promise<number> }).__tone(f!, ms!), [TONE, ms]);
    const seek = async (t: number) => {
      await org.getByTestId('replay-seek').evaluate((el, t) => {
        const input = el as HTMLInputElement;
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, String(t));
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }, t);
      await expect.poll(() => org.getByTestId('replay').getAttribute('data-seeked'), { timeout: 20_000 }).toBe(String(Math.round(t)));
    };
    /** The audio element's position against the replay clock (ms), read together in the page. */
    const drift = () =>
      org.evaluate(() => {
        const el = document.querySelector('[data-testid="replay-audio"]') as HTMLAudioElement;
        const t = Number(document.querySelector('[data-testid="replay"]')!.getAttribute('data-time'));
        return { playing: !el.paused, audioMs: Math.round(el.currentTime * 1000), replayMs: t, drift: Math.round(el.currentTime * 1000 - t) };
      });

    await seek(m.connected + 1000);
    await org.getByTestId('replay-play').click();
    await expect.poll(async () => { const d = await drift(); return d.playing && d.replayMs > m.connected + 1300 && Math.abs(d.drift) < 300; }, { timeout: 20_000 }).toBe(true);
    const talking = await tone();
    // While playing, seek into the muted stretch: the audio moves with the picture.
    await seek(m.mutedSeen + 600);
    // Measured once the element has played on a little past the seek: what was already in the
    // output buffers from before the seek (a few ms of the tone) must not count.
    await expect.poll(async () => { const d = await drift(); return d.playing && Math.abs(d.drift) < 300 && d.audioMs >= m.mutedSeen + 900; }, { timeout: 20_000 }).toBe(true);
    const muted = await tone(1000);
    // And back to after the restart.
    await seek(m.back + 1500);
    await expect.poll(async () => { const d = await drift(); return d.playing && Math.abs(d.drift) < 300 && d.audioMs >= m.back + 1400; }, { timeout: 20_000 }).toBe(true);
    const restarted = await tone();
    const d = await drift();
    await org.screenshot({ path: path.join(tmpdir(), 'baton-replay-audio.png') });
    console.log(`replay analyser (dB at ${TONE} Hz): talking ${talking}, muted ${muted}, after the restart ${restarted}; drift ${JSON.stringify(d)}`);
    expect(talking).toBeGreaterThan(-60);
    expect(restarted).toBeGreaterThan(-60);
    expect(muted).toBeLessThan(-80);
    await org.getByTestId('replay-play').click(); // pause
    await expect.poll(async () => (await drift()).playing, { timeout: 10_000 }).toBe(false);
  }, 180_000);
});

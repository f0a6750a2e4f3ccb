/**
 * End to end, issue 12 "Clipboard for the controller": an Xvfb desktop, the real agent CLI, the real
 * server, and two viewers in Chromium (Bob, signed in, takes control; Carol, a guest, only watches).
 * `xclip` plays the host's applications.
 *
 * - Bob's browser clipboard reaches the host's CLIPBOARD on Ctrl+V (Async Clipboard API), and the
 *   panel's field sends text too; non-ASCII survives; text over 64 KiB is refused with a clear error;
 * - with `--clipboard both`, what is copied on the host reaches Bob's page and clipboard, and Carol's
 *   sharing socket never carries a clipboard frame (counted on the socket itself);
 * - `--clipboard to-host` sends nothing from the host; `--clipboard off` takes nothing, and Bob is told;
 * - peer-to-peer (Bob alone with the host: the picture, input and clipboard go over a DataChannel):
 *   both ways work there too, and the server's relay carries no clipboard frame.
 * (A viewer not in control sending clipboard frames by hand: packages/server/test/clipboard.test.ts.)
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { BatonServer } from '../../packages/server/dist/index.js';
import { XDesktop } from '../../packages/agent/test/helpers/xDesktop.js';
import type { Painter, Rgb } from '../../packages/agent/test/helpers/painter.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { BrowserMeeting } from '../support/meeting.js';
import { canvasPixel, closeTo } from '../support/hostDesktop.js';
import { haveBrowserAndX } from '../support/browser.js';

const run = promisify(execFile);
const OK = haveBrowserAndX('tests/e2e/clipboard.e2e.test.ts');
const W = 640;
const H = 400;
const CLIPBOARD_FRAMES = new Set([0x13, 0x14]);

describe.skipIf(!OK)('clipboard between the controller and the host', () => {
  let desktop: XDesktop;
  let painter: Painter;
  let meeting: BrowserMeeting;
  let srv: BatonServer;
  let agent: AgentRun | undefined;
  let bob: Page;
  let carol: Page;
  let bobCookie = '';
  let conf = '';
  let alice = '';
  /** Clipboard frames each page's sharing socket received, counted on the socket (not by the app). */
  const clipFrames = { bob: 0, carol: 0 };

  const env = () => desktop.env();
  const hostClipboard = async () => {
    try {
      return (await run('xclip', ['-selection', 'clipboard', '-o'], { env: env(), encoding: 'utf8' })).stdout;
    } catch {
      return null; // nobody owns the clipboard
    }
  };
  /** A host application copies `text` (xclip serves it from the background until someone else copies). */
  const hostCopies = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn('xclip', ['-selection', 'clipboard', '-i'], { env: env(), stdio: ['pipe', 'ignore', 'inherit'] });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`xclip -i exited ${code}`))));
      p.stdin.end(text);
    });
  const shows = async (page: Page, c: Rgb) => closeTo(await canvasPixel(page, 20, 20), c);
  /**
   * A point in each page's stream: the host paints a new colour and we wait until both canvases show
   * it. Everything the relay sent a page before that (a clipboard frame included) has arrived by then.
   */
  let marks = 0;
  const syncPoint = async () => {
    const c: Rgb = [40 + ((marks * 53) % 200), 200 - ((marks * 31) % 150), 90 + ((marks * 17) % 120)];
    marks++;
    const win = await painter.window(0, 0, 80, 80, c);
    for (const page of [bob, carol]) await expect.poll(() => shows(page, c), { timeout: 15_000 }).toBe(true);
    await painter.destroy(win);
  };
  const countFrames = (page: Page, who: keyof typeof clipFrames) =>
    page.on('websocket', (ws) => {
      if (!ws.url().endsWith('/ws/share')) return;
      ws.on('framereceived', ({ payload }) => {
        if (typeof payload !== 'string' && CLIPBOARD_FRAMES.has(payload[0]!)) clipFrames[who]++;
      });
    });
  const takeControl = async () => {
    await bob.getByTestId('control-request').click();
    await expect.poll(() => bob.getByTestId('control-status').textContent(), { timeout: 15_000 }).toBe('You are in control');
    await expect.poll(() => agent!.output(), { timeout: 15_000 }).toMatch(/Bob is controlling/);
  };
  const restartAgent = async (mode: string) => {
    await agent?.stop();
    agent = await startAgentShare(srv, conf, alice, desktop.display, 'signed-in', srv.url, ['--clipboard', mode]);
    await expect.poll(() => bob.getByTestId('share-viewport').getAttribute('data-drawn'), { timeout: 20_000 }).toBe('true');
    await takeControl();
  };
  const openPanel = async () => {
    const panel = bob.getByTestId('clipboard-panel');
    if ((await panel.getAttribute('open')) === null) await bob.getByTestId('clipboard-toggle').click();
  };
  const sendFromField = async (text: string) => {
    await openPanel();
    await bob.getByTestId('clipboard-send-field').fill(text);
    await bob.getByTestId('clipboard-send').click();
  };

  beforeAll(async () => {
    desktop = await XDesktop.start(W, H);
    painter = desktop.painter;
    await painter.window(0, 0, W, H, [30, 60, 200]);
    meeting = await BrowserMeeting.start({
      tmpPrefix: 'baton-clipboard-e2e-',
      timeout: 15_000,
      // A loaded machine: the first load of the page's bundle can take a while (a safety net only).
      navigationTimeout: 60_000,
      // Both may use the Async Clipboard API. (One headless browser has one clipboard for all its
      // pages, so what Carol's page receives is counted on its socket, not read from the clipboard.)
      context: { permissions: ['clipboard-read', 'clipboard-write'] },
    });
    srv = meeting.srv;
    alice = await signUp(srv.url, 'alice');
    bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, alice, { guests: 'allow', control: 'signed-in' }, 'Clipboard demo');
    agent = await startAgentShare(srv, conf, alice, desktop.display, 'signed-in', srv.url, ['--clipboard', 'both']);
    const viewport = { width: 1100, height: 760 };
    bob = await meeting.open(bobCookie, viewport);
    carol = await meeting.open(null, viewport);
    countFrames(bob, 'bob');
    countFrames(carol, 'carol');
  }, 240_000);

  afterAll(async () => {
    await agent?.stop();
    await meeting?.close();
    await desktop?.stop();
  });

  it('both viewers see the desktop; Bob takes control', async () => {
    await bob.goto(`${srv.url}/m/${conf}`);
    await carol.goto(`${srv.url}/m/${conf}`);
    await carol.getByTestId('guest-name').fill('Carol');
    await carol.getByTestId('guest-join').click();
    for (const page of [bob, carol]) await expect.poll(() => shows(page, [30, 60, 200]), { timeout: 30_000 }).toBe(true);
    await takeControl();
  }, 120_000);

  it("Ctrl+V on the shared screen puts the controller's clipboard on the host's, non-ASCII included", async () => {
    await bob.bringToFront();
    await bob.evaluate(() => navigator.clipboard.writeText('Grüße 👋'));
    await bob.getByTestId('share-canvas').click({ position: { x: 300, y: 300 } });
    await bob.keyboard.press('Control+V');
    await expect.poll(hostClipboard, { timeout: 15_000 }).toBe('Grüße 👋');
    await expect.poll(() => agent!.output(), { timeout: 10_000 }).toMatch(/Bob put 7 characters on your clipboard/);
    // Only Bob's panel exists: Carol does not control.
    expect(await carol.getByTestId('clipboard-panel').count()).toBe(0);
  });

  it("the panel's field sends text; text over 64 KiB is refused with a clear error", async () => {
    await sendFromField('from the field ✓\nline two');
    await expect.poll(hostClipboard, { timeout: 15_000 }).toBe('from the field ✓\nline two');
    expect(await bob.getByTestId('clipboard-notice').getAttribute('data-kind')).toBe('sent');

    await sendFromField('x'.repeat(70_000));
    await expect.poll(() => bob.getByTestId('clipboard-notice').getAttribute('data-kind')).toBe('sendTooLarge');
    expect(await bob.getByTestId('clipboard-notice').textContent()).toBe('Too large to send: 69 KiB (the limit is 64 KiB).');
    expect(await hostClipboard()).toBe('from the field ✓\nline two');
  });

  it("what the host copies reaches the controller's page and clipboard, and never the other viewer", async () => {
    const before = { ...clipFrames };
    await hostCopies('copied on the host ✓');
    await expect.poll(() => bob.getByTestId('clipboard-host-text').inputValue(), { timeout: 15_000 }).toBe('copied on the host ✓');
    await expect.poll(() => bob.getByTestId('clipboard-notice').getAttribute('data-kind')).toMatch(/^(copied|notCopied)$/);
    if ((await bob.getByTestId('clipboard-notice').getAttribute('data-kind')) === 'copied') {
      expect(await bob.evaluate(() => navigator.clipboard.readText())).toBe('copied on the host ✓');
    }
    await syncPoint();
    expect(clipFrames.bob).toBe(before.bob + 1);
    expect(clipFrames.carol).toBe(0);

    // Too large on the host: Bob is told its size, nothing else.
    await hostCopies('y'.repeat(80_000));
    await expect.poll(() => bob.getByTestId('clipboard-notice').getAttribute('data-kind'), { timeout: 15_000 }).toBe('tooLarge');
    expect(await bob.getByTestId('clipboard-notice').textContent()).toMatch(/clipboard is too large to send: \d+ KiB \(the limit is 64 KiB\)/);
    await syncPoint();
    expect(clipFrames.carol).toBe(0);
    const relay = (await srv.registry.get(conf))!.shareStats()!;
    expect(relay.clipboardDropped).toBe(0);
  }, 60_000);

  it('--clipboard to-host keeps the host\'s copies on the host', async () => {
    await restartAgent('to-host');
    const before = clipFrames.bob;
    await hostCopies('stays on the host');
    await syncPoint();
    expect(clipFrames.bob).toBe(before);
    expect(await hostClipboard()).toBe('stays on the host');
    await sendFromField('still goes to the host');
    await expect.poll(hostClipboard, { timeout: 15_000 }).toBe('still goes to the host');
  }, 120_000);

  it('--clipboard off takes nothing, and the controller is told', async () => {
    await restartAgent('off');
    await hostCopies('the host keeps this');
    await sendFromField('refused by the host');
    await expect.poll(() => bob.getByTestId('clipboard-notice').getAttribute('data-kind'), { timeout: 15_000 }).toBe('off');
    expect(await bob.getByTestId('clipboard-notice').textContent()).toMatch(/ does not accept clipboard text\.$/);
    expect(await hostClipboard()).toBe('the host keeps this');
    expect(clipFrames.carol).toBe(0);
  }, 120_000);

  it('works the same over a direct path (Bob alone with the host), past the relay', async () => {
    await agent?.stop();
    await carol.close();
    const conf2 = await createConference(srv.url, alice, { control: 'signed-in' }, 'Clipboard p2p');
    agent = await startAgentShare(srv, conf2, alice, desktop.display, 'signed-in', srv.url, ['--clipboard', 'both']);
    await bob.goto(`${srv.url}/m/${conf2}`);
    await expect.poll(() => bob.getByTestId('share-viewport').getAttribute('data-path'), { timeout: 30_000 }).toBe('peer');
    await bob.getByTestId('control-request').click();
    await expect.poll(() => bob.getByTestId('control-status').textContent(), { timeout: 15_000 }).toBe('You are in control');
    await expect.poll(() => agent!.output(), { timeout: 15_000 }).toMatch(/Bob is controlling/);

    await sendFromField('direct ✓ Grüße');
    await expect.poll(hostClipboard, { timeout: 15_000 }).toBe('direct ✓ Grüße');
    await hostCopies('copied on the host, sent directly');
    await expect.poll(() => bob.getByTestId('clipboard-host-text').inputValue(), { timeout: 15_000 }).toBe('copied on the host, sent directly');
    expect(await bob.getByTestId('share-viewport').getAttribute('data-path')).toBe('peer');
    // Neither went through the server's relay.
    expect((await srv.registry.get(conf2))!.shareStats()).toMatchObject({ clipboardForwarded: 0, clipboardDropped: 0 });
  }, 150_000);
});

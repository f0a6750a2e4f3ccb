/**
 * End to end, issue 15 item 4 (graceful shutdown): the built server runs as a process of its own with
 * a guest watching in Chromium and the host agent sharing an Xvfb screen. SIGTERM: the page says
 * "Server restarting, reconnecting…", the agent says the server is restarting, the process exits 0.
 * A new server on the same data directory and port: the guest's page comes back into the meeting by
 * itself, in the same seat (its resume token and name, no second entry), with the chat from before;
 * the agent reconnects and shares again, and a change on the host screen reaches the guest's canvas.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startXvfb, type Xvfb } from '../../packages/agent/test/helpers/xvfb.js';
import { Painter, type Rgb } from '../../packages/agent/test/helpers/painter.js';
import { api, createConference, signUp } from '../../packages/server/test/support.js';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, WEB_DIST, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/graceful-restart.e2e.test.ts');
const CLI = path.join(ROOT, 'packages/server/dist/cli.js');
const poll = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout });

interface Proc {
  proc: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

async function startServerProcess(dataDir: string, port: number): Promise<Proc> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('BATON_')) delete env[k];
  const args = [CLI, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--web-dir', WEB_DIST, '--audio', 'off', '--log-level', 'warn'];
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return { proc, url, output: () => out, exited };
}

function startAgent(url: string, conf: string, token: string, display: string): { proc: ChildProcess; output(): string } {
  // Through the server (no peer-to-peer), so the picture itself has to come back through the new server.
  const proc = spawn(process.execPath, [path.join(ROOT, 'packages/agent/dist/cli.js'), 'share', `${url}/m/${conf}`, '--token', token, '--allow-control', 'never', '--no-p2p'], {
    env: { ...process.env, DISPLAY: display },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, output: () => out };
}

describe.skipIf(!OK)('graceful restart: clients are told, reconnect to their seats, and the share resumes', { timeout: 180_000 }, () => {
  let xvfb: Xvfb;
  let painter: Painter;
  let dataDir = '';
  let server: Proc;
  let port = 0;
  let agent: ReturnType<typeof startAgent> | undefined;
  let browser: Browser;
  let gail: Page;
  let conf = '';

  const pixel = (x: number, y: number) =>
    gail.evaluate(
      ([x, y]) => {
        const c = document.querySelector('[data-testid="share-canvas"]') as HTMLCanvasElement | null;
        if (!c || c.width === 0) return null;
        return Array.from(c.getContext('2d')!.getImageData(x!, y!, 1, 1).data.slice(0, 3));
      },
      [x, y],
    );
  const near = (p: number[] | null, c: Rgb) => !!p && p.every((v, i) => Math.abs(v - c[i]!) <= 12);
  const stateOf = (p: Page) => p.getByTestId('meeting').getAttribute('data-state', { timeout: 1000 }).catch(() => null);
  const seatToken = (p: Page) => p.evaluate(() => Object.values(sessionStorage).join('\n'));

  beforeAll(async () => {
    buildWeb();
    xvfb = await startXvfb(800, 600);
    painter = await Painter.open(xvfb.display);
    await painter.window(0, 0, 800, 600, [40, 90, 160]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'baton-graceful-e2e-'));
    server = await startServerProcess(dataDir, 0);
    port = Number(new URL(server.url).port);
    const alice = await signUp(server.url, 'alice');
    conf = await createConference(server.url, alice, { guests: 'allow', control: 'never' }, 'Restart drill');
    const token = (await api(server.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, alice)).body.token as string;
    agent = startAgent(server.url, conf, token, xvfb.display);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    ctx.setDefaultTimeout(20_000);
    gail = await ctx.newPage();
  }, 180_000);

  afterAll(async () => {
    if (agent && agent.proc.exitCode === null) agent.proc.kill('SIGKILL');
    await browser?.close();
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
    await painter?.close();
    await xvfb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM tells the page and the agent; after the restart both are back, with the seat, the chat and the share', async () => {
    await gail.goto(`${server.url}/m/${conf}`);
    await gail.getByTestId('guest-name').fill('Gail');
    await gail.getByTestId('guest-join').click();
    await poll(() => stateOf(gail)).toBe('joined');
    // The agent's screen on the guest's canvas.
    await poll(() => pixel(400, 300).then((p) => near(p, [40, 90, 160])), 60_000).toBe(true);
    await gail.getByTestId('chat-input').fill('said before the restart');
    await gail.getByTestId('chat-send').click();
    await gail.getByTestId('chat-message').filter({ hasText: 'said before the restart' }).waitFor();
    const tokenBefore = await seatToken(gail);
    expect(tokenBefore).not.toBe('');

    server.proc.kill('SIGTERM');
    const banner = gail.locator('[data-testid="connection-banner"][data-reason="server-restart"]');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Server restarting, reconnecting…');
    expect(await server.exited).toBe(0);
    await poll(() => agent!.output().includes('Server restarting (')).toBe(true);

    server = await startServerProcess(dataDir, port);
    const t0 = Date.now();
    // The page comes back by itself (backoff up to 8 s) into the same seat.
    await poll(() => stateOf(gail), 60_000).toBe('joined');
    await poll(() => gail.getByTestId('connection-banner').count()).toBe(0);
    console.log(`guest back in the meeting ${Date.now() - t0} ms after the server was up again`);
    expect(await seatToken(gail)).toBe(tokenBefore);
    await gail.getByTestId('roster-Gail').waitFor();
    expect(await gail.getByTestId('roster-Gail').count()).toBe(1);
    await gail.getByTestId('chat-message').filter({ hasText: 'said before the restart' }).waitFor();

    // The agent is back in the meeting and shares again: a change on its screen reaches the canvas.
    await poll(() => agent!.output().includes('Reconnected to the meeting'), 60_000).toBe(true);
    const patch = await painter.window(100, 100, 96, 96, [250, 250, 250]);
    await poll(() => pixel(140, 140).then((p) => near(p, [250, 250, 250])), 60_000).toBe(true);
    console.log(`share back ${Date.now() - t0} ms after the server was up again`);
    await painter.destroy(patch);
    expect(agent!.output()).not.toContain('Sharing ended');
    expect(agent!.proc.exitCode).toBe(null);
    await gail.screenshot({ path: path.join(tmpdir(), 'baton-after-graceful-restart-1280x720.png') });
    console.log(`--- agent output ---\n${agent!.output()}`);
  });
});

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBatonServer, until } from './helpers/fakeServer.js';
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const HAVE_X = xvfbAvailable('baton-agent CLI tests');

describe.skipIf(!HAVE_X)('baton-agent CLI', () => {
  let desktop: XDesktop;

  beforeAll(async () => {
    await run('npx', ['tsc', '-b', 'packages/agent'], { cwd: ROOT }); // the CLI runs from dist/
    desktop = await XDesktop.start(1280, 720); // its painter keeps the server's monitors alive
    await run('xrandr', ['--setmonitor', 'left', '640/170x720/190+0+0', 'none'], { env: desktop.env() });
    await run('xrandr', ['--setmonitor', 'right', '640/170x720/190+640+0', 'none'], { env: desktop.env() });
  }, 120_000);
  afterAll(() => desktop?.stop());

  it('prints usage and rejects bad arguments', async () => {
    const help = await run('node', [CLI, '--help']);
    expect(help.stdout).toContain('baton-agent share <meeting-url> --token <one-time-token>');
    await expect(run('node', [CLI, 'share', 'http://x/m/a'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--token is required') });
    await expect(run('node', [CLI, 'share', 'http://x/m/a', '--token', 't', '--allow-control', 'always'])).rejects.toMatchObject({ code: 2 });
    await expect(run('node', [CLI, 'share', 'http://x/m/a', '--token', 't', '--tile-size', '300'])).rejects.toMatchObject({ code: 2 });
  });

  it('lists monitors', async () => {
    const { stdout } = await run('node', [CLI, 'monitors'], { env: desktop.env() });
    expect(stdout).toMatch(/0: left 640x720\+0\+0/);
    expect(stdout).toMatch(/1: right 640x720\+640\+0/);
  });

  it('shares one monitor with the chosen tile size and stops cleanly on Ctrl-C', async () => {
    const server = new FakeBatonServer();
    await server.listen();
    const child = spawn('node', [CLI, 'share', server.meetingUrl, '--token', server.token, '--monitor', 'right', '--tile-size', '32', '--allow-control', 'never'], { env: desktop.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await until(() => server.frames.length >= 1, 'the first frame', 15_000);
      expect(server.shareMessages[0]).toEqual({ type: 'screen', width: 640, height: 720, tileSize: 32 });
      expect(server.frames[0]!.cells).toBe(20 * 23);
      expect(stderr).toContain('Sharing monitor right (640x720) in meeting meet-1. Press Ctrl-C to stop.');
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(server.received.at(-1)?.type).toBe('share.stop');
      expect(stderr).toContain('Sharing ended: stopped by the host.');
    } finally {
      child.kill('SIGKILL');
      await server.close();
    }
  });

  it('fails with a clear message when the token is refused', async () => {
    const server = new FakeBatonServer();
    await server.listen();
    try {
      // A token may start with '-' (base64url): it must still reach the server as the token.
      await expect(run('node', [CLI, 'share', server.meetingUrl, '--token', '-wrong'], { env: desktop.env() })).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('bad hello'),
      });
    } finally {
      await server.close();
    }
  });
});

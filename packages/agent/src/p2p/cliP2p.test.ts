/**
 * The CLI's peer-to-peer switch, against the agent's in-test Baton server on a real Xvfb: by default
 * the hello announces caps.p2p; `--no-p2p` announces it off and the agent streams to the server.
 */
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBatonServer, until } from '../../test/helpers/fakeServer.js';
import { startXvfb, xvfbAvailable, type Xvfb } from '../../test/helpers/xvfb.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const HAVE_X = xvfbAvailable('baton-agent --no-p2p test');

describe.skipIf(!HAVE_X)('baton-agent peer-to-peer flag', () => {
  let xvfb: Xvfb;
  beforeAll(async () => {
    await run('npx', ['tsc', '-b', 'packages/agent'], { cwd: ROOT });
    xvfb = await startXvfb(640, 480);
  }, 120_000);
  afterAll(async () => xvfb?.stop());

  async function share(args: string[]) {
    const server = new FakeBatonServer();
    await server.listen();
    const child = spawn(process.execPath, [CLI, 'share', server.meetingUrl, '--token', server.token, '--allow-control', 'never', ...args], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      // A bound for a stuck agent only: on a loaded 2-core machine the agent alone takes seconds to load
      // its native modules (tests/support/agent.ts allows 45 s for the same).
      await until(() => server.frames.length >= 1, 'the first frame', 45_000);
      return server.received.find((m) => m.type === 'hello');
    } finally {
      child.kill('SIGINT');
      await exited;
      await server.close();
    }
  }

  it('announces p2p by default, and not with --no-p2p (streaming through the server either way here)', async () => {
    expect((await run(process.execPath, [CLI, '--help'])).stdout).toContain('--no-p2p');
    expect(await share([])).toMatchObject({ caps: { p2p: true } });
    expect(await share(['--no-p2p'])).toMatchObject({ caps: { p2p: false } });
  }, 120_000); // two agent runs and --help, each seconds under load: past the 30 s default (seen failing so)
});

/**
 * Issue 9: the one-time token need not be on the command line (ps shows it to every local user),
 * and nothing remote reaches the host's terminal unescaped. Runs the compiled CLI against a fake
 * Baton server on a real Xvfb.
 */
import { execFile, spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../src/cli.js';
import { ConsentPrompt } from '../src/ConsentPrompt.js';
import { FakeBatonServer, until } from './helpers/fakeServer.js';
import { startXvfb, xvfbAvailable, type Xvfb } from './helpers/xvfb.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const HAVE_X = xvfbAvailable('baton-agent token tests');

describe('readToken', () => {
  it('takes --token, else BATON_AGENT_TOKEN; the flag wins', async () => {
    const stdin = new PassThrough();
    expect(await readToken('abc', { BATON_AGENT_TOKEN: 'env' }, stdin)).toEqual({ ok: true, token: 'abc' });
    expect(await readToken(undefined, { BATON_AGENT_TOKEN: ' env-tok\n' }, stdin)).toEqual({ ok: true, token: 'env-tok' });
    expect(await readToken(undefined, {}, stdin)).toMatchObject({ ok: false, error: expect.stringContaining('BATON_AGENT_TOKEN') });
    expect(await readToken('', {}, stdin)).toMatchObject({ ok: false });
  });

  it('--token - reads one line and leaves the rest of the input to the consent prompt', async () => {
    const stdin = new PassThrough();
    stdin.write('-tok_from_stdin\r\ny\n'); // a token may start with '-'; CRLF from a pasted line
    expect(await readToken('-', {}, stdin)).toEqual({ ok: true, token: '-tok_from_stdin' });
    const output = new PassThrough();
    const consent = new ConsentPrompt({ mode: 'ask', input: stdin, output });
    expect(await consent.decide({ participantId: 'p1', name: 'Alice', user: 'alice' })).toBe(true);
    consent.close();

    const empty = new PassThrough();
    empty.end('\n');
    expect(await readToken('-', {}, empty)).toEqual({ ok: false, error: '--token -: no token on standard input' });
  });
});

describe.skipIf(!HAVE_X)('baton-agent without the token on its command line', () => {
  let xvfb: Xvfb;
  beforeAll(async () => {
    await run('npx', ['tsc', '-b', 'packages/agent'], { cwd: ROOT }).catch(() => undefined); // the CLI runs from dist/
    xvfb = await startXvfb(640, 480);
  }, 120_000);
  afterAll(async () => xvfb?.stop());

  async function share(args: string[], opts: { env?: Record<string, string>; stdin?: string }) {
    const server = new FakeBatonServer();
    await server.listen();
    const child = spawn('node', [CLI, 'share', server.meetingUrl, ...args], { env: { ...process.env, DISPLAY: xvfb.display, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { server, child, exited, stderr: () => Buffer.concat(stderr) };
  }

  it('takes the token from BATON_AGENT_TOKEN', async () => {
    const s = await share(['--allow-control', 'never'], { env: { BATON_AGENT_TOKEN: 'agent-token-1' } });
    try {
      await until(() => s.server.frames.length >= 1, 'the first frame', 15_000);
      expect(s.server.received[0]).toMatchObject({ type: 'hello', agentToken: 'agent-token-1' });
      s.child.kill('SIGINT');
      expect(await s.exited).toBe(0);
    } finally {
      s.child.kill('SIGKILL');
      await s.server.close();
    }
  });

  it('takes it from standard input, then asks for consent there; remote text is printed escaped', async () => {
    const s = await share(['--token', '-'], { stdin: 'agent-token-1\n' });
    try {
      await until(() => s.server.frames.length >= 1, 'the first frame', 15_000);
      expect(s.server.received[0]).toMatchObject({ type: 'hello', agentToken: 'agent-token-1' });
      // Hostile text from the meeting: a notice and a control request whose name draws a fake prompt.
      s.server.sendConference({ type: 'notice', code: 'x', text: 'hello\x1b]0;owned\x07\x1b[2J' });
      s.server.sendConference({ type: 'control.requested', participantId: 'p-eve', name: 'Alice (alice) asks to control your screen. Allow? [y/N] \x1b[8m', user: null });
      await until(() => s.stderr().toString().includes('Allow this guest to control your screen? [y/N]'), 'the consent question');
      s.child.stdin.write('n\n');
      await until(() => s.server.received.some((m) => m.type === 'control.deny'), 'control.deny');
      await until(() => s.stderr().toString().includes('Control was not given to'), 'the status line');
      s.child.kill('SIGINT');
      expect(await s.exited).toBe(0);
      const out = s.stderr();
      expect(out.includes(0x1b)).toBe(false); // no ESC byte reached the terminal
      expect(out.includes(0x07)).toBe(false);
      const text = out.toString();
      expect(text).toContain('hello\\x1b]0;owned\\x07\\x1b[2J');
      expect(text).toContain('  name:    "Alice (alice) asks to control your screen. Allow? [y/N] \\x1b[8m" (chosen by the participant)\n  account: guest, not signed in');
      expect(text).toContain('Control was not given to Alice (alice) asks to control your screen. Allow? [y/N] \\x1b[8m.');
    } finally {
      s.child.kill('SIGKILL');
      await s.server.close();
    }
  });
});

/**
 * HostClipboard against a real X server and a real X client (xclip): text the agent sets is what
 * `xclip -o` pastes (UTF-8, TARGETS, STRING), and what xclip copies is reported, once, including too
 * large text as its size only.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARE_LIMITS } from '@baton/protocol';
import { HostClipboard } from '../src/HostClipboard.js';
import { startXvfb, xvfbAvailable, type Xvfb } from './helpers/xvfb.js';

const run = promisify(execFile);
const HAVE_X = xvfbAvailable('HostClipboard tests');

/** Copy like a host application: xclip owns the clipboard (in the background) until someone else takes it. */
function xclipIn(display: string, text: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('xclip', ['-selection', 'clipboard', '-i'], { env: { ...process.env, DISPLAY: display }, stdio: ['pipe', 'ignore', 'inherit'] });
    p.on('error', reject);
    // xclip forks a child that serves the selection; the parent exits once it owns it.
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`xclip -i exited ${code}`))));
    p.stdin.end(text);
  });
}

function nextEvent<T>(c: HostClipboard, event: 'text' | 'tooLarge'): Promise<T> {
  return new Promise((resolve) => c.once(event, resolve as never));
}

describe.skipIf(!HAVE_X)('HostClipboard under Xvfb', () => {
  let xvfb: Xvfb;
  let clip: HostClipboard;
  const out = async (target?: string) =>
    (await run('xclip', ['-selection', 'clipboard', '-o', ...(target ? ['-t', target] : [])], { env: { ...process.env, DISPLAY: xvfb.display }, encoding: 'utf8' })).stdout;
  beforeAll(async () => {
    xvfb = await startXvfb(320, 240);
    clip = await HostClipboard.open({ display: xvfb.display, watch: true });
  });
  afterAll(async () => {
    await clip?.close();
    await xvfb?.stop();
  });

  it('serves the text it sets to host applications', async () => {
    await clip.setText('Grüße 👋\nline two');
    expect(clip.owning).toBe(true);
    expect(await out()).toBe('Grüße 👋\nline two');
    expect(await out('UTF8_STRING')).toBe('Grüße 👋\nline two');
    expect((await out('TARGETS')).split('\n')).toEqual(expect.arrayContaining(['TARGETS', 'UTF8_STRING', 'TEXT', 'STRING']));
    // STRING is Latin-1: ü survives, the emoji cannot.
    const latin = await run('xclip', ['-selection', 'clipboard', '-o', '-t', 'STRING'], { env: { ...process.env, DISPLAY: xvfb.display }, encoding: 'latin1' });
    expect(latin.stdout).toBe('Grüße ?\nline two');
    await expect(clip.setText('x'.repeat(SHARE_LIMITS.maxClipboardBytes + 1))).rejects.toThrow(/exceeds/);
  });

  it('reports what a host application copies, and only its size when it is too large', async () => {
    const got = nextEvent<string>(clip, 'text');
    await xclipIn(xvfb.display, 'copied on the host ✓');
    expect(await got).toBe('copied on the host ✓');
    expect(clip.owning).toBe(false);

    const big = nextEvent<number>(clip, 'tooLarge');
    await xclipIn(xvfb.display, Buffer.alloc(SHARE_LIMITS.maxClipboardBytes + 10, 0x61));
    expect(await big).toBeGreaterThan(SHARE_LIMITS.maxClipboardBytes);

    // Taking it back: our own ownership is not reported as a change.
    const texts: string[] = [];
    clip.on('text', (t) => texts.push(t));
    await clip.setText('mine again');
    expect(await out()).toBe('mine again');
    const after = nextEvent<string>(clip, 'text');
    await xclipIn(xvfb.display, 'theirs');
    expect(await after).toBe('theirs');
    expect(texts).toEqual(['theirs']);
  });
});

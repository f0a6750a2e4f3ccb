/**
 * The supervised Janus, for real: it starts on a free port, is restarted when it dies, and does not
 * outlive a server that is killed outright (SIGKILL leaves no chance to clean up).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JanusProcess, findJanus } from './JanusProcess.js';

const janus = findJanus();
if (!janus) {
  if (process.env.CI === 'true') throw new Error('janus is missing (scripts/audio.sh install); CI=true needs it');
  console.warn('\n*** SKIPPING JanusProcess.test.ts: janus is not installed (scripts/audio.sh install) ***\n');
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!janus)('JanusProcess', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'baton-janusproc-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('starts on a free port, restarts after a crash, and close() stops it for good', async () => {
    const p = new JanusProcess({ dir: dir(), binary: janus! });
    const url = await p.start();
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const first = p.pid!;
    const back = new Promise<string>((resolve) => p.on('up', resolve));
    p.kill('SIGKILL');
    await back;
    expect(p.pid).not.toBe(first);
    const second = p.pid!;
    p.close();
    await expect.poll(() => alive(second), { timeout: 15_000 }).toBe(false);
  }, 30_000);

  it('dies with its parent when the parent is killed outright', async () => {
    // A child Node process runs the supervisor and prints Janus's pid; then we SIGKILL that child.
    const mod = new URL('../../dist/audio/JanusProcess.js', import.meta.url).href;
    const code = `import { JanusProcess } from ${JSON.stringify(mod)};
      const p = new JanusProcess({ dir: ${JSON.stringify(dir())}, binary: ${JSON.stringify(janus)} });
      await p.start(); console.log('pid', p.pid); setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout!.on('data', (d) => {
        const m = /pid (\d+)/.exec(String(d));
        if (m) resolve(Number(m[1]));
      });
      parent.once('exit', () => reject(new Error('supervisor exited early')));
    });
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await expect.poll(() => alive(pid), { timeout: 15_000 }).toBe(false);
  }, 30_000);
});

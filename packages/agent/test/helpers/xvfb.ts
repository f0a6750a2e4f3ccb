/**
 * Test helper: a private Xvfb per test file. Display numbers start at 90 + a pid-derived offset and
 * skip any display whose lock or socket exists, so parallel engineers and runs do not collide.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export type Xvfb = { display: string; number: number; proc: ChildProcess; stop(): Promise<void> };

export const XVFB_BIN = '/usr/bin/Xvfb';

/** True when Xvfb can run here. Under CI=true a missing Xvfb is an error; otherwise the caller skips loudly. */
export function xvfbAvailable(what: string): boolean {
  if (existsSync(XVFB_BIN)) return true;
  if (process.env.CI === 'true') throw new Error(`Xvfb is required for ${what} (CI=true)`);
  console.warn(`\n*** SKIPPED ${what}: ${XVFB_BIN} is not installed ***\n`);
  return false;
}

export async function startXvfb(width = 1280, height = 720): Promise<Xvfb> {
  let n = 90 + (process.pid % 500);
  for (let attempt = 0; attempt < 40; attempt++, n++) {
    if (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) continue;
    const proc = spawn(XVFB_BIN, [`:${n}`, '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'], { stdio: 'ignore' });
    let exited = false;
    proc.on('exit', () => (exited = true));
    for (let i = 0; i < 100 && !exited; i++) {
      if (existsSync(`/tmp/.X11-unix/X${n}`)) {
        await sleep(50);
        if (exited) break;
        const display = `:${n}`;
        return {
          display,
          number: n,
          proc,
          async stop() {
            if (exited) return;
            const done = new Promise((r) => proc.once('exit', r));
            proc.kill('SIGTERM');
            await Promise.race([done, sleep(2000)]);
            if (!exited) proc.kill('SIGKILL');
          },
        };
      }
      await sleep(50);
    }
    if (!exited) proc.kill('SIGKILL');
  }
  throw new Error('could not start Xvfb on any display');
}

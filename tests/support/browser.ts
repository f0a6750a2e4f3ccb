/** Shared pieces of the browser end-to-end tests: Debian's Chromium, the built web client. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WEB_DIST = path.join(ROOT, 'packages/web/dist');

/** True when Chromium and Xvfb are here; under CI=true their absence is an error, elsewhere a loud skip. */
export function haveBrowserAndX(what: string): boolean {
  const missing = [CHROMIUM, '/usr/bin/Xvfb', '/usr/bin/xdotool'].filter((p) => !existsSync(p));
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`${what} needs ${missing.join(', ')} (CI=true)`);
  console.warn(`\n*** SKIPPING ${what}: missing ${missing.join(', ')} (run scripts/system-deps.sh as root) ***\n`);
  return false;
}

/**
 * A production build of the web client. It runs in a child process because Vitest sets
 * NODE_ENV=test, which would bundle React's development build.
 */
export function buildWeb(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: path.join(ROOT, 'packages/web'),
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: 'inherit',
  });
}

// Build the real web client (packages/web, its own vite config) into bench/.build/web/, which the
// bench's Baton server serves as its web directory: the viewer is the meeting page users run.
// A child process, as in the e2e tests: a production build (NODE_ENV=production) of what the sources
// say now, without touching packages/web/dist that other work may be serving.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_BUILD_DIR = fileURLToPath(new URL('../.build/web/', import.meta.url));

let built = null;

/** Build once per process; resolves to the directory to serve. */
export function buildWebClient() {
  built ??= new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [`${ROOT}node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'error', '--outDir', WEB_BUILD_DIR, '--emptyOutDir'],
      { cwd: `${ROOT}packages/web`, env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (!err) return resolve(WEB_BUILD_DIR);
        const text = `${stderr}${stdout}`.replace(/\x1b\[[0-9;]*m/g, '');
        reject(new Error(`the web client does not build: ${text.split('\n').filter((l) => l.trim()).slice(0, 4).join(' / ') || err.message}`));
      },
    );
  });
  return built;
}

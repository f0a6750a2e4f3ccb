// Build bench/viewer/ (index.html + baton-viewer.ts and the web client modules it imports) with vite,
// like the real web client is built, into bench/.build/. The bench's Baton server serves that
// directory as its web directory, so the page is same-origin with the server's sockets (as the real
// client is) without touching the server. Rebuilt on every run: quick, and the web sources move fast.
import { build } from 'vite';
import { fileURLToPath } from 'node:url';

export const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url));
const VIEWER_DIR = fileURLToPath(new URL('../viewer/', import.meta.url));

let built = null;

/** Build once per process; resolves to the directory to serve. */
export function buildBatonViewer() {
  built ??= build({
    configFile: false,
    root: VIEWER_DIR,
    logLevel: 'error',
    build: { outDir: BUILD_DIR, emptyOutDir: true, minify: false, sourcemap: false },
  }).then(
    () => BUILD_DIR,
    (err) => {
      // vite's messages carry colours and code frames; keep the first lines that say what broke.
      const text = String(err.message ?? err).replace(/\x1b\[[0-9;]*m/g, '');
      throw new Error(`the bench viewer does not build: ${text.split('\n').filter((l) => l.trim() && !/^\s*[│╭╰─]/.test(l)).slice(0, 4).join(' / ')}`);
    },
  );
  return built;
}

// Bundle bench/viewer/baton-viewer.ts (and the web client modules it imports) into one IIFE with
// vite, into bench/.build/, which the bench's Baton server serves as its web directory: the page is
// then same-origin with the server's sockets (as the real client is), without touching the server.
// Rebuilt on every run: it is quick and the web sources move fast.
import { build } from 'vite';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url));
const VIEWER_DIR = fileURLToPath(new URL('../viewer/', import.meta.url));

export async function buildBatonViewer() {
  mkdirSync(BUILD_DIR, { recursive: true });
  await build({
    configFile: false,
    root: VIEWER_DIR,
    logLevel: 'error',
    build: {
      outDir: BUILD_DIR,
      emptyOutDir: true,
      minify: false,
      sourcemap: false,
      lib: { entry: VIEWER_DIR + 'baton-viewer.ts', formats: ['iife'], name: 'BatonBenchViewer', fileName: () => 'baton-viewer.js' },
    },
  });
  copyFileSync(VIEWER_DIR + 'baton-viewer.html', BUILD_DIR + 'baton-viewer.html');
  // The directory is the server's --web-dir during the bench, and the server wants an index.html.
  copyFileSync(VIEWER_DIR + 'baton-viewer.html', BUILD_DIR + 'index.html');
  return BUILD_DIR;
}

import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const backend = 'http://127.0.0.1:8080';

/**
 * The server's Content-Security-Policy has no 'unsafe-eval'. Zod compiles object parsers with
 * `new Function` unless told `jitless`, and its probe for that permission alone is reported as a
 * CSP violation, at the first schema built, before any code of ours could call z.config(). So its
 * global config starts jitless here, in the page's bundle and in the workers'.
 */
function zodJitless(): Plugin {
  const from = '(_a.__zod_globalConfig = {})';
  return {
    name: 'baton-zod-jitless',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]zod[\\/]v4[\\/]core[\\/]core\.js$/.test(id)) return null;
      if (!code.includes(from)) this.error('zod changed: cannot start it jitless (needed by the CSP)');
      return { code: code.replace(from, '(_a.__zod_globalConfig = { jitless: true })'), map: null };
    },
  };
}

/**
 * pdf.js reads character maps (CJK text in fonts that are not embedded) and the standard 14 fonts'
 * data from URLs at run time; the CSP allows only our origin, so the build ships them under
 * /pdfjs/ (slides/pdf.ts points pdf.js there). About 1.6 MB, fetched only when a deck needs one.
 */
function pdfjsData(): Plugin {
  const root = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
  return {
    name: 'baton-pdfjs-data',
    apply: 'build',
    generateBundle() {
      for (const sub of ['cmaps', 'standard_fonts']) {
        const dir = path.join(root, sub);
        for (const f of readdirSync(dir)) this.emitFile({ type: 'asset', fileName: `pdfjs/${sub}/${f}`, source: readFileSync(path.join(dir, f)) });
      }
    },
  };
}

// The server serves dist/ itself in production; the dev server forwards the API and both sockets to it.
export default defineConfig({
  root: here,
  plugins: [react(), zodJitless(), pdfjsData()],
  worker: { plugins: () => [zodJitless()] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/ws': { target: backend, ws: true, changeOrigin: false },
    },
  },
});

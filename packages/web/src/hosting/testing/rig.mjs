/**
 * The rig shared by tests/e2e/browser-share.e2e.test.ts and bench/browser-share.mjs: a real Xvfb
 * screen, the harness page bundled with Vite into a directory the Baton server serves, Debian's
 * Chromium (non-headless under Xvfb for the sharer, headless for the viewer), and the X screen's
 * true pixels read with xwd.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
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
export const WIDTH = 1920;
export const HEIGHT = 1080;
const here = path.dirname(fileURLToPath(import.meta.url));

/** Tools the rig needs that are missing (empty when all are there). */
export function missingTools() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push(CHROMIUM);
  for (const tool of ['Xvfb', 'xsetroot', 'xterm', 'xdotool', 'xwd']) {
    if (spawnSync('which', [tool]).status !== 0) missing.push(tool);
  }
  return missing;
}

/** A display number >= 110 with no server on it. */
export function freeDisplay(from = 110, to = 199) {
  const span = to - from + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const n = from + ((start + i) % span);
    if (!existsSync(`/tmp/.X${n}-lock`) && !existsSync(`/tmp/.X11-unix/X${n}`)) return n;
  }
  throw new Error(`no free X display in ${from}..${to}`);
}

/** Start Xvfb at 1920x1080x24; resolves once it accepts clients. */
export async function startXvfb(display = freeDisplay()) {
  const proc = spawn('Xvfb', [`:${display}`, '-screen', '0', `${WIDTH}x${HEIGHT}x24`, '-nolisten', 'tcp', '-noreset'], { stdio: 'ignore' });
  const env = { ...process.env, DISPLAY: `:${display}` };
  const children = [];
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`Xvfb :${display} exited with ${proc.exitCode}`);
    if (existsSync(`/tmp/.X11-unix/X${display}`) && spawnSync('xsetroot', ['-name', 'baton'], { env, stdio: 'ignore' }).status === 0) break;
    if (Date.now() > deadline) throw new Error(`Xvfb :${display} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    display,
    env,
    /** Run an X client to completion. */
    run(cmd, args) {
      return execFileSync(cmd, args, { env, encoding: 'utf8' });
    },
    /** Start a long-running X client (killed by close()). */
    spawn(cmd, args) {
      const child = spawn(cmd, args, { env, stdio: 'ignore' });
      children.push(child);
      return child;
    },
    close() {
      for (const c of children) c.kill();
      proc.kill();
    },
  };
}

/** Bundle the harness page (real client modules) into `outDir`, with an index.html so the server serves it. */
export async function buildHarness(outDir) {
  const { build } = await import('vite');
  await build({
    root: here,
    configFile: false,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, sourcemap: false, rollupOptions: { input: path.join(here, 'harness.html') } },
  });
  copyFileSync(path.join(outDir, 'harness.html'), path.join(outDir, 'index.html'));
}

/**
 * The X screen's pixels as RGBA rows, read with `xwd -root` (ZPixmap, 32 bits per pixel).
 * @returns {{ width: number, height: number, rgba: Uint8Array }}
 */
export function readScreen(env) {
  const buf = execFileSync('xwd', ['-root', '-silent'], { env, maxBuffer: 64 * 1024 * 1024 });
  const be = (o) => buf.readUInt32BE(o);
  const headerSize = be(0);
  const width = be(16);
  const height = be(20);
  const byteOrder = be(28); // 0 = LSBFirst
  const bpp = be(44);
  const bytesPerLine = be(48);
  const redMask = be(56);
  const ncolors = be(76);
  if (bpp !== 32) throw new Error(`xwd: ${bpp} bits per pixel is not handled`);
  const data = headerSize + ncolors * 12;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = data + y * bytesPerLine + x * 4;
      const p = byteOrder === 0 ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
      const i = (y * width + x) * 4;
      if (redMask === 0xff0000) {
        rgba[i] = (p >>> 16) & 0xff;
        rgba[i + 1] = (p >>> 8) & 0xff;
        rgba[i + 2] = p & 0xff;
      } else {
        rgba[i] = p & 0xff;
        rgba[i + 1] = (p >>> 8) & 0xff;
        rgba[i + 2] = (p >>> 16) & 0xff;
      }
      rgba[i + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/**
 * Compare two RGBA images (same size), optionally only inside `rect` and outside `exclude` rectangles.
 * @returns {{ pixels: number, exact: number, maxDiff: number, meanDiff: number, within: (tol: number) => number }}
 */
export function compareRgba(a, b, width, rect = { x: 0, y: 0, w: width, h: a.length / 4 / width }, exclude = []) {
  const hist = new Float64Array(256);
  let pixels = 0, exact = 0, maxDiff = 0, sum = 0;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let x = rect.x; x < rect.x + rect.w; x++) {
      if (exclude.some((e) => x >= e.x && x < e.x + e.w && y >= e.y && y < e.y + e.h)) continue;
      const i = (y * width + x) * 4;
      const d = Math.max(Math.abs(a[i] - b[i]), Math.abs(a[i + 1] - b[i + 1]), Math.abs(a[i + 2] - b[i + 2]));
      pixels++;
      if (d === 0) exact++;
      if (d > maxDiff) maxDiff = d;
      sum += d;
      hist[d]++;
    }
  }
  return {
    pixels,
    exact,
    maxDiff,
    meanDiff: pixels ? sum / pixels : 0,
    /** Fraction of pixels whose largest channel difference is at most `tol`. */
    within(tol) {
      let n = 0;
      for (let d = 0; d <= tol; d++) n += hist[d];
      return pixels ? n / pixels : 1;
    },
  };
}

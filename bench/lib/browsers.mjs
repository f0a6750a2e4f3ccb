// The two Chromiums of the bench: the host's (non-headless, full screen on the Xvfb display, shows
// the workloads) and the viewers' (headless, one page per viewer, sampled by pages/sampler.js).
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processTree } from './procs.mjs';

export const CHROMIUM = process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium';
const BASE_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const NO_THROTTLE = ['--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows'];

const pages = fileURLToPath(new URL('../pages/', import.meta.url));
const STRIP_JS = readFileSync(pages + 'strip.js', 'utf8');
const SAMPLER_JS = readFileSync(pages + 'sampler.js', 'utf8');

/** Root pid of the Chromium launched with `--bench-role=<role>` by this process. */
function findBrowserPid(role) {
  for (const pid of processTree([process.pid])) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(`--bench-role=${role}`) && !cmd.includes('--type=')) return pid;
    } catch {
      /* gone */
    }
  }
  return null;
}

export async function launchHostBrowser(display, width, height) {
  // Without a window manager --kiosk cannot go full screen, and Chromium shrinks a window of exactly
  // the screen's size by one pixel; one pixel more than the screen keeps the page covering all of it.
  // The persistent context's window is the one the command-line flags apply to.
  const context = await chromium.launchPersistentContext('', {
    executablePath: CHROMIUM,
    headless: false,
    viewport: null,
    env: { ...process.env, DISPLAY: display },
    ignoreDefaultArgs: ['--enable-automation'],
    args: [...BASE_FLAGS, ...NO_THROTTLE, '--bench-role=host', '--kiosk', '--window-position=0,0', `--window-size=${width + 1},${height + 1}`, '--noerrdialogs', '--disable-infobars', '--hide-scrollbars', '--disable-features=Translate,MediaRouter'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    pid: findBrowserPid('host'),
    /** Show a workload and wait until it runs. */
    async show(baseUrl, workload) {
      await page.goto(`${baseUrl}/workload.html?w=${workload}`);
      await page.waitForFunction(() => globalThis.benchReady === true);
      const size = await page.evaluate(() => [innerWidth, innerHeight, screenX, screenY]);
      if (size[0] < width || size[1] < height || size[2] !== 0 || size[3] !== 0) throw new Error(`host page is ${size[0]}x${size[1]} at ${size[2]},${size[3]}: it does not cover the ${width}x${height} screen`);
    },
    close: () => context.close().catch(() => {}),
  };
}

export async function launchViewerBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_FLAGS, ...NO_THROTTLE, '--bench-role=viewer'],
  });
  return {
    browser,
    pid: findBrowserPid('viewer'),
    /** A fresh viewer page with the sampler installed. */
    async newPage(width, height) {
      const context = await browser.newContext({ viewport: { width, height } });
      await context.addInitScript({ content: STRIP_JS + '\n' + SAMPLER_JS });
      const page = await context.newPage();
      page.on('pageerror', (e) => page.benchErrors?.push(String(e)));
      page.benchErrors = [];
      return page;
    },
    close: () => browser.close().catch(() => {}),
  };
}


// Reference system: x11vnc (RFB server on the X display) + websockify + noVNC in the viewer.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { freePort, waitForPort } from '../lib/net.mjs';

const NOVNC = '/usr/share/novnc';
/**
 * Baton's meeting page shows a 1920x1080 screen in Fit at 0.804x in a 1920x1080 window (its header,
 * toolbar and margins take the rest). noVNC, scaled to fit (resize=scale), gets a window in which its
 * fit lands on the same scale, so both viewers show (and composite) the same scaled picture.
 */
export const FIT_SCALE = 0.804;

export const name = 'x11vnc';

export function availability() {
  for (const bin of ['x11vnc', 'websockify']) {
    try {
      execFileSync('which', [bin], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (apt-get install x11vnc novnc websockify)`;
    }
  }
  if (!existsSync(`${NOVNC}/vnc.html`)) return `${NOVNC}/vnc.html is missing (apt-get install novnc)`;
  return null;
}

export async function start({ procs, display }) {
  const rfb = await freePort();
  const vnc = procs.spawn('x11vnc', 'x11vnc', ['-display', display, '-rfbport', String(rfb), '-localhost', '-noipv6', '-nopw', '-forever', '-shared', '-quiet']);
  await waitForPort(rfb, 15_000, () => vnc.log.slice(-5).join(' | '));
  const ws = await freePort();
  const wsify = procs.spawn('websockify', 'websockify', ['--web', NOVNC, `127.0.0.1:${ws}`, `127.0.0.1:${rfb}`]);
  await waitForPort(ws, 15_000, () => wsify.log.slice(-5).join(' | '));
  const version = (() => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f', '${Package} ${Version}  ', 'x11vnc', 'novnc'], { encoding: 'utf8' });
    } catch {
      return '';
    }
  })();
  const url = `http://127.0.0.1:${ws}/vnc.html?autoconnect=true&host=127.0.0.1&port=${ws}&path=websockify&resize=scale&reconnect=false`;
  return {
    label: version.trim() || 'x11vnc + noVNC',
    serverPids: [vnc.pid, wsify.pid],
    agentPids: [],
    canvasSelector: '#noVNC_container canvas',
    /** The viewer window: the screen at Baton's Fit scale (noVNC's control bar overlays, it takes no room). */
    viewerSize: (width, height) => [Math.round(width * FIT_SCALE), Math.round(height * FIT_SCALE)],
    /** Open a viewer on `page`; resolves when its canvas has the screen's size. */
    async openViewer(page, width, height) {
      await page.goto(url, { timeout: 90_000 });
      await page.waitForFunction(([w, h]) => [...document.querySelectorAll('#noVNC_container canvas')].some((c) => c.width === w && c.height === h), [width, height], { timeout: 90_000 });
    },
    /** Make the viewer able to send input (noVNC: focus its canvas). */
    async prepareInput(page) {
      await page.click('#noVNC_container canvas', { position: { x: 400, y: 400 } });
    },
    inputTarget: '#noVNC_container canvas',
    async stop() {
      await procs.stop(wsify);
      await procs.stop(vnc);
    },
  };
}

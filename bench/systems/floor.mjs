// The floor: no remote-desktop system at all. A Node X client reads the strip straight from the X
// framebuffer every 16.7 ms (like a viewer's animation frame) and decodes it like the viewers do.
// What remains is the host Chromium's own paint-to-screen delay plus the sampling delay.
import { readFileSync } from 'node:fs';

export const name = 'floor';
/** No viewer page: the late-joiner and input extras do not apply. */
export const direct = true;
new Function(readFileSync(new URL('../pages/strip.js', import.meta.url), 'utf8'))();
const { W, H, decode } = globalThis.BenchStrip;

export function availability() {
  return null;
}

export async function start({ xc }) {
  return {
    label: 'X framebuffer read directly (no sharing system: the floor)',
    serverPids: [],
    agentPids: [],
    direct: true,
    /** A probe with the viewer sampler's reset()/collect() interface. */
    probe() {
      let S = fresh();
      let last = null;
      let stopped = false;
      function fresh() {
        return { bytesIn: 0, bytesOut: 0, latencies: [], stages: [], bad: 0, samples: 0, since: Date.now() };
      }
      const rgba = new Uint8Array(W * H * 4);
      const loop = () => {
        if (stopped) return;
        const started = performance.now();
        xc.X.GetImage(2, xc.root, 0, 0, W, H, 0xffffffff, (err, img) => {
          if (err || stopped) return;
          const now = Date.now();
          for (let i = 0; i < W * H; i++) {
            rgba[i * 4] = img.data[i * 4 + 2];
            rgba[i * 4 + 1] = img.data[i * 4 + 1];
            rgba[i * 4 + 2] = img.data[i * 4];
          }
          S.samples++;
          const t = decode(rgba, W, now);
          if (t === null) S.bad++;
          else if (t !== last) {
            last = t;
            S.latencies.push(now - t);
          }
          setTimeout(loop, Math.max(0, 1000 / 60 - (performance.now() - started)));
        });
      };
      loop();
      return {
        reset: async () => void (S = fresh()),
        collect: async () => ({ ...S, ms: Date.now() - S.since }),
        close: () => void (stopped = true),
      };
    },
    async stop() {},
  };
}

// The screen stream bench/cluster-fanout.mjs replays: a workload page (pages/workload.js) captured on
// Xvfb by encode-replay's recorder (the agent's ScreenCapture), encoded once by the agent's
// TileEncoder, as the share messages an agent sends for each capture pass. Kept in bench/.replay/
// (git-ignored) so later runs replay the very same bytes.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadRec } from './replayFile.mjs';
import { TileEncoding, decodeShareMessage, encodeShareMessage } from '../../packages/protocol/dist/index.js';

const WIDTH = 1920, HEIGHT = 1080;
const dir = fileURLToPath(new URL('../.replay/', import.meta.url));

/**
 * The passes of `workload` as encoded share messages: [{ time (ms since the first pass), tiles: Buffer[],
 * copy: does tiles[0] hold a Copy }]. Pass 0 is the whole screen. Records and encodes when not cached.
 */
export async function loadStream(workload, { passes = 150, fps = 15 } = {}) {
  const file = `${dir}${workload}-${fps}fps-${passes}.stream`;
  if (!existsSync(file)) {
    // The pixels (about 1 GB for 150 passes) are only needed until they are encoded.
    const tmp = `${dir}fanout-rec-${process.pid}/`;
    console.error(`recording ${workload} (${passes} passes at ${fps} fps: Xvfb, Chromium, the agent's capture)…`);
    execFileSync(process.execPath, [fileURLToPath(new URL('../encode-replay.mjs', import.meta.url)), 'record', '--workloads', workload, '--passes', String(passes), '--fps', String(fps), '--dir', tmp], { stdio: 'inherit' });
    const rec = `${tmp}${workload}.rec`;
    console.error(`encoding ${workload} with the agent's TileEncoder…`);
    const { TileEncoder } = await import('../../packages/agent/dist/TileEncoder.js');
    const enc = new TileEncoder({ tileSize: 16 });
    const stride = WIDTH * 4;
    const frame = { width: WIDTH, height: HEIGHT, stride, data: Buffer.alloc(stride * HEIGHT) };
    const parts = [];
    const recPasses = loadRec(rec);
    for (const p of recPasses) {
      for (const r of p.rects) for (let row = 0; row < r.height; row++) r.px.copy(frame.data, (r.y + row) * stride + r.x * 4, row * r.width * 4, (row + 1) * r.width * 4);
      const tiles = [...(await enc.encode(frame, p.rects, p.time)), ...(await enc.refine(p.time))];
      const head = Buffer.alloc(12);
      head.writeDoubleLE(p.time - recPasses[0].time, 0);
      head.writeUInt32LE(tiles.length, 8);
      parts.push(head);
      for (const t of tiles) {
        const m = Buffer.from(encodeShareMessage(t));
        const len = Buffer.alloc(4);
        len.writeUInt32LE(m.length);
        parts.push(len, m);
      }
    }
    writeFileSync(file, Buffer.concat(parts));
    rmSync(tmp, { recursive: true, force: true });
  }
  const b = readFileSync(file);
  const out = [];
  for (let o = 0; o < b.length; ) {
    const time = b.readDoubleLE(o);
    const n = b.readUInt32LE(o + 8);
    o += 12;
    const tiles = [];
    for (let k = 0; k < n; k++) {
      const len = b.readUInt32LE(o);
      tiles.push(b.subarray(o + 4, o + 4 + len));
      o += 4 + len;
    }
    const first = tiles.length ? decodeShareMessage(new Uint8Array(tiles[0])) : null;
    out.push({ time, tiles, copy: first?.type === 'tile' && first.encoding === TileEncoding.Copy });
  }
  return out;
}

/** Where each tile of a pass lies (for answering a refresh with the whole screen's tiles there). */
export function tileRects(pass) {
  return pass.tiles.map((bytes) => {
    const m = decodeShareMessage(new Uint8Array(bytes));
    return { x: m.x, y: m.y, w: m.w, h: m.h, bytes };
  });
}

/** encode-replay's `.rec` recordings (bench/.replay/<workload>.rec), read back. */
import { readFileSync } from 'node:fs';

/** Reads a .rec file: per pass [time f64, nrects u32, per rect x y w h u32 + BGRX pixels]. */
export function loadRec(file) {
  const b = readFileSync(file);
  const passes = [];
  let o = 0;
  while (o < b.length) {
    const time = b.readDoubleLE(o);
    const n = b.readUInt32LE(o + 8);
    o += 12;
    const rects = [];
    for (let k = 0; k < n; k++) {
      const [x, y, width, height] = [0, 4, 8, 12].map((d) => b.readUInt32LE(o + d));
      o += 16;
      rects.push({ x, y, width, height, px: b.subarray(o, o + width * height * 4) });
      o += width * height * 4;
    }
    passes.push({ time, rects });
  }
  return passes;
}

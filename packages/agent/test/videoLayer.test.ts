import { describe, expect, it } from 'vitest';
import { TILE_FLAG_ALT, TILE_FLAG_LOSSY, TileEncoding, decodeShareMessage, encodeShareMessage, videoHeader, type ShareMessage } from '@baton/protocol';
import { TileEncoder } from '../src/TileEncoder.js';
import { VideoLayer } from '../src/VideoLayer.js';
import { Canvas, frameFromRgb } from './helpers/canvas.js';
import { photoLike } from './helpers/painter.js';

const W = 640, H = 480;
/** Text-like grey background; a 320x240 "video" at (160,96) whose content is new every call. */
function scene(step: number | null): Uint8Array {
  const rgb = new Uint8Array(W * H * 3).fill(230);
  for (let y = 8; y < 60; y += 10) for (let x = 8; x < 600; x++) if ((x * 3 + y) % 7 < 2) rgb.set([20, 20, 20], (y * W + x) * 3);
  if (step !== null) {
    const p = photoLike(320, 240, step + 1);
    for (let y = 0; y < 240; y++) rgb.set(p.subarray(y * 320 * 3, (y + 1) * 320 * 3), ((96 + y) * W + 160) * 3);
  }
  return rgb;
}
type Tile = Extract<ShareMessage, { type: 'tile' }>;
const wire = (t: Tile): Tile => decodeShareMessage(encodeShareMessage(t)) as Tile;
const all = [{ x: 0, y: 0, width: W, height: H }];

/** Passes at 25 a second while the region moves, then `still` passes without motion. */
async function run(enc: TileEncoder, moving: number, still: number) {
  const frames: Tile[][] = [];
  let now = 1_000_000;
  for (let i = 0; i < moving + still; i++, now += 40) {
    const tiles = [...(await enc.encode(frameFromRgb(W, H, scene(i < moving ? i : moving - 1)), all, now)), ...(await enc.refine(now))];
    frames.push(tiles.map(wire));
  }
  return frames;
}

/** node-av is an optional dependency: where it did not install, the layer is off and this is skipped. */
const NODE_AV = await import('node-av/api').then(() => true, () => false);
if (!NODE_AV) console.warn('\n*** SKIPPING videoLayer.test.ts: node-av is not installed (npm install) ***\n');

describe.skipIf(!NODE_AV)('VideoLayer (node-av libx264)', () => {
  it('turns a region moving at video rates into one H.264 stream from a keyframe, ends it when it stops, and the region is refined losslessly', async () => {
    const video = new VideoLayer();
    expect(video.available).toBe(true);
    const enc = new TileEncoder({ video });
    enc.setAudience({ video: true, tiles: false });
    const frames = await run(enc, 20, 20);
    const units = frames.flat().filter((t) => t.encoding === TileEncoding.Video).map((t) => ({ t, h: videoHeader(t.data) }));
    const data = units.filter((u) => !u.h.end);
    expect(data.length).toBeGreaterThan(8);
    expect(data[0]!.h.key).toBe(true);
    expect(data.map((u) => u.h.seq)).toEqual(data.map((_, i) => i));
    // The stream covers the moving picture, on whole cells, with even sides.
    const r = data[0]!.t;
    expect(r.x).toBeLessThanOrEqual(160);
    expect(r.y).toBeLessThanOrEqual(96);
    expect(r.x + r.w).toBeGreaterThanOrEqual(480);
    expect(r.y + r.h).toBeGreaterThanOrEqual(336);
    expect(r.flags & TILE_FLAG_LOSSY).toBeTruthy();
    // Annex B with SPS first in the keyframe: a viewer configures its decoder from it.
    const au = data[0]!.t.data.subarray(8);
    expect([...au.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
    // While the stream runs, no JPEG or ALT tile goes over its rectangle (nobody needs tiles).
    const during = frames.slice(8, 20).flat();
    expect(during.some((t) => t.encoding === TileEncoding.Jpeg && t.x >= r.x && t.x < r.x + r.w && t.y >= r.y && t.y < r.y + r.h)).toBe(false);
    // It ends once still, and then lossless tiles cover the whole rectangle (the top-off).
    expect(units.filter((u) => u.h.end)).toHaveLength(1);
    const endAt = frames.findIndex((f) => f.some((t) => t.encoding === TileEncoding.Video && videoHeader(t.data).end));
    const after = frames.slice(endAt).flat().filter((t) => t.flags === 0);
    const covered = new Set<string>();
    for (const t of after) for (let y = t.y; y < t.y + t.h; y += 16) for (let x = t.x; x < t.x + t.w; x += 16) covered.add(`${x},${y}`);
    for (let y = r.y; y < r.y + r.h; y += 16) for (let x = r.x; x < r.x + r.w; x += 16) expect(covered.has(`${x},${y}`)).toBe(true);
    video.close();
  }, 60_000);

  it("decodes to the screen's pixels under its rectangle (YUV taken straight from the screen's rows), in both the first picture and the later ones", async () => {
    const video = new VideoLayer();
    const enc = new TileEncoder({ video });
    enc.setAudience({ video: true, tiles: false });
    const frames = await run(enc, 16, 0);
    video.close();
    const units = frames.flat().filter((t) => t.encoding === TileEncoding.Video && !videoHeader(t.data).end);
    expect(units.length).toBeGreaterThan(8);
    const { lib, C } = await import('node-av').then(async () => ({ lib: await import('node-av/lib'), C: await import('node-av/constants') }));
    const ctx = new lib.CodecContext();
    ctx.allocContext3(lib.Codec.findDecoder(C.AV_CODEC_ID_H264));
    expect(ctx.open2Sync()).toBe(0);
    const pkt = new lib.Packet();
    pkt.alloc();
    const pic = new lib.Frame();
    pic.alloc();
    const decoded: Array<{ y: Buffer; stride: number }> = [];
    for (const u of units) {
      pkt.data = Buffer.from(u.data.subarray(8));
      expect(ctx.sendPacketSync(pkt)).toBe(0);
      while (ctx.receiveFrameSync(pic) >= 0) decoded.push({ y: Buffer.from(pic.data![0]!), stride: pic.linesize[0]! });
    }
    ctx.freeContext();
    expect(decoded.length).toBe(units.length);
    // Luma (BT.601, limited range) of the scene each unit was made from: unit k is step (first unit's step + k).
    const r = units[0]!;
    const first = frames.findIndex((f) => f.includes(units[0]!));
    for (const k of [0, 1, units.length - 1]) {
      const rgb = scene(first + k);
      const { y, stride } = decoded[k]!;
      let err = 0;
      for (let row = 0; row < r.h; row++) {
        for (let col = 0; col < r.w; col++) {
          const o = ((r.y + row) * W + r.x + col) * 3;
          const luma = 16 + (65.481 * rgb[o]! + 128.553 * rgb[o + 1]! + 24.966 * rgb[o + 2]!) / 255;
          err += Math.abs(y[row * stride + col]! - luma);
        }
      }
      // 0.8-1.3 levels off on average here; the rectangle shifted by one cell is 6.5 off (smooth content).
      expect(err / (r.w * r.h)).toBeLessThan(3);
    }
  }, 60_000);

  it('sends ALT JPEG tiles over the stream for viewers without video, and a newcomer without video gets the whole rectangle', async () => {
    const video = new VideoLayer();
    const enc = new TileEncoder({ video });
    enc.setAudience({ video: true, tiles: true });
    const frames = await run(enc, 14, 0);
    const last = frames.at(-1)!;
    const unit = last.find((t) => t.encoding === TileEncoding.Video)!;
    expect(unit).toBeDefined();
    expect(last.at(-1)).toBe(unit); // the unit is the frame's last tile
    const alt = last.filter((t) => t.flags & TILE_FLAG_ALT);
    expect(alt.length).toBeGreaterThan(0);
    for (const t of alt) {
      expect(t.encoding).toBe(TileEncoding.Jpeg);
      expect(t.x >= unit.x && t.y >= unit.y && t.x + t.w <= unit.x + unit.w && t.y + t.h <= unit.y + unit.h).toBe(true);
    }
    // Video only from here; then someone without video arrives: the rectangle is due again as tiles.
    enc.setAudience({ video: true, tiles: false });
    expect(enc.setAudience({ video: true, tiles: true })).toMatchObject({ x: unit.x, y: unit.y, w: unit.w, h: unit.h });
    // Nobody decodes video: the stream ends.
    enc.setAudience({ video: false, tiles: true });
    const next = (await enc.encode(frameFromRgb(W, H, scene(99)), all, 2_000_000)).map(wire);
    expect(next.filter((t) => t.encoding === TileEncoding.Video).map((t) => videoHeader(t.data).end)).toEqual([true]);
    video.close();
  }, 60_000);

  it('an encoder that fails turns the layer off: the region goes as tiles again and is refined losslessly', async () => {
    const lines: string[] = [];
    const video = new VideoLayer({ encoder: () => Promise.reject(new Error('no libx264 here')), log: (l) => lines.push(l) });
    const enc = new TileEncoder({ video });
    enc.setAudience({ video: true, tiles: false });
    const frames = await run(enc, 20, 20);
    expect(video.available).toBe(false);
    expect(lines.join('\n')).toMatch(/Video layer off: no libx264 here/);
    expect(frames.flat().some((t) => t.encoding === TileEncoding.Video)).toBe(false);
    // The moving region went as JPEG after the failure, and ends lossless like any lossy tile.
    expect(frames.slice(12, 20).flat().some((t) => t.encoding === TileEncoding.Jpeg)).toBe(true);
    const lastLossy = frames.map((f) => f.some((t) => t.flags & TILE_FLAG_LOSSY)).lastIndexOf(true);
    const after = frames.slice(lastLossy + 1).flat();
    expect(after.filter((t) => t.flags === 0).length).toBeGreaterThan(0);
    const covered = new Set<string>();
    for (const t of frames.slice(20).flat().filter((t) => t.flags === 0)) for (let y = t.y; y < t.y + t.h; y += 16) for (let x = t.x; x < t.x + t.w; x += 16) covered.add(`${x},${y}`);
    for (let y = 96; y < 336; y += 16) for (let x = 160; x < 480; x += 16) expect(covered.has(`${x},${y}`)).toBe(true);
  }, 60_000);

  it('never starts a stream for typing-sized changes or without anyone decoding video', async () => {
    const video = new VideoLayer();
    const enc = new TileEncoder({ video });
    const frames = await run(enc, 12, 0); // audience never told: tiles only
    expect(frames.flat().some((t) => t.encoding === TileEncoding.Video)).toBe(false);
    video.close();
  }, 60_000);
});

describe('VideoLayer and moving content', () => {
  it('a picture that played in place and is then dragged away: the stream ends, the drag goes as Copy tiles with no new stream, and the screen ends pixel-exact', async () => {
    const fake = async () => ({ encode: async () => ({ data: new Uint8Array(16), key: true }), close() {} });
    const video = new VideoLayer({ encoder: fake });
    const enc = new TileEncoder({ video });
    enc.setAudience({ video: true, tiles: true });
    const photo = photoLike(320, 240, 7);
    // The picture plays at (160, 96) (new content every pass), then, still, is dragged by (12, 8) a pass.
    const frame = (i: number) => {
      const rgb = scene(null);
      const p = i < 10 ? photoLike(320, 240, i + 1) : photo;
      const dx = i < 10 ? 0 : (i - 9) * 12, dy = i < 10 ? 0 : (i - 9) * 8;
      for (let y = 0; y < 240; y++) rgb.set(p.subarray(y * 320 * 3, (y + 1) * 320 * 3), ((96 + dy + y) * W + 160 + dx) * 3);
      return frameFromRgb(W, H, rgb);
    };
    const canvas = new Canvas(W, H);
    const passes: Tile[][] = [];
    let now = 1_000_000;
    for (let i = 0; i < 22; i++, now += 40) {
      const tiles = [...(await enc.encode(frame(i), all, now)), ...(await enc.refine(now))].map(wire);
      passes.push(tiles);
      for (const t of tiles) if (t.encoding !== TileEncoding.Video) await canvas.apply(t);
    }
    const units = (ts: Tile[]) => ts.filter((t) => t.encoding === TileEncoding.Video).map((t) => videoHeader(t.data));
    // It played: one stream, from a keyframe.
    expect(units(passes.slice(0, 10).flat()).filter((h) => !h.end).length).toBeGreaterThan(3);
    const streams = new Set(units(passes.flat()).map((h) => h.stream));
    expect(streams.size).toBe(1);
    // Dragged: the stream ends, and the later passes carry the move as a Copy, no video.
    expect(units(passes.slice(10).flat()).filter((h) => h.end)).toHaveLength(1);
    const late = passes.slice(14);
    expect(late.flat().some((t) => t.encoding === TileEncoding.Video)).toBe(false);
    expect(late.filter((ts) => ts[0]?.encoding === TileEncoding.Copy).length).toBe(late.length);
    // Still: the refinement makes what the stream and the JPEG tiles left approximate exact.
    const last = frame(21);
    for (let k = 0; k < 40; k++, now += 100) {
      const tiles = [...(await enc.encode(last, all, now)), ...(await enc.refine(now))];
      for (const t of tiles.map(wire)) await canvas.apply(t);
    }
    expect(canvas.diff(last, 0)).toBe(0);
    video.close();
  });
});

describe('VideoLayer heat', () => {
  /** A 160x160 px region (100 cells) changing photo-like in every pass, passes `gapMs` apart. */
  function streamsAfter(gapMs: number, behind: boolean, passes = 12): boolean {
    const video = new VideoLayer({ encoder: async () => ({ encode: async () => ({ data: new Uint8Array(0), key: true }), close() {} }) });
    video.reset(640, 480, 16);
    video.audience = { video: true, tiles: false };
    video.behind = behind;
    const cols = 40, rows = 30;
    const hot = new Uint8Array(cols * rows);
    for (let r = 5; r < 15; r++) for (let c = 5; c < 15; c++) hot[r * cols + c] = 1;
    let started = false;
    for (let i = 0, now = 1_000_000; i < passes; i++, now += gapMs) if (video.plan(hot, hot, now)) started = true;
    video.close();
    return started;
  }

  it('a region changing in every pass is hot at 25 passes a second, and at 2.5 only when the loop is behind the screen', () => {
    expect(streamsAfter(40, false)).toBe(true);
    // A loaded host: the tile path lets a pass come every 400 ms. Damage was waiting every time: hot.
    expect(streamsAfter(400, true)).toBe(true);
    expect(streamsAfter(1000, true)).toBe(true);
    // The same gaps with the loop waiting for damage are the content's own pace (a slideshow): not video.
    expect(streamsAfter(400, false)).toBe(false);
    expect(streamsAfter(1000, false)).toBe(false);
  });
});

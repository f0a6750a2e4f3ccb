/**
 * The capture loop's pacing (issue 13): the video encoder works beside the passes, one picture at a time
 * with only the newest waiting (EncodeLane), its units keep their stream's order and never follow the
 * stream's end, and the loop's timing decisions (align to a repaint, rest after a pass, route a unit).
 * Fake encoders resolved by hand: no clock, no timing.
 */
import { describe, expect, it } from 'vitest';
import { TileEncoding, decodeShareMessage, encodeShareMessage, videoHeader, type ShareMessage } from '@baton/protocol';
import { EncodeLane } from '../src/EncodeLane.js';
import { VideoLayer, type StreamEncoder, type VideoUnitInfo } from '../src/VideoLayer.js';
import { TileEncoder } from '../src/TileEncoder.js';
import { alignToPaint, restAfterPass, routeVideoUnit } from '../src/pacing.js';
import { LoopWaits } from '../src/LoopWaits.js';
import { frameFromRgb } from './helpers/canvas.js';
import { photoLike } from './helpers/painter.js';

type Tile = Extract<ShareMessage, { type: 'tile' }>;

/** A promise and its resolver. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('EncodeLane', () => {
  it('runs one job at a time; a job offered meanwhile waits, and a newer one replaces it (the older is dropped)', async () => {
    const gates: Array<{ job: number; done: () => void }> = [];
    const lane = new EncodeLane<number>((job) => {
      const d = deferred();
      gates.push({ job, done: () => d.resolve() });
      return d.promise;
    });
    lane.offer(1);
    expect(lane.busy).toBe(true);
    lane.offer(2);
    lane.offer(3);
    lane.offer(4);
    expect(gates.map((g) => g.job)).toEqual([1]);
    gates[0]!.done();
    await settle();
    // Only the newest waiting picture is encoded next: 2 and 3 were dropped, never queued.
    expect(gates.map((g) => g.job)).toEqual([1, 4]);
    expect(lane.stats).toEqual({ offered: 4, started: 2, dropped: 2 });
    gates[1]!.done();
    await lane.idle();
    expect(lane.busy).toBe(false);
    lane.offer(5);
    expect(gates.map((g) => g.job)).toEqual([1, 4, 5]);
    gates[2]!.done();
    await lane.idle();
  });

  it('a failing job frees the lane for the next one; a cleared or replaced waiting job is not run but handed back', async () => {
    const ran: number[] = [];
    const dropped: number[] = [];
    const first = deferred();
    const lane = new EncodeLane<number>(
      async (job) => {
        ran.push(job);
        if (job === 1) {
          await first.promise;
          throw new Error('encoder failed');
        }
      },
      (job) => dropped.push(job),
    );
    lane.offer(1);
    lane.offer(2);
    lane.clearWaiting();
    lane.offer(3);
    lane.offer(4);
    first.resolve();
    await lane.idle();
    expect(ran).toEqual([1, 4]);
    // Every job not run is handed back (its picture buffer is used again), each once.
    expect(dropped).toEqual([2, 3]);
  });
});

const W = 640, H = 480;
function scene(step: number): Uint8Array {
  const rgb = new Uint8Array(W * H * 3).fill(230);
  const p = photoLike(320, 240, step + 1);
  for (let y = 0; y < 240; y++) rgb.set(p.subarray(y * 320 * 3, (y + 1) * 320 * 3), ((96 + y) * W + 160) * 3);
  return rgb;
}
const all = [{ x: 0, y: 0, width: W, height: H }];
const wire = (t: Tile): Tile => decodeShareMessage(encodeShareMessage(t)) as Tile;

/** An encoder whose every picture waits until the test lets it through. */
function gatedEncoder() {
  const calls: Array<{ pts: number; release: () => void }> = [];
  let closed = 0;
  let closedWhileBusy = false;
  let busy = 0;
  const factory = async (): Promise<StreamEncoder> => ({
    async encode(_bgrx, pts) {
      const d = deferred();
      busy++;
      calls.push({ pts, release: () => d.resolve() });
      await d.promise;
      busy--;
      return { data: Uint8Array.of(0, 0, 0, 1, 0x65, calls.length), key: calls.length === 1 || pts === 0 };
    },
    close() {
      closed++;
      if (busy > 0) closedWhileBusy = true;
    },
  });
  return { factory, calls, closed: () => closed, closedWhileBusy: () => closedWhileBusy };
}

describe('VideoLayer beside the passes (a sink set)', () => {
  it('passes do not wait for the encoder; pictures that came while it was busy are coalesced to the newest; units reach the sink in stream order', async () => {
    const enc = gatedEncoder();
    const video = new VideoLayer({ encoder: enc.factory });
    const units: Array<{ tile: Tile; info: VideoUnitInfo }> = [];
    video.sink = (tile, info) => units.push({ tile: wire(tile), info });
    const te = new TileEncoder({ video });
    te.setAudience({ video: true, tiles: false });
    let now = 1_000_000;
    // Passes at 25 a second; each returns without its unit while the encoder holds the first picture.
    let passes = 0;
    while (enc.calls.length === 0 && passes < 30) {
      await te.encode(frameFromRgb(W, H, scene(passes)), all, (now += 40));
      passes++;
      await settle();
    }
    expect(enc.calls.length).toBe(1);
    const started = passes;
    for (let i = 0; i < 5; i++) await te.encode(frameFromRgb(W, H, scene(passes++)), all, (now += 40));
    // Five passes went on while the first picture was encoding; four of their pictures were dropped.
    expect(enc.calls.length).toBe(1);
    expect(video.laneStats.dropped).toBe(4);
    enc.calls[0]!.release();
    await settle();
    // The newest picture (the last pass's) is the one encoded next.
    expect(enc.calls.length).toBe(2);
    expect(enc.calls[1]!.pts - enc.calls[0]!.pts).toBe(5 * 40);
    enc.calls[1]!.release();
    await video.idle();
    expect(units.map((u) => videoHeader(u.tile.data).seq)).toEqual([0, 1]);
    expect(videoHeader(units[0]!.tile.data).key).toBe(true);
    expect(units[1]!.info.time).toBe(now);
    expect(started).toBeGreaterThan(0);
    video.close();
  });

  it('a stream that ends while a picture is encoding: that unit is dropped, the encoder is closed only after it, and the end tile follows the last unit sent', async () => {
    const enc = gatedEncoder();
    const video = new VideoLayer({ encoder: enc.factory, idleMs: 250 });
    const delivered: Tile[] = [];
    video.sink = (tile) => delivered.push(wire(tile));
    const te = new TileEncoder({ video });
    te.setAudience({ video: true, tiles: false });
    const sent: Tile[] = [];
    let now = 1_000_000;
    let step = 0;
    const pass = async (moving: boolean) => {
      const tiles = await te.encode(frameFromRgb(W, H, scene(moving ? step++ : step - 1)), all, (now += 40));
      // The session sends the units that arrived before this pass's own tiles.
      sent.push(...delivered.splice(0), ...tiles.map(wire));
      await settle();
    };
    while (enc.calls.length === 0) await pass(true);
    enc.calls[0]!.release();
    await settle();
    await pass(true); // picture 2 goes to the encoder and is held there
    expect(enc.calls.length).toBe(2);
    // The motion stops: after idleMs the stream ends while picture 2 is still encoding.
    for (let i = 0; i < 10; i++) await pass(false);
    expect(video.rect).toBeNull();
    expect(enc.closed()).toBe(0);
    enc.calls[1]!.release();
    await video.idle();
    await settle();
    await pass(false);
    expect(enc.closed()).toBe(1);
    expect(enc.closedWhileBusy()).toBe(false);
    const vids = sent.filter((t) => t.encoding === TileEncoding.Video).map((t) => videoHeader(t.data));
    // One unit, then the end; the unit encoded after the end never went out.
    expect(vids.map((h) => [h.seq, h.end])).toEqual([[0, false], [1, true]]);
    expect(delivered).toEqual([]);
    video.close();
  });
});

describe('pacing decisions', () => {
  it('aligns to a repaint only when the next one is less than half a period away', () => {
    expect(alignToPaint(1, 16.7)).toBe('now');
    expect(alignToPaint(3, 16.7)).toBe('now'); // a timer a little late: this repaint, not the next
    expect(alignToPaint(8, 16.7)).toBe('now');
    expect(alignToPaint(9, 16.7)).toBe('next-paint');
    expect(alignToPaint(16, 16.7)).toBe('next-paint');
    expect(alignToPaint(19, 16.7)).toBe('now'); // the repaint is late: do not wait for it
    expect(alignToPaint(5, Infinity)).toBe('now'); // not repainting steadily
    expect(alignToPaint(30, 50)).toBe('now'); // slower than 25 Hz: no alignment
  });

  it('rests after a pass for its CPU time (half a core), not its wall time', () => {
    expect(restAfterPass(8)).toBe(8);
    expect(restAfterPass(8, 0.25)).toBe(24);
    expect(restAfterPass(0)).toBe(0);
    expect(restAfterPass(Number.NaN)).toBe(0);
    expect(restAfterPass(8, 1)).toBe(0);
  });

  it('a video unit goes out at once between passes with room in the window, else with the next batch', () => {
    expect(routeVideoUnit({ passRunning: false, queued: 0, canSend: true })).toBe('send');
    expect(routeVideoUnit({ passRunning: true, queued: 0, canSend: true })).toBe('queue');
    expect(routeVideoUnit({ passRunning: false, queued: 1, canSend: true })).toBe('queue');
    expect(routeVideoUnit({ passRunning: false, queued: 0, canSend: false })).toBe('queue');
  });
});

describe('LoopWaits', () => {
  it('adds up the time between passes by what the loop waited for, and starts afresh at each pass', () => {
    const w = new LoopWaits();
    w.enter('damage', 0);
    w.enter('acks', 10);
    w.enter('rate', 14);
    w.enter('paint', 20);
    expect(w.take(25)).toEqual({ damage: 10, acks: 4, buffer: 0, rate: 6, rest: 0, paint: 5, timer: 0 });
    expect(w.take(40)).toEqual({ damage: 0, acks: 0, buffer: 0, rate: 0, rest: 0, paint: 0, timer: 0 });
  });
});

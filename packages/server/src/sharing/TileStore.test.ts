import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { TileEncoding, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TileStore, TileStoreError, compact } from './TileStore.js';

type Tile = Extract<ShareMessage, { type: 'tile' }>;
const screen = { type: 'screen', width: 100, height: 40, tileSize: 32 } as const; // 4x2 cells, ragged right and bottom edges
const tile = (x: number, y: number, w: number, h: number, v = 1): Tile => ({ type: 'tile', x, y, w, h, encoding: TileEncoding.Fill, flags: 0, data: new Uint8Array([v, v, v]) });
const frame = (seq: number) => ({ type: 'frame', seq, time: seq * 10 }) as const;
const decodeTile = (bytes: Uint8Array) => decodeShareMessage(bytes) as Tile;

describe('TileStore', () => {
  it('maps tiles to grid cells and rejects tiles that do not cover exactly one cell', () => {
    const s = new TileStore();
    expect(() => s.indexOf(tile(0, 0, 32, 32))).toThrow(/before any screen/);
    s.setScreen(screen, encodeShareMessage(screen));
    expect(s.grid).toEqual({ width: 100, height: 40, tileSize: 32, cols: 4, rows: 2 });
    expect(s.indexOf(tile(0, 0, 32, 32))).toBe(0);
    expect(s.indexOf(tile(96, 0, 4, 32))).toBe(3); // clipped at the right edge
    expect(s.indexOf(tile(64, 32, 32, 8))).toBe(6); // clipped at the bottom edge
    expect(s.indexOf(tile(96, 32, 4, 8))).toBe(7);
    expect(() => s.indexOf(tile(96, 0, 32, 32))).toThrow(TileStoreError);
    expect(() => s.indexOf(tile(96, 0, 32, 32))).toThrow(/outside the 100x40 screen/);
    expect(() => s.indexOf(tile(16, 0, 16, 16))).toThrow(/not on the 32px grid/);
    expect(() => s.indexOf(tile(0, 0, 16, 16))).toThrow(/does not cover its 32px grid cell/);
  });

  it('holds a batch apart until its frame, keeps one entry per cell and increasing versions', () => {
    const s = new TileStore();
    s.setScreen(screen, encodeShareMessage(screen));
    const a1 = encodeShareMessage(tile(0, 0, 32, 32, 1));
    const a2 = encodeShareMessage(tile(0, 0, 32, 32, 2));
    const b1 = encodeShareMessage(tile(32, 0, 32, 32, 3));
    s.putTile(tile(0, 0, 32, 32, 1), a1);
    expect(s.tile(0)).toBeUndefined(); // not committed yet
    s.putTile(tile(0, 0, 32, 32, 2), a2);
    s.putTile(tile(32, 0, 32, 32, 3), b1);
    expect(s.entryCount()).toBe(2);
    expect(s.commit(frame(1), encodeShareMessage(frame(1))).sort()).toEqual([0, 1]);
    expect(s.tile(0)).toEqual(a2);
    expect(s.filledCells()).toEqual([0, 1]);
    const v0 = s.version(0);
    const v1 = s.version(1);
    expect(v0).toBeGreaterThan(0);
    expect(v1).toBeGreaterThan(0);
    s.putTile(tile(0, 0, 32, 32, 4), encodeShareMessage(tile(0, 0, 32, 32, 4)));
    s.commit(frame(2), encodeShareMessage(frame(2)));
    expect(s.version(0)).toBeGreaterThan(Math.max(v0, v1));
    expect(s.version(1)).toBe(v1);
    expect(s.lastFrame).toMatchObject({ seq: 2, time: 20, commit: 2 });
    // Many rewrites of every cell never grow the store past the grid.
    for (let i = 0; i < 200; i++) {
      for (const t of [tile(0, 0, 32, 32, i), tile(96, 32, 4, 8, i)]) s.putTile(t, encodeShareMessage(t));
      s.commit(frame(3 + i), encodeShareMessage(frame(3 + i)));
    }
    expect(s.entryCount()).toBeLessThanOrEqual(8);
    // A new screen forgets everything, but commit numbers keep counting.
    s.setScreen(screen, encodeShareMessage(screen));
    expect(s.filledCells()).toEqual([]);
    expect(s.lastFrame).toBeNull();
    expect(s.commits).toBe(202);
  });

  it('takes tiles covering rectangles of whole cells and replays the distinct ones in version order', () => {
    const s = new TileStore();
    s.setScreen(screen, encodeShareMessage(screen)); // 4x2 cells of 32 px, the last column 4 px, the last row 8 px
    expect(s.spanOf(tile(0, 0, 100, 40))).toEqual({ c0: 0, r0: 0, c1: 3, r1: 1 }); // the whole screen, clipped
    expect(s.spanOf(tile(32, 0, 64, 32))).toEqual({ c0: 1, r0: 0, c1: 2, r1: 0 });
    expect(s.spanOf(tile(64, 0, 36, 40))).toEqual({ c0: 2, r0: 0, c1: 3, r1: 1 });
    expect(() => s.spanOf(tile(0, 0, 48, 32))).toThrow(/does not cover its 32px grid cell/);
    expect(() => s.spanOf(tile(0, 0, 64, 36))).toThrow(/does not cover its 32px grid cell/);

    const whole = tile(0, 0, 100, 40, 1);
    const wholeBytes = encodeShareMessage(whole);
    s.putTile(whole, wholeBytes);
    expect(s.commit(frame(1), encodeShareMessage(frame(1))).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(s.entryCount()).toBe(1); // one tile for eight cells
    expect(s.byteSize()).toBe(encodeShareMessage(screen).length + wholeBytes.length);

    // A 2x1 rect over cells 1-2, then within the next batch a single cell over cell 2 again.
    const mid = tile(32, 0, 64, 32, 2), cell2 = tile(64, 0, 32, 32, 3);
    s.putTile(mid, encodeShareMessage(mid));
    s.putTile(cell2, encodeShareMessage(cell2));
    expect(s.commit(frame(2), encodeShareMessage(frame(2))).sort((a, b) => a - b)).toEqual([1, 2]);
    expect(s.version(2)).toBeGreaterThan(s.version(1));
    expect(s.version(1)).toBeGreaterThan(s.version(0));
    // A late joiner gets the three distinct tiles, oldest first: the whole screen, the rect, the cell.
    const replay = s.tilesFor(s.filledCells()).map((e) => e.bytes);
    expect(replay).toEqual([wholeBytes, encodeShareMessage(mid), encodeShareMessage(cell2)]);
    // A viewer missing only cell 1 gets the rect alone.
    expect(s.tilesFor([1]).map((e) => e.bytes)).toEqual([encodeShareMessage(mid)]);

    // Overdraw every cell the whole-screen tile still showed: it is dropped.
    for (const c of [0, 3, 4, 5, 6, 7]) {
      const t = tile((c % 4) * 32, Math.floor(c / 4) * 32, c % 4 === 3 ? 4 : 32, c >= 4 ? 8 : 32, 9);
      s.putTile(t, encodeShareMessage(t));
    }
    s.commit(frame(3), encodeShareMessage(frame(3)));
    expect(s.tilesFor(s.filledCells()).map((e) => e.bytes)).not.toContainEqual(wholeBytes);
    expect(s.entryCount()).toBe(8); // rect (cell 1) + cell 2 + six single cells
  });

  it('copies views into larger buffers so a small tile cannot pin a socket read buffer', () => {
    const big = new Uint8Array(65536);
    const view = big.subarray(100, 120);
    const c = compact(view);
    expect(c.buffer.byteLength).toBe(20);
    const exact = new Uint8Array(20);
    expect(compact(exact)).toBe(exact);
  });

  // Tile hoarding (issue 9, item 4): a host parking 512 KiB in every cell.
  const hd = { type: 'screen', width: 1920, height: 1080, tileSize: 16 } as const;
  const fat = (cell: number, fill = 1): Uint8Array =>
    encodeShareMessage({ type: 'tile', x: (cell % 120) * 16, y: Math.floor(cell / 120) * 16, w: 16, h: 16, encoding: TileEncoding.Png, flags: 0, data: new Uint8Array(512 * 1024).fill(fill) });
  const put = (s: TileStore, bytes: Uint8Array) => s.putTile(decodeTile(bytes), bytes);

  it('refuses a tile that would take the share past its budget (a few times the raw screen), committed or pending', () => {
    const s = new TileStore();
    s.setScreen(hd, encodeShareMessage(hd));
    expect(s.budget).toBe(12 * 1920 * 1080);
    let refused: unknown = null;
    let cell = 0;
    for (; cell < 800 && !refused; cell++) {
      try {
        put(s, fat(cell));
        if (cell % 10 === 9) s.commit(frame(cell), encodeShareMessage(frame(cell)));
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).toBeInstanceOf(TileStoreError);
    expect((refused as Error).message).toMatch(/more than its 24883200 bytes of tiles/);
    expect(cell).toBeLessThan(50); // 24.9 MB of 512 KiB tiles, not 800 of them (400 MiB)
    expect(s.heldCost).toBeLessThanOrEqual(s.budget);
    expect(s.byteSize()).toBeLessThanOrEqual(s.budget);
    // A new screen starts from nothing.
    s.setScreen(hd, encodeShareMessage(hd));
    expect(s.byteSize()).toBe(encodeShareMessage(hd).byteLength);
    put(s, fat(0));
  });

  it('lets go of tiles overdrawn within a batch, so one cell rewritten forever stays within the budget', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const s = new TileStore();
    s.setScreen(hd, encodeShareMessage(hd));
    const firstRef = ((b) => (put(s, b), new WeakRef(b)))(fat(0));
    for (let i = 1; i < 200; i++) put(s, fat(0, i)); // 100 MiB through one cell, never committed
    expect(s.heldCost).toBeLessThanOrEqual(s.budget);
    await new Promise((r) => setImmediate(r)); // a WeakRef holds its target until the end of the current job
    gc();
    expect(firstRef.deref(), 'the overdrawn tile is no longer referenced').toBeUndefined();
    s.commit(frame(1), encodeShareMessage(frame(1)));
    expect(s.entryCount()).toBe(1);
    expect(s.byteSize()).toBe(fat(0).byteLength + encodeShareMessage(hd).byteLength);
  });

  it('keeps the last few frames whole for replay (tilesSince), within its cap and the budget, and lets them go', () => {
    const s = new TileStore({ historyFrames: 3 });
    s.setScreen(screen, encodeShareMessage(screen));
    const commit = (seq: number, tiles: Tile[]) => {
      for (const t of tiles) s.putTile(t, encodeShareMessage(t));
      s.commit(frame(seq), encodeShareMessage(frame(seq)));
    };
    const ids = (entries: { bytes: Uint8Array }[] | null) => entries?.map((e) => decodeTile(e.bytes).data[0]) ?? null;
    commit(1, [tile(0, 0, 32, 32, 1), tile(32, 0, 32, 32, 2)]);
    commit(2, [tile(0, 0, 32, 32, 3)]); // overdraws tile 1: only the history holds it now
    commit(3, [tile(0, 0, 64, 32, 4), tile(64, 0, 32, 32, 5)]);
    expect(ids(s.tilesSince(0))).toEqual([1, 2, 3, 4, 5]);
    expect(ids(s.tilesSince(1))).toEqual([3, 4, 5]);
    expect(ids(s.tilesSince(2))).toEqual([4, 5]);
    expect(s.tilesSince(3)).toEqual([]); // nothing missed
    const before = s.byteSize();
    commit(4, [tile(64, 0, 32, 32, 6)]);
    expect(s.tilesSince(0)).toBeNull(); // frame 1 left the history
    expect(ids(s.tilesSince(1))).toEqual([3, 4, 5, 6]);
    // Frame 1's tiles went with it (tile 1 overdrawn, tile 2 by tile 4); tile 3 is still kept for frame 2.
    expect(s.byteSize()).toBe(before - 2 * encodeShareMessage(tile(0, 0, 32, 32, 1)).byteLength + encodeShareMessage(tile(64, 0, 32, 32, 6)).byteLength);
    // A new screen forgets the history.
    s.setScreen(screen, encodeShareMessage(screen));
    commit(5, [tile(0, 0, 32, 32, 7)]);
    expect(ids(s.tilesSince(4))).toEqual([7]); // (a viewer of the old screen is stale: ShareViewer never asks)
    expect(s.tilesSince(3)).toBeNull();

    // Overdrawn tiles beyond the cap (1 MiB here, at least) are not kept: full-screen churn keeps no history.
    const big = new TileStore({ historyFrames: 4, historyPerPixel: 0.5 });
    big.setScreen(hd, encodeShareMessage(hd));
    for (let seq = 1; seq <= 6; seq++) {
      put(big, fat(0, seq));
      big.commit(frame(seq), encodeShareMessage(frame(seq)));
    }
    expect(big.tilesSince(4)).toHaveLength(2); // the current tile and one overdrawn 512 KiB one: two would pass 1 MiB
    expect(big.tilesSince(3)).toBeNull();
    expect(big.heldCost).toBeLessThanOrEqual(big.budget);
  });
});

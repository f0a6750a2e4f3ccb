import { describe, expect, it } from 'vitest';
import { TileDiffer } from './TileDiffer';

const W = 100;
const H = 70;

function frame(fill = 0xff204080): Uint32Array {
  return new Uint32Array(W * H).fill(fill);
}

describe('TileDiffer', () => {
  it('lays a grid over the frame, clipping the right and bottom cells', () => {
    const d = new TileDiffer(32);
    d.reset(W, H);
    expect([d.cols, d.rows, d.cellCount]).toEqual([4, 3, 12]);
    expect(d.rect(0)).toEqual({ index: 0, x: 0, y: 0, w: 32, h: 32 });
    expect(d.rect(3)).toEqual({ index: 3, x: 96, y: 0, w: 4, h: 32 });
    expect(d.rect(11)).toEqual({ index: 11, x: 96, y: 64, w: 4, h: 6 });
  });

  it('reports every cell on the first frame, none when nothing changed, and exactly the touched cells', () => {
    const d = new TileDiffer(32);
    d.reset(W, H);
    const first = d.captureBuffer();
    first.set(frame());
    expect(d.diff(first)).toHaveLength(12);

    const same = d.captureBuffer();
    expect(same).not.toBe(first); // double buffering: the reference is never overwritten by a capture
    same.set(frame());
    expect(d.diff(same)).toEqual([]);

    const next = d.captureBuffer();
    next.set(frame());
    next[40 * W + 50] = 0xff000000; // cell (1, 1) → index 5
    next[69 * W + 99] = 0xffffffff; // bottom-right clipped cell → index 11
    expect(d.diff(next)).toEqual([5, 11]);
    expect(d.reference).toBe(next);
  });

  it('copies a frame that is not its own capture buffer', () => {
    const d = new TileDiffer(32);
    d.reset(W, H);
    d.diff(frame());
    const other = frame();
    other[0] = 1;
    expect(d.diff(other)).toEqual([0]);
    expect(d.reference).not.toBe(other);
    expect(d.reference[0]).toBe(1);
    expect(() => d.diff(new Uint32Array(5))).toThrow(RangeError);
  });

  it('forgets the reference on reset: every cell is new again', () => {
    const d = new TileDiffer(64);
    d.reset(W, H);
    d.diff(frame());
    d.reset(W, H);
    expect(d.diff(frame())).toHaveLength(4);
  });

  it('summarizes a cell: uniform, or how flat (text, UI) or noisy (photo) it is', () => {
    const d = new TileDiffer(32);
    d.reset(W, H);
    const f = frame(0xff112233);
    // Cell 1 (x 32..63, y 0..31): a few dark "glyph" pixels on a flat background.
    for (let y = 4; y < 28; y += 6) for (let x = 36; x < 60; x += 5) f[y * W + x] = 0xff000000;
    // Cell 2 (x 64..95): every pixel different from its neighbour.
    for (let y = 0; y < 32; y++) for (let x = 64; x < 96; x++) f[y * W + x] = 0xff000000 + y * 32 + x;
    d.diff(f);
    expect(d.summarize(0)).toEqual({ uniform: true, first: 0xff112233, flat: 1 });
    const text = d.summarize(1);
    expect(text.uniform).toBe(false);
    expect(text.flat).toBeGreaterThan(0.9);
    expect(d.summarize(2)).toMatchObject({ uniform: false, flat: 0 });
    expect(d.summarize(1, false)).toEqual({ uniform: false, first: 0xff112233, flat: 0 }); // uniformity only
    expect(d.summarize(0, false)).toEqual({ uniform: true, first: 0xff112233, flat: 1 });
    // A cell one pixel wide has no neighbours to compare: it counts as flat.
    const narrow = new TileDiffer(32);
    narrow.reset(33, 1);
    narrow.diff(new Uint32Array([...Array(32).fill(1), 2]));
    expect(narrow.summarize(1)).toEqual({ uniform: true, first: 2, flat: 1 });
  });
});

import { describe, expect, it } from 'vitest';
import { TileHistory } from './TileHistory';

describe('TileHistory', () => {
  it('calls a cell moving only when it changed in the previous processed frame too', () => {
    const h = new TileHistory(300);
    h.reset(4);
    h.nextFrame();
    expect(h.changed(0)).toBe(false); // first change: a one-off (typing, a dialog)
    h.nextFrame();
    expect(h.changed(0)).toBe(true); // again right after: motion
    expect(h.changed(1)).toBe(false);
    h.nextFrame(); // cell 0 still this frame
    h.nextFrame();
    expect(h.changed(0)).toBe(false);
  });

  it('schedules lossless refinement for cells left lossy and still', () => {
    const h = new TileHistory(300);
    h.reset(4);
    expect(h.nextDueAt()).toBeNull();
    h.sent(1, true, 1000);
    h.sent(2, true, 1100);
    h.sent(3, false, 0);
    expect(h.lossyCount).toBe(2);
    expect(h.nextDueAt()).toBe(1300);
    expect(h.due(1299)).toEqual([]);
    expect(h.due(1300)).toEqual([1]);
    expect(h.due(1400)).toEqual([1, 2]);
    expect(h.due(1400, new Set([2]))).toEqual([1]); // changed again right now: not refined
    h.sent(1, false, 0);
    expect(h.lossyCount).toBe(1);
    h.sent(2, true, 2000); // sent lossy again: its clock restarts
    expect(h.nextDueAt()).toBe(2300);
    h.reset(4);
    expect(h.lossyCount).toBe(0);
  });
});

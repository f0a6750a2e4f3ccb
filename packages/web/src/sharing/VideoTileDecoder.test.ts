import { describe, expect, it } from 'vitest';
import { overdrawnVideo } from './VideoTileDecoder';

describe('overdrawnVideo: when a frame may leave its video units undrawn', () => {
  const rect = { x: 320, y: 176, w: 1280, h: 720 };
  it('is true when the next frame begins with a unit over the same or a larger rectangle', () => {
    expect(overdrawnVideo([rect], { ...rect })).toBe(true);
    expect(overdrawnVideo([rect, rect], { x: 304, y: 160, w: 1312, h: 752 })).toBe(true);
  });
  it('is false without such a unit, or when any of its units reaches outside it', () => {
    expect(overdrawnVideo([rect], null)).toBe(false);
    expect(overdrawnVideo([rect], { ...rect, w: 1264 })).toBe(false);
    expect(overdrawnVideo([rect], { ...rect, x: 336 })).toBe(false);
    expect(overdrawnVideo([rect, { x: 0, y: 0, w: 64, h: 64 }], rect)).toBe(false);
  });
});

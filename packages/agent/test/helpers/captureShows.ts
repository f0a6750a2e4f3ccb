/** Test helper: capture until the frame shows a colour at a point (the X server draws asynchronously). */
import { expect } from 'vitest';
import type { ScreenCapture } from '../../src/ScreenCapture.js';
import { px, type Rgb } from './painter.js';

/** Captures until `cap`'s frame has `rgb` at (x, y) in frame coordinates. */
export async function captureShows(cap: ScreenCapture, x: number, y: number, rgb: Rgb): Promise<void> {
  await expect.poll(async () => {
    await cap.capture();
    return px(cap.frame, x, y);
  }, { timeout: 10_000, interval: 50 }).toEqual(rgb);
}

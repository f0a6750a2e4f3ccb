/**
 * The adaptive capture rate (FrameRateGovernor): up to 60 passes a second for a screen repainting at
 * 60 Hz while the passes are cheap and the viewers keep up; back down when the CPU per pass or the ack
 * round trip rises; no faster than the content repaints; a step at a time upwards. Fed figures, no clock.
 */
import { describe, expect, it } from 'vitest';
import { FrameRateGovernor, type PassSample } from '../src/FrameRateGovernor.js';

const at60: PassSample = { cpuMs: 3, paintPeriodMs: 16.7, ackRttMs: 20 };

function feed(g: FrameRateGovernor, s: PassSample, n: number): number {
  let fps = g.fps;
  for (let i = 0; i < n; i++) fps = g.note(s);
  return fps;
}

describe('FrameRateGovernor', () => {
  it('starts at 30 and climbs a step at a time to 60 for 60 Hz content with cheap passes and quick acks', () => {
    const g = new FrameRateGovernor();
    const changes: number[] = [];
    g.on('changed', (fps) => changes.push(fps));
    expect(g.fps).toBe(30);
    expect(g.intervalMs).toBeCloseTo(33.3, 1);
    expect(feed(g, at60, 7)).toBe(30); // not before upAfter passes
    expect(feed(g, at60, 100)).toBe(60);
    expect(changes).toEqual([40, 48, 60]);
    expect(g.intervalMs).toBeCloseTo(16.7, 1);
    expect(g.reason).toBe('content'); // the screen's 59.9 Hz, within 5% of the 60 step
  });

  it('goes no faster than the content repaints (but never below 30 for it)', () => {
    const g = new FrameRateGovernor();
    expect(feed(g, { cpuMs: 2, paintPeriodMs: 25, ackRttMs: 10 }, 100)).toBe(40);
    expect(g.reason).toBe('content');
    const slow = new FrameRateGovernor();
    expect(feed(slow, { cpuMs: 2, paintPeriodMs: 100, ackRttMs: 10 }, 100)).toBe(30);
  });

  it('backs off when a pass costs more CPU, within two passes once the average has moved', () => {
    const g = new FrameRateGovernor();
    feed(g, at60, 100);
    expect(g.fps).toBe(60);
    // 20 ms of CPU a pass at half a core allows 25 passes a second, a step of its own; 21 ms allows 23.8: 24.
    const heavy = { ...at60, cpuMs: 20 };
    const fps = feed(g, heavy, 30);
    expect(fps).toBe(25);
    expect(g.reason).toBe('cpu');
    expect(feed(g, { ...at60, cpuMs: 21.5 }, 30)).toBe(24);
    expect(g.reason).toBe('cpu');
    // Cheap again: back up, step by step.
    expect(feed(g, at60, 200)).toBe(60);
  });

  it('backs off when the viewers acknowledge slowly (two frames in flight per round trip)', () => {
    const g = new FrameRateGovernor();
    feed(g, at60, 100);
    // A 100 ms round trip allows 20 frames a second with two in flight.
    expect(feed(g, { ...at60, ackRttMs: 100 }, 30)).toBe(20);
    expect(g.reason).toBe('viewers');
    // A pass without an ack keeps the last round trip.
    expect(feed(g, { cpuMs: 3, paintPeriodMs: 16.7 }, 30)).toBe(20);
  });

  it('keeps within the cap and the floor, and ignores figures that say nothing', () => {
    const capped = new FrameRateGovernor({ maxFps: 50 });
    expect(feed(capped, at60, 200)).toBe(50);
    const low = new FrameRateGovernor({ maxFps: 20 });
    expect(low.fps).toBe(20);
    expect(feed(low, at60, 50)).toBe(20);
    const g = new FrameRateGovernor();
    expect(feed(g, { cpuMs: 400, paintPeriodMs: 16.7, ackRttMs: 2000 }, 50)).toBe(10);
    // Not repainting steadily (Infinity), a negative or NaN figure: the averages stay as they were.
    const before = g.averages;
    g.note({ cpuMs: Number.NaN, paintPeriodMs: Infinity, ackRttMs: -1 });
    expect(g.averages).toEqual(before);
    expect(() => new FrameRateGovernor({ maxFps: 0 })).toThrow(RangeError);
  });
});

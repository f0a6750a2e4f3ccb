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
    // Passes may start a third sooner than the period: a repaint a little early is not skipped.
    expect(g.intervalMs).toBeCloseTo(18.75, 2);
    // A jittery 60 Hz page measured at 20 ms (the 48 step): within the 60 cap, 16.7 ms.
    const jitter = new FrameRateGovernor();
    expect(feed(jitter, { cpuMs: 2, paintPeriodMs: 20, ackRttMs: 10 }, 100)).toBe(48);
    expect(jitter.intervalMs).toBeCloseTo(16.67, 1);
    // The cpu bound is kept to the letter.
    const cpu = new FrameRateGovernor();
    expect(feed(cpu, { cpuMs: 20, paintPeriodMs: 16.7, ackRttMs: 10 }, 100)).toBe(25);
    expect(cpu.intervalMs).toBe(40);
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

  it('lets small frames reach 60 over a long round trip (the flow window holds more of them)', () => {
    const g = new FrameRateGovernor();
    // 37 ms round trip: two frames in flight allow 54 a second (the ladder's 48)...
    expect(feed(g, { ...at60, ackRttMs: 37 }, 60)).toBe(48);
    expect(g.reason).toBe('viewers');
    // ...five small ones 135: the content's 60 is the bound.
    expect(feed(g, { ...at60, ackRttMs: 37, window: 5 }, 60)).toBe(60);
    // Big frames again: back to two per round trip.
    expect(feed(g, { ...at60, ackRttMs: 37, window: 2 }, 30)).toBe(48);
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

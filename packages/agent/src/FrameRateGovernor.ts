/**
 * The capture rate, adapted to the content, the agent's own cost per frame and the viewers.
 *
 * After each pass the session tells it how often the screen repaints (the content's own rate), what
 * the pass cost in CPU, and how long the viewers took to acknowledge frames. The rate it allows is the
 * lowest of:
 *
 * - the cap (`maxFps`, 60 by default);
 * - the content: a screen that repaints at 60 Hz may go at 60, one that repaints at 20 Hz needs no more
 *   than 20 passes (a pass between two repaints sends nothing new);
 * - the agent's CPU: a pass of C ms of CPU allows 1000 / (C / `cpuShare`) passes a second, so the
 *   agent takes at most that share of a core on a busy host (0.5: the duty cycle the session keeps);
 * - the viewers: with W frames unacknowledged at most, an acknowledgement round trip of R ms allows
 *   W * 1000 / R frames a second; capturing faster only makes frames wait. W is the flow window for
 *   frames of the size being sent (PassSample.window: more small frames than big ones), else `maxInFlight`.
 *
 * The rate moves on a ladder of steps (10 … 60), up only after `upAfter` passes in a row allow the
 * next step, down as soon as `downAfter` passes ask for less: quick to back off when the machine or a
 * viewer falls behind, slow to climb, so it does not flap. Each input is smoothed (exponential average),
 * so one slow pass does not halve the rate. It is a pure function of what it is told: no clock.
 */
import { TypedEmitter } from './TypedEmitter.js';

export type FrameRateGovernorOptions = {
  /** Highest rate (passes a second). Default 60. */
  maxFps?: number;
  /** Rate before anything is known, and the floor when content repaints slowly. Default 30 (or maxFps if lower). */
  startFps?: number;
  /** Lowest rate it goes down to for the CPU or the viewers. Default 10 (or maxFps if lower). */
  minFps?: number;
  /** Share of one core the passes may take. Default 0.5. */
  cpuShare?: number;
  /** Frames that may be unacknowledged at once (FlowControl's window). Default 2. */
  maxInFlight?: number;
  /** Passes in a row that must allow a higher step before going up. Default 8. */
  upAfter?: number;
  /** Passes in a row that ask for a lower step before going down. Default 2. */
  downAfter?: number;
};

/** What one pass tells the governor. */
export type PassSample = {
  /** CPU time the pass took (ms: user + system of the process, encoder threads included). */
  cpuMs: number;
  /** The screen's repaint period as the capture sees it (ms; Infinity when not repainting steadily). */
  paintPeriodMs: number;
  /** The latest acknowledgement round trip (frame sent → ack, ms), if one came since the last sample. */
  ackRttMs?: number;
  /** Frames the flow window lets be in flight for frames like this pass's (FlowControl.windowFor). */
  window?: number;
};

export type FrameRateGovernorEvents = {
  /** The rate changed (passes a second), and which bound set it. */
  changed: [fps: number, reason: FrameRateReason];
};

export type FrameRateReason = 'cap' | 'content' | 'cpu' | 'viewers';

// 25 beside 24: a frame of 17.5-20 ms of CPU allows 25-28 passes a second at half a core, which
// without it the ladder rounded down to 24 (the video workload's target is 25).
const STEPS = [10, 15, 20, 24, 25, 30, 40, 48, 60, 75, 90, 120];
/** How much faster than the content's measured rate passes may start (see intervalMs). */
const CONTENT_SLACK = 4 / 3;
/** Weight of the newest sample in the averages. */
const ALPHA = 0.25;

export class FrameRateGovernor extends TypedEmitter<FrameRateGovernorEvents> {
  readonly maxFps: number;
  readonly minFps: number;
  readonly cpuShare: number;
  readonly maxInFlight: number;
  readonly upAfter: number;
  readonly downAfter: number;
  #fps: number;
  #reason: FrameRateReason = 'cap';
  #cpuMs: number | null = null;
  #paintMs: number | null = null;
  #rttMs: number | null = null;
  #window: number;
  #upVotes = 0;
  #downVotes = 0;

  constructor(options: FrameRateGovernorOptions = {}) {
    super();
    this.maxFps = options.maxFps ?? 60;
    if (!(this.maxFps > 0)) throw new RangeError(`maxFps must be positive, not ${this.maxFps}`);
    this.minFps = Math.min(options.minFps ?? 10, this.maxFps);
    this.cpuShare = options.cpuShare ?? 0.5;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.upAfter = options.upAfter ?? 8;
    this.downAfter = options.downAfter ?? 2;
    this.#fps = Math.min(options.startFps ?? 30, this.maxFps);
    this.#window = this.maxInFlight;
  }

  /** Passes a second allowed now. */
  get fps(): number {
    return this.#fps;
  }

  /**
   * Shortest time from one pass's start to the next one's (ms). Bound by the content, a third shorter
   * (within the cap): repaints come with jitter (a late or a missed one make the average period longer
   * than most are), and passes held to exactly that period missed every repaint that came a little
   * early (the next pass then waited for the one after: 34 passes a second for a page painting at 58 Hz,
   * the rate at 48). The repaints pace the passes themselves (a pass runs on damage, aligned to them);
   * here the rate only keeps one repaint from taking several passes.
   */
  get intervalMs(): number {
    return 1000 / (this.#reason === 'content' ? Math.min(this.maxFps, this.#fps * CONTENT_SLACK) : this.#fps);
  }

  /** Which bound set the rate last. */
  get reason(): FrameRateReason {
    return this.#reason;
  }

  /** The smoothed inputs (for stats and tests). */
  get averages(): { cpuMs: number | null; paintPeriodMs: number | null; ackRttMs: number | null } {
    return { cpuMs: this.#cpuMs, paintPeriodMs: this.#paintMs, ackRttMs: this.#rttMs };
  }

  /** One pass's figures; returns the rate allowed from now on. */
  note(s: PassSample): number {
    if (Number.isFinite(s.cpuMs) && s.cpuMs >= 0) this.#cpuMs = avg(this.#cpuMs, s.cpuMs);
    // A screen that stopped repainting steadily says nothing about its rate: the last one stays.
    if (Number.isFinite(s.paintPeriodMs) && s.paintPeriodMs > 0) this.#paintMs = avg(this.#paintMs, s.paintPeriodMs);
    if (s.ackRttMs !== undefined && Number.isFinite(s.ackRttMs) && s.ackRttMs >= 0) this.#rttMs = avg(this.#rttMs, s.ackRttMs);
    if (s.window !== undefined && s.window >= 1) this.#window = s.window;
    const [want, reason] = this.#wanted();
    const target = stepAtMost(Math.max(this.minFps, Math.min(this.maxFps, want)), this.maxFps);
    if (target > this.#fps) {
      this.#downVotes = 0;
      // One step at a time, each after upAfter passes that allowed it.
      if (++this.#upVotes >= this.upAfter) {
        this.#upVotes = 0;
        this.#set(Math.min(target, stepAbove(this.#fps, this.maxFps)), reason);
      }
    } else if (target < this.#fps) {
      this.#upVotes = 0;
      if (++this.#downVotes >= this.downAfter) {
        this.#downVotes = 0;
        this.#set(target, reason);
      }
    } else {
      this.#upVotes = this.#downVotes = 0;
      this.#reason = reason;
    }
    return this.#fps;
  }

  /** The rate each bound allows, and the lowest with its name. */
  #wanted(): [number, FrameRateReason] {
    let fps = this.maxFps;
    let reason: FrameRateReason = 'cap';
    // The content: no faster than it repaints, but never below the start rate for it (a screen that
    // repaints at 5 Hz still gets its changes within a 30 fps pass period).
    if (this.#paintMs !== null) {
      const content = Math.max(Math.min(30, this.maxFps), 1000 / this.#paintMs);
      if (content < fps) (fps = content), (reason = 'content');
    }
    if (this.#cpuMs !== null && this.#cpuMs > 0) {
      const cpu = (1000 * this.cpuShare) / this.#cpuMs;
      if (cpu < fps) (fps = cpu), (reason = 'cpu');
    }
    if (this.#rttMs !== null && this.#rttMs > 0) {
      const viewers = (1000 * this.#window) / this.#rttMs;
      if (viewers < fps) (fps = viewers), (reason = 'viewers');
    }
    return [fps, reason];
  }

  #set(fps: number, reason: FrameRateReason): void {
    this.#reason = reason;
    if (fps === this.#fps) return;
    this.#fps = fps;
    this.emit('changed', fps, reason);
  }
}

function avg(prev: number | null, x: number): number {
  return prev === null ? x : prev + ALPHA * (x - prev);
}

/**
 * The highest step at or below fps, with 5% to spare (a 60 Hz repaint is measured at 16.7-17.5 ms), at
 * least the lowest step and never above the cap.
 */
function stepAtMost(fps: number, cap: number): number {
  let out = Math.min(STEPS[0]!, cap);
  for (const s of STEPS) if (s <= fps * 1.05 && s <= cap) out = s;
  // A cap between steps (--max-fps 50) is a step of its own.
  if (fps >= cap) out = cap;
  return out;
}

/** The next step above fps, within the cap. */
function stepAbove(fps: number, cap: number): number {
  for (const s of STEPS) if (s > fps) return Math.min(s, cap);
  return cap;
}

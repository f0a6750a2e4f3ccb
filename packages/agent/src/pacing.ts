/**
 * The capture loop's pacing decisions, as pure functions of what the session knows (tested without clocks).
 */

/**
 * While something repaints at a steady pace (`periodMs` < 40), start the pass now or just after the next
 * repaint? Now, if the last repaint is less than half a period old: its picture is fresh, and waiting
 * for the next one would skip it (at 60 Hz a timer firing 3 ms late used to make every other repaint
 * wait for the one after, halving the rate). After the next repaint, if that is at most half a period
 * away: the picture read then is up to a period newer for the cost of that wait.
 */
export function alignToPaint(sinceMs: number, periodMs: number): 'now' | 'next-paint' {
  if (!(periodMs < 40) || sinceMs < 0 || sinceMs >= periodMs + 2) return 'now';
  return sinceMs < periodMs / 2 ? 'now' : 'next-paint';
}

/**
 * How long after a pass the next may start, for the duty cycle (at most `share` of a core): the pass's
 * CPU time scaled, not its wall time. On a loaded machine a pass's wall time is mostly waiting for a
 * core; resting that long again only lowered the frame rate without saving any CPU.
 */
export function restAfterPass(cpuMs: number, share = 0.5): number {
  if (!(cpuMs > 0) || !(share > 0) || share >= 1) return 0;
  return (cpuMs * (1 - share)) / share;
}

/**
 * A video unit encoded beside the passes: out at once as a frame of its own, or into the next pass's
 * batch (a pass is under way and will send its own frame, units are already waiting and must keep their
 * order, or the flow window is full).
 */
export function routeVideoUnit(s: { passRunning: boolean; queued: number; canSend: boolean }): 'send' | 'queue' {
  return s.passRunning || s.queued > 0 || !s.canSend ? 'queue' : 'send';
}

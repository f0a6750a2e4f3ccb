// Baton with the video layer off (`--no-video`): every moving region goes as JPEG tiles, as before the
// layer. It runs beside `baton` (video layer on) on the video workload by default, so one bench run
// shows both paths on the same machine at the same time.
import * as baton from './baton.mjs';

export const name = 'baton-tiles';
export const availability = baton.availability;
/** Only where the two paths differ: the other workloads have no region moving at video rates. */
export const workloads = ['video'];

export async function start(args) {
  // The label names the agent's arguments, --no-video among them.
  return baton.start({ ...args, agentArgs: [...(args.agentArgs ?? []), '--no-video'] });
}

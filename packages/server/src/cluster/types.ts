/** What the cluster's parts say to each other (NATS KV values and subjects), each checked with zod when read. */
import { z } from 'zod';

/** A node's lease value: who it is, where the others reach it, and its load. */
export const NodeInfo = z.object({
  id: z.string(),
  /** Base URL for node-to-node sockets (http://host:port). */
  url: z.string(),
  /** Seats in the conferences this node is home of (the placement's measure). */
  load: z.number().int().nonnegative(),
  conferences: z.number().int().nonnegative(),
  /** Takes no new conferences (baton-admin node drain). */
  draining: z.boolean(),
  startedAt: z.string(),
});
export type NodeInfo = z.infer<typeof NodeInfo>;

/** A conference's home entry: the node that runs its Focus. The entry's KV revision is the fencing epoch. */
export const HomeEntry = z.object({ node: z.string(), claimedAt: z.string() });
export type HomeEntry = z.infer<typeof HomeEntry>;

/** A change made over REST that the conference's live Focus must hear, wherever it runs. */
export const ConferenceChange = z.object({ id: z.string(), kind: z.enum(['updated', 'deleted']) });
export type ConferenceChange = z.infer<typeof ConferenceChange>;

/** Headers a relaying node adds to its socket to the home node. */
export const RELAY_HEADER = 'x-baton-relay';
export const RELAY_ADDRESS_HEADER = 'x-baton-client-address';

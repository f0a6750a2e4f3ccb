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
/** The relaying node's id on a share cascade's channel to the home (trusted with RELAY_HEADER only). */
export const NODE_HEADER = 'x-baton-node';

/** Another node asks the home (NATS request) to redeem a share ticket it issued. */
export const ShareAdmitRequest = z.object({ ticket: z.string().max(200), node: z.string().max(64) });
export type ShareAdmitRequest = z.infer<typeof ShareAdmitRequest>;

/** The home's answer: a viewer admitted to this share, a host's ticket (relay the socket as it is), or refused. */
export const ShareAdmission = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('viewer'), conferenceId: z.string(), participantId: z.string(), shareId: z.string() }),
  z.object({ kind: z.literal('host') }),
  z.object({ kind: z.literal('refused'), code: z.number().int(), reason: z.string() }),
]);
export type ShareAdmission = z.infer<typeof ShareAdmission>;

/** Home to node on a cascade's channel (text frames, in order with the stream). */
export const CascadeDown = z.discriminatedUnion('type', [
  z.object({ type: z.literal('controller'), participantId: z.string().nullable() }),
  z.object({ type: z.literal('detach'), participantId: z.string() }),
]);

/** Every error the server reports, on the WebSocket (`error` message) and in REST bodies. */
export const ERROR_CODES = [
  'bad_request', // malformed or invalid input
  'unauthenticated', // needs a signed-in user
  'forbidden', // the sender's role or the policy does not allow it
  'not_found', // unknown conference, participant, user or group
  'conflict', // e.g. username taken, someone else already shares
  'rate_limited',
  'policy', // the meeting policy forbids it
  'unsupported_version',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** WebSocket close codes the server uses (4000-4999 are application-defined). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  PolicyViolation: 1008,
  TooBig: 1009,
  InternalError: 1011,
  /** Cluster: this node stopped serving the conference (it moved, or the node lost its lease); reconnect. */
  ServiceRestart: 1012,
  /** Removed from the conference by the organizer. */
  Removed: 4001,
  /** Refused entry: the lobby denied it or guests are not allowed. */
  Denied: 4003,
  /** The conference was deleted or ended. */
  ConferenceEnded: 4004,
  /** The same seat was taken over by a newer connection (e.g. a second tab resumed it). */
  Replaced: 4005,
  /** The client spoke a protocol version the server does not. */
  UnsupportedVersion: 4006,
  /** The first message was not a valid hello within the time limit. */
  HandshakeFailed: 4007,
  /** The client did not read what the server sent: too much waited to be written to it. */
  TooSlow: 4008,
  /** The client went on sending commands over the rate limit after `rate_limited` errors. */
  RateLimited: 4009,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

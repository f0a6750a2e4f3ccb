/**
 * The transport under the application sharing relay: one binary message per frame, ordered.
 * A WebSocket (WsShareChannel) is one implementation; a WebRTC DataChannel can be another, so the
 * relay never touches a socket API directly.
 */
export type ShareChannelEvents = {
  /** One whole binary frame from the peer. */
  message: [bytes: Uint8Array];
  /** The send buffer fell back under the channel's low-water mark after having been above it. */
  drain: [];
  /** The channel is gone (either side closed it); emitted once. */
  close: [code: number, reason: string];
  /** A text frame: only on a channel between two nodes of a cluster (the cascade's control), never from a client. */
  text: [text: string];
};

export interface ShareChannel {
  /** Queue one binary frame. Silently ignored once the channel is closing or closed. */
  send(bytes: Uint8Array): void;
  /** The sharing protocol version the peer said in its auth (absent: not known, take it as the oldest). */
  readonly peerVersion?: number;
  /** Bytes queued locally and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Queue one text frame (cascade control between nodes); absent on channels that carry none. */
  sendText?(text: string): void;
  /** Close with a code (1000 normal, 1008 policy violation…) and a human-readable reason. Safe to call twice. */
  close(code?: number, reason?: string): void;
  on<K extends keyof ShareChannelEvents & string>(event: K, listener: (...args: ShareChannelEvents[K]) => void): this;
  off<K extends keyof ShareChannelEvents & string>(event: K, listener: (...args: ShareChannelEvents[K]) => void): this;
}

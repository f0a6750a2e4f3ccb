/**
 * What the sharing logic needs from a channel: ordered, message-framed, binary. A WebSocket to the
 * application sharing server today; a WebRTC DataChannel to a peer can implement the same.
 */
export interface ShareTransport {
  send(bytes: Uint8Array): void;
  /** Bytes queued and not yet handed to the network: back-pressure for the capture loop. */
  readonly bufferedAmount: number;
  /** Set by the session: called with each binary message received. */
  onMessage: ((bytes: Uint8Array) => void) | null;
  /** Set by the session: called once when the channel is gone. */
  onClose: ((code: number, reason: string) => void) | null;
  close(code?: number, reason?: string): void;
}

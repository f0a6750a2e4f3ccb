/**
 * The binary sharing socket's handshake: the first frame must be `auth` with a ticket that the
 * conference socket issued. Then the socket becomes a ShareChannel owned by the sharing server.
 */
import type { WebSocket, RawData } from 'ws';
import { CloseCode, SHARE_MIN_PROTOCOL_VERSION, SHARE_PROTOCOL_VERSION, ShareDecodeError, decodeShareMessage } from '@baton/protocol';
import type { FocusRegistry } from '../focus/FocusRegistry.js';
import { WsShareChannel } from '../sharing/WsShareChannel.js';
import { BatonError } from '../errors.js';

export function acceptShareSocket(socket: WebSocket, registry: FocusRegistry, log?: { warn(o: unknown, m?: string): void }): void {
  const close = (code: number, reason: string) => socket.close(code, reason.slice(0, 123));
  const timer = setTimeout(() => close(CloseCode.HandshakeFailed, 'no auth frame within the time limit'), 10_000);
  const onMessage = async (data: RawData, isBinary: boolean) => {
    socket.off('message', onMessage);
    clearTimeout(timer);
    if (!isBinary) return close(CloseCode.UnsupportedData, 'the sharing socket takes binary frames only');
    const bytes = toBytes(data);
    try {
      const msg = decodeShareMessage(bytes);
      if (msg.type !== 'auth') return close(CloseCode.HandshakeFailed, 'the first frame must be auth');
      if (msg.version < SHARE_MIN_PROTOCOL_VERSION || msg.version > SHARE_PROTOCOL_VERSION) {
        return close(CloseCode.UnsupportedVersion, `sharing protocol ${msg.version} is not supported; this server speaks ${SHARE_MIN_PROTOCOL_VERSION} to ${SHARE_PROTOCOL_VERSION}`);
      }
      const ticket = registry.tickets.redeem(msg.ticket);
      if (!ticket) return close(CloseCode.Denied, 'the ticket is unknown, used or expired');
      // Take the socket over before any await: a host's first frames may arrive in the same read as
      // auth, and the channel holds them until the relay listens.
      const channel = new WsShareChannel(socket, { peerVersion: msg.version });
      const focus = await registry.get(ticket.conferenceId);
      if (!focus) return close(CloseCode.ConferenceEnded, 'the conference has ended');
      focus.attachShareChannel(ticket.participantId, ticket.role, channel);
    } catch (err) {
      if (err instanceof ShareDecodeError) return close(CloseCode.PolicyViolation, err.message);
      if (err instanceof BatonError) return close(CloseCode.Denied, err.message);
      log?.warn({ err }, 'sharing handshake failed');
      close(CloseCode.InternalError, 'internal error');
    }
  };
  socket.on('message', onMessage);
  socket.on('error', (err) => log?.warn({ err: err.message }, 'sharing socket error'));
}

/**
 * Cluster mode: another node's channel for a share homed here (its headers carried the cluster
 * secret). It watches as one viewer for the participants this node admitted to watch there.
 */
export function acceptShareCascade(socket: WebSocket, registry: FocusRegistry, to: { conferenceId: string; shareId: string; node: string }, log?: { warn(o: unknown, m?: string): void }): void {
  // Before any await, like a viewer's socket: its caps may follow at once.
  const channel = new WsShareChannel(socket, { allowText: true });
  registry.get(to.conferenceId).then(
    (focus) => {
      if (!focus) return channel.close(CloseCode.ConferenceEnded, 'the conference has ended');
      try {
        focus.attachShareCascade(to.node, to.shareId, channel);
      } catch (err) {
        if (!(err instanceof BatonError)) throw err;
        channel.close(1000, err.message);
      }
    },
  ).catch((err: unknown) => {
    log?.warn({ err }, 'share cascade channel failed');
    channel.close(CloseCode.InternalError, 'internal error');
  });
}

export function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

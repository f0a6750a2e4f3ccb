/**
 * What the Focus needs from the conferencing servers it is allocated. The application sharing
 * server (sharing/AppShareServer) implements AppShareServerLike; the factory decides where it runs.
 */
import type { ShareChannel } from '../sharing/ShareChannel.js';
import type { AppShareStats } from '../sharing/AppShareServer.js';

export type MediaType = 'appshare';

export interface AppShareServerLike {
  attachHost(channel: ShareChannel): void;
  attachViewer(participantId: string, channel: ShareChannel): void;
  detachViewer(participantId: string): void;
  setController(participantId: string | null): void;
  stats(): AppShareStats;
  close(): void;
}

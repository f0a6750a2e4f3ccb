/**
 * What the Focus needs from the conferencing servers it is allocated. The application sharing
 * server (sharing/AppShareServer) implements AppShareServerLike; the factory decides where it runs.
 */
import type { ShareChannel } from '../sharing/ShareChannel.js';
import type { AppShareStats, ShareTap } from '../sharing/AppShareServer.js';

export type MediaType = 'appshare' | 'audio' | 'data';

/** The audio mixer behind the factory: none on this server, restarting, or ready. */
export type AudioServiceStatus = 'unconfigured' | 'down' | 'ready';

/** What the Focus needs from a conference's audio conferencing server (audio/AudioBridgeServer). */
/**
 * Where a recording wants the audio mix (Recorder.mixSink): Janus writes it as WAV segments into
 * `dir`, one per stretch of time with someone in the audio room, each placed on the recording's
 * timeline by the moment it started.
 */
export interface MixSink {
  /** The recording's directory, as Janus must see it (so Janus must share this machine's disk). */
  readonly dir: string;
  /** A fresh file name for the next segment. */
  nextFile(): string;
  /**
   * Janus was told to write `file` from now on. It began on its next mixer tick after the request,
   * `leadMs` before this call (the answer's way back, which a busy event loop stretches), so the
   * segment starts that much earlier on the timeline.
   */
  started(file: string, leadMs?: number): void;
  /** Janus stopped writing `file` (the room emptied, Janus died, the recording stopped). */
  ended(file: string): void;
  /** The mix cannot be recorded here; `reason` is for people. No further segments are started. */
  unavailable(reason: string): void;
}

export interface AudioServerLike {
  /** Record the room's mix into `sink` from now on (null: stop); resolves once Janus was told. */
  recordMix(sink: MixSink | null): Promise<void>;
  readonly ready: boolean;
  participants(): import('@baton/protocol').AudioParticipant[];
  has(participantId: string): boolean;
  handleJoin(participantId: string, display: string, offerSdp: string, listenOnly: boolean): Promise<string>;
  handleJoinPhone(participantId: string, display: string, codec: 'pcmu' | 'pcma', payloadType: number, relay: { address: string; port: number }): Promise<{ address: string; port: number }>;
  handleLeave(participantId: string): Promise<void>;
  handleMute(participantId: string, muted: boolean): Promise<void>;
  on(event: 'changed', listener: () => void): unknown;
  on(event: 'dropped', listener: (participantId: string, reason: string) => void): unknown;
  close(): void;
}

export interface AppShareServerLike {
  attachHost(channel: ShareChannel): void;
  attachViewer(participantId: string, channel: ShareChannel): void;
  detachViewer(participantId: string): void;
  /** Cluster: the home admitted a participant to watch through another node, which relays the share over one channel. */
  readonly shareId: string;
  admitRemote(participantId: string, node: string): void;
  attachCascade(node: string, channel: ShareChannel): void;
  setController(participantId: string | null): void;
  stats(): AppShareStats;
  /** The recorder's view of the host stream, and the current picture for its keyframes. */
  tap(tap: ShareTap): () => void;
  snapshot(): Uint8Array[] | null;
  close(): void;
}

/** The small part of janode (Meetecho's Janus client, plain JavaScript) that Baton uses. */
declare module 'janode' {
  import type { EventEmitter } from 'node:events';
  export interface JanodeHandle extends EventEmitter {
    id: number;
    detach(): Promise<void>;
  }
  export interface JanodeSession extends EventEmitter {
    id: number;
    attach<H>(plugin: { id: string; Handle: new (...args: never[]) => H }): Promise<H>;
    destroy(): Promise<void>;
  }
  export interface JanodeConnection extends EventEmitter {
    create(kaIntervalSecs?: number): Promise<JanodeSession>;
    close(): Promise<void>;
  }
  const Janode: {
    connect(config: { address: { url: string; apisecret?: string }; retry_time_secs?: number; max_retries?: number }): Promise<JanodeConnection>;
    Logger: { setLevel(level: 'debug' | 'verb' | 'info' | 'warn' | 'error' | 'none'): string };
    EVENT: Record<'CONNECTION_CLOSED' | 'CONNECTION_ERROR' | 'SESSION_DESTROYED' | 'HANDLE_DETACHED' | 'HANDLE_ICE_FAILED' | 'HANDLE_HANGUP' | 'HANDLE_MEDIA' | 'HANDLE_WEBRTCUP', string>;
  };
  export default Janode;
}

declare module 'janode/plugins/audiobridge' {
  import type { JanodeHandle } from 'janode';
  export interface Jsep { type: 'offer' | 'answer'; sdp: string }
  export interface AudioBridgeHandle extends JanodeHandle {
    feed: number | string | null;
    room: number | string | null;
    join(p: { room: number; display?: string; muted?: boolean; codec?: string; rtp_participant?: { ip: string; port: number; payload_type?: number } }): Promise<{ feed: number; room: number; rtp?: { ip: string; port: number; payload_type?: number } }>;
    configure(p: { muted?: boolean; display?: string; jsep?: Jsep | null }): Promise<{ jsep?: Jsep }>;
    leave(): Promise<unknown>;
    create(p: { room: number; description?: string; sampling_rate?: number; is_private?: boolean; talking_events?: boolean; talking_level_threshold?: number; talking_packets_threshold?: number; allow_rtp?: boolean }): Promise<unknown>;
    destroy(p: { room: number }): Promise<unknown>;
    exists(p: { room: number }): Promise<{ exists: boolean }>;
    /** Janus ≥ 1.0: start or stop writing the room's mix to a WAV file (record_file in record_dir, on Janus's machine). */
    enableRecording(p: { room: number; record: boolean; filename?: string; rec_dir?: string }): Promise<unknown>;
  }
  const AudioBridgePlugin: {
    id: string;
    Handle: new (...args: never[]) => AudioBridgeHandle;
    EVENT: Record<'AUDIOBRIDGE_TALKING' | 'AUDIOBRIDGE_PEER_TALKING' | 'AUDIOBRIDGE_KICKED' | 'AUDIOBRIDGE_DESTROYED', string>;
  };
  export default AudioBridgePlugin;
}

/** Messages between BrowserSharer (page) and the share worker that captures, encodes and streams. */
import type { FramePumpOptions, HostStats } from './FramePump';

export type ToWorker =
  | {
      type: 'start';
      /** VideoFrames of the captured track (a MediaStreamTrackProcessor's readable, transferred). */
      frames: ReadableStream<VideoFrame>;
      /** ws(s) URL of the binary sharing socket. */
      url: string;
      ticket: string;
      options: FramePumpOptions;
    }
  | { type: 'stop' }
  /** Ask for a copy of the pixels the viewers are being sent (tests and diagnostics). */
  | { type: 'snapshot'; id: number };

export type FromWorker =
  /** The socket is open and authenticated frames are flowing. */
  | { type: 'open' }
  | { type: 'stats'; stats: HostStats }
  /** The capture stream ended by itself (the track stopped). */
  | { type: 'ended' }
  /** The socket closed (the worker is done). `local`: the page asked for it. */
  | { type: 'closed'; code: number; reason: string; local: boolean }
  | { type: 'error'; message: string }
  | { type: 'snapshot'; id: number; width: number; height: number; pixels: ArrayBuffer };

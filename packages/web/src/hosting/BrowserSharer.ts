/**
 * Shares a screen, a window or a tab from the browser, with nothing installed: getDisplayMedia for the
 * pixels, a worker (shareWorker → FramePump) for diffing, encoding and the binary sharing socket.
 * View-only: a page cannot inject input into the captured surface.
 *
 * States: idle → capturing (the browser's picker is open) → streaming (authenticated, frames flowing)
 * → stopped. A sharer is used once; share again with a new one. Whatever ends it — stop(), the user
 * pressing the browser's own "Stop sharing" (the track ends), the server closing the socket, an error —
 * it lands in `stopped` exactly once, and, unless the server ended it, calls `onShareStop` so the page
 * can send `share.stop` on the conference socket.
 */
import { Emitter } from '../conference/Emitter';
import { resolveShareUrl } from '../sharing/ShareConnection';
import type { FramePumpOptions, HostStats } from './FramePump';
import type { FromWorker, ToWorker } from './workerMessages';

export type SharerState = 'idle' | 'capturing' | 'streaming' | 'stopped';

/**
 * Why it stopped: `user` (stop() was called), `ended` (the browser's own UI or the surface closed),
 * `cancelled` (the picker was dismissed; nothing was shared), `server` (the relay closed the socket),
 * `error`.
 */
export type StopReason = 'user' | 'ended' | 'cancelled' | 'server' | 'error';

export interface SharerStopInfo {
  reason: StopReason;
  message: string;
}

export type BrowserSharerEvents = {
  state: SharerState;
  /** Host-side counters, a few times a second while streaming. */
  stats: HostStats;
  stopped: SharerStopInfo;
};

export interface BrowserSharerOptions {
  /** The binary sharing socket: `ws(s)://host/ws/share`, or a path resolved against the page. */
  wsUrl: string;
  /** Called once when the share ends for any reason but the server's: send `share.stop` on the conference socket. */
  onShareStop?: () => void;
  /** Encoder settings (tile size, JPEG quality, lossless codec, refinement delay, flow-control window). */
  pump?: FramePumpOptions;
  /** Capture frame rate asked of the browser. */
  frameRate?: number;
  /** Publish stats as `window.__batonSharer` (tests and the benchmark read it). Default true. */
  publishStats?: boolean;
  /** Overrides, for embedding: where getDisplayMedia comes from, how the worker is made. */
  mediaDevices?: Pick<MediaDevices, 'getDisplayMedia'>;
  createWorker?: () => Worker;
}

declare global {
  interface Window {
    __batonSharer?: HostStats & { state: SharerState };
  }
  // Chromium's MediaStreamTrackProcessor (breakout box); not in TypeScript's DOM library yet.
  // eslint-disable-next-line no-var
  var MediaStreamTrackProcessor: { new (init: { track: MediaStreamTrack; maxBufferSize?: number }): { readable: ReadableStream<VideoFrame> } } | undefined;
}

export class SharerError extends Error {
  override name = 'SharerError';
}

export function defaultShareWorker(): Worker {
  return new Worker(new URL('./shareWorker.ts', import.meta.url), { type: 'module', name: 'baton-share' });
}

export class BrowserSharer extends Emitter<BrowserSharerEvents> {
  #state: SharerState = 'idle';
  #stats: HostStats | null = null;
  #stream: MediaStream | null = null;
  #worker: Worker | null = null;
  #stopInfo: SharerStopInfo | null = null;
  /** getTicket was called: the conference may consider us sharing, so it must hear share.stop. */
  #announced = false;
  #snapshotId = 0;
  readonly #options: BrowserSharerOptions;

  constructor(options: BrowserSharerOptions) {
    super();
    this.#options = options;
  }

  get state(): SharerState {
    return this.#state;
  }
  get stats(): HostStats | null {
    return this.#stats;
  }
  get stopInfo(): SharerStopInfo | null {
    return this.#stopInfo;
  }
  /** What is being shared: 'monitor', 'window' or 'browser' (a tab), once capturing. */
  get surface(): string | null {
    return (this.#stream?.getVideoTracks()[0]?.getSettings().displaySurface as string | undefined) ?? null;
  }

  /**
   * Ask the user what to share, then get a ticket (`getTicket` should send `share.start` with kind
   * 'browser' and `share.ticket` on the conference socket) and stream. Resolves once streaming, or once
   * stopped if it never got there (see `stopInfo`). The picker comes first so a user who cancels it
   * never appears to share, and so it still runs inside the click's user activation.
   */
  async start(getTicket: () => Promise<string>): Promise<void> {
    if (this.#state !== 'idle') throw new SharerError(`start() on a sharer that is ${this.#state}`);
    if (typeof MediaStreamTrackProcessor === 'undefined') {
      this.#finish('error', 'this browser cannot share from the page (no MediaStreamTrackProcessor); use Chromium, Chrome or Edge, or the Baton agent');
      return;
    }
    this.#setState('capturing');
    const devices = this.#options.mediaDevices ?? navigator.mediaDevices;
    let stream: MediaStream;
    try {
      stream = await devices.getDisplayMedia({
        // Without a size Chromium captures at the page's screen size, which may be emulated or scaled;
        // a maximum asks for native pixels (no upscaling), bounded so a huge screen stays affordable.
        video: { frameRate: { ideal: this.#options.frameRate ?? 30 }, width: { max: 3840 }, height: { max: 2160 }, cursor: 'always' } as MediaTrackConstraints,
        audio: false,
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'NotAllowedError' || name === 'AbortError') this.#finish('cancelled', 'nothing was shared');
      else this.#finish('error', `cannot capture the screen: ${(err as Error).message}`);
      return;
    }
    if (this.#stopped()) {
      // stop() was called while the picker was open.
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.#stream = stream;
    const track = stream.getVideoTracks()[0];
    if (!track) {
      this.#finish('error', 'the capture has no video');
      return;
    }
    track.addEventListener('ended', () => this.#finish('ended', 'sharing was stopped from the browser'));

    let ticket: string;
    this.#announced = true;
    try {
      ticket = await getTicket();
    } catch (err) {
      this.#finish('error', `cannot start sharing: ${(err as Error).message}`);
      return;
    }
    if (this.#stopped()) return;

    const worker = (this.#options.createWorker ?? defaultShareWorker)();
    this.#worker = worker;
    worker.onmessage = (ev: MessageEvent<FromWorker>) => this.#onWorker(ev.data);
    worker.onerror = (ev) => this.#finish('error', `the share worker failed: ${ev.message}`);
    const processor = new MediaStreamTrackProcessor({ track, maxBufferSize: 1 });
    const msg: ToWorker = {
      type: 'start',
      frames: processor.readable,
      url: resolveShareUrl(this.#options.wsUrl),
      ticket,
      options: this.#options.pump ?? {},
    };
    worker.postMessage(msg, [processor.readable as unknown as Transferable]);
    await new Promise<void>((resolve) => {
      const off = this.on('state', (s) => {
        if (s === 'streaming' || s === 'stopped') {
          off();
          resolve();
        }
      });
    });
  }

  /** A copy of the captured pixels the viewers are being sent (RGBA rows), for tests and diagnostics. */
  snapshot(): Promise<{ width: number; height: number; pixels: Uint8Array }> {
    const worker = this.#worker;
    if (!worker) return Promise.reject(new SharerError('not streaming'));
    const id = ++this.#snapshotId;
    return new Promise((resolve) => {
      const onMessage = (ev: MessageEvent<FromWorker>) => {
        const m = ev.data;
        if (m.type !== 'snapshot' || m.id !== id) return;
        worker.removeEventListener('message', onMessage);
        resolve({ width: m.width, height: m.height, pixels: new Uint8Array(m.pixels) });
      };
      worker.addEventListener('message', onMessage);
      worker.postMessage({ type: 'snapshot', id } satisfies ToWorker);
    });
  }

  /**
   * Stop sharing. Safe to call in any state, and twice. Pass `conferenceEnded` when the conference
   * already ended the share (an organizer stopped it): then no `share.stop` is asked for.
   */
  stop(conferenceEnded = false): void {
    if (conferenceEnded) this.#finish('server', 'the share was ended in the conference');
    else this.#finish('user', 'sharing stopped');
  }

  #onWorker(msg: FromWorker): void {
    switch (msg.type) {
      case 'open':
        if (this.#state === 'capturing') this.#setState('streaming');
        return;
      case 'stats':
        this.#stats = msg.stats;
        this.#publish();
        this.emit('stats', msg.stats);
        return;
      case 'ended':
        this.#finish('ended', 'the shared surface went away');
        return;
      case 'error':
        this.#finish('error', msg.message);
        return;
      case 'snapshot':
        return; // answered by snapshot()'s own listener
      case 'closed':
        if (!msg.local) this.#finish('server', msg.reason || `the sharing connection closed (${msg.code})`);
        this.#worker?.terminate();
        this.#worker = null;
        return;
    }
  }

  #finish(reason: StopReason, message: string): void {
    if (this.#state === 'stopped') return;
    this.#stopInfo = { reason, message };
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    if (this.#worker) {
      // The worker closes the socket cleanly, reports `closed`, and is terminated then (or soon anyway).
      const worker = this.#worker;
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      setTimeout(() => worker.terminate(), 2000);
    }
    this.#setState('stopped');
    this.emit('stopped', this.#stopInfo);
    if (this.#announced && reason !== 'server') this.#options.onShareStop?.();
  }

  /** A method, not a field test, so TypeScript does not narrow it away across awaits. */
  #stopped(): boolean {
    return this.#state === 'stopped';
  }

  #setState(state: SharerState): void {
    this.#state = state;
    this.#publish();
    this.emit('state', state);
  }

  #publish(): void {
    if (this.#options.publishStats === false || typeof window === 'undefined') return;
    window.__batonSharer = { ...(this.#stats ?? emptyStats()), state: this.#state };
  }
}

function emptyStats(): HostStats {
  return {
    width: 0, height: 0, tileSize: 0, framesCaptured: 0, framesDropped: 0, framesProcessed: 0, framesSent: 0,
    framesAcked: 0, tilesFill: 0, tilesLossless: 0, tilesLossy: 0, tilesRefined: 0, lossyCells: 0, bytesSent: 0,
    lastEncodeMs: 0, avgEncodeMs: 0, lastDiffMs: 0, unacked: 0, lastSentAt: 0,
  };
}

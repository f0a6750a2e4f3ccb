/**
 * Test and benchmark harness (not part of the app): one page that can sign in, join a conference with
 * the real ConferenceClient, share with BrowserSharer, or watch with the real viewer (ShareConnection +
 * ScreenView). tests/e2e/browser-share.e2e.test.ts and bench/browser-share.mjs bundle it with Vite,
 * serve it from the Baton server's own origin and drive it through `window.batonHarness`.
 */
import { createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { ConferenceClient } from '../../conference/ConferenceClient';
import { BrowserShareButton } from '../BrowserShareButton';
import { ScreenView } from '../../sharing/ScreenView';
import { ShareConnection } from '../../sharing/ShareConnection';
import { BrowserSharer, type SharerStopInfo } from '../BrowserSharer';
import type { FramePumpOptions } from '../FramePump';

let client: ConferenceClient | null = null;
let sharer: BrowserSharer | null = null;
let view: ScreenView | null = null;
let viewConn: ShareConnection | null = null;
const shareStops: number[] = [];
let buttonRoot: Root | null = null;

const wsBase = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const harness = {
  async signup(username: string, password: string): Promise<void> {
    const res = await fetch('/api/auth/signup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (!res.ok) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
  },

  async join(conferenceId: string): Promise<string> {
    const c = new ConferenceClient({ url: `${wsBase()}/ws/conference/${conferenceId}`, conferenceId });
    client = c;
    c.connect();
    await new Promise<void>((resolve, reject) => {
      const off = c.on('state', (s) => {
        if (s === 'joined') {
          off();
          resolve();
        } else if (s === 'closed') {
          off();
          reject(new Error('could not join'));
        }
      });
    });
    return c.snapshot.selfId!;
  },

  /** Share the screen from this page; resolves with the sharer's state once streaming (or stopped). */
  async share(pump: FramePumpOptions = {}): Promise<{ state: string; stop: SharerStopInfo | null; surface: string | null }> {
    const c = client!;
    const s = new BrowserSharer({
      wsUrl: '/ws/share',
      pump,
      onShareStop: () => {
        shareStops.push(Date.now());
        c.send({ type: 'share.stop' });
      },
    });
    sharer = s;
    await s.start(async () => {
      await c.request({ type: 'share.start', kind: 'browser' });
      const ack = await c.request({ type: 'share.ticket' });
      if (!ack.ticket) throw new Error('no ticket');
      return ack.ticket;
    });
    return { state: s.state, stop: s.stopInfo, surface: s.surface };
  },

  sharerState(): { state: string; stop: SharerStopInfo | null; shareStops: number } {
    return { state: sharer?.state ?? 'none', stop: sharer?.stopInfo ?? null, shareStops: shareStops.length };
  },

  stopShare(): void {
    sharer?.stop();
  },

  /** Act as the browser's own "Stop sharing": the capture track ends. */
  endTrackFromBrowserUi(): void {
    // Chromium's own "Stop sharing" bar cannot be clicked from a test; what the page sees of it is the
    // track's 'ended' event, so that is what this fires.
    for (const t of capturedTracks) t.dispatchEvent(new Event('ended'));
  },

  async sharerSnapshot(x: number, y: number, w: number, h: number): Promise<{ width: number; height: number; rgba: string }> {
    const snap = await sharer!.snapshot();
    const out = new Uint8Array(w * h * 4);
    for (let row = 0; row < h; row++) out.set(snap.pixels.subarray(((y + row) * snap.width + x) * 4, ((y + row) * snap.width + x + w) * 4), row * w * 4);
    return { width: snap.width, height: snap.height, rgba: toBase64(out) };
  },

  /** Watch the share with the real viewer; the canvas is #view. */
  async view(): Promise<void> {
    const c = client!;
    viewConn?.close();
    view?.destroy();
    const canvas = document.getElementById('view') as HTMLCanvasElement;
    view = new ScreenView({ canvas });
    viewConn = new ShareConnection({
      url: '/ws/share',
      view,
      ticket: async () => {
        const ack = await c.request({ type: 'share.ticket' });
        if (!ack.ticket) throw new Error('no ticket');
        return ack.ticket;
      },
    });
    const conn = viewConn;
    const opened = new Promise<void>((resolve, reject) => {
      const off = conn.on('state', (s) => {
        if (s === 'open') {
          off();
          resolve();
        } else if (s === 'closed') {
          off();
          reject(new Error('viewer connection closed'));
        }
      });
    });
    conn.connect();
    await opened;
  },

  viewerState(): string {
    return viewConn?.state ?? 'none';
  },

  async viewerPixels(x: number, y: number, w: number, h: number): Promise<string> {
    await view!.idle();
    const ctx = (document.getElementById('view') as HTMLCanvasElement).getContext('2d')!;
    return toBase64(new Uint8Array(ctx.getImageData(x, y, w, h).data.buffer));
  },

  /**
   * Reference for the encoding decision: encode the same screen with WebCodecs (VP8, VP9, H.264) for
   * `seconds` and report what it achieves. Measures only; nothing is sent.
   */
  async encodeVideo(codec: string, seconds: number, bitrate: number): Promise<{ codec: string; fps: number; kBps: number; msPerFrame: number; dropped: number } | { codec: string; error: string }> {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio: false });
    const track = stream.getVideoTracks()[0]!;
    const { width = 1920, height = 1080 } = track.getSettings();
    const config: VideoEncoderConfig = { codec, width, height, bitrate, framerate: 30, latencyMode: 'realtime', ...(codec.startsWith('avc1') ? { avc: { format: 'annexb' } } : {}) };
    try {
      if (!(await VideoEncoder.isConfigSupported(config)).supported) return { codec, error: 'unsupported' };
      let out = 0, bytes = 0, dropped = 0, encodeMs = 0;
      const started = new Map<number, number>();
      const enc = new VideoEncoder({
        output: (chunk) => {
          out++;
          bytes += chunk.byteLength;
          const t = started.get(chunk.timestamp);
          if (t !== undefined) encodeMs += performance.now() - t;
        },
        error: () => {},
      });
      enc.configure(config);
      const reader = new MediaStreamTrackProcessor!({ track }).readable.getReader();
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < seconds * 1000) {
        const { value } = await reader.read();
        if (!value) break;
        // Like a real-time sender: never queue behind a busy encoder.
        if (enc.encodeQueueSize < 2) {
          started.set(value.timestamp, performance.now());
          enc.encode(value, { keyFrame: n++ % 300 === 0 });
        } else dropped++;
        value.close();
      }
      await enc.flush();
      const elapsed = (performance.now() - t0) / 1000;
      enc.close();
      await reader.cancel();
      return { codec, fps: out / elapsed, kBps: bytes / elapsed / 1024, msPerFrame: out ? encodeMs / out : 0, dropped };
    } catch (err) {
      return { codec, error: (err as Error).message };
    } finally {
      track.stop();
    }
  },

  /** Mount the real BrowserShareButton, wired the way the meeting page wires it, into #button. */
  mountButton(): void {
    const c = client!;
    const host = document.getElementById('button')!;
    buttonRoot ??= createRoot(host);
    const render = () => {
      const snap = c.snapshot;
      const mine = snap.share?.hostId === snap.selfId && snap.share?.kind === 'browser';
      buttonRoot!.render(
        createElement(BrowserShareButton, {
          canShare: snap.state === 'joined' && (!snap.share || mine),
          sharing: mine,
          wsUrl: '/ws/share',
          onStart: async () => {
            await c.request({ type: 'share.start', kind: 'browser' });
            const ack = await c.request({ type: 'share.ticket' });
            if (!ack.ticket) throw new Error('no ticket');
            return ack.ticket;
          },
          onStop: () => {
            shareStops.push(Date.now());
            c.send({ type: 'share.stop' });
          },
        }),
      );
    };
    c.on('change', render);
    render();
  },

  shareState(): unknown {
    return client?.snapshot.share ?? null;
  },

  /** Many-colour content on this page's own window (it is on the captured screen): JPEG, then refined. */
  paintNoise(width: number, height: number, seed: number): void {
    const canvas = document.getElementById('noise') as HTMLCanvasElement;
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(width, height);
    let s = seed >>> 0 || 1;
    for (let i = 0; i < img.data.length; i += 4) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const x = (i / 4) % width;
      img.data[i] = (x * 255) / width;
      img.data[i + 1] = s & 0xff;
      img.data[i + 2] = (s >>> 8) & 0x7f;
      img.data[i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  },
};

// Remember the captured tracks (the page's own view of them), for endTrackFromBrowserUi.
const capturedTracks: MediaStreamTrack[] = [];
const original = navigator.mediaDevices.getDisplayMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getDisplayMedia = async (options?: DisplayMediaStreamOptions) => {
  const stream = await original(options);
  capturedTracks.push(...stream.getVideoTracks());
  return stream;
};

declare global {
  interface Window {
    batonHarness: typeof harness;
  }
}
window.batonHarness = harness;

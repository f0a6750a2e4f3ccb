/**
 * The share worker: owns the sharing socket and the FramePump, so capture, diffing and encoding never
 * compete with the meeting page's main thread, and keep running at full rate when the page is in a
 * background tab (a shared tab takes the foreground).
 */
import { SHARE_PROTOCOL_VERSION, ShareDecodeError, decodeShareMessage, encodeShareMessage } from '@baton/protocol';
import { FramePump } from './FramePump';
import type { FromWorker, ToWorker } from './workerMessages';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  close(): void;
}
const scope = self as unknown as WorkerScope;

let ws: WebSocket | null = null;
let pump: FramePump | null = null;
let done = false;
/** Stats go to the page this often (counters move on acks and dropped captures too, not only on sends). */
const STATS_EVERY_MS = 200;
const AUTH_SETTLE_MS = 150;
let statsTimer: ReturnType<typeof setInterval> | null = null;

/** Close reasons are limited to 123 bytes of UTF-8. */
function clip(reason: string): string {
  const enc = new TextEncoder();
  let out = reason;
  while (enc.encode(out).length > 123) out = out.slice(0, -1);
  return out;
}

function finish(code: number, reason: string, local: boolean): void {
  if (done) return;
  done = true;
  if (statsTimer) clearInterval(statsTimer);
  if (pump) scope.postMessage({ type: 'stats', stats: { ...pump.stats } });
  pump?.close();
  // A page may only close with 1000 or 3000-4999; the reason for the page travels in `closed` anyway.
  if (ws && ws.readyState < WebSocket.CLOSING) ws.close(local && code !== 1000 ? 4000 : 1000, clip(reason));
  scope.postMessage({ type: 'closed', code, reason, local });
}

function start(msg: Extract<ToWorker, { type: 'start' }>): void {
  const socket = new WebSocket(msg.url);
  socket.binaryType = 'arraybuffer';
  ws = socket;
  const p = new FramePump({ send: (b) => socket.send(b as Uint8Array<ArrayBuffer>), buffered: () => socket.bufferedAmount }, msg.options);
  pump = p;
  statsTimer = setInterval(() => scope.postMessage({ type: 'stats', stats: { ...p.stats } }), STATS_EVERY_MS);
  p.on('error', (err) => {
    scope.postMessage({ type: 'error', message: err.message });
    finish(1011, 'capture failed', true);
  });
  p.on('ended', () => {
    scope.postMessage({ type: 'ended' });
    finish(1000, 'the capture ended', true);
  });
  socket.onopen = () => {
    socket.send(encodeShareMessage({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket: msg.ticket }) as Uint8Array<ArrayBuffer>);
    // The relay checks the ticket asynchronously and has no "welcome" for a host; frames that reach it in
    // the same read as `auth` can be missed (then the first tile arrives "before any screen"). Let the
    // auth frame travel alone first.
    setTimeout(() => {
      if (done) return;
      scope.postMessage({ type: 'open' });
      void p.run(msg.frames);
    }, AUTH_SETTLE_MS);
  };
  socket.onmessage = (ev: MessageEvent) => {
    if (!(ev.data instanceof ArrayBuffer)) return;
    try {
      const m = decodeShareMessage(new Uint8Array(ev.data));
      // A browser share is view-only: the relay never forwards input to it, and anything else is ignored.
      if (m.type === 'ack') p.ack(m.seq);
    } catch (err) {
      if (!(err instanceof ShareDecodeError)) throw err;
      finish(1008, err.message, true);
    }
  };
  socket.onclose = (ev) => finish(ev.code, ev.reason, false);
}

scope.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === 'start' && !ws && !done) start(msg);
  else if (msg.type === 'stop') finish(1000, 'sharing stopped', true);
  else if (msg.type === 'snapshot') {
    const snap = pump?.snapshot() ?? { width: 0, height: 0, pixels: new Uint8Array(0) };
    const pixels = snap.pixels.buffer as ArrayBuffer;
    (scope.postMessage as (m: FromWorker, t: Transferable[]) => void)({ type: 'snapshot', id: msg.id, width: snap.width, height: snap.height, pixels }, [pixels]);
  }
};

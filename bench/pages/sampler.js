// Injected into every viewer page before its own scripts (page.addInitScript) together with strip.js.
// Counts WebSocket payload bytes, and samples the viewer's canvas every animation frame: each new
// timestamp decoded from the strip is one delivered frame, and (now - timestamp) its glass-to-glass latency.
(function () {
  const S = {
    bytesIn: 0,
    bytesOut: 0,
    latencies: [],
    stages: [],
    bad: 0,
    samples: 0,
    last: null,
    since: Date.now(),
    canvasSelector: null,
    running: false,
    complete: null,
    // The late-joiner bench's marks (Date.now()): when the screen stream was opened (the sharing
    // socket, noVNC's websockify socket, or a peer connection) and its first message arrived.
    marks: { streamAt: null, streamOpenAt: null, firstMessageAt: null, firstDrawnAt: null, firstFrameMs: null, firstReceiveMs: null, appAt: null, conferenceAt: null, conferenceOpenAt: null, welcomeAt: null, ticketAskedAt: null, ticketAt: null },
    messagesIn: 0,
  };
  // The page's first render: the first element the app puts in its root.
  new MutationObserver((_, obs) => {
    if (document.getElementById('root')?.firstElementChild || document.getElementById('noVNC_container')) {
      S.marks.appAt = Date.now();
      obs.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
  const firstMessage = () => {
    if (S.marks.firstMessageAt === null) S.marks.firstMessageAt = Date.now();
  };

  // A wrapper, not a subclass: noVNC insists that send/close live on the socket's direct prototype.
  const Native = globalThis.WebSocket;
  const size = (d) => (typeof d === 'string' ? new TextEncoder().encode(d).length : d.byteLength ?? d.size ?? 0);
  const nativeSend = Native.prototype.send;
  Native.prototype.send = function (d) {
    S.bytesOut += size(d);
    return nativeSend.call(this, d);
  };
  function CountingWebSocket(...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (e) => {
      S.bytesIn += size(e.data);
      S.messagesIn++;
    });
    const url = String(args[0]);
    if (/\/ws\/share|websockify/.test(url) && S.marks.streamAt === null) {
      S.marks.streamAt = Date.now();
      ws.addEventListener('open', () => (S.marks.streamOpenAt ??= Date.now()));
      ws.addEventListener('message', firstMessage);
    }
    // Baton's meeting socket: when it was made, opened, and its welcome and a sharing ticket arrived.
    if (/\/ws\/conference/.test(url) && S.marks.conferenceAt === null) {
      S.marks.conferenceAt = Date.now();
      ws.addEventListener('open', () => (S.marks.conferenceOpenAt ??= Date.now()));
      ws.addEventListener('message', (e) => {
        if (typeof e.data !== 'string') return;
        if (S.marks.welcomeAt === null && e.data.includes('"welcome"') && JSON.parse(e.data).type === 'welcome') S.marks.welcomeAt = Date.now();
        if (S.marks.ticketAt === null && e.data.includes('"ticket"')) S.marks.ticketAt = Date.now();
      });
      const send = ws.send;
      ws.send = function (d) {
        if (S.marks.ticketAskedAt === null && typeof d === 'string' && d.includes('"share.ticket"')) S.marks.ticketAskedAt = Date.now();
        return send.call(this, d);
      };
    }
    return ws;
  }
  CountingWebSocket.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) CountingWebSocket[k] = Native[k];
  globalThis.WebSocket = CountingWebSocket;

  // The meeting page may take the picture peer-to-peer over a DataChannel (host and one viewer alone):
  // keep every RTCPeerConnection so its DataChannel payload bytes count as received too.
  const pcs = [];
  const NativePC = globalThis.RTCPeerConnection;
  if (NativePC) {
    globalThis.RTCPeerConnection = class extends NativePC {
      constructor(...args) {
        super(...args);
        pcs.push(this);
        // A peer-to-peer share: the stream starts with the peer connection (the sharing socket stays silent).
        S.marks.streamAt = Date.now();
        S.marks.firstMessageAt = null;
        this.addEventListener('datachannel', (e) => e.channel.addEventListener('message', firstMessage));
      }
    };
  }
  let dcBase = { rx: 0, tx: 0 };
  async function dcBytes() {
    let rx = 0, tx = 0;
    for (const pc of pcs) {
      const st = await pc.getStats().catch(() => null);
      st?.forEach((r) => {
        if (r.type === 'data-channel') {
          rx += r.bytesReceived ?? 0;
          tx += r.bytesSent ?? 0;
        }
      });
    }
    return { rx, tx };
  }

  const W = () => globalThis.BenchStrip.W, H = () => globalThis.BenchStrip.H;
  let scratch = null;

  function findCanvas() {
    const list = S.canvasSelector ? document.querySelectorAll(S.canvasSelector) : document.querySelectorAll('canvas');
    let best = null;
    for (const c of list) if (!best || c.width * c.height > best.width * best.height) best = c;
    return best;
  }

  function tick() {
    if (!S.running) return;
    requestAnimationFrame(tick);
    const c = findCanvas();
    if (!c || c.width < W() || c.height < H()) return;
    // The late joiner waits only for the whole screen: no strip to read (it would cost the page a read-back a frame).
    if (S.complete) {
      firstDrawn();
      if (!S.complete.done) checkComplete(c, Date.now());
      return;
    }
    if (!scratch) scratch = Object.assign(document.createElement('canvas'), { width: W(), height: H() }).getContext('2d', { willReadFrequently: true });
    // The strip is read from the canvas's backing store, which holds the host's pixels at the host's
    // resolution whatever size the page shows it at (Fit scales the canvas's CSS box, not its pixels).
    scratch.drawImage(c, 0, 0, W(), H(), 0, 0, W(), H());
    const now = Date.now();
    const px = scratch.getImageData(0, 0, W(), H()).data;
    S.samples++;
    const t = globalThis.BenchStrip.decode(px, W(), now);
    if (t === null) {
      S.bad++;
    } else if (t !== S.last) {
      S.last = t;
      S.latencies.push(now - t);
      // Baton's viewer says when the frame now on the canvas was captured on the host and how long it
      // took from its first tile arriving to being drawn (and, of that, to its last message arriving):
      // the latency split into stages.
      const v = globalThis.__batonViewer;
      if (v && v.lastCaptureTime) S.stages.push([v.lastDrawnAt - v.lastCaptureTime, v.lastFrameMs, v.lastReceiveMs ?? null]);
    }
    firstDrawn();
  }

  /** Baton's first frame drawn: when, and how long from its first tile (receiving, then decoding and drawing). */
  function firstDrawn() {
    const v = globalThis.__batonViewer;
    if (v && v.framesDrawn > 0 && S.marks.firstDrawnAt === null) Object.assign(S.marks, { firstDrawnAt: Math.round(v.lastDrawnAt), firstFrameMs: v.lastFrameMs, firstReceiveMs: v.lastReceiveMs });
  }

  // Late joiner: the canvas is complete when every 64x64 tile matches the host's screen
  // (sampled every 16 px) within a tolerance that allows lossy encodings.
  // Checked only in animation frames after something was drawn on a canvas (the viewer's own draws
  // set `drawn`, ours do not), reading back only the sampled rows: a read-back of the whole canvas
  // every animation frame took the viewer's main thread from the system being measured.
  let copy = null;
  let drawn = true;
  const C2D = globalThis.CanvasRenderingContext2D?.prototype;
  for (const m of C2D ? ['putImageData', 'drawImage', 'fillRect'] : []) {
    const native = C2D[m];
    C2D[m] = function (...a) {
      if (this !== copy && this !== scratch) drawn = true;
      return native.apply(this, a);
    };
  }
  function checkComplete(c, now) {
    const { ref, width, height, step, tol } = S.complete;
    if (c.width !== width || c.height !== height || !drawn) return;
    drawn = false;
    const t0 = performance.now();
    const cols = Math.floor(width / step), rows = Math.floor(height / step);
    copy ??= Object.assign(document.createElement('canvas'), { width, height }).getContext('2d', { willReadFrequently: true });
    copy.drawImage(c, 0, 0);
    const px = new Uint8ClampedArray(width * rows * 4);
    for (let r = 0; r < rows; r++) px.set(copy.getImageData(0, r * step + step / 2, width, 1).data, r * width * 4);
    const per = 64 / step;
    const tiles = new Map();
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) {
        const x = q * step + step / 2;
        const o = (r * width + x) * 4, i = (r * cols + q) * 3;
        const d = Math.abs(px[o] - ref[i]) + Math.abs(px[o + 1] - ref[i + 1]) + Math.abs(px[o + 2] - ref[i + 2]);
        const key = Math.floor(r / per) * 1000 + Math.floor(q / per);
        const t = tiles.get(key) ?? { sum: 0, n: 0 };
        t.sum += d / 3;
        t.n++;
        tiles.set(key, t);
      }
    }
    let worst = 0;
    for (const t of tiles.values()) worst = Math.max(worst, t.sum / t.n);
    S.complete.worst = worst;
    S.complete.checks++;
    S.complete.checkMs += performance.now() - t0;
    if (worst <= tol) {
      S.complete.done = true;
      S.complete.at = now;
      S.complete.bytesIn = S.bytesIn;
      S.complete.messagesIn = S.messagesIn;
      // The bench's CDP binding, if it added one: it reads the page's CPU counters at once.
      globalThis.__benchComplete?.('');
    }
  }

  globalThis.BenchSampler = {
    start(selector) {
      S.canvasSelector = selector ?? null;
      if (!S.running) {
        S.running = true;
        requestAnimationFrame(tick);
      }
    },
    async reset() {
      dcBase = await dcBytes();
      S.bytesIn = S.bytesOut = S.bad = S.samples = 0;
      S.latencies = [];
      S.stages = [];
      S.since = Date.now();
    },
    async collect() {
      const dc = await dcBytes();
      const dcIn = dc.rx - dcBase.rx, dcOut = dc.tx - dcBase.tx;
      // Baton's meeting page says which path the picture came by ('server' or 'peer').
      const path = document.querySelector('[data-testid=share-viewport]')?.dataset.path ?? null;
      // How large the screen is shown: CSS px of the canvas's box per backing-store (host) px.
      const c = findCanvas();
      const scale = c && c.width ? Math.round((1000 * c.getBoundingClientRect().width) / c.width) / 1000 : null;
      return { bytesIn: S.bytesIn + dcIn, bytesOut: S.bytesOut + dcOut, dataChannelBytesIn: dcIn, path, latencies: S.latencies.slice(), stages: S.stages.slice(), bad: S.bad, samples: S.samples, ms: Date.now() - S.since, scale };
    },
    lastTimestamp: () => S.last,
    expectScreen(ref, width, height, step, tol) {
      S.complete = { ref, width, height, step, tol, done: false, at: null, worst: null, checks: 0, checkMs: 0 };
    },
    completeState: () => (S.complete ? { done: S.complete.done, at: S.complete.at, worst: S.complete.worst, bytesIn: S.complete.bytesIn, messagesIn: S.complete.messagesIn, checks: S.complete.checks, checkMs: S.complete.checkMs, ...S.marks } : null),
    /** The page's loading: the document, and the scripts and other requests it made (epoch ms, bytes). */
    loading() {
      const t0 = performance.timeOrigin;
      const nav = performance.getEntriesByType('navigation')[0];
      // What the page had loaded when its screen was complete (code loaded later is not on the way to it).
      const until = S.complete?.at ? S.complete.at - t0 : Infinity;
      const res = performance.getEntriesByType('resource').filter((r) => r.responseEnd <= until);
      const js = res.filter((r) => /\.m?js(\?|$)/.test(r.name));
      // The document's own scripts (not those its workers load later).
      const own = js.filter((r) => r.initiatorType === 'script' || r.initiatorType === 'link');
      return {
        navigationAt: t0,
        htmlAt: nav ? t0 + nav.responseEnd : null,
        domContentLoadedAt: nav ? t0 + nav.domContentLoadedEventEnd : null,
        scriptsAt: own.length ? t0 + Math.max(...own.map((r) => r.responseEnd)) : null,
        jsFiles: js.map((r) => `${r.name.replace(/^.*\//, '')} (${r.initiatorType}, ${r.decodedBodySize} B)`),
        jsBytes: js.reduce((a, r) => a + (r.decodedBodySize || 0), 0),
        jsTransferBytes: js.reduce((a, r) => a + (r.encodedBodySize || 0), 0),
        requests: res.map((r) => ({ name: r.name.replace(location.origin, ''), type: r.initiatorType, start: Math.round(r.startTime), end: Math.round(r.responseEnd), bytes: r.encodedBodySize })),
      };
    },
  };
})();

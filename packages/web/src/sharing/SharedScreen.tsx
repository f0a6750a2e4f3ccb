/**
 * The shared screen as a React component: a canvas with the remote cursor on an overlay, fitted to its
 * container (keeping the aspect ratio), shown 1:1 or zoomed, with scrollbars the page draws. It keeps its connection up
 * (reconnecting with a fresh ticket after a network failure) and captures input while `controlling`.
 * The protocol work lives in ScreenView, ShareConnection and InputCapture; this file only wires them.
 *
 * Peer-to-peer (optional `p2p` prop): while the Focus says the share is 'p2p', the screen comes over a
 * DataChannel straight from the host (PeerViewer) and input goes back over it; the server socket stays
 * connected, authenticated and silent beside it. When the share moves to the server, the server's full
 * refresh takes over the same canvas, which keeps its picture until then (ViewFeed).
 */
import { useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type MutableRefObject, type ReactNode } from 'react';
import { PointerButton } from '@baton/protocol';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { InputCapture } from './InputCapture';
import { SoftKeyboard } from './SoftKeyboard';
import { TouchGestures } from './TouchGestures';
import { ScreenView } from './ScreenView';
import { ScrollBars } from './ScrollBars';
import { ShareConnection, type ClipboardMessage, type InputMessage, type ShareCloseInfo, type ShareConnectionState } from './ShareConnection';
import { ViewFeed } from '../p2p/ViewFeed';
import { PeerViewer, type PeerViewerState } from '../p2p/PeerViewer';
import type { P2PConference } from '../p2p/PeerAnswerer';

/** Peer-to-peer wiring for SharedScreen. */
export interface SharedScreenP2P {
  /** Signalling and ICE servers: the page's ConferenceClient fits as it is. */
  conference: P2PConference;
  /** The sharing participant (share.hostId): only its offer is answered. */
  hostId: string;
  /** share.transport === 'p2p' (for an agent share). Turning false retires the direct path; it never comes back. */
  active: boolean;
}

export interface SharedScreenProps {
  /** The sharing socket, e.g. `/ws/share` or `wss://host/ws/share`. */
  wsUrl: string;
  /** A fresh single-use ticket for each connection attempt. */
  getTicket: () => Promise<string>;
  /** This participant controls the host: pointer and (while the canvas has focus) keyboard are captured. */
  controlling: boolean;
  /** Fit the box, one host pixel per CSS pixel, or a zoom (CSS px per host px, at least the fit). */
  mode: ViewMode;
  /** Esc pressed twice gave the keyboard back to the page. */
  onReleaseKeyboard?: () => void;
  /** While controlling: true when the canvas (or the on-screen keyboard) has the focus, so keys go to the host. */
  onKeyboardCapture?: (captured: boolean) => void;
  /** A pinch asks for this zoom (CSS px per host px); the parent passes it back as `mode`. */
  onZoom?: (scale: number) => void;
  /** Filled with what the parent may do to the screen (open the on-screen keyboard). */
  handle?: MutableRefObject<SharedScreenHandle | null>;
  onStateChange?: (state: ShareConnectionState, closeInfo: ShareCloseInfo | null) => void;
  className?: string;
  /** Peer-to-peer with the host while the Focus allows it; without it, the server socket only. */
  p2p?: SharedScreenP2P;
  /** Clipboard news from the host (it reaches the controller only). */
  onClipboard?: (msg: ClipboardMessage) => void;
  /** The first whole picture is on the canvas. */
  onFirstFrame?: () => void;
  /**
   * A view and connection already under way for this share (a late joiner's, opened as its welcome
   * came: EarlyShare.ts), asked once when the screen mounts: it is taken over instead of connecting.
   */
  adopt?: () => { view: ScreenView; feed: ViewFeed; conn: ShareConnection } | null;
  /**
   * While controlling, the paste shortcut (Ctrl/Cmd+V, Shift+Insert) first runs this (e.g. sends the
   * browser's clipboard to the host); input waits for it, at most PASTE_WAIT_MS, so the host pastes
   * the new text.
   */
  beforePaste?: () => Promise<unknown>;
  /**
   * Drawn over the screen, in a box of the screen's CSS size that follows Fit, 1:1 and zoom (e.g. the
   * annotation overlay), given the screen's size in host pixels once known.
   */
  overlay?: (screen: { width: number; height: number }) => ReactNode;
}

export type ViewMode = 'fit' | '1:1' | number;

export interface SharedScreenHandle {
  /** While controlling: focus the hidden field that opens a phone's keyboard (call from a tap). */
  openKeyboard(): void;
  /** While controlling: text for the host's clipboard (the caller checked its size). False when no path is open. */
  sendClipboard(text: string): boolean;
}

/** Longest the paste shortcut waits for `beforePaste` (a permission prompt may be open meanwhile). */
const PASTE_WAIT_MS = 3000;

/** Close codes after which reconnecting cannot help (denied, removed, ended, wrong version, protocol error). */
const FINAL_CODES = new Set([1000, 1003, 1008, 4001, 4003, 4004, 4005, 4006]);

type Status = { state: ShareConnectionState; info: ShareCloseInfo | null; retrying: boolean };

export function SharedScreen({ wsUrl, getTicket, controlling, mode, onReleaseKeyboard, onKeyboardCapture, onZoom, handle, onStateChange, className, p2p, onClipboard, onFirstFrame, beforePaste, overlay, adopt }: SharedScreenProps) {
  const { t } = useTranslation();
  const outerRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const cursorRef = useRef<HTMLCanvasElement>(null);
  const viewRef = useRef<ScreenView | null>(null);
  const connRef = useRef<ShareConnection | null>(null);
  const feedRef = useRef<ViewFeed | null>(null);
  const peerRef = useRef<PeerViewer | null>(null);
  const p2pActive = useRef(false);
  p2pActive.current = !!p2p?.active;
  const [peerState, setPeerState] = useState<PeerViewerState | null>(null);
  // Callbacks in refs: a new function identity from the parent must not reconnect.
  const callbacks = useRef({ getTicket, onReleaseKeyboard, onKeyboardCapture, onZoom, onStateChange, onClipboard, onFirstFrame, beforePaste, adopt });
  callbacks.current = { getTicket, onReleaseKeyboard, onKeyboardCapture, onZoom, onStateChange, onClipboard, onFirstFrame, beforePaste, adopt };
  const keyboardRef = useRef<HTMLTextAreaElement>(null);
  /** Scroll position to set once a zoom asked by a pinch is laid out. */
  const pendingScroll = useRef<{ left: number; top: number } | null>(null);

  const layout = useRef<Layout | null>(null);
  const [screen, setScreen] = useState<{ width: number; height: number } | null>(null);
  const [box, setBox] = useState<{ width: number; height: number }>({ width: 0, height: 0 });
  const [status, setStatus] = useState<Status>({ state: 'connecting', info: null, retrying: false });
  const [cursor, setCursor] = useState<string>('default');
  // Nothing is shown until the first whole picture is drawn (a late joiner's catch-up is one frame).
  const [drawn, setDrawn] = useState(false);

  // The view and the connection (kept up with reconnects) live as long as the URL.
  useEffect(() => {
    const canvas = canvasRef.current!;
    const cursorCanvas = cursorRef.current ?? undefined;
    // A late joiner's share may be under way already: its view moves onto this canvas, its connection goes on.
    const early = callbacks.current.adopt?.() ?? null;
    const view = early?.view ?? new ScreenView({ canvas, cursorCanvas });
    viewRef.current = view;
    const feed = early?.feed ?? new ViewFeed(view);
    feedRef.current = feed;
    const offResize = view.on('resize', (s) => setScreen(s));
    const firstFrame = () => {
      setDrawn(true);
      callbacks.current.onFirstFrame?.();
    };
    const offDrawn = view.on('frameDrawn', () => {
      offDrawn();
      firstFrame();
    });
    const offCursor = view.on('cursorShape', ({ url, hotX, hotY }) => setCursor(url ? `url(${url}) ${hotX} ${hotY}, default` : 'default'));
    if (early) {
      view.attach(canvas, cursorCanvas);
      if (view.width > 0) setScreen({ width: view.width, height: view.height });
      if (view.stats.framesDrawn > 0) {
        offDrawn();
        firstFrame();
      }
    }
    let disposed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    const follow = (conn: ShareConnection) => {
      connRef.current = conn;
      conn.on('message', (m) => {
        if (m.type === 'clipboard' || m.type === 'clipboardRefused') callbacks.current.onClipboard?.(m);
      });
      const onState = (state: ShareConnectionState) => {
        if (disposed) return;
        if (state === 'open') failures = 0;
        const info = conn.closeInfo;
        const retrying = state === 'closed' && !!info && !info.local && !FINAL_CODES.has(info.code);
        setStatus({ state, info, retrying });
        callbacks.current.onStateChange?.(state, info);
        if (retrying) {
          // Back off 0.5 s, 1 s, 2 s … up to 10 s.
          const delay = Math.min(10_000, 500 * 2 ** failures++);
          timer = setTimeout(() => !disposed && connect(), delay);
        }
      };
      conn.on('state', onState);
      return onState;
    };
    const connect = () => {
      const conn = new ShareConnection({ url: wsUrl, ticket: () => callbacks.current.getTicket(), view: feed.source('server') });
      follow(conn);
      conn.connect();
    };
    if (early) follow(early.conn)(early.conn.state);
    else connect();

    return () => {
      disposed = true;
      clearTimeout(timer);
      connRef.current?.close('the viewer was closed');
      connRef.current = null;
      offResize();
      offDrawn();
      offCursor();
      feed.destroy();
      feedRef.current = null;
      view.destroy();
      viewRef.current = null;
    };
  }, [wsUrl]);

  // The direct path follows `p2p.active`: started while it is true, retired (not dropped) when it turns false.
  const p2pConference = p2p?.conference;
  const p2pHost = p2p?.hostId;
  const wantPeer = !!p2p?.active;
  useEffect(() => {
    const feed = feedRef.current;
    if (!feed || !p2pConference || !p2pHost) return;
    if (wantPeer && !peerRef.current && !feed.isShut('peer')) {
      const peer = new PeerViewer({ conference: p2pConference, hostId: p2pHost, feed });
      peerRef.current = peer;
      peer.on('clipboard', (m) => callbacks.current.onClipboard?.(m));
      peer.on('state', (s) => {
        setPeerState(s);
        if (s === 'closed' && peerRef.current === peer) peerRef.current = null;
      });
      setPeerState(peer.state);
    } else if (!wantPeer) {
      peerRef.current?.retire();
    }
  }, [wsUrl, p2pConference, p2pHost, wantPeer]);
  useEffect(
    () => () => {
      peerRef.current?.close('the viewer was closed');
      peerRef.current = null;
    },
    [wsUrl, p2pConference, p2pHost],
  );

  // Input capture follows `controlling`.
  useEffect(() => {
    const canvas = canvasRef.current!;
    // Straight to the host while the direct path is live; through the server otherwise.
    const sendNow = (msg: InputMessage) => (p2pActive.current && peerRef.current?.sendInput(msg)) || connRef.current?.sendInput(msg);
    const sendClipboard = (text: string) => (p2pActive.current && peerRef.current?.sendClipboard(text)) || !!connRef.current?.sendClipboard(text);
    // The paste shortcut: the browser's clipboard goes first, the keys wait for it (same path, in order).
    const mods = { Control: false, Meta: false, Shift: false };
    let gate: Promise<unknown> | null = null;
    const held: InputMessage[] = [];
    const send = (msg: InputMessage) => {
      if (msg.type === 'key') {
        if (msg.key in mods) mods[msg.key as keyof typeof mods] = msg.down;
        const paste = msg.down && (((mods.Control || mods.Meta) && msg.code === 'KeyV') || (mods.Shift && msg.key === 'Insert'));
        const before = callbacks.current.beforePaste;
        if (paste && !gate && before) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          gate = Promise.race([before().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, PASTE_WAIT_MS)))]).finally(() => {
            clearTimeout(timer);
            gate = null;
            for (const m of held.splice(0)) sendNow(m);
          });
        }
      }
      if (gate) held.push(msg);
      else sendNow(msg);
    };
    const capture = new InputCapture({
      element: canvas,
      send,
      screenSize: () => ({ width: viewRef.current?.width || 1, height: viewRef.current?.height || 1 }),
      onReleaseKeyboard: () => callbacks.current.onReleaseKeyboard?.(),
    });
    if (controlling) capture.enable();
    // While controlling, the local pointer (wearing the remote cursor's shape) is the cursor: no lag.
    if (viewRef.current) viewRef.current.drawCursor = !controlling;
    // Keys go to the host while the canvas or the on-screen keyboard's field has the focus.
    const field = keyboardRef.current!;
    const hasKeys = () => document.activeElement === canvas || document.activeElement === field;
    const report = () => callbacks.current.onKeyboardCapture?.(hasKeys());
    // On blur the focus may be on its way from one to the other: look once it has landed.
    const onBlur = () => setTimeout(report, 0);
    const keyboard = controlling ? new SoftKeyboard({ element: field, capture }) : null;
    if (handle) handle.current = { openKeyboard: () => keyboard?.open(), sendClipboard: (text) => controlling && sendClipboard(text) };
    if (controlling) {
      for (const el of [canvas, field]) {
        el.addEventListener('focus', report);
        el.addEventListener('blur', onBlur);
      }
      report();
    }

    // Touch: a controller's taps, long presses, drags and two-finger drags go to the host as clicks,
    // right clicks, drags and scrolling; a viewer's drags pan. A pinch zooms, for both.
    const scroller = outerRef.current!;
    const gestures = new TouchGestures({ element: scroller });
    const pan = (dx: number, dy: number) => scroller.scrollBy(-dx, -dy);
    gestures.on('tap', (p) => capture.click(p.x, p.y, PointerButton.Left));
    gestures.on('longPress', (p) => capture.click(p.x, p.y, PointerButton.Right));
    gestures.on('dragStart', (p) => capture.drag('start', p.x, p.y));
    gestures.on('dragMove', (p) => (controlling ? capture.drag('move', p.x, p.y) : pan(p.dx, p.dy)));
    gestures.on('dragEnd', (p) => capture.drag('end', p.x, p.y));
    // Scrolling happens where the fingers went down, as with a touchpad: the pointer stays put.
    gestures.on('twoFingerDrag', (p) => (controlling ? capture.scroll(p.start.x, p.start.y, p.dx, p.dy) : pan(p.dx, p.dy)));
    gestures.on('pinch', (p) => {
      const L = layout.current;
      if (!L || L.sw === 0 || !callbacks.current.onZoom) return;
      const next = Math.max(L.fitScale, Math.min(MAX_ZOOM, L.scale * p.scale));
      const r = scroller.getBoundingClientRect();
      const from = pendingScroll.current ?? { left: scroller.scrollLeft, top: scroller.scrollTop };
      // The host point under the fingers' midpoint before this step stays under it after.
      const hx = (p.x - p.dx - r.left + from.left - L.left) / L.scale;
      const hy = (p.y - p.dy - r.top + from.top - L.top) / L.scale;
      const N = layoutFor(next, L.sw, L.sh, L.bw, L.bh);
      layout.current = N; // further steps before the next render build on this one
      pendingScroll.current = { left: hx * next + N.left - (p.x - r.left), top: hy * next + N.top - (p.y - r.top) };
      callbacks.current.onZoom(next);
    });

    return () => {
      gestures.destroy();
      keyboard?.destroy();
      if (handle) handle.current = null;
      for (const el of [canvas, field]) {
        el.removeEventListener('focus', report);
        el.removeEventListener('blur', onBlur);
      }
      if (controlling) callbacks.current.onKeyboardCapture?.(false);
      capture.destroy();
      if (viewRef.current) viewRef.current.drawCursor = true;
    };
  }, [controlling]);

  // A zoom asked by a pinch is laid out now: scroll so that the pinched point stays under the fingers.
  useLayoutEffect(() => {
    const to = pendingScroll.current;
    if (!to || !outerRef.current) return;
    pendingScroll.current = null;
    outerRef.current.scrollTo(to.left, to.top);
  });

  // Track the container's size for fit mode.
  useEffect(() => {
    const outer = outerRef.current!;
    const measure = () => setBox({ width: outer.clientWidth, height: outer.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(outer);
    return () => ro.disconnect();
  }, []);

  // Fitting again starts from the top left (a scroll position kept from a zoom would offset the picture).
  useLayoutEffect(() => {
    if (mode === 'fit' && outerRef.current) outerRef.current.scrollTo(0, 0);
  }, [mode]);

  // The picture flows when either path is open; the server socket waits silently beside a direct path.
  const path = peerState === 'open' ? 'peer' : status.state === 'open' ? 'server' : 'none';
  const shown: Status = path === 'peer' ? { state: 'open', info: null, retrying: false } : status;
  const directPending = wantPeer && peerState === 'connecting' && status.state !== 'open';
  const sw = screen?.width ?? 0;
  const sh = screen?.height ?? 0;
  const L = layoutFor(mode, sw, sh, box.width, box.height);
  layout.current = L;

  return (
    <div
      className={className}
      data-testid="share-viewport"
      data-state={shown.state}
      data-path={path}
      data-mode={typeof mode === 'number' ? 'zoom' : mode}
      data-zoom={L.scale.toFixed(3)}
      data-drawn={drawn}
      style={{ position: 'relative', width: '100%', height: '100%', overflow: 'hidden', background: '#1b1b1b' }}
    >
      <div
        ref={outerRef}
        data-testid="share-scroller"
        style={{ position: 'absolute', inset: 0, overflow: mode === 'fit' ? 'hidden' : 'auto', scrollbarWidth: 'none', touchAction: 'none' }}
      >
        <div style={{ position: 'relative', width: L.width, height: L.height, marginLeft: L.left, marginTop: L.top, visibility: drawn ? 'visible' : 'hidden' }}>
          <canvas
            ref={canvasRef}
            data-testid="share-canvas"
            tabIndex={controlling ? 0 : -1}
            aria-label={controlling ? t('screen.labelControlling') : t('stage.label')}
            style={{ display: 'block', width: '100%', height: '100%', outline: 'none', touchAction: 'none', cursor: controlling ? cursor : 'default' }}
          />
          {/* The cursor's own small canvas, placed by CursorOverlay; clipped to the screen. */}
          <div style={{ position: 'absolute', inset: 0, overflow: 'hidden', pointerEvents: 'none' }}>
            <canvas ref={cursorRef} data-testid="share-cursor" aria-hidden="true" style={{ position: 'absolute', visibility: 'hidden', pointerEvents: 'none' }} />
          </div>
          {overlay && screen && screen.width > 0 && overlay(screen)}
        </div>
      </div>
      {mode !== 'fit' && <ScrollBars target={outerRef} />}
      <textarea
        ref={keyboardRef}
        data-testid="soft-keyboard-field"
        aria-label={t('screen.typeLabel')}
        tabIndex={-1}
        autoCapitalize="off"
        autoCorrect="off"
        autoComplete="off"
        spellCheck={false}
        rows={1}
        style={softKeyboardStyle}
      />
      {shown.state !== 'open' ? (
        <div data-testid="share-status" role="status" style={statusStyle}>
          {!drawn && <span className="spinner small" aria-hidden="true" />}
          {directPending ? t('screen.direct') : statusText(t, shown)}
        </div>
      ) : (
        !drawn && (
          <div data-testid="share-loading" role="status" style={statusStyle}>
            <span className="spinner small" aria-hidden="true" />
            {t('screen.loading')}
          </div>
        )
      )}
    </div>
  );
}

/** The on-screen keyboard's field: focusable but unseen (16 px, so a phone does not zoom the page to it). */
const softKeyboardStyle: CSSProperties = {
  position: 'absolute',
  left: 0,
  bottom: 0,
  width: 1,
  height: 1,
  padding: 0,
  border: 0,
  opacity: 0,
  resize: 'none',
  fontSize: 16,
  pointerEvents: 'none',
};

/** Largest zoom a pinch reaches (CSS px per host px). */
const MAX_ZOOM = 6;

/** Where the screen sits in a box: its scale, its size in CSS px, and its margins (centred when smaller than the box). */
type Layout = { scale: number; fitScale: number; width: number; height: number; left: number; top: number; sw: number; sh: number; bw: number; bh: number };

function layoutFor(mode: ViewMode, sw: number, sh: number, bw: number, bh: number): Layout {
  const fitScale = sw > 0 && sh > 0 && bw > 0 && bh > 0 ? Math.min(bw / sw, bh / sh) : 1;
  const scale = mode === 'fit' ? fitScale : mode === '1:1' ? 1 : Math.max(fitScale, Math.min(MAX_ZOOM, mode));
  const width = Math.floor(sw * scale);
  const height = Math.floor(sh * scale);
  // A tall box (a phone upright) keeps the screen at its top, clear of the sheets that open from below.
  const top = bh > bw ? 0 : Math.max(0, Math.floor((bh - height) / 2));
  return { scale, fitScale, width, height, left: Math.max(0, Math.floor((bw - width) / 2)), top, sw, sh, bw, bh };
}

function statusText(t: TFunction, { state, info, retrying }: Status): string {
  switch (state) {
    case 'connecting':
      return t('screen.connecting');
    case 'authenticating':
      return t('screen.waiting');
    case 'open':
      return '';
    case 'closed': {
      // The close reason is the server's own words, when it gave any.
      const why = info?.reason || t('screen.disconnected');
      return retrying ? t('screen.closedRetrying', { why }) : why;
    }
  }
}

const statusStyle: CSSProperties = {
  position: 'absolute',
  left: '50%',
  top: '50%',
  transform: 'translate(-50%, -50%)',
  padding: '0.5em 1em',
  borderRadius: 6,
  background: 'rgba(0,0,0,0.7)',
  color: '#fff',
  font: '14px system-ui, sans-serif',
  pointerEvents: 'none',
  display: 'flex',
  alignItems: 'center',
  gap: '0.6em',
};

/**
 * The shared screen as a React component: a canvas with the remote cursor on an overlay, fitted to its
 * container (keeping the aspect ratio) or shown 1:1 with scrollbars. It keeps its connection up
 * (reconnecting with a fresh ticket after a network failure) and captures input while `controlling`.
 * The protocol work lives in ScreenView, ShareConnection and InputCapture; this file only wires them.
 *
 * Peer-to-peer (optional `p2p` prop): while the Focus says the share is 'p2p', the screen comes over a
 * DataChannel straight from the host (PeerViewer) and input goes back over it; the server socket stays
 * connected, authenticated and silent beside it. When the share moves to the server, the server's full
 * refresh takes over the same canvas, which keeps its picture until then (ViewFeed).
 */
import { useEffect, useRef, useState, type CSSProperties } from 'react';
import { InputCapture } from './InputCapture';
import { ScreenView } from './ScreenView';
import { ShareConnection, type ShareCloseInfo, type ShareConnectionState } from './ShareConnection';
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
  mode: 'fit' | '1:1';
  /** Esc pressed twice gave the keyboard back to the page. */
  onReleaseKeyboard?: () => void;
  onStateChange?: (state: ShareConnectionState, closeInfo: ShareCloseInfo | null) => void;
  className?: string;
  /** Peer-to-peer with the host while the Focus allows it; without it, the server socket only. */
  p2p?: SharedScreenP2P;
}

/** Close codes after which reconnecting cannot help (denied, removed, ended, wrong version, protocol error). */
const FINAL_CODES = new Set([1000, 1003, 1008, 4001, 4003, 4004, 4005, 4006]);

type Status = { state: ShareConnectionState; info: ShareCloseInfo | null; retrying: boolean };

export function SharedScreen({ wsUrl, getTicket, controlling, mode, onReleaseKeyboard, onStateChange, className, p2p }: SharedScreenProps) {
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
  const callbacks = useRef({ getTicket, onReleaseKeyboard, onStateChange });
  callbacks.current = { getTicket, onReleaseKeyboard, onStateChange };

  const [screen, setScreen] = useState<{ width: number; height: number } | null>(null);
  const [box, setBox] = useState<{ width: number; height: number }>({ width: 0, height: 0 });
  const [status, setStatus] = useState<Status>({ state: 'connecting', info: null, retrying: false });
  const [cursor, setCursor] = useState<string>('default');
  // Nothing is shown until the first whole picture is drawn (a late joiner's catch-up is one frame).
  const [drawn, setDrawn] = useState(false);

  // The view and the connection (kept up with reconnects) live as long as the URL.
  useEffect(() => {
    const canvas = canvasRef.current!;
    const view = new ScreenView({ canvas, cursorCanvas: cursorRef.current ?? undefined });
    viewRef.current = view;
    const feed = new ViewFeed(view);
    feedRef.current = feed;
    const offResize = view.on('resize', (s) => setScreen(s));
    const offDrawn = view.on('frameDrawn', () => {
      offDrawn();
      setDrawn(true);
    });
    const offCursor = view.on('cursorShape', ({ url, hotX, hotY }) => setCursor(url ? `url(${url}) ${hotX} ${hotY}, default` : 'default'));
    let disposed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    const connect = () => {
      const conn = new ShareConnection({ url: wsUrl, ticket: () => callbacks.current.getTicket(), view: feed.source('server') });
      connRef.current = conn;
      conn.on('state', (state) => {
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
      });
      conn.connect();
    };
    connect();

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
    const capture = new InputCapture({
      element: canvas,
      // Straight to the host while the direct path is live; through the server otherwise.
      send: (msg) => (p2pActive.current && peerRef.current?.sendInput(msg)) || connRef.current?.sendInput(msg),
      screenSize: () => ({ width: viewRef.current?.width || 1, height: viewRef.current?.height || 1 }),
      onReleaseKeyboard: () => callbacks.current.onReleaseKeyboard?.(),
    });
    if (controlling) capture.enable();
    // While controlling, the local pointer (wearing the remote cursor's shape) is the cursor: no lag.
    if (viewRef.current) viewRef.current.drawCursor = !controlling;
    return () => {
      capture.destroy();
      if (viewRef.current) viewRef.current.drawCursor = true;
    };
  }, [controlling]);

  // Track the container's size for fit mode.
  useEffect(() => {
    const outer = outerRef.current!;
    const measure = () => setBox({ width: outer.clientWidth, height: outer.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(outer);
    return () => ro.disconnect();
  }, []);

  // The picture flows when either path is open; the server socket waits silently beside a direct path.
  const path = peerState === 'open' ? 'peer' : status.state === 'open' ? 'server' : 'none';
  const shown: Status = path === 'peer' ? { state: 'open', info: null, retrying: false } : status;
  const directPending = wantPeer && peerState === 'connecting' && status.state !== 'open';
  const sw = screen?.width ?? 0;
  const sh = screen?.height ?? 0;
  let stage: CSSProperties;
  if (mode === 'fit' && sw > 0 && sh > 0 && box.width > 0 && box.height > 0) {
    const scale = Math.min(box.width / sw, box.height / sh);
    const w = Math.round(sw * scale);
    const h = Math.round(sh * scale);
    stage = { position: 'absolute', width: w, height: h, left: Math.floor((box.width - w) / 2), top: Math.floor((box.height - h) / 2) };
  } else {
    stage = { position: 'relative', width: sw, height: sh };
  }

  return (
    <div
      ref={outerRef}
      className={className}
      data-testid="share-viewport"
      data-state={shown.state}
      data-path={path}
      data-mode={mode}
      data-drawn={drawn}
      style={{ position: 'relative', width: '100%', height: '100%', overflow: mode === '1:1' ? 'auto' : 'hidden', background: '#1b1b1b' }}
    >
      <div style={{ ...stage, visibility: drawn ? 'visible' : 'hidden' }}>
        <canvas
          ref={canvasRef}
          data-testid="share-canvas"
          tabIndex={controlling ? 0 : -1}
          aria-label={controlling ? 'Shared screen (you are in control; press Esc twice to release the keyboard)' : 'Shared screen'}
          style={{ display: 'block', width: '100%', height: '100%', outline: 'none', touchAction: 'none', cursor: controlling ? cursor : 'default' }}
        />
        <canvas
          ref={cursorRef}
          data-testid="share-cursor"
          aria-hidden="true"
          style={{ position: 'absolute', left: 0, top: 0, width: '100%', height: '100%', pointerEvents: 'none' }}
        />
      </div>
      {shown.state !== 'open' ? (
        <div data-testid="share-status" role="status" style={statusStyle}>
          {!drawn && <span className="spinner small" aria-hidden="true" />}
          {directPending ? 'Connecting directly to the host…' : statusText(shown)}
        </div>
      ) : (
        !drawn && (
          <div data-testid="share-loading" role="status" style={statusStyle}>
            <span className="spinner small" aria-hidden="true" />
            Loading the shared screen…
          </div>
        )
      )}
    </div>
  );
}

function statusText({ state, info, retrying }: Status): string {
  switch (state) {
    case 'connecting':
      return 'Connecting to the shared screen…';
    case 'authenticating':
      return 'Waiting for the shared screen…';
    case 'open':
      return '';
    case 'closed':
      return `${info?.reason ?? 'Disconnected'}${retrying ? ' — reconnecting…' : ''}`;
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

/**
 * Test page for viewer.test.ts (bundled by the test, loaded in Chromium): mounts the real SharedScreen
 * and gives the test a small window API. It also records, at the moment each `ack` leaves the page,
 * what the canvas shows, which proves a frame is drawn before it is acknowledged.
 */
import { useState } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { flushSync } from 'react-dom';
import '../../i18n';
import { SharedScreen } from '../SharedScreen';
import { ScreenView } from '../ScreenView';
import { ShareConnection } from '../ShareConnection';
import { createBatchDecoder, createDecoders, inflateWithStreams } from '../decoders';
import { ViewFeed } from '../../p2p/ViewFeed';

type AckRecord = { seq: number; lastSeq: number; framesDrawn: number; probe: number[] | null };

interface MountOptions {
  wsUrl: string;
  tickets: string[];
  controlling: boolean;
  mode: 'fit' | '1:1';
  /** Container size in CSS pixels. */
  width: number;
  height: number;
  /** Take over the share mountEarly() started instead of connecting. */
  adopt?: boolean;
}

declare global {
  interface Window {
    batonTest: {
      mount(options: MountOptions): void;
      /** The core library without React: a canvas, a ScreenView and a ShareConnection, with a decoder path:
       *  'default' (ZRgb in workers, images through ImageDecoder), 'main' (ZRgb with fflate on the main thread),
       *  'baseline' (DecompressionStream and createImageBitmap). */
      mountCore(options: { wsUrl: string; ticket: string; decoders: 'default' | 'main' | 'baseline' }): void;
      /** A share started before any SharedScreen exists (as EarlyShare.ts does it): a ScreenView on a canvas of its own. */
      mountEarly(options: { wsUrl: string; ticket: string }): void;
      setControlling(on: boolean): void;
      readPixels(selector: string, x: number, y: number, w: number, h: number): number[];
      /** The remote cursor overlay's RGBA at screen pixel (x, y): transparent where it is not (or hidden). */
      cursorAt(x: number, y: number): number[];
      /** Pixel (x, y) of the screen canvas sampled each time an ack is sent. */
      probeAt: [number, number] | null;
      acks: AckRecord[];
      states: string[];
      keyboardReleased: number;
    };
  }
}

const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
  if (data instanceof Uint8Array && data[0] === 0x07 && data.length === 5) {
    const seq = new DataView(data.buffer, data.byteOffset, 5).getUint32(1);
    const probe = window.batonTest.probeAt;
    window.batonTest.acks.push({
      seq,
      lastSeq: window.__batonViewer?.lastSeq ?? -1,
      framesDrawn: window.__batonViewer?.framesDrawn ?? 0,
      probe: probe ? window.batonTest.readPixels('[data-testid=share-canvas]', probe[0], probe[1], 1, 1) : null,
    });
  }
  return send.call(this, data);
};

let root: Root | null = null;
let early: { view: ScreenView; feed: ViewFeed; conn: ShareConnection } | null = null;
let mounts = 0;
let setControllingState: ((on: boolean) => void) | null = null;

function Harness({ options }: { options: MountOptions }) {
  const [controlling, setControlling] = useState(options.controlling);
  setControllingState = setControlling;
  const [tickets] = useState(() => [...options.tickets]);
  return (
    <div id="box" style={{ width: options.width, height: options.height }}>
      <SharedScreen
        wsUrl={options.wsUrl}
        getTicket={async () => tickets.shift() ?? 'no-ticket-left'}
        controlling={controlling}
        mode={options.mode}
        onReleaseKeyboard={() => window.batonTest.keyboardReleased++}
        onStateChange={(s, info) => window.batonTest.states.push(info ? `${s}:${info.code}:${info.reason}` : s)}
        adopt={
          options.adopt
            ? () => {
                const e = early;
                early = null;
                return e;
              }
            : undefined
        }
      />
    </div>
  );
}

window.batonTest = {
  mount(options) {
    const el = document.getElementById('root')!;
    root ??= createRoot(el);
    // A new key: every mount is a fresh SharedScreen with a fresh connection.
    flushSync(() => root!.render(<Harness key={++mounts} options={options} />));
  },
  mountCore({ wsUrl, ticket, decoders }) {
    document.getElementById('core')?.remove();
    const canvas = document.createElement('canvas');
    canvas.id = 'core';
    document.body.append(canvas);
    const table =
      decoders === 'baseline'
        ? createDecoders({ zrgb: 'main', inflate: inflateWithStreams, imageDecoder: false })
        : createDecoders({ zrgb: decoders === 'main' ? 'main' : 'workers' });
    // Batches in the workers only where tiles go there too.
    const view = new ScreenView({ canvas, decoders: table, batchDecoder: createBatchDecoder(table, decoders === 'default' ? undefined : () => null) });
    const conn = new ShareConnection({ url: wsUrl, ticket, view });
    conn.on('state', (s) => window.batonTest.states.push(`core:${s}`));
    conn.connect();
  },
  mountEarly({ wsUrl, ticket }) {
    const view = new ScreenView({});
    const feed = new ViewFeed(view);
    const conn = new ShareConnection({ url: wsUrl, ticket, view: feed.source('server') });
    conn.on('state', (s) => window.batonTest.states.push(`early:${s}`));
    early = { view, feed, conn: conn.connect() };
  },
  setControlling(on) {
    flushSync(() => setControllingState?.(on));
  },
  readPixels(selector, x, y, w, h) {
    const c = document.querySelector<HTMLCanvasElement>(selector)!;
    return Array.from(c.getContext('2d')!.getImageData(x, y, w, h).data);
  },
  cursorAt(x, y) {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid=share-cursor]')!;
    const cx = x - Number(c.dataset.x), cy = y - Number(c.dataset.y);
    if (c.dataset.shown !== 'true' || !(cx >= 0 && cy >= 0 && cx < c.width && cy < c.height)) return [0, 0, 0, 0];
    return Array.from(c.getContext('2d')!.getImageData(cx, cy, 1, 1).data);
  },
  probeAt: null,
  acks: [],
  states: [],
  keyboardReleased: 0,
};

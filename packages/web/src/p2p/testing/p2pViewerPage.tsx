/**
 * Test and benchmark page for peer-to-peer sharing (bundled by tests/e2e/p2p.e2e.test.ts and
 * bench/p2p.mjs, served from the Baton server's origin): a real ConferenceClient joins the meeting,
 * and the real SharedScreen shows the share with its `p2p` wiring, as the meeting page would. A small
 * window API lets the test join, ask for control, read the canvas and sample it on a timer.
 */
import { useSyncExternalStore } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { flushSync } from 'react-dom';
import { ConferenceClient, conferenceSocketUrl } from '../../conference/ConferenceClient';
import '../../i18n';
import { SharedScreen } from '../../sharing/SharedScreen';
import type { P2PConference } from '../PeerAnswerer';

type Sample = { t: number; path: string; w: number; h: number; px: number[][] };

interface JoinOptions {
  conferenceId: string;
  name?: string;
  /** Announce caps.p2p and wire SharedScreen's p2p prop. */
  p2p: boolean;
  width: number;
  height: number;
}

declare global {
  interface Window {
    batonP2P: {
      signup(username: string, password: string): Promise<number>;
      join(options: JoinOptions): Promise<string>;
      leave(): void;
      /** `others`: the joined participants this page knows of, itself excepted. */
      info(): { selfId: string | null; state: string; share: unknown; others: number; path: string; viewState: string; status: string };
      requestControl(): void;
      readPixels(x: number, y: number, w: number, h: number): number[];
      /** Every `everyMs`, the canvas pixels at `points`, the path feeding the view and the canvas size. */
      startSampling(points: [number, number][], everyMs: number): void;
      /** The latest sample so far (sampling goes on). */
      lastSample(): Sample | null;
      stopSampling(): Sample[];
    };
  }
}

let client: ConferenceClient | null = null;
let root: Root | null = null;
let sampler: { timer: ReturnType<typeof setInterval>; samples: Sample[] } | null = null;

function Harness({ c, options }: { c: ConferenceClient; options: JoinOptions }) {
  const snap = useSyncExternalStore(c.subscribe, c.getSnapshot);
  const share = snap.share;
  if (!share || share.hostId === snap.selfId) return <div id="no-share">no share</div>;
  const conference: P2PConference = c; // the conference client satisfies the p2p interface as it is
  return (
    <div id="box" style={{ width: options.width, height: options.height }}>
      <SharedScreen
        key={share.hostId}
        wsUrl="/ws/share"
        getTicket={async () => {
          const ack = await c.request({ type: 'share.ticket' });
          if (!ack.ticket) throw new Error('no ticket');
          return ack.ticket;
        }}
        controlling={share.controllerId !== null && share.controllerId === snap.selfId}
        mode="1:1"
        p2p={options.p2p ? { conference, hostId: share.hostId, active: share.transport === 'p2p' && share.kind === 'agent' } : undefined}
      />
    </div>
  );
}

const canvas = () => document.querySelector<HTMLCanvasElement>('[data-testid=share-canvas]');
const viewport = () => document.querySelector<HTMLElement>('[data-testid=share-viewport]');

window.batonP2P = {
  async signup(username, password) {
    const res = await fetch('/api/auth/signup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    return res.status;
  },
  join(options) {
    const c = new ConferenceClient({
      url: conferenceSocketUrl(options.conferenceId, window.location),
      conferenceId: options.conferenceId,
      name: options.name,
      caps: options.p2p ? { p2p: true } : undefined,
      storage: null,
    });
    client = c;
    root ??= createRoot(document.getElementById('root')!);
    flushSync(() => root!.render(<Harness c={c} options={options} />));
    c.connect();
    return new Promise((resolve, reject) => {
      const off = c.on('state', (s) => {
        if (s === 'joined') {
          off();
          resolve(c.snapshot.selfId!);
        } else if (s === 'closed' || s === 'lobby') {
          off();
          reject(new Error(`join ended in ${s}: ${c.snapshot.end?.message ?? ''}`));
        }
      });
    });
  },
  leave() {
    root?.render(<div />);
    client?.close();
  },
  info() {
    const v = viewport();
    return {
      selfId: client?.snapshot.selfId ?? null,
      state: client?.state ?? 'none',
      share: client?.snapshot.share ?? null,
      others: client?.snapshot.roster.filter((p) => p.id !== client?.snapshot.selfId && p.status === 'joined').length ?? 0,
      path: v?.dataset.path ?? 'none',
      viewState: v?.dataset.state ?? 'none',
      status: document.querySelector('[data-testid=share-status]')?.textContent ?? '',
    };
  },
  requestControl() {
    client?.send({ type: 'control.request' });
  },
  readPixels(x, y, w, h) {
    const c = canvas();
    if (!c || c.width === 0) return [];
    return Array.from(c.getContext('2d')!.getImageData(x, y, w, h).data);
  },
  startSampling(points, everyMs) {
    if (sampler) clearInterval(sampler.timer);
    const samples: Sample[] = [];
    const take = () => {
      const c = canvas();
      const ctx = c && c.width > 0 ? c.getContext('2d') : null;
      samples.push({
        t: Date.now(),
        path: viewport()?.dataset.path ?? 'none',
        w: c?.width ?? 0,
        h: c?.height ?? 0,
        px: points.map(([x, y]) => (ctx ? Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3)) : [])),
      });
    };
    take();
    sampler = { timer: setInterval(take, everyMs), samples };
  },
  lastSample() {
    return sampler?.samples.at(-1) ?? null;
  },
  stopSampling() {
    if (!sampler) return [];
    clearInterval(sampler.timer);
    const s = sampler.samples;
    sampler = null;
    return s;
  },
};

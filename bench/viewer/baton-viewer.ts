/**
 * The bench's Baton viewer: the web client's own sharing pieces (ConferenceClient, ScreenView,
 * ShareConnection, InputCapture) on a bare page with the screen drawn 1:1 on one canvas, so the
 * bench can sample it. Built by bench/lib/buildViewer.mjs and served by the bench's Baton server as
 * its web directory, because the server only accepts same-origin sockets.
 * Query: ?conf=<conference id>&name=<display name>
 */
import { ConferenceClient, conferenceSocketUrl } from '../../packages/web/src/conference/ConferenceClient';
import { ScreenView } from '../../packages/web/src/sharing/ScreenView';
import { ShareConnection } from '../../packages/web/src/sharing/ShareConnection';
import { InputCapture } from '../../packages/web/src/sharing/InputCapture';

type BenchState = { phase: string; error: string | null; controlling: boolean; selfId: string | null };

declare global {
  interface Window {
    benchBaton: { state: BenchState; requestControl(): Promise<void> };
  }
}

const params = new URLSearchParams(location.search);
const conferenceId = params.get('conf') ?? '';
const state: BenchState = { phase: 'joining', error: null, controlling: false, selfId: null };
const canvas = document.getElementById('screen') as HTMLCanvasElement;

const conference = new ConferenceClient({
  url: conferenceSocketUrl(conferenceId, location),
  conferenceId,
  name: params.get('name') ?? 'bench viewer',
});
const view = new ScreenView({ canvas });
let share: ShareConnection | null = null;

const capture = new InputCapture({
  element: canvas,
  send: (msg) => share?.sendInput(msg),
  screenSize: () => ({ width: view.width || 1, height: view.height || 1 }),
});

conference.on('change', (snap) => {
  state.selfId = snap.selfId;
  const controlling = !!snap.share && snap.share.controllerId === snap.selfId && snap.selfId !== null;
  if (controlling !== state.controlling) {
    state.controlling = controlling;
    if (controlling) capture.enable();
    else capture.disable();
  }
  // Open the screen once joined and someone shares through the server.
  if (snap.state === 'joined' && snap.share && !share) {
    state.phase = 'connecting-share';
    share = new ShareConnection({ url: '/ws/share', ticket: async () => (await conference.request({ type: 'share.ticket' })).ticket ?? '', view });
    share.on('state', (s) => {
      state.phase = `share-${s}`;
      if (s === 'closed') state.error = share?.closeInfo?.reason ?? 'closed';
    });
    share.connect();
  }
  if (snap.state === 'closed') {
    state.phase = 'closed';
    state.error = snap.end?.message ?? 'conference closed';
  }
});

window.benchBaton = {
  state,
  async requestControl() {
    if (state.controlling) return;
    await conference.request({ type: 'control.request' });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('control was not granted within 10 s')), 10_000);
      const off = conference.on('change', () => {
        if (state.controlling) {
          clearTimeout(t);
          off();
          resolve();
        }
      });
    });
  },
};

conference.connect();

/**
 * BrowserSharer's state machine with the browser parts faked (one module under test): the capture
 * track, MediaStreamTrackProcessor and the worker. The real path runs in tests/e2e/browser-share.e2e.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrowserSharer, type SharerState } from './BrowserSharer';
import type { FromWorker, ToWorker } from './workerMessages';

class FakeTrack extends EventTarget {
  stopped = false;
  stop(): void {
    this.stopped = true;
  }
  getSettings() {
    return { displaySurface: 'window' };
  }
}

class FakeWorker {
  sent: ToWorker[] = [];
  terminated = false;
  onmessage: ((ev: { data: FromWorker }) => void) | null = null;
  onerror: ((ev: { message: string }) => void) | null = null;
  postMessage(msg: ToWorker): void {
    this.sent.push(msg);
  }
  addEventListener(): void {}
  removeEventListener(): void {}
  terminate(): void {
    this.terminated = true;
  }
  /** The worker speaks. */
  say(msg: FromWorker): void {
    this.onmessage?.({ data: msg });
  }
}

function setup(picker: 'share' | 'cancel' = 'share') {
  const track = new FakeTrack();
  const worker = new FakeWorker();
  let shareStops = 0;
  const states: SharerState[] = [];
  const sharer = new BrowserSharer({
    wsUrl: 'ws://baton.test/ws/share',
    onShareStop: () => shareStops++,
    mediaDevices: {
      getDisplayMedia: async () => {
        if (picker === 'cancel') throw Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' });
        return { getVideoTracks: () => [track], getTracks: () => [track] } as unknown as MediaStream;
      },
    },
    createWorker: () => worker as unknown as Worker,
  });
  sharer.on('state', (s) => states.push(s));
  return { sharer, track, worker, states, shareStops: () => shareStops };
}

/** Let the sharer reach the point where it has handed the capture to the worker. */
async function untilWorkerStarted(worker: FakeWorker): Promise<void> {
  for (let i = 0; i < 20 && worker.sent.length === 0; i++) await Promise.resolve();
  expect(worker.sent[0]?.type).toBe('start');
}

describe('BrowserSharer', () => {
  beforeEach(() => {
    globalThis.MediaStreamTrackProcessor = class {
      readable = new ReadableStream<VideoFrame>();
      constructor(_init: { track: MediaStreamTrack }) {}
    };
  });
  afterEach(() => {
    globalThis.MediaStreamTrackProcessor = undefined;
  });

  it('goes idle → capturing → streaming, handing the worker the frames, the URL and the ticket', async () => {
    const { sharer, worker, states } = setup();
    const started = sharer.start(async () => 'ticket-1');
    await untilWorkerStarted(worker);
    const start = worker.sent[0] as Extract<ToWorker, { type: 'start' }>;
    expect(start.url).toBe('ws://baton.test/ws/share');
    expect(start.ticket).toBe('ticket-1');
    expect(start.frames).toBeInstanceOf(ReadableStream);
    worker.say({ type: 'open' });
    await started;
    expect(states).toEqual(['capturing', 'streaming']);
    expect(sharer.surface).toBe('window');
  });

  it("the browser's own stop (track 'ended') stops once and asks for share.stop once", async () => {
    const { sharer, track, worker, states, shareStops } = setup();
    const started = sharer.start(async () => 't');
    await untilWorkerStarted(worker);
    worker.say({ type: 'open' });
    await started;
    track.dispatchEvent(new Event('ended'));
    track.dispatchEvent(new Event('ended'));
    sharer.stop();
    expect(states).toEqual(['capturing', 'streaming', 'stopped']);
    expect(sharer.stopInfo?.reason).toBe('ended');
    expect(shareStops()).toBe(1);
    expect(worker.sent.map((m) => m.type)).toEqual(['start', 'stop']);
    expect(track.stopped).toBe(true);
  });

  it('a cancelled picker ends quietly: nothing was announced, so no share.stop', async () => {
    const { sharer, states, shareStops } = setup('cancel');
    await sharer.start(async () => 't');
    expect(states).toEqual(['capturing', 'stopped']);
    expect(sharer.stopInfo?.reason).toBe('cancelled');
    expect(shareStops()).toBe(0);
  });

  it('the server closing the socket stops the sharer without a share.stop of its own', async () => {
    const { sharer, worker, track, shareStops } = setup();
    const started = sharer.start(async () => 't');
    await untilWorkerStarted(worker);
    worker.say({ type: 'open' });
    await started;
    worker.say({ type: 'closed', code: 1000, reason: 'the share has ended', local: false });
    expect(sharer.state).toBe('stopped');
    expect(sharer.stopInfo).toEqual({ reason: 'server', message: 'the share has ended' });
    expect(shareStops()).toBe(0);
    expect(track.stopped).toBe(true);
    expect(worker.terminated).toBe(true);
  });

  it('stop(true): the conference already ended it, so no share.stop is asked for', async () => {
    const { sharer, worker, shareStops } = setup();
    const started = sharer.start(async () => 't');
    await untilWorkerStarted(worker);
    worker.say({ type: 'open' });
    await started;
    sharer.stop(true);
    expect(sharer.stopInfo?.reason).toBe('server');
    expect(shareStops()).toBe(0);
    expect(worker.sent.map((m) => m.type)).toEqual(['start', 'stop']);
  });

  it('a failing ticket request stops with an error and withdraws the announcement', async () => {
    const { sharer, track, shareStops } = setup();
    await sharer.start(async () => {
      throw new Error('the meeting policy lets only presenters share');
    });
    expect(sharer.stopInfo).toEqual({ reason: 'error', message: 'cannot start sharing: the meeting policy lets only presenters share' });
    expect(shareStops()).toBe(1);
    expect(track.stopped).toBe(true);
  });

  it('refuses to start twice and explains a browser without MediaStreamTrackProcessor', async () => {
    const { sharer, worker } = setup();
    void sharer.start(async () => 't');
    await expect(sharer.start(async () => 't')).rejects.toThrow(/capturing/);
    await untilWorkerStarted(worker);
    globalThis.MediaStreamTrackProcessor = undefined;
    const other = setup();
    await other.sharer.start(async () => 't');
    expect(other.sharer.stopInfo?.reason).toBe('error');
    expect(other.sharer.stopInfo?.message).toMatch(/MediaStreamTrackProcessor/);
  });
});

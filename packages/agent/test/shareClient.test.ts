import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TILE_SIZE } from '../src/TileEncoder.js';
import { PointerButton } from '@baton/protocol';
import { ShareClient } from '../src/ShareClient.js';
import { ConsentPrompt } from '../src/ConsentPrompt.js';
import { xcall, loadX11, type XEvent } from '../src/x11.js';
import type { FrameBuffer } from '../src/ScreenCapture.js';
import { FakeBatonServer, ALICE, until } from './helpers/fakeServer.js';
import { Painter } from './helpers/painter.js';
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const run = promisify(execFile);
const HAVE_X = xvfbAvailable('ShareClient tests');

describe.skipIf(!HAVE_X)('ShareClient against an in-test Baton server', () => {
  let desktop: XDesktop;
  let painter: Painter;
  let server: FakeBatonServer;
  let client: ShareClient | null = null;
  const status: string[] = [];

  /** The X screen as the host sees it, read independently of the agent. */
  async function screen(): Promise<FrameBuffer> {
    const { width, height } = await xcall<{ width: number; height: number }>((cb) => painter.conn.client.GetGeometry(painter.conn.root, cb));
    const img = await xcall<{ data: Buffer }>((cb) => painter.conn.client.GetImage(2, painter.conn.root, 0, 0, width, height, 0xffffffff, cb));
    return { width, height, stride: width * 4, data: img.data };
  }

  async function canvasMatchesScreen(what: string): Promise<void> {
    let bad = -1;
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      await server.settled();
      const shot = await screen();
      bad = server.canvas && server.canvas.width === shot.width && server.canvas.height === shot.height ? server.canvas.diff(shot) : -1;
      if (bad === 0) return;
      await sleep(50);
    }
    throw new Error(`${what}: the reassembled canvas differs from the screen in ${bad} pixels`);
  }

  async function start(opts: { consent?: ConsentPrompt } = {}): Promise<ShareClient> {
    client = await ShareClient.start({
      meetingUrl: server.meetingUrl,
      token: server.token,
      display: desktop.display,
      consent: opts.consent ?? new ConsentPrompt({ mode: 'never' }),
      log: (l) => status.push(l),
    });
    return client;
  }

  beforeAll(async () => {
    desktop = await XDesktop.start(1280, 720);
    painter = desktop.painter;
    await painter.window(0, 0, 1280, 720, [30, 60, 90]);
  });
  afterAll(() => desktop?.stop());
  afterEach(async () => {
    await client?.stop();
    client = null;
    await server?.close();
    status.length = 0;
  });

  it('joins with the token, starts the share, authenticates with a ticket and streams a screen the viewer can rebuild exactly', async () => {
    server = new FakeBatonServer();
    await server.listen();
    const win = await painter.window(100, 80, 300, 200, [250, 250, 250]);
    await painter.fill(win, 20, 20, 100, 10, [0, 0, 0]);
    const t0 = Date.now();
    const c = await start();
    expect(server.received.map((m) => m.type).slice(0, 3)).toEqual(['hello', 'share.start', 'share.ticket']);
    await until(() => server.frames.length >= 1, 'the first frame');
    const first = server.shareMessages[0]!;
    expect(first).toEqual({ type: 'screen', width: 1280, height: 720, tileSize: DEFAULT_TILE_SIZE });
    expect(server.frames[0]!.cells).toBe(Math.ceil(1280 / DEFAULT_TILE_SIZE) * Math.ceil(720 / DEFAULT_TILE_SIZE));
    // Wall-clock ms of the capture (the viewers' latency figures rely on it); no bound on how long it took.
    expect(server.frames[0]!.time).toBeGreaterThanOrEqual(t0);
    expect(server.frames[0]!.time).toBeLessThanOrEqual(Date.now());
    await canvasMatchesScreen('first frame');
    // The full first pass's CPU is not the rate's (counted, it started every share at 10 passes a second):
    // with no other pass yet, the rate knows no CPU figure.
    expect(server.frames.length > 1 || c.session!.rate.averages.cpuMs === null).toBe(true);

    // A small change costs only the tiles it touches.
    const before = server.frames.length;
    await painter.fill(win, 150, 100, 30, 30, [200, 0, 0]); // root 250..280 x 180..210
    await until(() => server.frames.length > before, 'an update');
    await canvasMatchesScreen('after an update');
    const update = server.frames.slice(before).reduce((n, f) => n + f.tiles, 0);
    expect(update).toBeLessThanOrEqual(4);
    expect(server.protocolErrors).toEqual([]);
    expect(server.shareMessages.some((m) => m.type === 'cursorShape')).toBe(true);
    expect(server.shareMessages.some((m) => m.type === 'cursorPos')).toBe(true);

    // The pointer moves: only cursorPos, no tiles.
    const n = server.shareMessages.length;
    const frames = server.frames.length;
    await run('xdotool', ['mousemove', '640', '300'], { env: desktop.env() });
    await until(() => server.shareMessages.slice(n).some((m) => m.type === 'cursorPos' && m.x === 640 && m.y === 300), 'cursorPos');
    await sleep(100);
    expect(server.frames.length).toBe(frames);
    await painter.destroy(win);
    await c.stop();
    expect(server.received.at(-1)?.type).toBe('share.stop');
  });

  it('keeps at most 8 small frames unacknowledged and then sends the newest pixels, not a queue of stale frames', async () => {
    server = new FakeBatonServer();
    await server.listen();
    const win = await painter.window(600, 300, 256, 128, [0, 0, 0]);
    const c = await start();
    await until(() => server.frames.length >= 1, 'the first frame');
    await canvasMatchesScreen('first frame');
    server.autoAck = false;
    // Solid fills: frames of a few hundred bytes, which the window lets run ahead of the acks. One
    // fill a frame until the window shuts, then four more while it is shut.
    const flow = c.session!.flow;
    let i = 0;
    while (!flow.windowFull) {
      const before = server.frames.length;
      await painter.fill(win, 0, 0, 256, 128, [i * 20, 255 - i * 20, 100]);
      i++;
      await until(() => server.frames.length > before || flow.windowFull, 'a frame per fill');
    }
    expect(flow.inFlight).toBe(8);
    for (const end = i + 4; i < end; i++) {
      await painter.fill(win, 0, 0, 256, 128, [i * 20, 255 - i * 20, 100]);
      await sleep(40);
    }
    await until(() => server.unacked.length >= 8, 'eight unacked frames');
    expect(server.unacked.length).toBe(8); // it tried, and stopped at the window
    const blocked = server.frames.length;
    server.autoAck = true;
    server.ackAll();
    await canvasMatchesScreen('after unblocking');
    // The last colour is on the viewer's canvas, reached with one or two frames, not 12.
    expect(server.canvas!.at(700, 350)).toEqual([(i - 1) * 20, 255 - (i - 1) * 20, 100]);
    expect(server.frames.length - blocked).toBeLessThanOrEqual(3);
    await painter.destroy(win);
  });

  it('keeps at most 2 big frames unacknowledged (small ones may not follow them)', async () => {
    server = new FakeBatonServer();
    await server.listen();
    const win = await painter.window(400, 200, 640, 400, [0, 0, 0]);
    const c = await start();
    await until(() => server.frames.length >= 1, 'the first frame');
    await canvasMatchesScreen('first frame');
    server.autoAck = false;
    // Noise: tens of kB a frame whatever the codec, over the window's budget for small frames.
    let seed = 7;
    const noise = (): Uint8Array => {
      const rgb = new Uint8Array(640 * 400 * 3);
      for (let i = 0; i < rgb.length; i++) rgb[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      return rgb;
    };
    for (let i = 0; i < 5; i++) {
      await painter.putRgb(win, 0, 0, 640, 400, noise());
      await sleep(60);
    }
    await painter.fill(win, 0, 0, 16, 16, [255, 0, 0]); // a small change behind them
    await until(() => server.unacked.length >= 2, 'two unacked frames');
    // The window is shut with the two big frames in flight: nothing more goes until an ack.
    const flow = c.session!.flow;
    await until(() => flow.inFlight === 2, 'the agent sees two in flight');
    expect(flow.windowFull).toBe(true);
    expect(flow.bytesInFlight).toBeGreaterThan(flow.smallBytes);
    expect(server.unacked.length).toBe(2);
    server.autoAck = true;
    server.ackAll();
    await canvasMatchesScreen('after unblocking');
    await painter.destroy(win);
  });

  it('asks the local user, grants control, injects the controller input, and takes control back on local input', async () => {
    server = new FakeBatonServer();
    await server.listen();
    const em = loadX11().eventMask;
    const win = await painter.window(200, 200, 400, 300, [80, 80, 80], em.KeyPress! | em.ButtonPress!);
    painter.conn.client.SetInputFocus(win, 1);
    await painter.conn.sync();
    const events: XEvent[] = [];
    const onEv = (ev: XEvent) => {
      if (ev.name === 'KeyPress' || ev.name === 'ButtonPress') events.push(ev);
    };
    painter.conn.on('event', onEv);

    const input = new PassThrough();
    const output = new PassThrough();
    let asked = '';
    output.on('data', (d: Buffer) => (asked += d.toString()));
    const c = await start({ consent: new ConsentPrompt({ mode: 'ask', input, output }) });
    await until(() => server.frames.length >= 1, 'the first frame');

    // Input before anyone holds control is not injected.
    server.sendShare({ type: 'pointer', x: 300, y: 300, buttons: PointerButton.Left });
    server.sendShare({ type: 'pointer', x: 300, y: 300, buttons: 0 });
    await sleep(200);
    expect(events).toHaveLength(0);

    server.sendConference({ type: 'control.requested', participantId: ALICE.id, name: ALICE.name, user: ALICE.user });
    await until(() => asked.includes('Allow account alice to control your screen? [y/N]'), 'the consent question');
    input.write('y\n');
    await until(() => server.received.some((m) => m.type === 'control.grant' && m.participantId === ALICE.id), 'control.grant');
    await until(() => c.controllerId === ALICE.id, 'controller set');
    expect(status.some((l) => l.includes('Alice is controlling your screen — move your mouse or press a key to take control back'))).toBe(true);

    server.sendShare({ type: 'pointer', x: 300, y: 250, buttons: PointerButton.Right });
    server.sendShare({ type: 'pointer', x: 300, y: 250, buttons: 0 });
    server.sendShare({ type: 'key', down: true, key: 'q', code: 'KeyQ' });
    server.sendShare({ type: 'key', down: false, key: 'q', code: 'KeyQ' });
    await until(() => events.length >= 2, 'injected events');
    expect(events[0]).toMatchObject({ name: 'ButtonPress', keycode: 3, x: 100, y: 50 });
    expect(events[1]).toMatchObject({ name: 'KeyPress', keycode: 24 }); // q on the US map
    expect(server.received.some((m) => m.type === 'control.revoke')).toBe(false);

    // The host's own hand: xdotool plays it. The agent revokes and stops injecting.
    await run('xdotool', ['mousemove', '50', '50'], { env: desktop.env() });
    await until(() => server.received.some((m) => m.type === 'control.revoke'), 'control.revoke');
    await until(() => c.controllerId === null, 'controller cleared');
    expect(status).toContain('You took control back.');
    const count = events.length;
    server.sendShare({ type: 'key', down: true, key: 'w', code: 'KeyW' });
    server.sendShare({ type: 'key', down: false, key: 'w', code: 'KeyW' });
    await sleep(200);
    expect(events.length).toBe(count);

    // Asked again later: the answer is remembered for the session.
    const grants = server.received.filter((m) => m.type === 'control.grant').length;
    server.sendConference({ type: 'control.requested', participantId: ALICE.id, name: ALICE.name, user: ALICE.user });
    await until(() => server.received.filter((m) => m.type === 'control.grant').length > grants, 'second grant');
    expect(asked.match(/asks to control/g)).toHaveLength(1);
    painter.conn.off('event', onEv);
    await painter.destroy(win);
  });

  it('denies control under --allow-control never, and ends when the meeting stops the share', async () => {
    server = new FakeBatonServer();
    await server.listen();
    const c = await start();
    await until(() => server.frames.length >= 1, 'the first frame');
    server.sendConference({ type: 'control.requested', participantId: ALICE.id, name: ALICE.name, user: ALICE.user });
    await until(() => server.received.some((m) => m.type === 'control.deny' && m.participantId === ALICE.id), 'control.deny');
    const closed = new Promise<string>((r) => c.on('closed', r));
    server.setShare(null);
    expect(await closed).toBe('the share was stopped in the meeting');
  });

  it('announces a resolution change with a new screen message and a full refresh', async () => {
    server = new FakeBatonServer();
    await server.listen();
    await start();
    await until(() => server.frames.length >= 1, 'the first frame');
    await run('xrandr', ['--newmode', '800x600_s', '40', '800', '840', '968', '1056', '600', '601', '605', '628'], { env: desktop.env() });
    await run('xrandr', ['--addmode', 'screen', '800x600_s'], { env: desktop.env() });
    try {
      await run('xrandr', ['--output', 'screen', '--mode', '800x600_s'], { env: desktop.env() });
      await until(() => server.shareMessages.some((m) => m.type === 'screen' && m.width === 800 && m.height === 600), 'the new screen');
      await canvasMatchesScreen('after the resolution change');
      expect(status.some((l) => l.includes('Shared area is now 800x600'))).toBe(true);
    } finally {
      await run('xrandr', ['--output', 'screen', '--mode', '1280x720'], { env: desktop.env() });
    }
    await until(() => server.canvas?.width === 1280, 'back to 1280x720');
    await canvasMatchesScreen('back at 1280x720');
  });

  it('reconnects the sharing socket with a fresh ticket when it drops', async () => {
    server = new FakeBatonServer();
    await server.listen();
    await start();
    await until(() => server.frames.length >= 1, 'the first frame');
    server.share!.terminate();
    await until(() => server.shareSockets === 2 && server.canvas !== null && server.frames.length >= 2, 'a second sharing socket', 8000);
    await canvasMatchesScreen('after reconnecting');
  });
});

/**
 * Recording on a real server (real sockets, SQLite, files, ffmpeg): who may start and stop it, what
 * everyone is told, what lands in the files (keyframes, live frames, chat, roster), who may read it
 * back, the video export, the size cap, a write error, deletion and retention.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  RecordKind,
  SHARE_PROTOCOL_VERSION,
  TileEncoding,
  decodeShareMessage,
  encodeShareMessage,
  readRecords,
  type ShareMessage,
} from '@baton/protocol';
import { TestClient, api, createConference, signUp, testServer } from './support.js';

const HAVE_FFMPEG = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(f: () => Promise<T> | T, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await delay(20);
  }
}

/** A browser-kind host on the sharing socket: sends whole-screen fills as frames. */
async function openHost(base: string, ticket: string): Promise<{ ws: WebSocket; seq: number; frame(c: [number, number, number], extra?: ShareMessage[]): void }> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/share`);
  await new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const send = (m: ShareMessage) => ws.send(encodeShareMessage(m));
  send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket });
  send({ type: 'screen', width: 512, height: 256, tileSize: 256 });
  const host = {
    ws,
    seq: 0,
    frame(c: [number, number, number], extra: ShareMessage[] = []) {
      send({ type: 'tile', x: 0, y: 0, w: 256, h: 256, encoding: TileEncoding.Fill, flags: 0, data: new Uint8Array(c) });
      send({ type: 'tile', x: 256, y: 0, w: 256, h: 256, encoding: TileEncoding.Fill, flags: 0, data: new Uint8Array([c[2], c[1], c[0]]) });
      for (const m of extra) send(m);
      send({ type: 'frame', seq: ++host.seq, time: Date.now() });
    },
  };
  return host;
}

async function meeting(opts: Parameters<typeof testServer>[0] = {}) {
  const srv = await testServer(opts);
  cleanups.push(() => srv.dispose());
  const alice = await signUp(srv.url, 'alice');
  const bob = await signUp(srv.url, 'bob');
  const conf = await createConference(srv.url, alice, { guests: 'lobby' }, 'Quarterly review');
  const a = new TestClient(srv.url, conf, { cookie: alice });
  await a.hello();
  await a.next('welcome');
  const b = new TestClient(srv.url, conf, { cookie: bob });
  await b.hello();
  await b.next('welcome');
  cleanups.push(() => (a.close(), b.close()));
  return { srv, alice, bob, conf, a, b };
}

describe('recording', () => {
  it('the organizer records a share and chat; everyone is told; only the organizer and whom they share with may read it', async () => {
    const { srv, alice, bob, conf, a, b } = await meeting();
    // A non-organizer cannot start it.
    const refused = await b.request({ type: 'recording.start' });
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });

    // Alice shares from her browser (kind browser) and paints red.
    expect((await a.request({ type: 'share.start', kind: 'browser' })).type).toBe('ack');
    const t = (await a.request({ type: 'share.ticket' })) as { ticket: string };
    const host = await openHost(srv.url, t.ticket);
    cleanups.push(() => host.ws.close());
    host.frame([200, 0, 0]);
    await until(() => srv.registry.get(conf).then((f) => f?.shareStats()?.framesIn ?? 0), (n) => n >= 1, 'the first frame');

    const started = await a.request({ type: 'recording.start' });
    expect(started.type).toBe('ack');
    const id = (started as { recordingId: string }).recordingId;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await b.next('recording.updated')).recording).toMatchObject({ id, by: 'Alice' });
    expect((await a.next('recording.updated')).recording?.id).toBe(id);
    expect((await a.request({ type: 'recording.start' })).type).toBe('error');

    // A guest in the lobby is told on arrival.
    const guest = new TestClient(srv.url, conf);
    cleanups.push(() => guest.close());
    await guest.hello({ name: 'Gina' });
    expect((await guest.next('lobby.wait')).recording?.id).toBe(id);

    await b.request({ type: 'chat.send', text: 'hello recording' });
    host.frame([0, 200, 0]);
    host.frame([0, 0, 200], [{ type: 'cursorPos', x: 10, y: 10, visible: true }]);
    await until(() => srv.registry.get(conf).then((f) => f?.shareStats()?.framesIn ?? 0), (n) => n >= 3, 'three frames');
    // A private message is not recorded.
    const bobId = (await srv.registry.get(conf))!.snapshot().roster.find((p) => p.user === 'bob')!.id;
    await a.request({ type: 'chat.send', text: 'secret for bob', to: bobId });

    expect((await b.request({ type: 'recording.stop' })).type).toBe('error');
    expect((await a.request({ type: 'recording.stop' })).type).toBe('ack');
    expect((await b.next('recording.updated')).recording).toBeNull();
    expect((await guest.next('recording.updated')).recording).toBeNull();

    // The organizer reads it back once it is finished.
    const rec = await until(() => api(srv.url, 'GET', `/api/recordings/${id}`, undefined, alice), (r) => r.body?.status === 'done', 'the recording to finish');
    expect(rec.body).toMatchObject({ subject: 'Quarterly review', organizer: 'alice', startedBy: 'alice', manage: true });
    const index = await api(srv.url, 'GET', `/api/recordings/${id}/index`, undefined, alice);
    expect(index.status).toBe(200);
    const { seekPoints, screenBytes, events } = index.body as { seekPoints: { t: number; offset: number; fresh?: boolean }[]; screenBytes: number; events: { type: string; message?: { text: string } }[] };
    expect(seekPoints[0]).toMatchObject({ offset: 0, fresh: true });
    expect(events.filter((e) => e.type === 'chat').map((e) => e.message!.text)).toEqual(['hello recording']);
    expect(events.map((e) => e.type)).toEqual(['roster', 'share', 'chat', 'end']);

    // The screen file: a keyframe (screen, tiles, frame: the red picture), then the live frames as the host sent them.
    const screen = await fetch(`${srv.url}/api/recordings/${id}/screen?from=0&to=${screenBytes}`, { headers: { cookie: alice } });
    const { records } = readRecords(new Uint8Array(await screen.arrayBuffer()));
    const key = records.filter((r) => r.kind === RecordKind.Keyframe).map((r) => decodeShareMessage(r.bytes));
    expect(key.map((m) => m.type)).toEqual(['screen', 'tile', 'tile', 'frame']);
    expect(key[1]).toMatchObject({ type: 'tile', data: new Uint8Array([200, 0, 0]) });
    const live = records.filter((r) => r.kind === RecordKind.Live).map((r) => decodeShareMessage(r.bytes));
    expect(live.filter((m) => m.type === 'frame').map((m) => (m as { seq: number }).seq)).toEqual([2, 3]);
    expect(live.some((m) => m.type === 'cursorPos')).toBe(true);
    const times = records.map((r) => r.t);
    expect([...times].sort((x, y) => x - y)).toEqual(times);

    // Bob may not see it until Alice shares it with him; then he may not manage it.
    expect((await api(srv.url, 'GET', `/api/recordings/${id}`, undefined, bob)).status).toBe(404);
    expect((await api(srv.url, 'GET', `/api/recordings/${id}/index`, undefined, bob)).status).toBe(404);
    expect((await api(srv.url, 'POST', `/api/recordings/${id}/shares`, { users: ['alice'] }, bob)).status).toBe(404);
    expect((await api(srv.url, 'POST', `/api/recordings/${id}/shares`, { users: ['nobody'] }, alice)).status).toBe(404);
    const shared = await api(srv.url, 'POST', `/api/recordings/${id}/shares`, { users: ['bob'] }, alice);
    expect(shared.body.sharedWith).toEqual(['bob']);
    expect((await api(srv.url, 'GET', `/api/recordings/${id}`, undefined, bob)).body).toMatchObject({ manage: false, sharedWith: [] });
    expect((await api(srv.url, 'GET', '/api/recordings', undefined, bob)).body.recordings.map((r: { id: string }) => r.id)).toEqual([id]);
    expect((await api(srv.url, 'DELETE', `/api/recordings/${id}`, undefined, bob)).status).toBe(403);
    expect((await api(srv.url, 'POST', `/api/recordings/${id}/exports`, { format: 'mkv' }, bob)).status).toBe(403);
    expect((await api(srv.url, 'GET', `/api/recordings/${id}`)).status).toBe(401);
    expect((await api(srv.url, 'DELETE', `/api/recordings/${id}/shares/bob`, undefined, alice)).status).toBe(204);
    expect((await api(srv.url, 'GET', `/api/recordings/${id}`, undefined, bob)).status).toBe(404);

    // Deleting takes the files and the row.
    const dir = path.join(srv.dataDir, 'recordings', id);
    expect(existsSync(dir)).toBe(true);
    expect((await api(srv.url, 'DELETE', `/api/recordings/${id}`, undefined, alice)).status).toBe(204);
    expect(existsSync(dir)).toBe(false);
    expect((await api(srv.url, 'GET', `/api/recordings/${id}`, undefined, alice)).status).toBe(404);
  }, 60_000);

  it.skipIf(!HAVE_FFMPEG)('exports to a lossless video whose frame at a time is the picture the viewers had then', async () => {
    const { srv, alice, conf, a } = await meeting();
    await a.request({ type: 'share.start', kind: 'browser' });
    const host = await openHost(srv.url, ((await a.request({ type: 'share.ticket' })) as { ticket: string }).ticket);
    cleanups.push(() => host.ws.close());
    host.frame([250, 10, 10]);
    await until(() => srv.registry.get(conf).then((f) => f?.shareStats()?.framesIn ?? 0), (n) => n >= 1, 'the first frame');
    const id = ((await a.request({ type: 'recording.start' })) as { recordingId: string }).recordingId;
    // The picture changes once, after a moment in the recording; the export shows red before and green after.
    await delay(1200);
    host.frame([10, 250, 10]);
    await until(() => srv.registry.get(conf).then((f) => f?.shareStats()?.framesIn ?? 0), (n) => n >= 2, 'the second frame');
    await delay(800);
    await a.request({ type: 'recording.stop' });
    await until(() => api(srv.url, 'GET', `/api/recordings/${id}`, undefined, alice), (r) => r.body?.status === 'done', 'the recording to finish');
    const events = (await api(srv.url, 'GET', `/api/recordings/${id}/index`, undefined, alice)).body;
    const screen = new Uint8Array(await (await fetch(`${srv.url}/api/recordings/${id}/screen?from=0&to=${events.screenBytes}`, { headers: { cookie: alice } })).arrayBuffer());
    const changeAt = readRecords(screen).records.find((r) => r.kind === RecordKind.Live && decodeShareMessage(r.bytes).type === 'frame')!.t;

    expect((await api(srv.url, 'POST', `/api/recordings/${id}/exports`, { format: 'mkv' }, alice)).status).toBe(202);
    const done = await until(() => api(srv.url, 'GET', `/api/recordings/${id}/exports/mkv`, undefined, alice), (r) => r.body?.status !== 'running', 'the export', 60_000);
    expect(done.body).toMatchObject({ status: 'done', progress: 1 });
    const file = await fetch(`${srv.url}/api/recordings/${id}/exports/mkv/file`, { headers: { cookie: alice } });
    expect(file.headers.get('content-type')).toBe('video/x-matroska');
    const video = Buffer.from(await file.arrayBuffer());
    const pixelAt = (ms: number): number[] => {
      const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-ss', (ms / 1000).toFixed(3), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: video });
      const at = (x: number, y: number) => [...out.subarray((y * 512 + x) * 3, (y * 512 + x) * 3 + 3)];
      return [...at(100, 100), ...at(400, 100)];
    };
    // Lossless: exactly the host's fills (left tile the colour, right tile its reverse).
    expect(pixelAt(Math.max(0, changeAt - 500))).toEqual([250, 10, 10, 10, 10, 250]);
    expect(pixelAt(changeAt + 300)).toEqual([10, 250, 10, 10, 250, 10]);
  }, 120_000);

  it.skipIf(!HAVE_FFMPEG)('a share that grows mid-recording is exported at the largest size (padded, never clipped), with the cursor drawn', async () => {
    const { srv, alice, conf, a } = await meeting();
    await a.request({ type: 'share.start', kind: 'browser' });
    const host = await openHost(srv.url, ((await a.request({ type: 'share.ticket' })) as { ticket: string }).ticket);
    cleanups.push(() => host.ws.close());
    const send = (m: ShareMessage) => host.ws.send(encodeShareMessage(m));
    // A 4x4 cursor, opaque blue, hotspot at its centre.
    send({ type: 'cursorShape', w: 4, h: 4, hotX: 2, hotY: 2, rgba: new Uint8Array(Array.from({ length: 16 }, () => [0, 0, 255, 255]).flat()) });
    send({ type: 'cursorPos', x: 50, y: 60, visible: true });
    host.frame([250, 10, 10]);
    await until(() => srv.registry.get(conf).then((f) => f?.shareStats()?.framesIn ?? 0), (n) => n >= 1, 'the first frame');
    const id = ((await a.request({ type: 'recording.start' })) as { recordingId: string }).recordingId;
    await delay(1200);
    // The host's screen grows to 768x384, all green; the cursor moves.
    send({ type: 'screen', width: 768, height: 384, tileSize: 256 });
    for (let y = 0; y < 384; y += 256)
      for (let x = 0; x < 768; x += 256) send({ type: 'tile', x, y, w: 256, h: Math.min(256, 384 - y), encoding: TileEncoding.Fill, flags: 0, data: new Uint8Array([10, 250, 10]) });
    send({ type: 'cursorPos', x: 700, y: 350, visible: true });
    send({ type: 'frame', seq: ++host.seq, time: Date.now() });
    await until(() => srv.registry.get(conf).then((f) => f?.shareStats()?.framesIn ?? 0), (n) => n >= 2, 'the bigger frame');
    await delay(800);
    await a.request({ type: 'recording.stop' });
    await until(() => api(srv.url, 'GET', `/api/recordings/${id}`, undefined, alice), (r) => r.body?.status === 'done', 'the recording to finish');
    const index = (await api(srv.url, 'GET', `/api/recordings/${id}/index`, undefined, alice)).body;
    const screen = new Uint8Array(await (await fetch(`${srv.url}/api/recordings/${id}/screen?from=0&to=${index.screenBytes}`, { headers: { cookie: alice } })).arrayBuffer());
    const grownAt = readRecords(screen).records.find((r) => decodeShareMessage(r.bytes).type === 'screen' && (decodeShareMessage(r.bytes) as { width: number }).width === 768)!.t;

    expect((await api(srv.url, 'POST', `/api/recordings/${id}/exports`, { format: 'mkv' }, alice)).status).toBe(202);
    const done = await until(() => api(srv.url, 'GET', `/api/recordings/${id}/exports/mkv`, undefined, alice), (r) => r.body?.status !== 'running', 'the export', 60_000);
    expect(done.body).toMatchObject({ status: 'done' });
    const video = Buffer.from(await (await fetch(`${srv.url}/api/recordings/${id}/exports/mkv/file`, { headers: { cookie: alice } })).arrayBuffer());
    const size = execFileSync('ffprobe', ['-hide_banner', '-loglevel', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', 'pipe:0'], { input: video }).toString().trim();
    expect(size).toBe('768,384');
    const frameAt = (ms: number) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-ss', (ms / 1000).toFixed(3), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: video });
    const at = (f: Buffer, x: number, y: number) => [...f.subarray((y * 768 + x) * 3, (y * 768 + x) * 3 + 3)];
    const before = frameAt(Math.max(0, grownAt - 500));
    expect(at(before, 100, 100)).toEqual([250, 10, 10]); // the small screen, top-left
    expect(at(before, 600, 300)).toEqual([0, 0, 0]); // padding around it
    expect(at(before, 50, 60)).toEqual([0, 0, 255]); // the cursor, at its hotspot
    expect(at(before, 53, 60)).toEqual([250, 10, 10]); // just past it: the picture
    const after = frameAt(grownAt + 300);
    expect(at(after, 100, 100)).toEqual([10, 250, 10]);
    expect(at(after, 760, 380)).toEqual([10, 250, 10]); // the grown part is there, not clipped
    expect(at(after, 700, 350)).toEqual([0, 0, 255]); // the cursor moved with it
    expect(at(after, 50, 60)).toEqual([10, 250, 10]);
  }, 120_000);

  it('stops at its size cap with a notice to everyone; the meeting goes on', async () => {
    const { srv, alice, conf, a, b } = await meeting({ recording: { maxBytes: 4000, retentionDays: null } });
    await a.request({ type: 'share.start', kind: 'browser' });
    const host = await openHost(srv.url, ((await a.request({ type: 'share.ticket' })) as { ticket: string }).ticket);
    cleanups.push(() => host.ws.close());
    host.frame([1, 2, 3]);
    await until(() => srv.registry.get(conf).then((f) => f?.shareStats()?.framesIn ?? 0), (n) => n >= 1, 'the first frame');
    const id = ((await a.request({ type: 'recording.start' })) as { recordingId: string }).recordingId;
    expect((await b.next('recording.updated')).recording?.id).toBe(id);
    for (let i = 0; i < 200; i++) host.frame([i, i, i]);
    const notice = await b.next('notice', (n) => n.code === 'recording.stopped', 20_000);
    expect(notice.text).toContain('size limit');
    expect((await b.next('recording.updated')).recording).toBeNull();
    const rec = await until(() => api(srv.url, 'GET', `/api/recordings/${id}`, undefined, alice), (r) => r.body?.status !== 'recording', 'the recording to finish');
    expect(rec.body.status).toBe('failed');
    expect(rec.body.note).toContain('size limit');
    expect(rec.body.bytes).toBeLessThanOrEqual(4000);
    // The meeting is fine: chat still flows.
    expect((await b.request({ type: 'chat.send', text: 'still here' })).type).toBe('ack');
  }, 60_000);

  it('the policy can forbid recording; retention deletes old recordings', async () => {
    const { srv, alice, conf, a } = await meeting({ recording: { maxBytes: 1 << 20, retentionDays: 1 } });
    const id = ((await a.request({ type: 'recording.start' })) as { recordingId: string }).recordingId;
    // Turning the policy off stops the recording in progress.
    await a.request({ type: 'policy.update', policy: { recording: 'off' } });
    expect((await a.next('notice', (n) => n.code === 'recording.stopped')).text).toContain('policy');
    expect(await a.request({ type: 'recording.start' })).toMatchObject({ type: 'error', code: 'policy' });
    await until(() => api(srv.url, 'GET', `/api/recordings/${id}`, undefined, alice), (r) => r.body?.status !== 'recording', 'the recording to finish');
    expect(await srv.recordings.sweep(Date.now())).toBe(0);
    expect(await srv.recordings.sweep(Date.now() + 2 * 86_400_000)).toBe(1);
    expect((await api(srv.url, 'GET', `/api/recordings/${id}`, undefined, alice)).status).toBe(404);
    expect(readdirSync(path.join(srv.dataDir, 'recordings'))).toEqual([]);
    void conf;
  }, 60_000);
});

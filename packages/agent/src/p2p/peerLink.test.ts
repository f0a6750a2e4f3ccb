/**
 * PeerLink and SharePaths with real WebRTC: node-datachannel on both ends (the viewer's end is a
 * plain PeerConnection answering like the browser does), signalled in-process. SharePaths gets an
 * in-test conference that relays p2p.signal to that answerer and records what the host sends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ndc from 'node-datachannel';
import {
  SHARE_DATACHANNEL_LABEL,
  SHARE_DATACHANNEL_PROTOCOL,
  decodeShareMessage,
  encodeShareMessage,
  type ClientMessage,
  type Participant,
  type ShareMessage,
  type ShareState,
  type SignalData,
} from '@baton/protocol';
import type { ShareTransport } from '../ShareTransport.js';
import type { PassStats } from '../ShareSession.js';
import { PeerLink } from './PeerLink.js';
import { SharePaths } from './SharePaths.js';
import { ChunkJoiner } from '@baton/protocol';
import type { DataChannelTransport } from './DataChannelTransport.js';

const live: Array<{ close(): void }> = [];
afterAll(async () => {
  for (const x of live) x.close();
  await sleep(50);
  ndc.cleanup();
});

async function until<T>(fn: () => T, what: string | (() => string), ms = 8000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(10);
  }
}

/** The viewer's end: answers an offer, trickles candidates, collects frames from the channel. */
class Answerer {
  readonly pc = new ndc.PeerConnection('viewer', { iceServers: [] });
  channel: ndc.DataChannel | null = null;
  label = '';
  protocol = '';
  frames: ShareMessage[] = [];
  closed = false;
  dropCandidates = false;
  #joiner = new ChunkJoiner();
  constructor(send: (data: SignalData) => void) {
    this.pc.onLocalDescription((sdp, type) => type === 'answer' && send({ kind: 'description', type, sdp }));
    this.pc.onLocalCandidate((candidate, mid) => !this.dropCandidates && send({ kind: 'candidate', candidate, mid }));
    this.pc.onDataChannel((dc) => {
      this.channel = dc;
      this.label = dc.getLabel();
      this.protocol = dc.getProtocol();
      dc.onMessage((m) => {
        if (typeof m === 'string') return;
        const whole = this.#joiner.push(new Uint8Array(m as Buffer));
        if (whole) this.frames.push(decodeShareMessage(whole));
      });
      dc.onClosed(() => (this.closed = true));
    });
    live.push(this);
  }
  apply(data: SignalData): void {
    if (data.kind === 'description') this.pc.setRemoteDescription(data.sdp, data.type);
    else if (data.kind === 'candidate' && !this.dropCandidates) this.pc.addRemoteCandidate(data.candidate, data.mid);
  }
  send(msg: ShareMessage): void {
    this.channel!.sendMessageBinary(encodeShareMessage(msg));
  }
  close(): void {
    // The channel too, not only the PeerConnection: see PeerLink's constructor on node-datachannel's registry.
    for (const c of [this.channel, this.pc]) {
      try {
        c?.close();
      } catch {
        /* closed */
      }
    }
  }
}

describe('PeerLink (node-datachannel on both ends)', () => {
  it('opens a baton-share channel, carries frames both ways, and chunks a frame larger than the message size', async () => {
    let answerer: Answerer | null = null;
    const link = new PeerLink({ ndc, peerId: 'p-viewer', iceServers: [] });
    live.push(link);
    const signals: SignalData[] = [];
    link.on('signal', (d) => {
      signals.push(d);
      answerer!.apply(d);
    });
    answerer = new Answerer((d) => link.apply(d));
    let transport: DataChannelTransport | null = null;
    link.on('open', (t) => (transport = t));
    const failures: string[] = [];
    link.on('failed', (r) => failures.push(r));
    const t = await until(() => transport, 'the channel to open');
    expect(signals[0]).toMatchObject({ kind: 'description', type: 'offer' });
    expect(signals.some((s) => s.kind === 'candidate')).toBe(true);
    expect(link.openMs).toBeGreaterThan(0);
    expect(link.route()).toMatch(/host/);
    await until(() => answerer!.channel, 'the viewer to see the channel');
    expect(answerer.label).toBe(SHARE_DATACHANNEL_LABEL);
    expect(answerer.protocol).toBe(SHARE_DATACHANNEL_PROTOCOL);

    // A 400 KB tile (above the 256 KiB message size) arrives whole after a small one.
    const big = new Uint8Array(400_000).map((_, i) => i & 0xff);
    t.send(encodeShareMessage({ type: 'screen', width: 640, height: 480, tileSize: 64 }));
    t.send(encodeShareMessage({ type: 'tile', x: 0, y: 0, w: 64, h: 64, encoding: 4, flags: 0, data: big }));
    t.send(encodeShareMessage({ type: 'frame', seq: 1, time: 123 }));
    await until(() => answerer!.frames.length >= 3, 'three frames');
    expect(answerer.frames.map((f) => f.type)).toEqual(['screen', 'tile', 'frame']);
    const got = answerer.frames[1] as Extract<ShareMessage, { type: 'tile' }>;
    expect(Buffer.from(got.data).equals(Buffer.from(big))).toBe(true);
    expect(t.chunked).toBe(1);

    const received: ShareMessage[] = [];
    t.onMessage = (b) => received.push(decodeShareMessage(b));
    answerer.send({ type: 'ack', seq: 1 });
    await until(() => received.length, 'the ack');
    expect(received[0]).toEqual({ type: 'ack', seq: 1 });

    // The viewer goes away: the link reports it once and closes.
    answerer.close();
    await until(() => failures.length, 'the failure');
    expect(failures).toEqual(['the direct channel closed']);
    expect(link.open).toBe(false);
  });

  it('fails when the peer does not answer, and when the channel does not open after the answer', async () => {
    const silent = new PeerLink({ ndc, peerId: 'p-silent', iceServers: [], answerTimeoutMs: 300 });
    live.push(silent);
    const r1 = await new Promise<string>((resolve) => silent.on('failed', resolve));
    expect(r1).toBe('the peer did not answer in time');

    // Candidates lost both ways: ICE has nothing to try, the 600 ms connect limit fires.
    let answerer: Answerer | null = null;
    const stuck = new PeerLink({ ndc, peerId: 'p-stuck', iceServers: [], connectTimeoutMs: 600 });
    live.push(stuck);
    stuck.on('signal', (d) => d.kind !== 'candidate' && answerer!.apply(d));
    answerer = new Answerer((d) => stuck.apply(d));
    answerer.dropCandidates = true;
    // Which limit ended it is in the reason (not the 30 s answer limit): no wall-clock bound needed.
    const r2 = await new Promise<string>((resolve) => stuck.on('failed', resolve));
    expect(r2).toMatch(/did not open within 600 ms|ICE failed|connection failed/);
  });

  it('sends its candidates only once the answer is applied, and names a DTLS failure as such', async () => {
    // A browser checks as soon as it has our candidates; reaching us before its answer did, it made
    // libdatachannel's ICE connect inside setRemoteDescription, and DTLS then verified the browser's
    // certificate before the answer's fingerprint was stored ("DTLS alert: unknown CA") under load.
    let answerer: Answerer | null = null;
    let answer: SignalData | null = null;
    const link = new PeerLink({ ndc, peerId: 'p-held', iceServers: [] });
    live.push(link);
    const signals: SignalData[] = [];
    link.on('signal', (d) => {
      signals.push(d);
      answerer!.apply(d);
    });
    answerer = new Answerer((d) => (d.kind === 'description' ? (answer = d) : link.apply(d)));
    await until(() => answer && link.heldCandidates > 0, 'the answer and our gathered candidates');
    expect(signals.map((s) => s.kind)).toEqual(['description']);
    expect((signals[0] as { sdp: string }).sdp).not.toMatch(/a=candidate/);
    let opened = false;
    link.on('open', () => (opened = true));
    link.apply(answer!);
    expect(link.heldCandidates).toBe(0);
    expect(signals.filter((s) => s.kind === 'candidate').length).toBeGreaterThan(0);
    await until(() => opened, 'the channel to open');

    // An answer whose fingerprint is not the certificate's: ICE connects, DTLS refuses it.
    let answerer2: Answerer | null = null;
    const bad = new PeerLink({ ndc, peerId: 'p-dtls', iceServers: [] });
    live.push(bad);
    bad.on('signal', (d) => answerer2!.apply(d));
    answerer2 = new Answerer((d) => {
      if (d.kind === 'description') d = { ...d, sdp: d.sdp.replace(/(a=fingerprint:\S+ )([0-9A-F])/, (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')) };
      bad.apply(d);
    });
    const reason = await new Promise<string>((resolve) => bad.on('failed', resolve));
    expect(reason).toBe('the DTLS handshake failed');
  });

  it('leaves nothing dangling in node-datachannel: cleanup() after links that never opened were collected exits cleanly', () => {
    // In a child process with --expose-gc, on the built module: before the fix this crashed (SIGSEGV,
    // SIGBUS, abort) or hung in cleanup(), which is what Vitest reported as "Worker exited unexpectedly".
    const script = [
      "import * as ndc from 'node-datachannel';",
      "import { PeerLink } from './dist/p2p/PeerLink.js';",
      "for (let i = 0; i < 8; i++) new PeerLink({ ndc, peerId: 'p' + i, iceServers: [] }).close();",
      'await new Promise((r) => setTimeout(r, 100));',
      'for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }',
      'ndc.cleanup();',
      "console.log('cleanup returned');",
    ].join('\n');
    const agentDir = fileURLToPath(new URL('../..', import.meta.url));
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: agentDir, encoding: 'utf8', timeout: 25_000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr.slice(-500) }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(r.stdout).toContain('cleanup returned');
  });
});

class RecordingTransport implements ShareTransport {
  onMessage: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((code: number, reason: string) => void) | null = null;
  bufferedAmount = 0;
  sent: ShareMessage[] = [];
  send(bytes: Uint8Array): void {
    this.sent.push(decodeShareMessage(bytes));
  }
  close(code = 1000, reason = ''): void {
    this.onClose?.(code, reason);
  }
}

const person = (id: string, client: 'agent' | 'web' = 'web'): Participant => ({ id, name: id, role: 'attendee', user: null, status: 'joined', connection: 'online', client });
const share = (transport: 'server' | 'p2p'): ShareState => ({ hostId: 'p-host', kind: 'agent', controllerId: null, requests: [], transport });

describe('SharePaths (the host side of p2p and escalation)', () => {
  /**
   * `connectTimeoutMs` defaults to the agent's own (5 s). Between two node-datachannel ends the channel
   * often opens only after ~1 s: libdatachannel (0.24.5) strands a ClientHello that arrived before its
   * DTLS transport started, and the handshake waits for the client's 1 s DTLS retransmission. A limit
   * under that is only for the tests where the channel must not open. Likewise `answerTimeoutMs` (the
   * agent's: 30 s): a short one only where nobody answers.
   */
  function rig(opts: { answer?: boolean; unreachable?: boolean; connectTimeoutMs?: number; answerTimeoutMs?: number } = {}) {
    const sent: ClientMessage[] = [];
    let answerer: Answerer | null = null;
    let refreshes = 0;
    let paths: SharePaths | null = null;
    const conference = {
      selfId: 'p-host',
      welcome: { iceServers: [] },
      send(msg: ClientMessage) {
        sent.push(msg);
        if (msg.type === 'p2p.signal' && opts.answer !== false) {
          // A new offer is a new attempt: the viewer starts over, as the web client's PeerAnswerer does.
          if (msg.data.kind === 'description') answerer = null;
          answerer ??= new Answerer((d) => paths!.onSignal('p-viewer', d));
          answerer.dropCandidates = opts.unreachable === true;
          answerer.apply(msg.data);
        }
      },
      async request(msg: ClientMessage) {
        sent.push(msg);
        return { type: 'ack' as const, iceServers: [] };
      },
    };
    paths = new SharePaths({
      conference: conference as never,
      ndc,
      refresh: () => refreshes++,
      controllerId: () => null,
      settleMs: 100,
      answerTimeoutMs: opts.answerTimeoutMs,
      connectTimeoutMs: opts.connectTimeoutMs,
      retireTimeoutMs: 5000,
    });
    live.push(paths);
    const server = new RecordingTransport();
    const sw = paths.attach(server);
    return { paths, sw, server, sent, refreshes: () => refreshes, answerer: () => answerer };
  }

  it('streams to the peer once the channel opens, escalates at once to the server on a third joiner, and closes the channel after the refresh', async () => {
    const { paths, sw, server, sent, refreshes, answerer } = rig();
    const host = person('p-host', 'agent');
    paths.update(share('server'), [host]);
    expect(sw.active).toBeNull(); // alone: nobody to serve
    paths.update(share('server'), [host, person('p-viewer')]);
    paths.update(share('p2p'), [host, person('p-viewer')]); // the Focus says p2p right after the join
    expect(sent.some((m) => m.type === 'ice.refresh')).toBe(true); // asked for at once, before the offer
    // Well past the link's own limits, so that a failure is reported by the link (in the timeline) first.
    await until(() => sw.active === 'peer', () => `the switch to the peer; ${JSON.stringify(paths.timeline)}`, 20_000);
    expect(refreshes()).toBe(1);
    sw.send(encodeShareMessage({ type: 'screen', width: 128, height: 64, tileSize: 64 }));
    sw.send(encodeShareMessage({ type: 'frame', seq: 1, time: 1 }));
    await until(() => answerer()!.frames.length >= 2, 'frames on the channel');
    expect(server.sent).toEqual([]); // the relay got nothing

    // A third participant: the Focus escalates; the host switches without waiting.
    const paths2: string[] = [];
    paths.on('path', (to) => paths2.push(String(to)));
    paths.update(share('p2p'), [host, person('p-viewer'), person('p-third')]);
    expect(sw.active).toBe('peer');
    paths.update(share('server'), [host, person('p-viewer'), person('p-third')]);
    expect(paths.escalated).toBe(true);
    expect(sw.active).toBe('server');
    expect(paths2).toEqual(['server']);
    expect(refreshes()).toBe(2);
    expect(server.sent.map((m) => m.type)).toEqual(['screen']); // replayed first; the refresh pass follows
    // The channel stays until the full pass has gone out on the server socket.
    await sleep(100);
    expect(answerer()!.closed).toBe(false);
    paths.noteFrame({ tiles: 2 } as PassStats);
    await until(() => answerer()!.closed, 'the channel to close');
    expect(sent.some((m) => m.type === 'p2p.signal' && m.data.kind === 'failed')).toBe(false);
    // Never back: the Focus would not say p2p again, and the host would not follow.
    paths.update(share('server'), [host, person('p-viewer')]);
    expect(sw.active).toBe('server');
  });

  it('tells the Focus when the direct path fails, and goes to the server', async () => {
    const { paths, sw, sent } = rig({ answer: false, answerTimeoutMs: 400 });
    const host = person('p-host', 'agent');
    paths.update(share('p2p'), [host, person('p-viewer')]);
    await until(() => sent.some((m) => m.type === 'p2p.signal' && m.data.kind === 'failed'), 'the failed signal');
    const failed = sent.find((m) => m.type === 'p2p.signal' && m.data.kind === 'failed');
    expect(failed).toMatchObject({ to: 'p-viewer', data: { reason: 'the peer did not answer in time' } });
    expect(paths.escalated).toBe(true);
    expect(sw.active).toBe('server');
  });

  it('after an answer, tries a fresh offer once when the channel does not open, then tells the Focus', async () => {
    const { paths, sw, sent } = rig({ unreachable: true, connectTimeoutMs: 600 });
    const host = person('p-host', 'agent');
    paths.update(share('p2p'), [host, person('p-viewer')]);
    await until(() => sent.some((m) => m.type === 'p2p.signal' && m.data.kind === 'failed'), 'the failed signal');
    const offers = sent.filter((m) => m.type === 'p2p.signal' && m.data.kind === 'description');
    expect(offers).toHaveLength(2); // the first attempt and one retry, no more
    expect(sent.filter((m) => m.type === 'ice.refresh')).toHaveLength(2); // fresh TURN credentials for each
    expect(paths.escalated).toBe(true);
    expect(sw.active).toBe('server');
  });

  it('waits, when someone joins a lone host, for a possible p2p decision before streaming to the server', async () => {
    const { paths, sw } = rig();
    const host = person('p-host', 'agent');
    paths.update(share('server'), [host]);
    paths.update(share('server'), [host, person('p-old-browser')]);
    expect(sw.active).toBeNull();
    await until(() => sw.active === 'server', 'the server path after settling');
  });
});

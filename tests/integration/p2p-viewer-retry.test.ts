/**
 * The two ends of a direct path together, with real WebRTC: the agent's SharePaths (host) and the web
 * client's PeerAnswerer (viewer), the latter on node-datachannel's RTCPeerConnection polyfill in place
 * of the browser's. Signals go through an in-test relay that plays the Focus (it escalates on a
 * `failed` signal) and can spoil an answer's DTLS fingerprint, so that an attempt fails both ways.
 *
 * What is checked is the state machine across both: a failed attempt is retried once on the host's
 * fresh offer, the viewer does not pre-empt that retry by reporting the failure, and it reports it
 * itself only when the host goes quiet.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ndc from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import type { ClientMessage, Participant, ServerMessage, ShareState, SignalData } from '@baton/protocol';
import { PeerAnswerer, type AnswererState, type P2PConference } from '../../packages/web/src/p2p/PeerAnswerer';
import type { ShareTransport } from '../../packages/agent/src/ShareTransport.js';
import { PeerLink } from '../../packages/agent/src/p2p/PeerLink.js';
import { SharePaths } from '../../packages/agent/src/p2p/SharePaths.js';

const live: Array<{ close(): void }> = [];
afterAll(async () => {
  for (const x of live) x.close();
  await sleep(50);
  ndc.cleanup();
});

async function until<T>(fn: () => T, what: string | (() => string), ms = 20_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(10);
  }
}

class NullTransport implements ShareTransport {
  onMessage: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((code: number, reason: string) => void) | null = null;
  open = true;
  bufferedAmount = 0;
  send(): void {}
  close(): void {
    this.open = false;
  }
}

const person = (id: string, client: 'agent' | 'web' = 'web'): Participant => ({ id, name: id, role: 'attendee', user: null, status: 'joined', connection: 'online', client });
const share = (transport: 'server' | 'p2p'): ShareState => ({ hostId: 'p-host', kind: 'agent', controllerId: null, requests: [], transport });
/** The same answer with a fingerprint that is not its certificate's: ICE connects, DTLS fails on both ends. */
const spoil = (sdp: string) => sdp.replace(/(a=fingerprint:\S+ )([0-9A-F])/, (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'));

/** The viewer's conference, as PeerAnswerer sees it; `deliver` hands it a message from the host. */
function viewerConference(toHost: (data: SignalData) => void) {
  const listeners = new Set<(m: ServerMessage) => void>();
  const conference: P2PConference = {
    send: (m) => toHost(m.data),
    on: (_e, l) => (listeners.add(l), () => listeners.delete(l)),
    snapshot: { iceServers: [] },
  };
  // Asynchronous, as over a socket.
  const deliver = (data: SignalData) => setImmediate(() => listeners.forEach((l) => l({ type: 'p2p.signal', from: 'p-host', data } as ServerMessage)));
  return { conference, deliver };
}

function rig(spoiledAnswers: number) {
  const host = person('p-host', 'agent');
  const others = [host, person('p-viewer')];
  const viewerSent: SignalData[] = [];
  const offers: string[] = [];
  let spoilLeft = spoiledAnswers;
  let paths: SharePaths | null = null;
  const { conference, deliver } = viewerConference((data) => {
    viewerSent.push(data);
    if (data.kind === 'description' && spoilLeft > 0) {
      spoilLeft--;
      data = { ...data, sdp: spoil(data.sdp) };
    }
    setImmediate(() => {
      paths!.onSignal('p-viewer', data);
      // The Focus moves the share to the server on a failed signal.
      if (data.kind === 'failed') paths!.update(share('server'), others);
    });
  });
  const hostConference = {
    selfId: 'p-host',
    welcome: { iceServers: [] },
    send(msg: ClientMessage) {
      if (msg.type !== 'p2p.signal') return;
      if (msg.data.kind === 'description') offers.push(msg.data.type);
      deliver(msg.data);
      if (msg.data.kind === 'failed') setImmediate(() => paths!.update(share('server'), others));
    },
    async request() {
      return { type: 'ack' as const, iceServers: [] };
    },
  };
  paths = new SharePaths({ conference: hostConference as never, ndc, refresh: () => {}, controllerId: () => null, settleMs: 100, retireTimeoutMs: 5000 });
  live.push(paths);
  const sw = paths.attach(new NullTransport());
  const answerer = new PeerAnswerer({ conference, hostId: 'p-host', RTCPeerConnection: RTCPeerConnection as unknown as typeof globalThis.RTCPeerConnection });
  live.push(answerer);
  const states: AnswererState[] = [];
  answerer.on('state', (s) => states.push(s));
  answerer.start();
  paths.update(share('p2p'), others);
  return { paths, sw, answerer, states, viewerSent, offers };
}

describe('a failed direct attempt: the host offers once more and the viewer follows (SharePaths + PeerAnswerer, real WebRTC)', () => {
  it('the first attempt fails in DTLS on both ends; the host offers again, the viewer answers it, and the channel opens', async () => {
    const { paths, sw, answerer, states, viewerSent, offers } = rig(1);
    await until(() => sw.active === 'peer', () => `the peer path; host ${JSON.stringify(paths.timeline)}; viewer ${states.join(' ')} ${answerer.failures.join('; ')}`);
    expect(offers).toEqual(['offer', 'offer']);
    expect(paths.timeline.some((e) => e.event === 'direct path failed: the DTLS handshake failed')).toBe(true);
    expect(answerer.attempts).toBe(2);
    // Either end may see the failure first: the host's fresh offer can replace the attempt before the viewer does.
    expect(answerer.failures.length).toBeLessThanOrEqual(1);
    if (answerer.failures.length) expect(states).toContain('retrying');
    expect(answerer.state).toBe('open');
    // The viewer never reported the failed attempt: the share was never moved to the server.
    expect(viewerSent.some((d) => d.kind === 'failed')).toBe(false);
    expect(paths.escalated).toBe(false);
  });

  it('when the retry fails too, the host gives up and says so; the viewer ends without a report of its own', async () => {
    const { paths, sw, answerer, viewerSent, offers } = rig(2);
    await until(() => answerer.state === 'failed', () => `the viewer to give up; host ${JSON.stringify(paths.timeline)}`);
    expect(answerer.reason).toMatch(/^the host gave up: the DTLS handshake failed/);
    expect(offers).toEqual(['offer', 'offer']);
    expect(viewerSent.some((d) => d.kind === 'failed')).toBe(false);
    expect(paths.escalated).toBe(true);
    expect(sw.active).toBe('server');
  });

  it('when the host goes quiet after a failed attempt, the viewer reports the failure itself', async () => {
    // A bare link: it fails like the host's would, but nobody offers again or gives up.
    const sent: SignalData[] = [];
    let link: PeerLink | null = null;
    const { conference, deliver } = viewerConference((data) => {
      sent.push(data);
      if (data.kind === 'description') data = { ...data, sdp: spoil(data.sdp) };
      setImmediate(() => link!.apply(data));
    });
    const answerer = new PeerAnswerer({ conference, hostId: 'p-host', retryWaitMs: 500, RTCPeerConnection: RTCPeerConnection as unknown as typeof globalThis.RTCPeerConnection });
    live.push(answerer);
    answerer.start();
    link = new PeerLink({ ndc, peerId: 'p-viewer', iceServers: [] });
    live.push(link);
    link.on('signal', deliver);
    const hostFailure = new Promise<string>((resolve) => link!.on('failed', resolve));
    await until(() => answerer.state === 'failed', 'the viewer to give up');
    expect(answerer.failures).toEqual(['the DTLS handshake failed']);
    expect(await hostFailure).toBe('the DTLS handshake failed');
    const failed = sent.find((d) => d.kind === 'failed');
    expect(failed).toMatchObject({ kind: 'failed' });
    expect((failed as { reason: string }).reason).toMatch(/the host did not offer again within 500 ms/);
  });
});

/**
 * Clipboard frames through the real relay (real server, real sockets, the protocol by hand): text from a
 * viewer reaches the host only when that viewer is the controller (else it is dropped and counted), the
 * host's text reaches the controller and no other viewer, and oversized text is a protocol error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SHARE_LIMITS, SHARE_PROTOCOL_VERSION, TileEncoding, decodeShareMessage, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TestClient, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';
import type { AppShareServer } from '../src/sharing/AppShareServer.js';

/** A sharing socket that records every decoded frame and can wait for one. */
class SharePeer {
  readonly ws: WebSocket;
  readonly got: ShareMessage[] = [];
  #waiters: { pred: (m: ShareMessage) => boolean; resolve: (m: ShareMessage) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(base: string) {
    this.ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/share`);
    this.ws.on('error', () => {});
    this.ws.on('message', (d: Buffer) => {
      const m = decodeShareMessage(new Uint8Array(d));
      this.got.push(m);
      this.#waiters = this.#waiters.filter((w) => !(w.pred(m) && (w.resolve(m), true)));
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }
  async auth(ticket: string): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) await new Promise((r, j) => this.ws.once('open', r).once('error', j));
    this.send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket });
  }
  send(m: ShareMessage | Uint8Array): void {
    this.ws.send(m instanceof Uint8Array ? m : encodeShareMessage(m));
  }
  /** The first frame received (already or later) that matches. */
  waitFor(pred: (m: ShareMessage) => boolean): Promise<ShareMessage> {
    const seen = this.got.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }
  clipboards(): ShareMessage[] {
    return this.got.filter((m) => m.type === 'clipboard' || m.type === 'clipboardRefused');
  }
}

/** Resolves once `cond()` holds (the relay counts what it drops; nothing else shows a frame that went nowhere). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

describe('clipboard frames through the relay', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice']);
    alice = h.cookies.alice;
  });
  afterAll(async () => h.dispose());

  it('go from and to the controller only; anyone else is dropped and counted', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow', control: 'anyone' });
    const { c: agent } = await h.joinAgent(conf, alice);
    let relay: AppShareServer | null = null;
    h.server.conferencing.once('appShare', (s) => (relay = s));
    expect(await agent.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    const ticketOf = async (c: TestClient) => ((await c.request({ type: 'share.ticket' })) as unknown as { ticket: string }).ticket;

    const host = new SharePeer(h.url);
    await host.auth(await ticketOf(agent));
    host.send({ type: 'screen', width: 64, height: 64, tileSize: 64 });
    host.send({ type: 'tile', x: 0, y: 0, w: 64, h: 64, encoding: TileEncoding.Fill, flags: 0, data: Uint8Array.of(1, 2, 3) });
    host.send({ type: 'frame', seq: 1, time: 1 });

    const viewers: Record<'bob' | 'carol', { conf: TestClient; share: SharePeer; id: string }> = {} as never;
    for (const name of ['bob', 'carol'] as const) {
      const conf2 = new TestClient(h.url, conf);
      await conf2.hello({ name });
      const w = await conf2.next('welcome');
      const share = new SharePeer(h.url);
      await share.auth(await ticketOf(conf2));
      await share.waitFor((m) => m.type === 'frame');
      viewers[name] = { conf: conf2, share, id: w.self };
    }
    const { bob, carol } = viewers;
    await until(() => relay !== null);
    const stats = () => relay!.stats();

    // Nobody in control: a viewer's text and the host's text go nowhere.
    bob.share.send({ type: 'clipboard', text: 'before control' });
    host.send({ type: 'clipboard', text: 'host, nobody in control' });
    await until(() => stats().clipboardDropped === 2);

    // Bob asks, the host's agent grants.
    expect(await bob.conf.request({ type: 'control.request' })).toMatchObject({ type: 'ack' });
    await agent.next('control.requested');
    await agent.send({ type: 'control.grant', participantId: bob.id });
    await bob.conf.next('share.updated', (m) => m.share?.controllerId === bob.id);
    await until(() => relay!.controllerId === bob.id);

    // Carol (not in control) is refused by the server: the host never sees her text.
    carol.share.send({ type: 'clipboard', text: 'carol was here' });
    await until(() => stats().clipboardDropped === 3);
    bob.share.send({ type: 'clipboard', text: 'Grüße 👋' });
    expect(await host.waitFor((m) => m.type === 'clipboard')).toEqual({ type: 'clipboard', text: 'Grüße 👋' });
    expect(host.clipboards()).toEqual([{ type: 'clipboard', text: 'Grüße 👋' }]);

    // The host's text reaches Bob alone. A cursor update sent after it reaches every viewer, in order on
    // each socket: once Carol has it, she would already have had the clipboard frame.
    host.send({ type: 'clipboard', text: 'from the host ✓' });
    host.send({ type: 'clipboardRefused', reason: 'tooLarge', size: 70_000 });
    host.send({ type: 'cursorPos', x: 7, y: 9, visible: true });
    await bob.share.waitFor((m) => m.type === 'cursorPos' && m.x === 7);
    await carol.share.waitFor((m) => m.type === 'cursorPos' && m.x === 7);
    expect(bob.share.clipboards()).toEqual([
      { type: 'clipboard', text: 'from the host ✓' },
      { type: 'clipboardRefused', reason: 'tooLarge', size: 70_000 },
    ]);
    expect(carol.share.clipboards()).toEqual([]);
    expect(stats()).toMatchObject({ clipboardForwarded: 3, clipboardDropped: 3 });

    // Text over the limit is not a clipboard frame at all: the sender's channel closes with the reason.
    const big = new Uint8Array(1 + SHARE_LIMITS.maxClipboardBytes + 1).fill(0x61);
    big[0] = 0x13;
    bob.share.send(big);
    const closed = await bob.share.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/clipboard: 65537 bytes of text exceed 65536/);
    expect(host.clipboards()).toHaveLength(1);

    for (const c of [agent, bob.conf, carol.conf]) c.close();
    for (const s of [host, carol.share]) s.ws.close();
  });
});

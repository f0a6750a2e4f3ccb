/**
 * Annotation through the real server (Focus, data-collaboration server, sharing relay; the protocol by
 * hand): the presenter's page draws over its agent's share; a viewer without permission is refused,
 * and may draw once the presenter allows it; a late joiner gets the marks; the laser reaches the
 * others only; clear mine / clear all; a mark goes when the host replaces the content under it, not
 * when something changes elsewhere; the end of the share clears the screen's marks; bad input gets a
 * clear error and the connection stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SHARE_PROTOCOL_VERSION, TileEncoding, encodeShareMessage, type ShareMessage } from '@baton/protocol';
import { TestClient, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

describe('annotation', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice']);
    alice = h.cookies.alice;
  });
  afterAll(async () => h.dispose());

  it('presenter draws, viewers are refused until allowed, marks follow the content under them', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const { c: agent } = await h.joinAgent(conf, alice);
    const page = new TestClient(h.url, conf, { cookie: alice });
    await page.hello();
    await page.next('welcome');
    const bob = new TestClient(h.url, conf);
    await bob.hello({ name: 'Bob' });
    const bobW = await bob.next('welcome');

    const screen = { kind: 'screen' } as const;
    const pen = (pts: [number, number][]) => ({ type: 'annotation.add', surface: screen, mark: { tool: 'pen', points: pts } });
    // Nobody shares yet: nothing to annotate on the screen.
    expect(await page.request(pen([[1, 1]]))).toMatchObject({ type: 'error', code: 'not_found' });
    // A slide page that is not there.
    expect(await page.request({ type: 'annotation.add', surface: { kind: 'slide', deckId: 'nope', page: 1 }, mark: { tool: 'pen', points: [[1, 1]] } })).toMatchObject({ type: 'error', code: 'not_found' });

    expect(await agent.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    const ticket = ((await agent.request({ type: 'share.ticket' })) as unknown as { ticket: string }).ticket;
    const host = new WebSocket(`${h.url.replace(/^http/, 'ws')}/ws/share`);
    await new Promise((r) => host.once('open', r));
    const send = (m: ShareMessage) => host.send(encodeShareMessage(m));
    send({ type: 'auth', version: SHARE_PROTOCOL_VERSION, ticket });
    let seq = 0;
    const tiles = (x: number, y: number, w: number, h: number) => {
      for (let yy = y; yy < y + h; yy += 16) for (let xx = x; xx < x + w; xx += 16) send({ type: 'tile', x: xx, y: yy, w: 16, h: 16, encoding: TileEncoding.Fill, flags: 0, data: Uint8Array.of(9, 9, 9) });
      send({ type: 'frame', seq: ++seq, time: seq });
    };
    send({ type: 'screen', width: 640, height: 480, tileSize: 16 });
    send({ type: 'tile', x: 0, y: 0, w: 640, h: 480, encoding: TileEncoding.Fill, flags: 0, data: Uint8Array.of(1, 2, 3) });
    send({ type: 'frame', seq: ++seq, time: seq });

    // The presenter's page (the sharing account) draws a stroke; everyone gets it with her name and colour.
    const ack = await page.request(pen([[100, 100], [300, 100]]));
    expect(ack).toMatchObject({ type: 'ack' });
    const id = (ack as { id?: string }).id!;
    const added = await bob.next('annotation.added');
    expect(added.mark).toMatchObject({ id, tool: 'pen', surface: screen, author: { name: 'Alice' } });
    expect(added.mark.author.hue).toBeGreaterThanOrEqual(0);

    // Bob, a guest attendee, is refused by the server; his clear all too.
    expect(await bob.request(pen([[5, 5]]))).toMatchObject({ type: 'error', code: 'policy' });
    expect(await bob.request({ type: 'annotation.laser', surface: screen, points: [[5, 5]] })).toMatchObject({ type: 'error', code: 'policy' });
    expect(await bob.request({ type: 'annotation.clear', scope: 'all' })).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await bob.request({ type: 'annotation.allow', viewers: true })).toMatchObject({ type: 'error', code: 'forbidden' });
    // Malformed and oversized marks: a clear error, and the connection stays.
    const big = await page.request(pen(Array.from({ length: 501 }, () => [1, 1] as [number, number])));
    expect(big).toMatchObject({ type: 'error', code: 'bad_request' });
    expect((big as { message: string }).message).toMatch(/at most 500 points/);
    expect(await page.request({ type: 'annotation.add', surface: screen, mark: { tool: 'text', points: [[1, 1]], text: '' } })).toMatchObject({ type: 'error', code: 'bad_request' });

    // The presenter lets viewers annotate: Bob draws, and points the laser (the others see it, he does not).
    expect(await page.request({ type: 'annotation.allow', viewers: true })).toMatchObject({ type: 'ack' });
    expect((await bob.next('conference.updated', (m) => m.conference.policy.annotate === 'anyone')).conference.policy.annotate).toBe('anyone');
    const bobMark = (await bob.request({ type: 'annotation.add', surface: screen, mark: { tool: 'rectangle', points: [[400, 300], [500, 400]] } })) as { id?: string };
    expect(bobMark.id).toBeTruthy();
    expect(await bob.request({ type: 'annotation.laser', surface: screen, points: [[10, 10], [12, 12]] })).toMatchObject({ type: 'ack' });
    expect(await page.next('annotation.laser')).toMatchObject({ author: { id: bobW.self, name: 'Bob' }, points: [[10, 10], [12, 12]] });
    expect(bob.received.some((m) => m.type === 'annotation.laser')).toBe(false);

    // A late joiner gets both marks.
    const carol = new TestClient(h.url, conf);
    await carol.hello({ name: 'Carol' });
    const cw = await carol.next('welcome');
    expect(cw.annotations?.map((m) => m.id)).toEqual([id, bobMark.id]);

    // Typing elsewhere does not take Alice's stroke; the content under it replaced does.
    for (let i = 0; i < 20; i++) tiles(16 * i, 400, 16, 16);
    tiles(96, 80, 224, 48);
    const removed = await carol.next('annotation.removed');
    expect(removed).toMatchObject({ ids: [id], reason: 'content' });

    // Bob clears his own; the presenter is refused nothing. Guests' "mine" is only theirs.
    await page.request(pen([[50, 50]]));
    const other = (await carol.next('annotation.added')).mark.id;
    expect(await bob.request({ type: 'annotation.clear', scope: 'mine' })).toMatchObject({ type: 'ack' });
    expect(await carol.next('annotation.removed')).toMatchObject({ ids: [bobMark.id], reason: 'cleared' });

    // The share ends: the screen's marks go.
    expect(await agent.request({ type: 'share.stop' })).toMatchObject({ type: 'ack' });
    expect(await carol.next('annotation.removed')).toMatchObject({ ids: [other], reason: 'screen' });
    host.close();
    for (const c of [agent, page, bob, carol]) c.close();
  });
});

/** The whiteboard through the Focus: updates reach the others (not the sender), joiners get the state, the policy is enforced, bad updates are refused and the meeting carries on. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { bytesToBase64, base64ToBytes } from '@baton/protocol';
import { TestClient, api, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

const edit = (doc: Y.Doc, id: string, fields: Record<string, unknown>): string => {
  let out = '';
  const on = (u: Uint8Array) => (out = bytesToBase64(u));
  doc.on('update', on);
  doc.transact(() => {
    const m = new Y.Map<unknown>();
    doc.getMap('elements').set(id, m);
    for (const [k, v] of Object.entries(fields)) m.set(k, v);
  });
  doc.off('update', on);
  return out;
};

describe('whiteboard over the conference socket', () => {
  let h: ServerHarness<'alice' | 'bob'>;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice', 'bob']);
    ({ alice, bob } = h.cookies);
  });
  afterAll(async () => h.dispose());

  it('draws, shares, refuses by policy and bad input, and a joiner gets the board', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const join = (cookie?: string, name?: string) => h.join(conf, cookie, name);
    const org = await join(alice);
    const att = await join(bob);
    expect(typeof org.w.whiteboard).toBe('string');

    const docB = new Y.Doc();
    const u1 = edit(docB, 'b1', { type: 'rect', x: 10, y: 20, w: 100, h: 50, color: '#d73a49' });
    expect(await att.c.request({ type: 'wb.update', update: u1 })).toMatchObject({ type: 'ack' });
    const got = await org.c.next('wb.updated');
    expect(got.update).toBe(u1);
    expect(att.c.received.some((m) => m.type === 'wb.updated')).toBe(false); // not echoed to the sender

    // Bad input: a refusal with the reason; the connection and the meeting go on.
    const bad = edit(new Y.Doc(), 'x1', { type: 'rect', href: 'javascript:alert(1)' });
    const r = await att.c.request({ type: 'wb.update', update: bad });
    expect(r).toMatchObject({ type: 'error', code: 'bad_request' });
    expect((r as { message: string }).message).toContain("no field 'href'");
    expect(await att.c.request({ type: 'wb.update', update: '!!!notbase64' })).toMatchObject({ type: 'error', code: 'bad_request' });

    // Presenters only: bob is refused clearly, alice still draws.
    expect((await api(h.url, 'PATCH', `/api/conferences/${conf}`, { policy: { whiteboard: 'presenters' } }, alice)).status).toBe(200);
    await att.c.next('conference.updated', (m) => m.conference.policy.whiteboard === 'presenters');
    const u2 = edit(docB, 'b2', { type: 'ellipse', x: 1, y: 1, w: 5, h: 5 });
    const refused = await att.c.request({ type: 'wb.update', update: u2 });
    expect(refused).toMatchObject({ type: 'error', code: 'policy', message: 'the meeting policy lets only presenters and organizers draw on the whiteboard' });
    const docA = new Y.Doc();
    Y.applyUpdate(docA, base64ToBytes(org.w.whiteboard!));
    Y.applyUpdate(docA, base64ToBytes(got.update));
    expect(await org.c.request({ type: 'wb.update', update: edit(docA, 'a1', { type: 'text', x: 5, y: 5, text: '<b>hi</b>' }) })).toMatchObject({ type: 'ack' });

    // A joiner gets the whole board in its welcome; wb.sync sends it again.
    const late = await join(undefined, 'Gus');
    const docC = new Y.Doc();
    Y.applyUpdate(docC, base64ToBytes(late.w.whiteboard!));
    expect(Object.keys(docC.getMap('elements').toJSON()).sort()).toEqual(['a1', 'b1']);
    expect(docC.getMap('elements').toJSON().a1).toMatchObject({ text: '<b>hi</b>' });
    expect(await late.c.request({ type: 'wb.sync' })).toMatchObject({ type: 'ack' });
    expect((await late.c.next('wb.state')).state.length).toBeGreaterThan(10);
    for (const x of [org, att, late]) x.c.close();
  });
});

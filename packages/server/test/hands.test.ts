/** Raised hands and reactions through the Focus: who may lower whose hand, the queue's order, limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

describe('hands and reactions', () => {
  let h: ServerHarness<'alice' | 'bob' | 'carol'>;
  let alice: string;
  let bob: string;
  let carol: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice', 'bob', 'carol']);
    ({ alice, bob, carol } = h.cookies);
  });
  afterAll(async () => h.dispose());

  it('the queue is in order; a participant lowers only their own hand; the organizer lowers anyone\'s', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const join = (cookie?: string, name?: string) => h.join(conf, cookie, name);
    const org = await join(alice);
    const b1 = await join(bob);
    const b2 = await join(bob);
    const c = await join(carol);
    const g = await join(undefined, 'Gus');

    expect(await c.c.request({ type: 'hand.raise' })).toMatchObject({ type: 'ack' });
    expect(await g.c.request({ type: 'hand.raise' })).toMatchObject({ type: 'ack' });
    expect(await b1.c.request({ type: 'hand.raise' })).toMatchObject({ type: 'ack' });
    const q = await org.c.next('hands.updated', (m) => m.hands.length === 3);
    expect(q.hands.map((h) => h.name)).toEqual(['Carol', 'Gus', 'Bob']);

    // Carol cannot lower Gus's hand, nor Bob's; a guest cannot lower anyone else's either.
    expect(await c.c.request({ type: 'hand.lower', participantId: g.w.self })).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await g.c.request({ type: 'hand.lower', participantId: b1.w.self })).toMatchObject({ type: 'error', code: 'forbidden' });
    // Bob lowers his own hand from his other tab.
    expect(await b2.c.request({ type: 'hand.lower', participantId: b1.w.self })).toMatchObject({ type: 'ack' });
    expect((await org.c.next('hands.updated', (m) => m.hands.length === 2)).hands.map((h) => h.name)).toEqual(['Carol', 'Gus']);
    // The organizer lowers Gus's.
    expect(await org.c.request({ type: 'hand.lower', participantId: g.w.self })).toMatchObject({ type: 'ack' });
    expect((await c.c.next('hands.updated', (m) => m.hands.length === 1)).hands.map((h) => h.name)).toEqual(['Carol']);
    // Carol lowers her own.
    expect(await c.c.request({ type: 'hand.lower' })).toMatchObject({ type: 'ack' });
    await org.c.next('hands.updated', (m) => m.hands.length === 0);

    // A late joiner gets the queue in its welcome; a hand goes down when its person leaves.
    await g.c.request({ type: 'hand.raise' });
    const late = await join(undefined, 'Late');
    expect(late.w.hands?.map((h) => h.name)).toEqual(['Gus']);
    g.c.close();
    await late.c.next('hands.updated', (m) => m.hands.length === 0);
    for (const x of [org, b1, b2, c, late]) x.c.close();
  });

  it('reactions reach everyone with the sender; only the listed emoji; over the limit they are refused', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const org = new TestClient(h.url, conf, { cookie: alice });
    await org.hello();
    await org.next('welcome');
    const g = new TestClient(h.url, conf);
    await g.hello({ name: 'Gus' });
    const wg = await g.next('welcome');
    expect(await g.request({ type: 'reaction.send', emoji: '🎉' })).toMatchObject({ type: 'ack' });
    expect(await org.next('reaction')).toMatchObject({ participantId: wg.self, name: 'Gus', emoji: '🎉' });
    expect(await g.request({ type: 'reaction.send', emoji: '💩' })).toMatchObject({ type: 'error', code: 'bad_request' });
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await g.request({ type: 'reaction.send', emoji: '👍' }));
    expect(answers.some((a) => a.type === 'error' && a.code === 'rate_limited')).toBe(true);
    org.close();
    g.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

describe('an agent whose connection dropped resumes its seat with its resume token', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice']);
    alice = h.cookies.alice;
  });
  afterAll(async () => h.dispose());

  it('gets the same seat and keeps sharing; a guest seat token or a stale one gets no agent seat', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const { c: a, w } = await h.joinAgent(conf, alice);
    expect(await a.request({ type: 'share.start', kind: 'agent' })).toMatchObject({ type: 'ack' });
    const viewer = new TestClient(h.url, conf);
    await viewer.hello({ name: 'Vic' });
    const vw = await viewer.next('welcome');

    a.ws.terminate();
    expect((await viewer.next('participant.updated', (m) => m.participant.id === w.self)).participant.connection).toBe('reconnecting');
    // The one-time token is spent: the resume token alone brings the agent back to its seat, as alice.
    const again = new TestClient(h.url, conf);
    await again.hello({ client: 'agent', resume: w.resumeToken });
    const w2 = await again.next('welcome');
    expect(w2.self).toBe(w.self);
    expect(w2.share).toMatchObject({ hostId: w.self, kind: 'agent' });
    expect(w2.roster.find((p) => p.id === w.self)).toMatchObject({ user: 'alice', client: 'agent', connection: 'online' });
    expect(viewer.received.filter((m) => m.type === 'participant.left' || m.type === 'share.updated' && !m.share)).toEqual([]);

    // A guest's resume token is no way in as an agent (it would sign nobody in), nor is a made-up one.
    const fake = new TestClient(h.url, conf);
    await fake.hello({ client: 'agent', resume: vw.resumeToken });
    expect(await fake.closed).toMatchObject({ code: 4003 });
    const made = new TestClient(h.url, conf);
    await made.hello({ client: 'agent', resume: 'x'.repeat(43) });
    expect((await made.closed).reason).toContain('seat to resume is gone');
    again.close();
    viewer.close();
  });
});

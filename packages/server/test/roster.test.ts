/** The roster's grouping into people: a user's tabs and agent share a person; each guest is their own. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

describe('roster people', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice']);
    alice = h.cookies.alice;
  });
  afterAll(async () => h.dispose());

  it('two tabs and the agent of one user are one person; two guests of the same name are two; seats stay apart', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const tab1 = new TestClient(h.url, conf, { cookie: alice });
    await tab1.hello();
    const w1 = await tab1.next('welcome');
    const tab2 = new TestClient(h.url, conf, { cookie: alice });
    await tab2.hello();
    const w2 = await tab2.next('welcome');
    const { c: agent, w: wa } = await h.joinAgent(conf, alice);
    const g1 = new TestClient(h.url, conf);
    await g1.hello({ name: 'Gus' });
    await g1.next('welcome');
    const g2 = new TestClient(h.url, conf);
    await g2.hello({ name: 'Gus' });
    const wg = await g2.next('welcome');

    const roster = wg.roster;
    expect(roster).toHaveLength(5);
    const person = (id: string) => roster.find((p) => p.id === id)!.person;
    expect(new Set([w1.self, w2.self, wa.self].map(person))).toEqual(new Set(['u:alice']));
    const guests = roster.filter((p) => p.user === null);
    expect(guests).toHaveLength(2);
    expect(guests[0]!.person).toBe(guests[0]!.id);
    expect(guests[1]!.person).toBe(guests[1]!.id);
    expect(new Set(roster.map((p) => p.person)).size).toBe(3);
    // Seats are still seats: three ids for alice, the agent's with client 'agent'.
    expect(new Set([w1.self, w2.self, wa.self]).size).toBe(3);
    expect(roster.find((p) => p.id === wa.self)!.client).toBe('agent');
    for (const c of [tab1, tab2, agent, g1, g2]) c.close();
  });
});

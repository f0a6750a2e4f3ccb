/**
 * The data-collaboration server against real stores (SQLite file and PostgreSQL): polls and Q&A,
 * who sees results, one vote per person, who may close and publish, the ranking of questions, the
 * per-meeting limits, and everything back after a restart (a fresh server on the same store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, MAX_POLLS_PER_CONFERENCE, PollDraft } from '@baton/protocol';
import { openStore } from '../store/index.js';
import { freshPostgres } from '../store/testing.js';
import type { Store } from '../store/Store.js';
import { DataServer } from './DataServer.js';
import { BlobStore } from './BlobStore.js';
import type { DataMember } from './types.js';

const pgDb = await freshPostgres('data-collaboration tests on PostgreSQL (packages/server/src/data/DataServer.test.ts)');
const tmp = mkdtempSync(join(tmpdir(), 'baton-data-'));
const blobs = new BlobStore({ dir: join(tmp, 'files') });
afterAll(async () => {
  await pgDb?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const engines = [
  { engine: 'sqlite', url: `sqlite:${join(tmp, 'baton.sqlite')}` },
  { engine: 'postgres', url: pgDb?.url },
];

const member = (key: string, over: Partial<DataMember> = {}): DataMember => ({
  key,
  name: key.toUpperCase(),
  user: key.startsWith('u:') ? key.slice(2) : null,
  organizer: false,
  pollster: false,
  moderator: false,
  ...over,
});
const olga = member('u:olga', { organizer: true, pollster: true, moderator: true });
const pia = member('u:pia', { pollster: true, moderator: true }); // a presenter
const ann = member('u:ann');
const gus = member('g:guest-hash');

const draft = (over: Partial<PollDraft> = {}) => PollDraft.parse({ question: 'Lunch?', options: ['Pizza', 'Sushi', 'Salad'], ...over });

/** Waits for the next coalesced change event of the server (votes are gathered for a moment). */
const nextEvent = (s: DataServer, event: 'poll' | 'question') => new Promise<string>((resolve) => s.once(event, resolve));

describe.each(engines)('DataServer on $engine', ({ engine, url }) => {
  if (!url) {
    it.skip(`${engine}: not available, skipped (see warning above)`, () => {});
    return;
  }
  let store: Store;
  let n = 0;
  let conferenceId: string;
  beforeAll(async () => {
    store = await openStore(url);
    await store.migrate();
  });
  afterAll(() => store.close());

  const fresh = async () => {
    const u = await store.getUserByUsername('olga') ?? (await store.createUser({ username: 'olga', displayName: 'Olga', passwordHash: 'x' }));
    conferenceId = `c${++n}-${engine}`;
    await store.createConference({ id: conferenceId, organizerId: u.id, subject: 'S', policy: DEFAULT_POLICY });
    const s = new DataServer({ conferenceId, store, coalesceMs: 5, blobs, maxFileBytes: 1e6 });
    await s.load();
    return s;
  };
  const restart = async (old: DataServer) => {
    old.close();
    old.close(); // safe twice
    const s = new DataServer({ conferenceId, store, coalesceMs: 5, blobs, maxFileBytes: 1e6 });
    await s.load();
    return s;
  };

  it('a poll: counts are seen by who runs polls while it is open, by everyone once published; one vote per person', async () => {
    const s = await fresh();
    const created = nextEvent(s, 'poll');
    const id = await s.handlePollCreate(draft({ anonymous: false }), pia);
    expect(await created).toBe(id);

    await s.handlePollVote(id, [0], ann);
    await s.handlePollVote(id, [1], gus);
    const changed = nextEvent(s, 'poll');
    await s.handlePollVote(id, [2], ann); // voting again replaces the choice
    expect(await changed).toBe(id);

    expect(s.pollView(id, ann)).toMatchObject({ state: 'open', voters: 2, mine: [2] });
    expect(s.pollView(id, ann)!.results).toBeUndefined();
    expect(s.pollView(id, olga)).toMatchObject({ results: [0, 1, 1], names: [[], ['G:GUEST-HASH'], ['U:ANN']] });
    expect(s.pollView(id, pia)!.mine).toBeUndefined();

    await expect(s.handlePollClose(id, ann)).rejects.toThrow(/only whoever created the poll/);
    await s.handlePollClose(id, pia);
    await expect(s.handlePollVote(id, [0], olga)).rejects.toThrow(/closed/);
    expect(s.pollView(id, ann)!.results).toBeUndefined();
    await s.handlePollPublish(id, olga); // an organizer may publish anyone's poll
    expect(s.pollView(id, ann)).toMatchObject({ state: 'published', results: [0, 1, 1], mine: [2] });
    await expect(s.handlePollPublish(id, olga)).rejects.toThrow(/published already/);

    // After a restart: the same poll, votes, names and state.
    const t = await restart(s);
    expect(t.polls(ann)).toEqual([s.pollView(id, ann)]);
    expect(t.pollView(id, ann)).toMatchObject({ question: 'Lunch?', options: ['Pizza', 'Sushi', 'Salad'], state: 'published', voters: 2, results: [0, 1, 1], mine: [2], createdBy: { name: 'U:PIA', user: 'pia' } });
    t.close();
  });

  it('refuses bad votes, and an anonymous poll names nobody, not even to its creator', async () => {
    const s = await fresh();
    const single = await s.handlePollCreate(draft(), pia);
    await expect(s.handlePollVote(single, [0, 1], ann)).rejects.toThrow('choose one option');
    await expect(s.handlePollVote(single, [3], ann)).rejects.toThrow('this poll has 3 options');
    await expect(s.handlePollVote('nope', [0], ann)).rejects.toThrow('no poll nope');
    const multi = await s.handlePollCreate(draft({ multiple: true }), pia);
    await expect(s.handlePollVote(multi, [1, 1], ann)).rejects.toThrow('an option is chosen twice');
    await s.handlePollVote(multi, [2, 0], ann);
    expect(s.pollView(multi, pia)).toMatchObject({ results: [1, 0, 1] });
    expect(s.pollView(multi, pia)!.names).toBeUndefined();
    expect(s.pollView(multi, ann)!.mine).toEqual([0, 2]);
    s.close();
  });

  it('a guest who created a poll (pollsPolicy anyone) runs it by its lasting key', async () => {
    const s = await fresh();
    const guestPollster = { ...gus, pollster: true };
    const id = await s.handlePollCreate(draft(), guestPollster);
    await expect(s.handlePollClose(id, { ...ann, pollster: true })).rejects.toThrow(/only whoever created/);
    const t = await restart(s);
    await t.handlePollClose(id, guestPollster);
    expect(t.pollView(id, gus)!.state).toBe('closed');
    t.close();
  });

  it(`holds at most ${MAX_POLLS_PER_CONFERENCE} polls per meeting`, async () => {
    const s = await fresh();
    for (let i = 0; i < MAX_POLLS_PER_CONFERENCE; i++) await s.handlePollCreate(draft({ question: `Q${i}` }), pia);
    await expect(s.handlePollCreate(draft(), pia)).rejects.toThrow(`this meeting has ${MAX_POLLS_PER_CONFERENCE} polls already`);
    s.close();
  });

  it('Q&A: upvotes once per person, ranks by votes, anonymous to everyone but its author, marks survive a restart', async () => {
    const s = await fresh();
    const q1 = await s.handleAsk('When is the release?', false, ann);
    const q2 = await s.handleAsk('Can guests share?', true, gus);
    const q3 = await s.handleAsk('Is there a recording?', false, pia);
    await expect(s.handleQuestionVote(q1, true, ann)).rejects.toThrow('your own question');
    await s.handleQuestionVote(q2, true, ann);
    await s.handleQuestionVote(q2, true, ann); // once per person
    const voted = nextEvent(s, 'question');
    await s.handleQuestionVote(q2, true, olga);
    expect(await voted).toBe(q2);
    await s.handleQuestionVote(q3, true, gus);

    expect(s.questions(ann).map((q) => [q.text, q.votes])).toEqual([
      ['Can guests share?', 2],
      ['Is there a recording?', 1],
      ['When is the release?', 0],
    ]);
    expect(s.questionView(q2, ann)).toMatchObject({ author: null, voted: true, mine: false });
    expect(s.questionView(q2, gus)).toMatchObject({ author: null, voted: false, mine: true });
    expect(s.questionView(q2, olga)!.author).toBeNull(); // not even organizers see who asked anonymously
    expect(s.questionView(q1, gus)!.author).toEqual({ name: 'U:ANN', user: 'ann' });

    await s.handleQuestionVote(q2, false, olga);
    await s.handleQuestionMark(q2, 'answered');
    await s.handleQuestionMark(q3, 'dismissed');
    await expect(s.handleQuestionVote(q3, true, ann)).rejects.toThrow('dismissed');

    const t = await restart(s);
    expect(t.questions(ann).map((q) => [q.text, q.state, q.votes, q.voted])).toEqual([
      ['When is the release?', 'open', 0, false],
      ['Can guests share?', 'answered', 1, true],
      ['Is there a recording?', 'dismissed', 1, false],
    ]);
    t.close();
  });

  it('refuses a poll for an unknown conference without keeping it', async () => {
    const s = new DataServer({ conferenceId: 'no-such-conference', store, blobs, maxFileBytes: 1e6 });
    await s.load();
    await expect(s.handlePollCreate(draft(), pia)).rejects.toThrow(/unknown conference/);
    await expect(s.handleAsk('x', false, ann)).rejects.toThrow(/unknown conference/);
    expect(s.polls(ann)).toEqual([]);
    s.close();
  });
});

describe('poll drafts at the boundary', () => {
  it('refuse too many, too few, duplicate and empty options with a clear message', () => {
    const err = (d: unknown) => PollDraft.safeParse(d).error?.issues[0]?.message;
    expect(err({ question: 'Q', options: Array.from({ length: 10_000 }, (_, i) => `o${i}`) })).toBe('a poll has at most 12 options');
    expect(err({ question: 'Q', options: ['one'] })).toBe('a poll needs at least 2 options');
    expect(err({ question: 'Q', options: ['Yes', 'yes'] })).toBe('two options are the same');
    expect(err({ question: 'Q', options: ['Yes', '  '] })).toBe('an option is empty');
    expect(err({ question: 'Q\u202e', options: ['a', 'b'] })).toMatch(/question/);
  });
});

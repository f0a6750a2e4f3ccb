import { describe, expect, it } from 'vitest';
import type { RaisedHand } from '@baton/protocol';
import { HandsManager } from './HandsManager.js';
import { ParticipantLimits } from './ParticipantLimits.js';

const who = (id: string, person = id) => ({ id, person, name: id.toUpperCase() });
const req = (userId: string) => ({ conferenceId: 'c', userId, address: '127.0.0.1', name: userId });

describe('HandsManager', () => {
  it('keeps one hand per person in the order raised; lowering takes it out of the queue', () => {
    const hm = new HandsManager();
    const seen: RaisedHand[][] = [];
    hm.on('changed', (h) => seen.push(h));
    hm.handleRaise(who('b'), req('b'));
    hm.handleRaise(who('a'), req('a'));
    hm.handleRaise(who('a2', 'a'), req('a')); // a's other tab: the hand is already up, it keeps its place
    hm.handleRaise(who('c'), req('c'));
    expect(hm.state.map((h) => h.participantId)).toEqual(['b', 'a', 'c']);
    expect(seen).toHaveLength(3);
    expect(hm.handleLower('a')).toBe(true);
    expect(hm.handleLower('a')).toBe(false);
    expect(hm.state.map((h) => h.person)).toEqual(['b', 'c']);
    hm.handleRaise(who('a'), req('a'));
    expect(hm.state.map((h) => h.person)).toEqual(['b', 'c', 'a']);
  });

  it("a leaving seat hands its person's hand to the person's other seat, or lowers it with the last one", () => {
    const hm = new HandsManager();
    hm.handleRaise(who('t1', 'u:al'), req('al'));
    hm.handleGone({ id: 't1', person: 'u:al' }, 't2');
    expect(hm.state).toMatchObject([{ person: 'u:al', participantId: 't2' }]);
    hm.handleGone({ id: 'other', person: 'u:al' }, null); // not the seat holding it: nothing changes
    expect(hm.state).toHaveLength(1);
    hm.handleGone({ id: 't2', person: 'u:al' }, null);
    expect(hm.state).toEqual([]);
  });

  it('rate-limits reactions and raises by who sends them', () => {
    const hm = new HandsManager({ limits: new ParticipantLimits({ reactions: { burst: 3, perSecond: 0.001 } }) });
    const got: string[] = [];
    hm.on('reaction', (r) => got.push(r.emoji));
    for (let i = 0; i < 3; i++) hm.handleReaction(who('a'), '👍', req('a'));
    expect(() => hm.handleReaction(who('a'), '🎉', req('a'))).toThrow(/too fast/);
    expect(() => hm.handleRaise(who('a'), req('a'))).toThrow(/too fast/);
    hm.handleReaction(who('b'), '❤️', req('b')); // someone else has an allowance of their own
    expect(got).toEqual(['👍', '👍', '👍', '❤️']);
  });

  it('close is idempotent and ends everything', () => {
    const hm = new HandsManager();
    hm.handleRaise(who('a'), req('a'));
    hm.close();
    hm.close();
    expect(hm.state).toEqual([]);
    hm.handleRaise(who('b'), req('b'));
    expect(hm.state).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { MeetingPolicy, lobbyPolicy, waitsInLobby } from './policy.js';

describe('lobby policy', () => {
  it('a policy stored before the field existed reads as "guests" and keeps its old behaviour', () => {
    const old = MeetingPolicy.parse(JSON.parse('{"guests":"lobby","present":"presenters","control":"signed-in"}'));
    expect(lobbyPolicy(old)).toBe('guests');
    expect(waitsInLobby(old, false, false)).toBe(true);
    expect(waitsInLobby(old, true, false)).toBe(false);
    expect(waitsInLobby({ ...old, guests: 'allow' }, false, false)).toBe(false);
  });

  it('"uninvited": signed-in users wait unless trusted (owner, presenter, organizer, invited); guests who may join wait', () => {
    for (const guests of ['deny', 'lobby', 'allow'] as const) {
      const p = { guests, present: 'presenters', control: 'signed-in', lobby: 'uninvited' } as const;
      expect(waitsInLobby(p, true, false)).toBe(true);
      expect(waitsInLobby(p, true, true)).toBe(false);
      expect(waitsInLobby(p, false, false)).toBe(guests !== 'deny');
    }
  });

  it('an unknown lobby value is refused', () => {
    expect(MeetingPolicy.safeParse({ guests: 'lobby', present: 'presenters', control: 'signed-in', lobby: 'everyone' }).success).toBe(false);
  });
});

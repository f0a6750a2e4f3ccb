import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConsentPrompt, type ControlMode } from '../src/ConsentPrompt.js';

function prompt(mode: ControlMode, timeoutMs = 2000) {
  const input = new PassThrough();
  const output = new PassThrough();
  let written = '';
  output.on('data', (d: Buffer) => (written += d.toString()));
  const p = new ConsentPrompt({ mode, input, output, timeoutMs });
  const waitFor = async (text: string) => {
    for (let i = 0; i < 100 && !written.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
    expect(written).toContain(text);
  };
  return { p, input, written: () => written, waitFor };
}

const alice = { participantId: 'p1', name: 'Alice', user: 'alice' };
const bob = { participantId: 'p2', name: 'Bob', user: null };

describe('ConsentPrompt', () => {
  it('never: denies everyone without asking', async () => {
    const t = prompt('never');
    expect(await t.p.decide(alice)).toBe(false);
    expect(t.written()).toBe('');
  });

  it('signed-in: allows signed-in participants, denies guests, without asking', async () => {
    const t = prompt('signed-in');
    expect(await t.p.decide(alice)).toBe(true);
    expect(await t.p.decide(bob)).toBe(false);
    expect(t.written()).toBe('');
  });

  it('ask: asks on the terminal and remembers the answer per participant', async () => {
    const t = prompt('ask');
    const first = t.p.decide(alice);
    await t.waitFor('Alice (alice) asks to control your screen. Allow? [y/N] ');
    t.input.write('y\n');
    expect(await first).toBe(true);
    expect(await t.p.decide(alice)).toBe(true); // remembered: no second question
    expect(t.written().match(/asks to control/g)).toHaveLength(1);

    const second = t.p.decide(bob);
    await t.waitFor('Bob (guest) asks');
    t.input.write('\n'); // Enter = the default, No
    expect(await second).toBe(false);
    expect(await t.p.decide(bob)).toBe(false);
    t.p.close();
    t.p.close();
  });

  it('ask: asks concurrent requests one after another', async () => {
    const t = prompt('ask');
    const a = t.p.decide(alice);
    const b = t.p.decide(bob);
    const a2 = t.p.decide(alice); // same participant while pending: same question
    await t.waitFor('Alice (alice) asks');
    expect(t.written()).not.toContain('Bob');
    t.input.write('no\n');
    await t.waitFor('Bob (guest) asks');
    t.input.write('YES\n');
    expect([await a, await a2, await b]).toEqual([false, false, true]);
  });

  it('ask: an unanswered question or a closed terminal denies', async () => {
    const t = prompt('ask', 100);
    expect(await t.p.decide(alice)).toBe(false);
    expect(t.written()).toContain('No answer');
    const u = prompt('ask');
    const d = u.p.decide(bob);
    await u.waitFor('Bob (guest) asks');
    u.input.end();
    expect(await d).toBe(false);
    expect(await u.p.decide(alice)).toBe(false);
  });
});

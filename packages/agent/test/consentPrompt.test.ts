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
    await t.waitFor(
      'A participant asks to control your screen:\n  name:    "Alice" (chosen by the participant)\n  account: alice, signed in (checked by the server)\nAllow account alice to control your screen? [y/N] ',
    );
    t.input.write('y\n');
    expect(await first).toBe(true);
    expect(await t.p.decide(alice)).toBe(true); // remembered: no second question
    expect(t.written().match(/asks to control/g)).toHaveLength(1);

    const second = t.p.decide(bob);
    await t.waitFor('  name:    "Bob" (chosen by the participant)\n  account: guest, not signed in (checked by the server)\nAllow this guest to control your screen? [y/N] ');
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
    await t.waitFor('"Alice"');
    expect(t.written()).not.toContain('Bob');
    t.input.write('no\n');
    await t.waitFor('"Bob"');
    t.input.write('YES\n');
    expect([await a, await a2, await b]).toEqual([false, false, true]);
  });

  it('ask: an unanswered question or a closed terminal denies', async () => {
    const t = prompt('ask', 100);
    expect(await t.p.decide(alice)).toBe(false);
    expect(t.written()).toContain('No answer');
    const u = prompt('ask');
    const d = u.p.decide(bob);
    await u.waitFor('"Bob"');
    u.input.end();
    expect(await d).toBe(false);
    expect(await u.p.decide(alice)).toBe(false);
  });

  it('ask: a hostile name cannot write to the terminal or pass for a signed-in account', async () => {
    const t = prompt('ask');
    // The issue-9 spoof: draw a fake question naming alice, then hide what follows (ESC[8m).
    const eve = { participantId: 'p3', name: 'Alice (alice) asks to control your screen. Allow? [y/N] \x1b[8m', user: null };
    const d = t.p.decide(eve);
    await t.waitFor('[y/N] ');
    await t.waitFor('Allow this guest');
    const bytes = Buffer.from(t.written());
    expect(bytes.includes(0x1b)).toBe(false); // no ESC byte reaches the terminal
    expect(t.written()).toContain('  name:    "Alice (alice) asks to control your screen. Allow? [y/N] \\x1b[8m" (chosen by the participant)\n');
    expect(t.written()).toContain('\n  account: guest, not signed in (checked by the server)\nAllow this guest to control your screen? [y/N] ');
    expect(t.written().match(/^ {2}account: /gm)).toHaveLength(1);
    t.input.write('n\n');
    expect(await d).toBe(false);

    // Newlines, C1 controls, bidi overrides and quotes in a name stay on the name's one line, escaped.
    const mallory = { participantId: 'p4', name: 'x"\n  account: alice, signed in\r\x9b2K\u202e', user: null };
    const m = t.p.decide(mallory);
    await t.waitFor('\\u202e');
    const nameLine = t.written().split('\n').find((l) => l.includes('x\\"'));
    expect(nameLine).toBe('  name:    "x\\"\\n  account: alice, signed in\\x0d\\x9b2K\\u202e" (chosen by the participant)');
    expect(t.written().match(/^ {2}account: /gm)).toHaveLength(2); // one per question, both the real ones
    expect(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/.test(t.written())).toBe(false);
    t.input.write('n\n');
    expect(await m).toBe(false);
    t.p.close();
  });
  it('ask: a withdrawn request ends its question unanswered, is never asked if still queued, and nothing is remembered', async () => {
    const t = prompt('ask', 60_000);
    const a = t.p.decide(alice);
    const b = t.p.decide(bob);
    await t.waitFor('"Alice"');
    expect(t.p.pendingIds().sort()).toEqual(['p1', 'p2']);
    t.p.withdraw('p2'); // queued behind Alice: never asked
    t.p.withdraw('p1'); // on screen: ends now
    expect(await a).toBe(false);
    expect(await b).toBe(false);
    expect(t.written()).toContain('"Alice" (account alice) withdrew the request: nothing to answer.');
    expect(t.written()).not.toContain('"Bob"');
    // A late "y" meant for the withdrawn question answers nothing, and a new request is asked afresh.
    t.input.write('y\n');
    await new Promise((r) => setImmediate(r)); // the line is read (and dropped: nothing is asked)
    const again = t.p.decide(alice);
    await t.waitFor('withdrew the request: nothing to answer.\n\nA participant asks');
    t.input.write('n\n');
    expect(await again).toBe(false);
    expect(t.written().match(/asks to control/g)).toHaveLength(2);
    t.p.close();
  });
});

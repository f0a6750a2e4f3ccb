import { describe, expect, it } from 'vitest';
import { CreateConferenceRequest, InviteRequest, SignUpRequest, UpdateConferenceRequest } from './api.js';
import { DisplayName, decodeClientMessage } from './conference.js';
import { findUnsafeChar, printable } from './text.js';

/** The spoof from issue 9: a name that draws a fake prompt and hides the rest. */
const SPOOF = 'Alice (alice) asks to control your screen. Allow? [y/N] \x1b[8m';
const HOSTILE = [
  ['ESC', 'Eve\x1b[2K'],
  ['NUL', 'Eve\0'],
  ['tab', 'Eve\tx'],
  ['CR', 'Eve\rAlice'],
  ['newline', 'Eve\nAlice (alice)'],
  ['DEL', 'Eve\x7f'],
  ['C1 CSI', 'Eve\x9b2K'],
  ['C1 NEL', 'Eve\x85'],
  ['RLO', 'Eve\u202eecilA'],
  ['LRE', '\u202aEve'],
  ['PDF', 'Eve\u202c'],
  ['LRI', '\u2066Eve'],
  ['PDI', 'Eve\u2069'],
  ['RLM', 'Eve\u200f'],
  ['ALM', 'Eve\u061c'],
  ['zero-width space', 'Al\u200bice'],
  ['word joiner', 'Al\u2060ice'],
  ['BOM', 'Al\ufeffice'],
  ['line separator', 'Eve\u2028Alice'],
  ['lone surrogate', 'Eve\ud800'],
] as const;

describe('user text refuses control and invisible formatting characters', () => {
  it('display names: the spoof and every hostile name are refused, with the character named', () => {
    const r = DisplayName.safeParse(SPOOF);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toBe('name contains U+001B: name may not contain control, line-break or invisible formatting characters');
    for (const [what, name] of HOSTILE) expect({ what, ok: DisplayName.safeParse(name).success }).toEqual({ what, ok: false });
  });

  it('display names: ordinary names of many scripts, emoji sequences and joiners still pass', () => {
    for (const name of ['Alice Liddell', 'Zoë O’Brien', 'محمد', 'שרה', '李小龍', 'अनु', 'می‌خواهم', '👩‍💻 Dev', '🏳️‍🌈', ' Bob ']) {
      const r = DisplayName.safeParse(name);
      expect({ name, ok: r.success }).toEqual({ name, ok: true });
    }
    expect(DisplayName.parse(' Bob ')).toBe('Bob');
  });

  it('hello and chat on the conference socket: refused with a stated reason; chat keeps newlines and tabs', () => {
    const hello = decodeClientMessage(JSON.stringify({ type: 'hello', v: 1, name: SPOOF }));
    expect(hello).toEqual({ ok: false, error: expect.stringMatching(/^invalid hello: name: name contains U\+001B/) });
    expect(decodeClientMessage(JSON.stringify({ type: 'chat.send', text: 'line one\nline two' })).ok).toBe(true);
    // Pasted code keeps its indentation.
    expect(decodeClientMessage(JSON.stringify({ type: 'chat.send', text: 'if (x) {\n\treturn;\n}' })).ok).toBe(true);
    for (const text of ['a\x1b[31mred', 'a\r\nb', 'a\vb', 'x\u202ey', 'x\u2066y']) {
      const r = decodeClientMessage(JSON.stringify({ type: 'chat.send', text }));
      expect(r).toEqual({ ok: false, error: expect.stringMatching(/^invalid chat.send: text: message contains U\+[0-9A-F]{4}: .*only tabs and newlines are allowed/) });
    }
    // A p2p failure reason is an error message, not user text: refusing it would stop the share's
    // move to the server, so it passes and is escaped where printed.
    const failed = decodeClientMessage(JSON.stringify({ type: 'p2p.signal', to: 'x', data: { kind: 'failed', reason: 'ice\nfailed' } }));
    expect(failed.ok).toBe(true);
  });

  it('REST bodies: sign-up display name, subjects and group names', () => {
    expect(SignUpRequest.safeParse({ username: 'eve', password: 'password-1', displayName: SPOOF }).success).toBe(false);
    expect(SignUpRequest.safeParse({ username: 'eve', password: 'password-1', displayName: 'Eve' }).success).toBe(true);
    const subject = CreateConferenceRequest.safeParse({ subject: 'Stand-up\x1b]0;owned\x07' });
    expect(subject.error!.issues[0]!.message).toMatch(/^subject contains U\+001B/);
    expect(UpdateConferenceRequest.safeParse({ subject: 'Plan\u202e' }).success).toBe(false);
    expect(CreateConferenceRequest.safeParse({ subject: 'Weekly sync — 3rd floor' }).success).toBe(true);
    expect(InviteRequest.safeParse({ groups: ['eng\x1b'] }).success).toBe(false);
    expect(InviteRequest.safeParse({ groups: ['engineering'] }).success).toBe(true);
  });

  it('printable() escapes exactly what is refused, plus backslash, and nothing else', () => {
    expect(printable(SPOOF)).toBe('Alice (alice) asks to control your screen. Allow? [y/N] \\x1b[8m');
    expect(printable('a\nb\tc\x9bd\u202ee\ud800f\\g')).toBe('a\\nb\\x09c\\x9bd\\u202ee\\ud800f\\\\g');
    expect(printable('Zoë 👩‍💻 محمد')).toBe('Zoë 👩‍💻 محمد');
    for (const [, name] of HOSTILE) {
      const out = printable(name);
      expect(findUnsafeChar(out)).toBeNull();
    }
  });
});

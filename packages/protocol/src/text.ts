/**
 * User text (display names, chat, subjects, group names) is shown on other people's screens and
 * terminals. A control character can rewrite a terminal line (ESC sequences: the consent-prompt
 * spoof of issue 9), and bidi overrides or invisible characters can make a name read as another.
 * The server refuses them at every boundary (the schemas below); anything that prints remote text
 * on a terminal escapes it with `printable()` regardless.
 *
 * Refused: C0 controls (chat keeps tab and newline), DEL, C1 controls, the bidi marks, embeddings,
 * overrides and isolates, zero-width spaces and invisible operators, line/paragraph separators, the
 * byte-order mark, interlinear annotation marks, and lone surrogates. Zero-width (non-)joiners stay:
 * emoji sequences and several scripts need them.
 */
import { z } from 'zod';

const UNSAFE_CLASS =
  '\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u180e\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb\\p{Cs}';
/** Everything unsafe, tab and newline included (one-line fields). */
const UNSAFE_LINE = new RegExp(`[\\t\\n${UNSAFE_CLASS}]`, 'u');
/** Everything unsafe except tab and newline (chat bodies: pasted code keeps its tabs). */
const UNSAFE_TEXT = new RegExp(`[${UNSAFE_CLASS}]`, 'u');
const UNSAFE_LINE_ALL = new RegExp(`[\\\\\\t\\n${UNSAFE_CLASS}]`, 'gu');

/** `U+001B` for a character (a lone surrogate is one UTF-16 unit). */
export function codePointLabel(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The first character a field may not hold, or null. `multiline`: tabs and newlines are allowed. */
export function findUnsafeChar(text: string, multiline = false): string | null {
  const m = (multiline ? UNSAFE_TEXT : UNSAFE_LINE).exec(text);
  return m ? m[0] : null;
}

/**
 * One line of remote text made safe to print on a terminal: every character `findUnsafeChar`
 * would refuse (newline included) shows as an escape (`\x1b`, `\u202e`), and a backslash as `\\`,
 * so the escaped form cannot be mistaken for the real thing. Printable text is left as it is.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE_LINE_ALL, (ch) => {
    if (ch === '\\') return '\\\\';
    if (ch === '\n') return '\\n';
    const code = ch.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A string schema refusing unsafe characters with a message naming the field and the character. */
export function safeText<T extends z.ZodType<string, string>>(schema: T, field: string, opts: { multiline?: boolean } = {}): T {
  return schema.superRefine((value, ctx) => {
    const ch = findUnsafeChar(value, opts.multiline);
    if (ch !== null) {
      const what = opts.multiline ? 'control or invisible formatting characters (only tabs and newlines are allowed)' : 'control, line-break or invisible formatting characters';
      ctx.addIssue({ code: 'custom', message: `${field} contains ${codePointLabel(ch)}: ${field} may not contain ${what}` });
    }
  }) as unknown as T;
}

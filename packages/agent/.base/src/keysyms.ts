/**
 * Browser KeyboardEvent.key (and .code for sidedness) → X keysym.
 * Printable characters map to their Latin-1 keysym (U+0020..U+007E, U+00A0..U+00FF) or to the
 * Unicode keysym 0x01000000 + code point; named keys map to the standard X keysyms.
 */

const NAMED: Record<string, number> = {
  Enter: 0xff0d,
  Backspace: 0xff08,
  Tab: 0xff09,
  Escape: 0xff1b,
  Delete: 0xffff,
  Insert: 0xff63,
  Home: 0xff50,
  End: 0xff57,
  PageUp: 0xff55,
  PageDown: 0xff56,
  ArrowLeft: 0xff51,
  ArrowUp: 0xff52,
  ArrowRight: 0xff53,
  ArrowDown: 0xff54,
  CapsLock: 0xffe5,
  NumLock: 0xff7f,
  ScrollLock: 0xff14,
  Pause: 0xff13,
  PrintScreen: 0xff61,
  ContextMenu: 0xff67,
  AltGraph: 0xfe03,
  Clear: 0xff0b,
  Help: 0xff6a,
  Cancel: 0xff69,
  Select: 0xff60,
  Execute: 0xff62,
  Compose: 0xff20,
  Redo: 0xff66,
  Undo: 0xff65,
  Find: 0xff68,
  AudioVolumeUp: 0x1008ff13,
  AudioVolumeDown: 0x1008ff11,
  AudioVolumeMute: 0x1008ff12,
  MediaPlayPause: 0x1008ff14,
  MediaTrackNext: 0x1008ff17,
  MediaTrackPrevious: 0x1008ff16,
  MediaStop: 0x1008ff15,
};

/** Modifiers have a left and a right keysym; KeyboardEvent.code says which side. */
const MODIFIERS: Record<string, [number, number]> = {
  Shift: [0xffe1, 0xffe2],
  Control: [0xffe3, 0xffe4],
  Alt: [0xffe9, 0xffea],
  Meta: [0xffeb, 0xffec], // the browser's Meta is the Windows/Command key: Super in X
  OS: [0xffeb, 0xffec],
  Super: [0xffeb, 0xffec],
  Hyper: [0xffed, 0xffee],
};

/** Keypad keys by code, so NumpadEnter and friends reach applications as keypad keys. */
const KEYPAD: Record<string, number> = {
  NumpadEnter: 0xff8d,
  NumpadAdd: 0xffab,
  NumpadSubtract: 0xffad,
  NumpadMultiply: 0xffaa,
  NumpadDivide: 0xffaf,
  NumpadDecimal: 0xffae,
  NumpadEqual: 0xffbd,
};

export const XK_Shift_L = 0xffe1;
export const XK_Shift_R = 0xffe2;

/** Keysym for a character (one code point). */
export function charToKeysym(ch: string): number | null {
  const cp = ch.codePointAt(0);
  if (cp === undefined || ch.length > (cp > 0xffff ? 2 : 1)) return null;
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return null; // control characters
  return 0x01000000 + cp;
}

/**
 * Keysym for a browser key event, or null when there is nothing sensible to press
 * ("Dead", "Unidentified", "Process" without a usable code).
 */
export function browserKeyToKeysym(key: string, code = ''): number | null {
  const mod = MODIFIERS[key];
  if (mod) return code.endsWith('Right') ? mod[1] : mod[0];
  const kp = KEYPAD[code];
  if (kp !== undefined) return kp;
  const named = NAMED[key];
  if (named !== undefined) return named;
  const f = /^F([1-9]|1[0-9]|2[0-4])$/.exec(key);
  if (f) return 0xffbe + Number(f[1]) - 1;
  if (key === ' ' || key === 'Spacebar') return 0x20;
  const ch = charToKeysym(key);
  if (ch !== null) return ch;
  return codeToKeysym(code);
}

/** Fallback for keys the browser could not name: the US-layout meaning of the physical key. */
function codeToKeysym(code: string): number | null {
  let m = /^Key([A-Z])$/.exec(code);
  if (m) return m[1]!.toLowerCase().charCodeAt(0);
  m = /^Digit([0-9])$/.exec(code);
  if (m) return m[1]!.charCodeAt(0);
  const punct: Record<string, string> = {
    Minus: '-', Equal: '=', BracketLeft: '[', BracketRight: ']', Backslash: '\\', Semicolon: ';',
    Quote: "'", Backquote: '`', Comma: ',', Period: '.', Slash: '/', Space: ' ', IntlBackslash: '<',
  };
  const p = punct[code];
  return p !== undefined ? p.charCodeAt(0) : null;
}

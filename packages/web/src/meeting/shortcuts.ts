import { useEffect, useRef } from 'react';

/** A meeting keyboard shortcut: the key, what it does, and how it is done. */
export interface Shortcut {
  key: string;
  /** Shown in the help dialog. */
  label: string;
  run(): void;
}

/** Keys that do something in a meeting (single keys, no modifiers: like Jitsi Meet's). */
export const SHORTCUT_KEYS = { mute: 'm', chat: 'c', hand: 'h', fullscreen: 'f', help: '?' } as const;

/** Presses a visible, enabled control of the page (the one a mouse user would click). */
export function press(testId: string): boolean {
  const el = [...document.querySelectorAll<HTMLButtonElement>(`[data-testid="${testId}"]`)].find((b) => b.getClientRects().length > 0 && !b.disabled);
  el?.click();
  return !!el;
}

/**
 * Runs the shortcuts on keydown, except while the user types (inputs, text areas, selects,
 * editable content), with a modifier held, while a dialog is open, or while the keys go to a
 * remote screen (focus on the shared screen).
 */
export function useShortcuts(shortcuts: readonly Shortcut[], enabled: boolean): void {
  const current = useRef(shortcuts);
  current.current = shortcuts;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
      const t = e.target instanceof HTMLElement ? e.target : null;
      if (t && (t.isContentEditable || t.closest('input, textarea, select, canvas, dialog, .stage-screen, [data-keyboard-capture]'))) return;
      const s = current.current.find((x) => x.key === e.key);
      if (!s) return;
      e.preventDefault();
      s.run();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [enabled]);
}

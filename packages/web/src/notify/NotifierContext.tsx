import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { Notifier, Toast } from './Notifier';

const Ctx = createContext<Notifier | null>(null);

/** Gives the meeting's Notifier to everything below it (roster, chat, stage...). */
export function NotifierProvider({ notifier, children }: { notifier: Notifier; children: ReactNode }) {
  return <Ctx.Provider value={notifier}>{children}</Ctx.Provider>;
}

/**
 * The meeting's Notifier, or null outside a meeting. Components call
 * `useNotifier()?.notify('hand', 'Alice raised her hand')` to show a toast that screen readers announce.
 */
export function useNotifier(): Notifier | null {
  return useContext(Ctx);
}

export function useToasts(notifier: Notifier): readonly Toast[] {
  return useSyncExternalStore(
    (cb) => notifier.on('change', cb),
    () => notifier.toasts,
  );
}

export function useSoundSetting(notifier: Notifier): boolean {
  return useSyncExternalStore(
    (cb) => notifier.on('sound', cb),
    () => notifier.sound,
  );
}

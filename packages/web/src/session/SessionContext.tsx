import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { User } from '@baton/protocol';
import { api } from '../api/client';

interface Session {
  /** undefined while the first /api/me is in flight. */
  user: User | null | undefined;
  loadError: string | null;
  signIn(username: string, password: string): Promise<User>;
  signUp(username: string, password: string, displayName?: string): Promise<User>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.me().then(
      (u) => live && setUser(u),
      (e: unknown) => {
        if (!live) return;
        setLoadError(e instanceof Error ? e.message : String(e));
        setUser(null);
      },
    );
    return () => {
      live = false;
    };
  }, []);

  const signIn = useCallback(async (username: string, password: string) => {
    const u = await api.signIn({ username, password });
    setUser(u);
    return u;
  }, []);
  const signUp = useCallback(async (username: string, password: string, displayName?: string) => {
    const u = await api.signUp(displayName ? { username, password, displayName } : { username, password });
    setUser(u);
    return u;
  }, []);
  const signOut = useCallback(async () => {
    await api.signOut();
    setUser(null);
  }, []);

  const value = useMemo(() => ({ user, loadError, signIn, signUp, signOut }), [user, loadError, signIn, signUp, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

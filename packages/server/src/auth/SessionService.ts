/**
 * Sign-in sessions: a random token goes to the browser (cookie); the store keeps only its hash.
 */
import type { Store, UserRecord } from '../store/Store.js';
import { hashToken, newToken } from './tokens.js';

export const DEFAULT_SESSION_LIFETIME_MS = 30 * 24 * 3600 * 1000;

export interface SessionServiceOptions {
  /** How long a session lasts from its creation (default 30 days). */
  lifetimeMs?: number;
  /** Clock; tests may pin it. */
  now?: () => Date;
}

export interface NewSession {
  token: string;
  expiresAt: Date;
}

export class SessionService {
  readonly lifetimeMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    opts: SessionServiceOptions = {},
  ) {
    this.lifetimeMs = opts.lifetimeMs ?? DEFAULT_SESSION_LIFETIME_MS;
    this.now = opts.now ?? (() => new Date());
  }

  async create(userId: string): Promise<NewSession> {
    const token = newToken();
    const expiresAt = new Date(this.now().getTime() + this.lifetimeMs);
    await this.store.createSession(hashToken(token), userId, expiresAt);
    return { token, expiresAt };
  }

  /** The signed-in user for a cookie token, or undefined for none, unknown or expired. */
  async resolve(token: string | undefined): Promise<UserRecord | undefined> {
    if (!token) return undefined;
    return this.store.getSessionUser(hashToken(token), this.now());
  }

  async destroy(token: string | undefined): Promise<void> {
    if (!token) return;
    await this.store.deleteSession(hashToken(token));
  }
}

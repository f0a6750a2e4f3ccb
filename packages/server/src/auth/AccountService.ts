/**
 * Sign-up and sign-in over the store. Usernames are normalized (trimmed, lower-cased) and checked
 * with the protocol's rules here too, so the admin CLI and the REST API accept the same names.
 */
import { DisplayName, Email, Password, Username } from '@baton/protocol';
import type { z } from 'zod';
import { BadRequestError, UnauthenticatedError } from '../errors.js';
import type { Store, UserRecord } from '../store/Store.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { passwordWeakness } from './passwordPolicy.js';

export interface SignUpInput {
  username: string;
  password: string;
  /** Defaults to the username. */
  displayName?: string;
  admin?: boolean;
  /** For invitations by mail (optional). */
  email?: string | null | undefined;
}

const WRONG = 'wrong username or password';
// The hash of a random, forgotten password with today's parameters: checking a sign-in for an
// unknown user against it costs what a real check costs, so timing does not reveal which names exist.
const DUMMY_HASH = 'scrypt$16384$8$1$UrEI90GWgvlcuiFOv1C4pw==$ZvKLLQtlagx9YoJySYrgklnZT4XWRwQyI+tLhR/WyXc=';

export interface AccountOptions {
  /**
   * Refuse common and low-entropy passwords (passwordPolicy.ts). On for self-service sign-up over
   * REST; the operator's `baton-admin user add` keeps only the length rule.
   */
  passwordPolicy?: boolean;
}

export class AccountService {
  constructor(
    private readonly store: Store,
    private readonly options: AccountOptions = {},
  ) {}

  /** Creates a user; ConflictError when the username is taken, BadRequestError when input is invalid. */
  async signUp(input: SignUpInput): Promise<UserRecord> {
    const username = parseOrThrow(Username, input.username);
    const password = parseOrThrow(Password, input.password);
    const weakness = this.options.passwordPolicy ? passwordWeakness(password, username) : null;
    if (weakness) throw new BadRequestError(weakness);
    const displayName = input.displayName === undefined ? username : parseOrThrow(DisplayName, input.displayName);
    const passwordHash = await hashPassword(password);
    const email = input.email ? parseOrThrow(Email, input.email) : null;
    return this.store.createUser({ username, displayName, passwordHash, admin: input.admin ?? false, email });
  }

  /** The user for these credentials, or UnauthenticatedError without saying which part was wrong. */
  async signIn(username: string, password: string): Promise<UserRecord> {
    const parsed = Username.safeParse(username);
    const user = parsed.success ? await this.store.getUserByUsername(parsed.data) : undefined;
    if (!user) {
      await verifyPassword(password, DUMMY_HASH);
      throw new UnauthenticatedError(WRONG);
    }
    if (!(await verifyPassword(password, user.passwordHash))) throw new UnauthenticatedError(WRONG);
    return user;
  }
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadRequestError(r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

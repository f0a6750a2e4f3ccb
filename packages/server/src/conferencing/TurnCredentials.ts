/**
 * Short-lived TURN credentials in the TURN REST API scheme (draft-uberti-behave-turn-rest), which
 * coturn checks with `use-auth-secret` + `static-auth-secret`: the server and coturn share one secret,
 * and nothing per user is stored anywhere.
 *
 *   username   = "<expiry, unix seconds>:<participant id>"
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * coturn refuses a username whose expiry lies in the past (401), so a leaked credential dies on its own.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TurnCredentialsOptions {
  /** The secret shared with coturn's `static-auth-secret`. */
  secret: string;
  /** TURN URLs handed to clients, e.g. ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp"]. */
  urls: string[];
  /** How long an issued credential stays valid. Default one hour. */
  ttlSeconds?: number;
  /** Clock in milliseconds since the epoch (tests). Default Date.now. */
  now?: () => number;
}

/** Shaped like an RTCIceServer (urls, username, credential), so a browser can use it as is. */
export interface TurnCredential {
  urls: string[];
  username: string;
  credential: string;
  /** ISO 8601 time after which coturn refuses this credential. */
  expiresAt: string;
}

const URL_RE = /^(turns?|stun):[^\s]+$/;
// Printable ASCII without spaces: participant ids are base64url, and a STUN USERNAME must stay short.
const PARTICIPANT_RE = /^[\x21-\x7e]{1,128}$/;

export class TurnCredentials {
  readonly #secret: string;
  readonly #urls: string[];
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  constructor(opts: TurnCredentialsOptions) {
    if (!opts.secret) throw new Error('TurnCredentials: secret must not be empty');
    if (opts.urls.length === 0) throw new Error('TurnCredentials: at least one TURN URL is needed');
    for (const u of opts.urls) if (!URL_RE.test(u)) throw new Error(`TurnCredentials: not a TURN/STUN URL: ${u}`);
    const ttl = opts.ttlSeconds ?? 3600;
    if (!Number.isInteger(ttl) || ttl <= 0) throw new Error('TurnCredentials: ttlSeconds must be a positive integer');
    this.#secret = opts.secret;
    this.#urls = [...opts.urls];
    this.#ttlSeconds = ttl;
    this.#now = opts.now ?? Date.now;
  }

  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  /** Mint a credential for one participant, valid for ttlSeconds from now. */
  issue(participantId: string): TurnCredential {
    if (!PARTICIPANT_RE.test(participantId)) throw new Error('TurnCredentials: participant id must be 1-128 printable ASCII characters');
    const expiry = Math.floor(this.#now() / 1000) + this.#ttlSeconds;
    const username = `${expiry}:${participantId}`;
    return {
      urls: [...this.#urls],
      username,
      credential: TurnCredentials.sign(this.#secret, username),
      expiresAt: new Date(expiry * 1000).toISOString(),
    };
  }

  /** base64(HMAC-SHA1(secret, username)): what coturn computes as the expected password. */
  static sign(secret: string, username: string): string {
    return createHmac('sha1', secret).update(username).digest('base64');
  }

  /** True when the credential matches the username under this secret and the username's expiry (seconds) is not before `now` (ms). */
  static verify(secret: string, username: string, credential: string, now: number = Date.now()): boolean {
    const m = /^(\d{1,12}):(.+)$/.exec(username);
    if (!m) return false;
    // Same rule as coturn: the expiry second itself is still valid.
    if (Number(m[1]) < Math.floor(now / 1000)) return false;
    const expected = Buffer.from(TurnCredentials.sign(secret, username));
    const given = Buffer.from(credential);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

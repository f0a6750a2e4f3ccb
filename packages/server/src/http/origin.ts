/**
 * Cross-site request forgery and cross-site WebSocket hijacking: which requests may ride a session
 * cookie. A browser names the page that made a request in `Origin` (every POST, PATCH, DELETE and
 * WebSocket handshake, same-origin ones included) and, in current browsers, says where it came from
 * in `Sec-Fetch-Site`. We accept a request when
 *  - its Origin is this server: the configured public URL's origin, or the origin the request itself
 *    was addressed to (scheme, host and port all equal, default ports normalized); or
 *  - it has no Origin and Sec-Fetch-Site is `same-origin` or `none` (typed by the user), or its
 *    Origin is `null` (a privacy-minded browser hides it) and Sec-Fetch-Site is `same-origin`; or
 *  - it has neither header: not a browser (the host agent, curl, scripts). Such a client holds no
 *    victim's cookie to abuse; it authenticates with what it was given (a cookie it got by signing
 *    in, a one-time agent token).
 * Everything else (a foreign or `null` Origin, Sec-Fetch-Site `same-site` or `cross-site`) is refused.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ServerConfig } from '../config.js';

/** Methods that change nothing; every other method is checked. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type OriginVerdict = { ok: true } | { ok: false; reason: string };

/** `scheme://host[:port]` normalized (lower case, default port dropped), or null when not a URL. */
export function normalizeOrigin(value: string): string | null {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.origin;
  } catch {
    return null;
  }
}

export function checkOrigin(
  headers: { origin?: string | string[]; 'sec-fetch-site'?: string | string[] },
  ownOrigin: string | null,
  config: Pick<ServerConfig, 'publicUrl'>,
): OriginVerdict {
  const origin = first(headers.origin);
  const site = first(headers['sec-fetch-site']);
  // Sec-Fetch-Site is set by the browser itself; no page can forge it.
  if (origin === 'null' && site === 'same-origin') return { ok: true };
  if (origin !== undefined) {
    const o = origin === 'null' ? null : normalizeOrigin(origin);
    const allowed = [config.publicUrl ? normalizeOrigin(config.publicUrl) : null, ownOrigin].filter((x): x is string => x !== null);
    if (o && allowed.includes(o)) return { ok: true };
    return { ok: false, reason: `cross-site request refused: Origin ${JSON.stringify(origin.slice(0, 200))} is not ${allowed.join(' or ') || 'this server'}` };
  }
  if (site === undefined || site === 'same-origin' || site === 'none') return { ok: true };
  return { ok: false, reason: `cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 40)})` };
}

/** The origin an HTTP request or WebSocket handshake was addressed to: scheme, host and port. */
export function ownOriginOf(req: IncomingMessage, trustProxy: boolean): string | null {
  const forwarded = (name: string) => (trustProxy ? first(req.headers[name])?.split(',')[0]?.trim() : undefined);
  const scheme = forwarded('x-forwarded-proto') ?? ((req.socket as TLSSocket).encrypted ? 'https' : 'http');
  const host = forwarded('x-forwarded-host') ?? req.headers.host;
  if (!host) return null;
  return normalizeOrigin(`${scheme}://${host}`);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

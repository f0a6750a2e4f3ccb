/** The server's tiny set of error classes. Each maps to one protocol ErrorCode. */
import type { ErrorCode } from '@baton/protocol';

export class BatonError extends Error {
  override name = 'BatonError';
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}
export class BadRequestError extends BatonError {
  override name = 'BadRequestError';
  constructor(message: string) { super('bad_request', message); }
}
export class UnauthenticatedError extends BatonError {
  override name = 'UnauthenticatedError';
  constructor(message = 'sign in first') { super('unauthenticated', message); }
}
export class ForbiddenError extends BatonError {
  override name = 'ForbiddenError';
  constructor(message: string, code: 'forbidden' | 'policy' = 'forbidden') { super(code, message); }
}
export class NotFoundError extends BatonError {
  override name = 'NotFoundError';
  constructor(message: string) { super('not_found', message); }
}
export class ConflictError extends BatonError {
  override name = 'ConflictError';
  constructor(message: string) { super('conflict', message); }
}
export class RateLimitedError extends BatonError {
  override name = 'RateLimitedError';
  constructor(message: string) { super('rate_limited', message); }
}

export function httpStatus(code: ErrorCode): number {
  switch (code) {
    case 'bad_request': case 'unsupported_version': return 400;
    case 'unauthenticated': return 401;
    case 'forbidden': case 'policy': return 403;
    case 'not_found': return 404;
    case 'conflict': return 409;
    case 'rate_limited': return 429;
    default: return 500;
  }
}

/**
 * Cluster mode: this node is not (or no longer) the conference's home. Not a BatonError: it is no
 * answer to a command but a reason to reconnect, and the gateway closes the socket with 1012.
 */
export class NotHomeError extends Error {
  override name = 'NotHomeError';
}

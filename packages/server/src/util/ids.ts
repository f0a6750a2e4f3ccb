import { randomBytes } from 'node:crypto';

/** An unguessable id: 128 random bits, base64url (22 characters). Used for meeting ids. */
export function meetingId(): string {
  return randomBytes(16).toString('base64url');
}

/** A short id for things that are not secrets (participants within a conference). */
export function shortId(): string {
  return randomBytes(6).toString('base64url');
}

/** A bearer secret (resume tokens, tickets). */
export function secretToken(): string {
  return randomBytes(24).toString('base64url');
}

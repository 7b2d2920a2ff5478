import { createHmac, hash, randomBytes } from 'node:crypto';

/** `lko_` + 256 random bits in base64url: an operator API key. */
export const OPERATOR_KEY_PATTERN = /^lko_[A-Za-z0-9_-]{43}$/;
/** A session id or a sign-in token: 256 random bits in base64url. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function newOperatorKey(): string {
  return `lko_${randomToken()}`;
}

/** SHA-256 suffices: every value hashed here is 256 random bits, nothing to brute-force. */
export function sha256(value: string): string {
  return hash('sha256', value, 'hex');
}

/** The CSRF token of a session: derived, so nothing extra is stored, and useless without the cookie's session. */
export function csrfTokenOf(key: Buffer, sessionId: string): string {
  return createHmac('sha256', key).update(`csrf:${sessionId}`).digest('base64url');
}

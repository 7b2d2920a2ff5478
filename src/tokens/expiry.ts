import type { TokenSet } from './vault.js';

/** The access token outlives the skew window (or never expires): use it as it is. */
export function isFresh(tokens: TokenSet, expiresAt: string | null, now: Date, skewSeconds: number): boolean {
  if (tokens.accessToken === undefined) return false;
  if (expiresAt === null) return true;
  return Date.parse(expiresAt) - now.getTime() > skewSeconds * 1000;
}

/** The access token has not expired yet, even if it is inside the skew window. */
export function isUnexpired(tokens: TokenSet, expiresAt: string | null, now: Date): boolean {
  if (tokens.accessToken === undefined) return false;
  return expiresAt === null || Date.parse(expiresAt) > now.getTime();
}

/** Seconds until `at`, at least 1 (for Retry-After). */
export function secondsUntil(at: string, now: Date): number {
  return Math.max(1, Math.ceil((Date.parse(at) - now.getTime()) / 1000));
}

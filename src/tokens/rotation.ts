import type { Provider } from '../providers/index.js';
import type { ConnectionRow } from '../store/index.js';
import type { RefreshIntent } from './intent.js';

/** The reason named in lastError and events when a rotated refresh token was lost in an unanswered request. */
export const ROTATION_LOST = 'rotation_lost';

/**
 * Whether resending a refresh token whose answer was lost could kill the
 * grant: the provider is known to rotate (quirk `rotatesRefreshTokens`: Xero,
 * QuickBooks, X…), or this connection has been seen rotating (unless the
 * quirk says `false`).
 * For a provider that keeps its refresh tokens a resend is harmless.
 */
export function rotates(provider: Provider, row: ConnectionRow): boolean {
  // An explicit false: the provider hands out new refresh tokens but accepts an old one again.
  if (provider.quirks.rotatesRefreshTokens === false) return false;
  return provider.quirks.rotatesRefreshTokens === true || row.refreshTokenRotates;
}

/**
 * Whether the request an intent announced may still be in flight: it was
 * written less than a token timeout ago (plus a little for clocks). Its
 * holder's claim lapsed (else we would not hold it) but the holder may only
 * have lost the database; its answer may still arrive and commit.
 */
export function mayBeInFlight(intent: RefreshIntent, now: Date, tokenTimeoutSeconds: number): number | undefined {
  const until = Date.parse(intent.at) + (tokenTimeoutSeconds + 2) * 1000;
  return Number.isFinite(until) && until > now.getTime() ? until : undefined;
}

export function rotationLostReason(intent: RefreshIntent): string {
  return (
    `${ROTATION_LOST}: a refresh at ${intent.at} sent this refresh token and its answer was lost; ` +
    'the provider rotates refresh tokens, so sending it again would revoke the grant'
  );
}

/** The connection was refused or the host not found: the request never reached the provider. */
export function neverSent(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

import type { Connection } from '../connections/index.js';

/** A valid access token for one connection, as the rest of Latchkey receives it. */
export interface AccessGrant {
  connectionId: string;
  accessToken: string;
  /** As the provider named it, e.g. "Bearer". */
  tokenType: string;
  scopes: string[];
  /** ISO time, or null when the provider's tokens do not expire. */
  expiresAt: string | null;
  /** The grant's refresh and ID tokens, when it has them: never sent upstream, but masked in responses like the access token. */
  otherTokens?: string[];
}

/** The Authorization header value for a grant. RFC 6750 spells it "Bearer"; providers answer "bearer" and some APIs are case-sensitive. */
export function authorizationOf(grant: Pick<AccessGrant, 'tokenType' | 'accessToken'>): string {
  const scheme = grant.tokenType.toLowerCase() === 'bearer' ? 'Bearer' : grant.tokenType;
  return `${scheme} ${grant.accessToken}`;
}

/**
 * The token lifecycle (tokens/): the one place the rest of the code asks for a
 * usable access token. Implementations refresh single-flight across requests,
 * processes and replicas.
 */
export interface TokenService {
  /** A token valid for at least the skew window, refreshing first if needed. Throws NeedsReauth / ProviderUnavailable. */
  getValidToken(connection: Connection): Promise<AccessGrant>;
  /**
   * The upstream answered 401 to `rejectedAccessToken`: refresh unless a newer token is already stored.
   * Undefined when a 401 already refreshed this connection within the cooldown: relay the 401.
   */
  reportUnauthorized(connection: Connection, rejectedAccessToken: string): Promise<AccessGrant | undefined>;
  /** Refresh now, whatever the expiry (POST /v1/connections/{id}/refresh, lease rotation). */
  forceRefresh(connection: Connection): Promise<AccessGrant>;
  /** Revoke a token at the provider (RFC 7009). Returns whether the provider confirmed it. */
  revokeAtProvider(connection: Connection, which: 'refresh_token' | 'access_token', token?: string): Promise<boolean>;
}

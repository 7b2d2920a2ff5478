
/**
 * Column types as Kysely sees them (camelCase; the CamelCasePlugin maps to
 * snake_case columns). Times are ISO 8601 UTC strings, which sort correctly as
 * text on both dialects; JSON is text; booleans are 0/1 integers; sealed
 * columns hold `lk1.` envelopes only.
 */
export interface KeyringKeysTable {
  id: string;
  wrappedKey: string;
  status: string;
  createdAt: string;
  sealsReserved: number;
}

export interface ProvidersTable {
  id: string;
  name: string;
  displayName: string;
  preset: string | null;
  issuer: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  revocationEndpoint: string | null;
  deviceAuthorizationEndpoint: string | null;
  userinfoEndpoint: string | null;
  introspectionEndpoint: string | null;
  clientId: string | null;
  /** sealed */
  clientSecret: string | null;
  tokenEndpointAuthMethod: string;
  scopes: string;
  pkce: number;
  authorizeParams: string;
  apiBaseUrl: string | null;
  allowedHosts: string;
  capabilities: string;
  quirks: string;
  issParameterSupported: number;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectionsTable {
  id: string;
  name: string;
  providerId: string;
  subject: string | null;
  environment: string;
  grantType: string;
  status: string;
  scopes: string;
  tokenType: string | null;
  /** sealed JSON {accessToken, refreshToken, idToken} */
  tokens: string | null;
  expiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  lastRefreshedAt: string | null;
  lastUsedAt: string | null;
  lastError: string | null;
  metadata: string;
  /** bumped on every token write; refreshes commit only against the version they read */
  version: number;
  refreshClaimOwner: string | null;
  refreshClaimUntil: string | null;
  /** JSON {owner, at, fingerprint} written before calling the token endpoint */
  refreshIntent: string | null;
  failureCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Database {
  keyringKeys: KeyringKeysTable;
  providers: ProvidersTable;
  connections: ConnectionsTable;
}

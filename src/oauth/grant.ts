import type * as oidc from 'openid-client';
import type { Connection, GrantType } from '../connections/index.js';
import { Conflict, UpstreamError } from '../errors.js';
import { instanceApiBase, type Provider } from '../providers/index.js';
import type { TokenWriteGuard } from '../store/index.js';
import type { GrantSecrets, OAuthDeps } from './deps.js';

/** A token endpoint answer reduced to what a connection stores. */
export interface GrantedTokens {
  tokens: GrantSecrets;
  tokenType: string;
  expiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  scopes: string[];
  /** The connection's own API base, when the provider names one in its token responses (Salesforce). */
  apiBaseUrl?: string;
}

/**
 * Reads a token response (already repaired by the provider's quirk fetch):
 * no `scope` means the requested scopes were granted (RFC 6749 §5.1); no
 * `expires_in` means the token does not say when it expires. An instance URL
 * that is not a usable https base fails the grant: the connection could not
 * be used anyway.
 */
export function grantedTokens(
  response: oidc.TokenEndpointResponse,
  requestedScopes: string[],
  provider: Provider,
  now: Date,
  allowHttpLoopback: boolean,
): GrantedTokens {
  const tokens: GrantSecrets = { accessToken: response.access_token };
  if (typeof response.refresh_token === 'string') tokens.refreshToken = response.refresh_token;
  if (typeof response.id_token === 'string') tokens.idToken = response.id_token;
  const scopes =
    typeof response.scope === 'string' ? response.scope.split(/\s+/).filter(Boolean) : [...requestedScopes];
  const at = (seconds: unknown): string | null =>
    typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(now.getTime() + seconds * 1000).toISOString() : null;
  let refreshTokenExpiresAt = at(response.refresh_token_expires_in);
  if (refreshTokenExpiresAt === null && tokens.refreshToken !== undefined) {
    refreshTokenExpiresAt = at(provider.quirks.refreshTokenLifetime);
  }
  let apiBaseUrl: string | undefined;
  try {
    apiBaseUrl = instanceApiBase(provider.quirks, response, allowHttpLoopback);
  } catch (err) {
    // The provider's answer is at fault, not the caller's request.
    throw new UpstreamError(`the provider's token response is not usable: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    tokens,
    tokenType: response.token_type.toLowerCase() === 'bearer' ? 'Bearer' : response.token_type,
    expiresAt: at(response.expires_in),
    refreshTokenExpiresAt,
    scopes,
    ...(apiBaseUrl === undefined ? {} : { apiBaseUrl }),
  };
}

/**
 * Seals the tokens for this connection row and marks it active, committing
 * only against the version read before the flow's network call (and, with a
 * guard, only while the row is still in a state the flow may complete).
 */
export async function saveGrant(
  deps: Pick<OAuthDeps, 'sealTokens' | 'store' | 'clock' | 'connections' | 'emit' | 'providers'>,
  connection: Connection,
  granted: GrantedTokens,
  grantType: GrantType,
  guard?: TokenWriteGuard,
): Promise<Connection> {
  const now = deps.clock.now().toISOString();
  const sealed = await deps.sealTokens(connection.id, granted.tokens);
  const saved = await deps.store.connections.saveTokens(
    connection.id,
    connection.version,
    {
      tokens: sealed,
      tokenType: granted.tokenType,
      expiresAt: granted.expiresAt,
      refreshTokenExpiresAt: granted.refreshTokenExpiresAt,
      scopes: granted.scopes,
      status: 'active',
      lastRefreshedAt: now,
      lastError: null,
      grantType,
      // Consent flows use the provider's default client, also when reconnecting an imported connection.
      providerClientId: null,
      ...(granted.apiBaseUrl === undefined ? {} : { apiBaseUrl: granted.apiBaseUrl }),
    },
    now,
    guard,
  );
  if (!saved) throw new Conflict(`connection "${connection.name}" changed while it was being authorized; start again`);
  const active = await deps.connections.get(connection.id);
  await emitCreated(deps, active);
  return active;
}

/** Tells webhook subscribers a connection is ready (also after a reconnect of a broken one). */
export async function emitCreated(deps: Pick<OAuthDeps, 'emit' | 'providers'>, connection: Connection): Promise<void> {
  const provider = await deps.providers.getById(connection.providerId);
  await deps.emit('connection.created', {
    id: connection.id,
    name: connection.name,
    provider: provider.name,
    status: connection.status,
    grantType: connection.grantType,
  });
}

/**
 * Records why a flow failed: a pending connection becomes `error`; one being
 * re-authorized keeps its status and gets the reason; an active one (made so
 * by another flow or replica) is never downgraded.
 */
export async function failPendingConnection(
  deps: Pick<OAuthDeps, 'store' | 'clock' | 'connections'>,
  connectionId: string,
  reason: string,
): Promise<void> {
  const current = await deps.connections.find(connectionId);
  if (current === undefined || current.status === 'active') return;
  if (current.status !== 'pending') {
    await deps.store.connections.update(current.id, { lastError: reason }, deps.clock.now().toISOString());
    return;
  }
  await deps.store.connections.saveTokens(
    current.id,
    current.version,
    { tokens: current.sealedTokens, tokenType: current.tokenType, expiresAt: current.expiresAt, status: 'error', lastError: reason },
    deps.clock.now().toISOString(),
  );
}

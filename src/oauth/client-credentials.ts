import * as oidc from 'openid-client';
import type { Connection } from '../connections/index.js';
import { InvalidRequest } from '../errors.js';
import { newId } from '../ids.js';
import type { Provider } from '../providers/index.js';
import { clientConfiguration, scopeValue } from './client.js';
import type { ConnectInput, OAuthDeps } from './deps.js';
import { flowTokenEndpointError } from './misconfigured.js';
import { emitCreated, grantedTokens, type GrantedTokens } from './grant.js';

export type ClientCredentialsInput = Omit<ConnectInput, 'subject'>;

/**
 * RFC 6749 §4.4: a token for the client itself. Exported for tokens/, which
 * calls it when a client_credentials connection needs a new token.
 */
export async function clientCredentialsGrant(
  deps: Pick<OAuthDeps, 'providers' | 'config' | 'clock' | 'fetch' | 'store' | 'logger' | 'emit'>,
  provider: Provider,
  scopes: string[],
  /** `timeout` in seconds (default 30); `fetch` for tests. */
  options: { fetch?: oidc.CustomFetch; timeout?: number } = {},
): Promise<GrantedTokens> {
  if (provider.sealedClientSecret === null && provider.tokenEndpointAuthMethod !== 'none') {
    throw new InvalidRequest(`provider "${provider.name}" has no client secret, which client credentials need`);
  }
  const config = await clientConfiguration(deps, provider, { withSecret: true, ...options });
  const params: Record<string, string> = { ...provider.quirks.tokenParams };
  if (scopes.length > 0) params.scope = scopeValue(provider, scopes);
  let response: oidc.TokenEndpointResponse;
  try {
    response = await oidc.clientCredentialsGrant(config, params);
  } catch (err) {
    throw await flowTokenEndpointError(deps, provider, err, 'the client credentials grant', 'client_credentials');
  }
  return grantedTokens(response, scopes, provider, deps.clock.now(), deps.config.allowHttpLoopback);
}

/** POST /v1/connect/{provider}/client-credentials: fetch once (checking the credentials), then store. */
export async function connectClientCredentials(
  deps: OAuthDeps,
  providerName: string,
  input: ClientCredentialsInput,
): Promise<Connection> {
  const provider = await deps.providers.get(providerName);
  const requested = input.scopes ?? provider.scopes;
  const granted = await clientCredentialsGrant(deps, provider, requested);
  const id = newId('conn');
  const connection = await deps.connections.create({
    id,
    ...(input.name === undefined ? {} : { name: input.name }),
    provider,
    ...(input.environment === undefined ? {} : { environment: input.environment }),
    grantType: 'client_credentials',
    status: 'active',
    scopes: granted.scopes,
    // The scopes to ask for again on every re-fetch.
    metadata: { requestedScopes: requested },
    ...(granted.apiBaseUrl === undefined ? {} : { apiBaseUrl: granted.apiBaseUrl }),
    sealedTokens: await deps.sealTokens(id, granted.tokens),
    tokenType: granted.tokenType,
    expiresAt: granted.expiresAt,
    lastRefreshedAt: deps.clock.now().toISOString(),
  });
  deps.logger.info({ connection: connection.name, provider: provider.name }, 'client credentials connection created');
  await emitCreated(deps, connection);
  return connection;
}

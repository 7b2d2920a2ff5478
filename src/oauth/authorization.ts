import * as oidc from 'openid-client';
import type { Connection } from '../connections/index.js';
import { InvalidRequest } from '../errors.js';
import type { Provider } from '../providers/index.js';
import { clientConfiguration, scopeValue } from './client.js';
import type { ConnectInput, OAuthDeps } from './deps.js';
import { pendingConnection } from './pending-connection.js';
import { checkReturnTo } from './return-to.js';
import { STATE_TTL_MS, sha256Hex, stateId, stateSecretsContext, type StateSecrets } from './state.js';

export interface AuthorizationInput extends ConnectInput {
  returnTo?: string;
}

export interface AuthorizationStart {
  connectionId: string;
  authorizationUrl: string;
  expiresAt: string;
}

/**
 * One hosted callback for providers that name themselves in it (RFC 9207
 * `iss`); for the rest, a callback path of their own, so an answer can only
 * come back for the provider it was sent to (RFC 9700 §4.4.2).
 */
export function redirectUriOf(publicUrl: string, provider: Pick<Provider, 'name' | 'issParameterSupported'>): string {
  const base = `${publicUrl.replace(/\/+$/, '')}/oauth/callback`;
  return provider.issParameterSupported ? base : `${base}/${encodeURIComponent(provider.name)}`;
}

/**
 * RFC 6749 §4.1.1 with PKCE (RFC 7636, S256) and a 256-bit state: the request
 * is remembered server-side (verifier and nonce sealed) until its callback.
 */
export async function startAuthorization(
  deps: OAuthDeps,
  providerName: string,
  input: AuthorizationInput,
): Promise<AuthorizationStart> {
  return (await beginAuthorization(deps, await deps.providers.get(providerName), input)).start;
}

/** How a connect link starts its flow: on this exact connection (reconnect in place), remembering the link. */
export interface BeginOptions {
  connection?: Connection;
  connectLinkId?: string;
  /** Reuse an existing connection of that name only while it is an unfinished `pending` one of the same environment (connect links). */
  pendingOnly?: boolean;
}

/**
 * `startAuthorization` for a provider the caller already read, also handing back the start page's one-time token
 * (undefined for an unbound provider) and the connection the flow completes.
 */
export async function beginAuthorization(
  deps: OAuthDeps,
  provider: Provider,
  input: AuthorizationInput,
  options: BeginOptions = {},
): Promise<{ start: AuthorizationStart; startToken: string | undefined; connection: Connection }> {
  if (provider.authorizationEndpoint === null) {
    throw new InvalidRequest(`provider "${provider.name}" has no authorizationEndpoint; use the device or client-credentials flow`);
  }
  const returnTo = checkReturnTo(input.returnTo, deps.config.allowedReturnOrigins);
  const scopes = input.scopes ?? provider.scopes;
  // The URL is built before anything is written, so a bad provider leaves no connection.
  const config = await clientConfiguration(deps, provider, { withSecret: false });
  const connection = options.connection ?? (await pendingConnection(deps, provider, input, 'authorization_code', options.pendingOnly === true));

  const state = oidc.randomState();
  const secrets: StateSecrets = {};
  const redirectUri = redirectUriOf(deps.config.publicUrl, provider);
  const params = new URLSearchParams(provider.authorizeParams);
  params.set('redirect_uri', redirectUri);
  params.set('response_type', 'code');
  params.set('state', state);
  if (scopes.length > 0) params.set(provider.quirks.authorizeScopeParam ?? 'scope', scopeValue(provider, scopes));
  // Always S256 (RFC 9700 §2.1.1): a server that does not know PKCE ignores the parameters.
  secrets.codeVerifier = oidc.randomPKCECodeVerifier();
  params.set('code_challenge', await oidc.calculatePKCECodeChallenge(secrets.codeVerifier));
  params.set('code_challenge_method', 'S256');
  if (scopes.includes('openid')) {
    secrets.nonce = oidc.randomNonce();
    params.set('nonce', secrets.nonce);
  }
  const providerUrl = oidc.buildAuthorizationUrl(config, params).href;
  // The link people open is Latchkey's start page, which binds the request to that browser (RFC 9700
  // §4.7.1); the provider's URL itself stays sealed until then.
  const startToken = provider.quirks.unboundCallback === true ? undefined : oidc.randomState();
  if (startToken !== undefined) secrets.authorizationUrl = providerUrl;
  const authorizationUrl =
    startToken === undefined ? providerUrl : `${deps.config.publicUrl.replace(/\/+$/, '')}/oauth/start/${startToken}`;

  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + STATE_TTL_MS).toISOString();
  const id = stateId(state);
  await deps.store.oauthStates.removeExpired(now.toISOString());
  await deps.store.oauthStates.insert({
    id,
    connectionId: connection.id,
    providerId: provider.id,
    secrets: await deps.keyring.seal(JSON.stringify(secrets), stateSecretsContext(id)),
    scopes,
    redirectUri,
    returnTo,
    expiresAt,
    createdAt: now.toISOString(),
    startId: startToken === undefined ? null : sha256Hex(startToken),
    browserBinding: null,
    connectLinkId: options.connectLinkId ?? null,
  });
  deps.logger.info({ connection: connection.name, provider: provider.name }, 'authorization started');
  return { start: { connectionId: connection.id, authorizationUrl, expiresAt }, startToken, connection };
}

import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { instanceApiBase, providerConfiguration, type Provider } from '../providers/index.js';

/** A token endpoint answer reduced to what Latchkey stores (RFC 6749 section 5.1). */
export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  /** Absent when the provider did not send one: the old refresh token stays. */
  refreshToken?: string;
  idToken?: string;
  expiresIn?: number;
  scope?: string;
  /** Seconds, when the provider says how long the refresh token lives. */
  refreshTokenExpiresIn?: number;
  /** The connection's own API base, when the provider names one in its token responses (Salesforce). */
  apiBaseUrl?: string;
  /** Why the API base in the response was not usable: the stored one stays. */
  apiBaseUrlRejected?: string;
}

export interface TokenEndpointOptions {
  clientSecret: string | undefined;
  allowHttpLoopback: boolean;
  timeoutSeconds: number;
  /** The address-guarded fetch (net/). */
  fetch: oidc.CustomFetch;
}

/** RFC 6749 section 6, through openid-client (quirks repaired by providerConfiguration). */
export async function refreshTokenGrant(
  provider: Provider,
  refreshToken: string,
  options: TokenEndpointOptions,
): Promise<TokenResponse> {
  const config = configurationFor(provider, options, true);
  const response = await oidc.refreshTokenGrant(config, refreshToken, provider.quirks.tokenParams);
  return reduce(response, response.expiresIn(), provider, options.allowHttpLoopback);
}

/** RFC 7009: tells the provider a token is no longer needed. */
export async function tokenRevocation(
  provider: Provider,
  token: string,
  tokenTypeHint: 'refresh_token' | 'access_token',
  options: TokenEndpointOptions,
): Promise<void> {
  const config = configurationFor(provider, options, false);
  await oidc.tokenRevocation(config, token, { token_type_hint: tokenTypeHint });
}

/**
 * Does the token endpoint accept Latchkey's client? Repeats the refused grant
 * without consuming anything: client credentials as they are, anything else as
 * a refresh with a made-up token, which a server that accepts the client answers
 * with invalid_grant. Throws what the server answered otherwise.
 */
export async function clientCheck(provider: Provider, grantType: string, options: TokenEndpointOptions): Promise<void> {
  if (grantType === 'client_credentials') {
    await oidc.clientCredentialsGrant(configurationFor(provider, options, false), { ...provider.quirks.tokenParams });
    return;
  }
  try {
    await oidc.refreshTokenGrant(configurationFor(provider, options, true), `latchkey-client-check-${randomBytes(16).toString('hex')}`, provider.quirks.tokenParams);
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') return;
    throw err;
  }
}

function configurationFor(provider: Provider, options: TokenEndpointOptions, forRefresh: boolean): oidc.Configuration {
  return providerConfiguration(provider, {
    clientSecret: options.clientSecret,
    allowHttpLoopback: options.allowHttpLoopback,
    timeout: options.timeoutSeconds,
    forRefresh,
    fetch: options.fetch,
  });
}

function reduce(
  response: oidc.TokenEndpointResponse,
  expiresIn: number | undefined,
  provider: Provider,
  allowHttpLoopback: boolean,
): TokenResponse {
  const rtExpires = response.refresh_token_expires_in;
  let apiBase: Pick<TokenResponse, 'apiBaseUrl' | 'apiBaseUrlRejected'> = {};
  try {
    const apiBaseUrl = instanceApiBase(provider.quirks, response, allowHttpLoopback);
    if (apiBaseUrl !== undefined) apiBase = { apiBaseUrl };
  } catch (err) {
    apiBase = { apiBaseUrlRejected: err instanceof Error ? err.message : String(err) };
  }
  return {
    ...apiBase,
    accessToken: response.access_token,
    tokenType: response.token_type === 'bearer' ? 'Bearer' : response.token_type,
    ...(response.refresh_token === undefined ? {} : { refreshToken: response.refresh_token }),
    ...(response.id_token === undefined ? {} : { idToken: response.id_token }),
    ...(expiresIn === undefined ? {} : { expiresIn }),
    ...(response.scope === undefined ? {} : { scope: response.scope }),
    ...(typeof rtExpires === 'number' ? { refreshTokenExpiresIn: rtExpires } : {}),
  };
}

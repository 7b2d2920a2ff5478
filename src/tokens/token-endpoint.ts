import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { clientConfigurationOf, instanceApiBase, type Provider } from '../providers/index.js';

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

export interface RefreshOptions extends TokenEndpointOptions {
  /**
   * Called for every 200 answer, with its refresh token if it has one, before
   * openid-client checks the rest of it (ID token, token type…): the answer
   * arrived, so it was not lost; and a provider that rotated has already
   * consumed the old token, so the new one must be kept even if the answer is
   * then rejected.
   */
  onAnswer?: (refreshToken: string | undefined) => Promise<void>;
}

/** RFC 6749 section 6, through openid-client (quirks repaired by providerConfiguration). */
export async function refreshTokenGrant(
  provider: Provider,
  refreshToken: string,
  options: RefreshOptions,
): Promise<TokenResponse> {
  const config = await configurationFor(provider, options, true);
  if (provider.issuer === null) dropIdToken(config);
  if (options.onAnswer !== undefined) keepRefreshTokenFirst(config, options.onAnswer);
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
  const config = await configurationFor(provider, options, false);
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
    await oidc.clientCredentialsGrant(await configurationFor(provider, options, false), { ...provider.quirks.tokenParams });
    return;
  }
  try {
    await oidc.refreshTokenGrant(await configurationFor(provider, options, true), `latchkey-client-check-${randomBytes(16).toString('hex')}`, provider.quirks.tokenParams);
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') return;
    throw err;
  }
}

/**
 * A provider registered without an issuer has nothing to check an ID token's
 * `iss` against, and openid-client would reject every refresh answer that
 * carries one. Latchkey uses no ID token from a refresh, so it is left out of
 * the answer (the one from the consent stays stored).
 */
function dropIdToken(config: oidc.Configuration): void {
  onTokenAnswer(config, async (body) => {
    if (!('id_token' in body)) return undefined;
    const { id_token: _dropped, ...rest } = body;
    return rest;
  });
}

/** Wraps the configuration's fetch: a 200 answer, and its refresh_token, go to `keep` before validation. */
function keepRefreshTokenFirst(config: oidc.Configuration, keep: (refreshToken: string | undefined) => Promise<void>): void {
  onTokenAnswer(config, async (body) => {
    await keep(typeof body.refresh_token === 'string' && body.refresh_token.length > 0 ? body.refresh_token : undefined);
    return undefined;
  });
}

/**
 * Wraps the configuration's fetch so `inspect` sees the JSON body of a 200
 * answer before openid-client does; a body it returns replaces the answer's.
 */
function onTokenAnswer(
  config: oidc.Configuration,
  inspect: (body: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>,
): void {
  const inner = config[oidc.customFetch] ?? fetch;
  config[oidc.customFetch] = async (url, init) => {
    const response = await inner(url, init);
    if (response.status !== 200) return response;
    let body: unknown;
    try {
      body = await response.clone().json();
    } catch {
      return response; // not JSON: openid-client says what is wrong with it
    }
    if (typeof body !== 'object' || body === null) return response;
    const replaced = await inspect(body as Record<string, unknown>);
    if (replaced === undefined) return response;
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    return new Response(JSON.stringify(replaced), { status: response.status, headers });
  };
}

function configurationFor(provider: Provider, options: TokenEndpointOptions, forRefresh: boolean): Promise<oidc.Configuration> {
  return clientConfigurationOf(provider, {
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

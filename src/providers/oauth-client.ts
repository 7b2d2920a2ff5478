import * as oidc from 'openid-client';
import type { Provider } from './registry.js';
import type { ProviderQuirks } from './types.js';
import { isLoopbackHost } from './urls.js';

/**
 * openid-client configuration for one provider. Every known quirk of a token
 * endpoint is repaired here, from the provider's quirk data, before
 * openid-client validates the response; flow code stays RFC-shaped.
 */
export interface ProviderClientOptions {
  /** The client secret in clear (from ProviderRegistry.clientSecretOf). */
  clientSecret: string | undefined;
  allowHttpLoopback: boolean;
  /** Request timeout in seconds (default 30). */
  timeout?: number;
  /** Use the quirk's separate refresh endpoint as the token endpoint (Figma). */
  forRefresh?: boolean;
  /** Outbound fetch, injectable for tests. */
  fetch?: oidc.CustomFetch;
}

export function providerConfiguration(provider: Provider, options: ProviderClientOptions): oidc.Configuration {
  const tokenEndpoint =
    options.forRefresh === true && provider.quirks.refreshEndpoint !== undefined
      ? provider.quirks.refreshEndpoint
      : (provider.tokenEndpoint ?? undefined);
  const metadata: oidc.ServerMetadata = {
    issuer: provider.issuer ?? new URL(tokenEndpoint ?? provider.authorizationEndpoint ?? 'https://invalid').origin,
    ...(provider.authorizationEndpoint ? { authorization_endpoint: provider.authorizationEndpoint } : {}),
    ...(tokenEndpoint ? { token_endpoint: tokenEndpoint } : {}),
    ...(provider.revocationEndpoint ? { revocation_endpoint: provider.revocationEndpoint } : {}),
    ...(provider.deviceAuthorizationEndpoint
      ? { device_authorization_endpoint: provider.deviceAuthorizationEndpoint }
      : {}),
    ...(provider.userinfoEndpoint ? { userinfo_endpoint: provider.userinfoEndpoint } : {}),
    ...(provider.introspectionEndpoint ? { introspection_endpoint: provider.introspectionEndpoint } : {}),
    ...(provider.issParameterSupported ? { authorization_response_iss_parameter_supported: true } : {}),
  };
  const config = new oidc.Configuration(
    metadata,
    provider.clientId ?? '',
    undefined,
    clientAuthentication(provider, options.clientSecret),
  );
  config.timeout = options.timeout ?? 30;
  config[oidc.customFetch] = quirkFetch(provider.quirks, options.fetch ?? fetch);
  if (options.allowHttpLoopback && usesHttpLoopback(metadata)) oidc.allowInsecureRequests(config);
  return config;
}

export function clientAuthentication(provider: Provider, secret: string | undefined): oidc.ClientAuth {
  switch (provider.tokenEndpointAuthMethod) {
    case 'client_secret_post':
      return oidc.ClientSecretPost(secret);
    case 'client_secret_basic':
      return secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret);
    default:
      return oidc.None();
  }
}

function usesHttpLoopback(metadata: oidc.ServerMetadata): boolean {
  return Object.values(metadata).some((value) => {
    if (typeof value !== 'string' || !value.startsWith('http://')) return false;
    return isLoopbackHost(new URL(value).hostname);
  });
}

type FetchLike = (url: string, init: oidc.CustomFetchOptions) => Promise<Response>;

/** Wraps fetch so a misbehaving token endpoint's answer looks like RFC 6749's. */
export function quirkFetch(quirks: ProviderQuirks, base: FetchLike): oidc.CustomFetch {
  return async (url, init) => {
    const headers = { ...init.headers };
    if (quirks.tokenRequestAcceptJson) headers.accept = 'application/json';
    const response = await base(url, { ...init, headers });
    if (!isJson(response)) return response;
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return new Response(text, { status: response.status, headers: response.headers });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return new Response(text, { status: response.status, headers: response.headers });
    }
    const { status, json } = normaliseTokenResponse(response.status, body as Record<string, unknown>, quirks);
    const outHeaders = new Headers(response.headers);
    outHeaders.delete('content-length');
    outHeaders.delete('content-encoding');
    return new Response(JSON.stringify(json), { status, headers: outHeaders });
  };
}

function isJson(response: Response): boolean {
  return /\bjson\b/i.test(response.headers.get('content-type') ?? '');
}

/** The pure part of quirk handling, for unit tests. */
export function normaliseTokenResponse(
  status: number,
  input: Record<string, unknown>,
  quirks: ProviderQuirks,
): { status: number; json: Record<string, unknown> } {
  let json: Record<string, unknown> = { ...input };
  // GitHub answers 200 with {"error": ...}; RFC 6749 says 400.
  if (quirks.errorInSuccessfulTokenResponse && status === 200 && typeof json.error === 'string') {
    return { status: 400, json };
  }
  if (status !== 200) return { status, json };
  if (quirks.tokenResponseRoot !== undefined) {
    const nested = json[quirks.tokenResponseRoot];
    if (typeof nested === 'object' && nested !== null && typeof (nested as Record<string, unknown>).access_token === 'string') {
      json = { ...(nested as Record<string, unknown>) };
    }
  }
  if (typeof json.token_type === 'string' && json.token_type.toLowerCase() !== 'dpop') json.token_type = 'bearer';
  if (json.token_type === undefined && typeof json.access_token === 'string') json.token_type = 'bearer';
  const separator = quirks.tokenScopeSeparator;
  if (separator !== undefined && separator !== ' ' && typeof json.scope === 'string') {
    json.scope = json.scope
      .split(separator)
      .map((s) => s.trim())
      .filter(Boolean)
      .join(' ');
  }
  if (json.expires_in === undefined && typeof quirks.defaultExpiresIn === 'number') {
    json.expires_in = quirks.defaultExpiresIn;
  }
  if (typeof json.expires_in === 'string' && /^\d+$/.test(json.expires_in)) json.expires_in = Number(json.expires_in);
  return { status, json };
}

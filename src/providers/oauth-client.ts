import * as oidc from 'openid-client';
import type { Provider } from './registry.js';
import type { ProviderQuirks } from './types.js';
import { UpstreamError } from '../errors.js';
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
  /** Outbound fetch: the address-guarded one (net/), or a stub in unit tests. */
  fetch: oidc.CustomFetch;
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
  config[oidc.customFetch] = quirkFetch(provider.quirks, options.fetch);
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
    const text = await readCapped(response);
    if (!isJson(response)) return new Response(text, { status: response.status, headers: withoutLength(response.headers) });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return new Response(text, { status: response.status, headers: withoutLength(response.headers) });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return new Response(text, { status: response.status, headers: withoutLength(response.headers) });
    }
    const { status, json } = normaliseTokenResponse(response.status, body as Record<string, unknown>, quirks);
    return new Response(JSON.stringify(json), { status, headers: withoutLength(response.headers) });
  };
}

/** The body was read (and decoded) here: its length and encoding headers no longer describe it. */
function withoutLength(headers: Headers): Headers {
  const out = new Headers(headers);
  out.delete('content-length');
  out.delete('content-encoding');
  return out;
}

/** No token lives longer than this for Latchkey: a year, so an absurd lifetime (1e308) is neither trusted nor a crash. */
export const MAX_TOKEN_LIFETIME_SECONDS = 366 * 24 * 3600;

/** A lifetime as a whole number of seconds in [0, a year]; undefined when it is not a number at all. */
export function lifetimeSeconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || Number.isNaN(n)) return undefined;
  return Math.min(Math.max(0, Math.floor(n)), MAX_TOKEN_LIFETIME_SECONDS);
}

/** A token response is a few kilobytes; an endpoint that sends more is not read past this. */
export const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;

async function readCapped(response: Response): Promise<string> {
  const tooLarge = () => new UpstreamError(`the provider's answer is larger than ${MAX_TOKEN_RESPONSE_BYTES / 1024} KiB; it was not read`);
  if (Number(response.headers.get('content-length') ?? 0) > MAX_TOKEN_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (next === undefined || next.done) break;
    total += next.value.byteLength;
    if (total > MAX_TOKEN_RESPONSE_BYTES) {
      await reader?.cancel();
      throw tooLarge();
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString('utf8');
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
  // Only spellings the provider's data names become Bearer: openid-client refuses a missing or unknown
  // type, rather than Latchkey sending a token it does not understand as a Bearer token.
  if (typeof json.token_type === 'string') {
    const type = json.token_type.toLowerCase();
    json.token_type = quirks.tokenTypeAliases?.[type] ?? type;
  } else if (json.token_type === undefined && quirks.defaultTokenType !== undefined && typeof json.access_token === 'string') {
    json.token_type = quirks.defaultTokenType;
  }
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
  for (const field of ['expires_in', 'refresh_token_expires_in'] as const) {
    if (json[field] === undefined) continue;
    const seconds = lifetimeSeconds(json[field]);
    if (seconds === undefined) delete json[field];
    else json[field] = seconds;
  }
  return { status, json };
}

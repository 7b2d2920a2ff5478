import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones a proxy must own itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'http2-settings',
]);

/** The agent's own credentials never travel upstream. */
const AGENT_CREDENTIALS = new Set(['authorization', 'cookie', 'cookie2']);

/**
 * Headers that make an upstream act on another method or path than the one
 * the policy judged (method overrides, IIS/Symfony URL rewrites), or that
 * claim a client address or proxy chain the agent made up. Also every
 * `X-Forwarded-*` header.
 */
const OVERRIDES_AND_FORWARDING = new Set([
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-original-url',
  'x-rewrite-url',
  'forwarded',
  'via',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'x-originating-ip',
]);

/** Response headers that carry or ask for credentials; invoke strips them. */
const AUTH_RESPONSE_HEADERS = new Set(['set-cookie', 'set-cookie2', 'authorization', 'www-authenticate', 'proxy-authenticate']);

export type HeaderMap = Record<string, string | string[]>;

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/** The end-to-end headers of the agent's request, with the provider's Authorization injected. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders | Record<string, string>, authorization: string): HeaderMap {
  const named = connectionTokens(incoming.connection);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(incoming)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || AGENT_CREDENTIALS.has(lower) || named.has(lower)) continue;
    if (lower.startsWith('proxy-') || lower.startsWith('latchkey-') || lower.startsWith('x-forwarded-')) continue;
    if (OVERRIDES_AND_FORWARDING.has(lower)) continue;
    out[lower] = value;
  }
  out.authorization = authorization;
  return out;
}

/** Upstream response headers to relay: everything end-to-end (plus, for invoke, no auth-class headers). */
export function relayedResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  options: { stripAuth: boolean },
): HeaderMap {
  const named = connectionTokens(upstream.connection);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(upstream)) {
    const lower = name.toLowerCase();
    if (value === undefined || named.has(lower) || lower.startsWith('proxy-')) continue;
    if (HOP_BY_HOP.has(lower) && lower !== 'content-length') continue;
    if (options.stripAuth && AUTH_RESPONSE_HEADERS.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

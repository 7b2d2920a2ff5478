import { unsafeUrl } from '../api/index.js';
import { TargetNotAllowed } from '../errors.js';
import { hostKey, isLoopbackHost, normaliseAllowedHost, type Provider } from '../providers/index.js';
import { checkAgentPath, hasControl } from './path.js';

export { checkAgentPath };

/** Where a brokered request goes. `path` is what the agent asked for; `upstreamPath` includes the base path. */
export interface Target {
  origin: string;
  host: string;
  path: string;
  upstreamPath: string;
  /** Raw query string without "?", passed through unchanged. */
  query: string;
}

const hostsByProvider = new WeakMap<Provider, Set<string>>();

/** The hosts a provider's token may be sent to: its allowedHosts and the API base URL's host. */
export function allowedHostsOf(provider: Provider): Set<string> {
  let hosts = hostsByProvider.get(provider);
  if (hosts === undefined) {
    hosts = new Set(provider.allowedHosts.map(normaliseAllowedHost));
    if (provider.apiBaseUrl !== null) hosts.add(hostKey(new URL(provider.apiBaseUrl)));
    hostsByProvider.set(provider, hosts);
  }
  return hosts;
}

/**
 * The hosts a connection's token may be sent to: its provider's, and the
 * host of the connection's own API base (Salesforce's instance_url), which
 * the provider's token endpoint named for this connection only.
 */
export function allowedHostsFor(provider: Provider, connectionBase: string | null): ReadonlySet<string> {
  const hosts = allowedHostsOf(provider);
  if (connectionBase === null) return hosts;
  const own = hostKey(new URL(connectionBase));
  return hosts.has(own) ? hosts : new Set([...hosts, own]);
}

const baseHosts = new WeakMap<Provider, string>();

/** The API base URL's host, parsed once per provider object. */
export function apiBaseHost(provider: Provider, connectionBase: string | null = null): string {
  if (connectionBase !== null) return hostKey(new URL(connectionBase));
  let host = baseHosts.get(provider);
  if (host === undefined) {
    host = provider.apiBaseUrl === null ? '' : hostKey(new URL(provider.apiBaseUrl));
    baseHosts.set(provider, host);
  }
  return host;
}

/** https only; http only to a loopback host when the operator allowed it (development and tests). */
export function checkScheme(url: URL, allowHttpLoopback: boolean): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && allowHttpLoopback && isLoopbackHost(url.hostname)) return;
  throw new TargetNotAllowed(`the broker sends tokens over https only (not ${url.protocol.replace(':', '')} to ${url.hostname})`);
}

const checkedBases = new WeakMap<Provider, { allowHttpLoopback: boolean; base: URL }>();

/**
 * The base URL a request goes to: an allowed Latchkey-Base-Url, else the
 * connection's own API base (from its token response), else the provider's apiBaseUrl.
 */
export function resolveBase(
  provider: Provider,
  override: string | undefined,
  allowHttpLoopback: boolean,
  connectionBase: string | null = null,
): URL {
  if (override !== undefined || connectionBase !== null) return checkBase(provider, connectionBase, override, allowHttpLoopback);
  // The provider object is immutable and re-read on change, so its checked base URL is reused (never mutated).
  const hit = checkedBases.get(provider);
  if (hit !== undefined && hit.allowHttpLoopback === allowHttpLoopback) return hit.base;
  const base = checkBase(provider, null, undefined, allowHttpLoopback);
  checkedBases.set(provider, { allowHttpLoopback, base });
  return base;
}

function parseBase(raw: string, what: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new TargetNotAllowed(`${what} is not a valid URL`);
  }
}

function checkBase(provider: Provider, connectionBase: string | null, override: string | undefined, allowHttpLoopback: boolean): URL {
  if (override !== undefined) return checkOverride(provider, connectionBase, override, allowHttpLoopback);
  const raw = connectionBase ?? provider.apiBaseUrl;
  if (raw === null || raw === '') {
    throw new TargetNotAllowed(`provider "${provider.name}" has no apiBaseUrl to send requests to`);
  }
  const base = parseBase(raw, 'the API base URL');
  checkScheme(base, allowHttpLoopback);
  if (!allowedHostsFor(provider, connectionBase).has(hostKey(base))) {
    throw new TargetNotAllowed(`host ${base.host} is not in the allowed hosts of provider "${provider.name}"`);
  }
  return base;
}

const trimSlashes = (path: string): string => path.replace(/\/+$/, '');

/**
 * Latchkey-Base-Url chooses an origin among the allowed hosts, never a path:
 * policy paths are relative to the API base, so a header carrying a path
 * (`https://api.example.com/admin/secret`) would have `/public/**` judged
 * against `/admin/secret/public/…`. On the API base's own origin the base
 * keeps its path (the header may repeat it); on another allowed origin the
 * path is "/" and policy paths are that host's absolute paths.
 */
function checkOverride(provider: Provider, connectionBase: string | null, override: string, allowHttpLoopback: boolean): URL {
  const base = parseBase(override, 'Latchkey-Base-Url');
  if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '' || override.includes('?') || override.includes('#')) {
    throw new TargetNotAllowed('Latchkey-Base-Url may not carry credentials, a query or a fragment');
  }
  checkScheme(base, allowHttpLoopback);
  if (!allowedHostsFor(provider, connectionBase).has(hostKey(base))) {
    throw new TargetNotAllowed(`host ${base.host} is not in the allowed hosts of provider "${provider.name}"`);
  }
  const ownRaw = connectionBase ?? provider.apiBaseUrl;
  const own = ownRaw === null ? null : resolveBase(provider, undefined, allowHttpLoopback, connectionBase);
  if (own !== null && own.origin === base.origin) {
    const path = trimSlashes(base.pathname);
    if (path !== '' && path !== trimSlashes(own.pathname)) {
      throw new TargetNotAllowed(`Latchkey-Base-Url may name an origin only, not a path other than the API base's (${own.pathname})`);
    }
    return own;
  }
  if (base.pathname !== '/') throw new TargetNotAllowed('Latchkey-Base-Url may name an origin only (scheme, host and port), not a path');
  return base;
}

/** Builds the upstream target and checks, once more on the parsed URL, that it stayed on the base. */
export function resolveTarget(base: URL, rawPath: string, rawQuery: string): Target {
  const path = checkAgentPath(rawPath);
  const basePath = base.pathname.replace(/\/+$/, '');
  const upstreamPath = `${basePath}${path}`;
  const parsed = new URL(`${base.origin}${upstreamPath}`);
  if (parsed.origin !== base.origin || !parsed.pathname.startsWith(basePath) || parsed.pathname !== upstreamPath) {
    throw new TargetNotAllowed('the path does not stay under the API base URL');
  }
  if (/[\s#]/.test(rawQuery) || hasControl(rawQuery)) throw new TargetNotAllowed('the query string contains a character that is not allowed');
  const encoding = unsafeUrl(rawQuery);
  if (encoding !== undefined) throw new TargetNotAllowed(`the query string: ${encoding.replace(/^the URL /, '')}`);
  return { origin: base.origin, host: hostKey(base), path, upstreamPath, query: rawQuery };
}

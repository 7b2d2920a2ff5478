import { TargetNotAllowed } from '../errors.js';
import { hostKey, isLoopbackHost, normaliseAllowedHost, type Provider } from '../providers/index.js';

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

function checkBase(provider: Provider, connectionBase: string | null, override: string | undefined, allowHttpLoopback: boolean): URL {
  const raw = override ?? connectionBase ?? provider.apiBaseUrl;
  if (raw === null || raw === undefined || raw === '') {
    throw new TargetNotAllowed(`provider "${provider.name}" has no apiBaseUrl to send requests to`);
  }
  let base: URL;
  try {
    base = new URL(raw);
  } catch {
    throw new TargetNotAllowed('Latchkey-Base-Url is not a valid URL');
  }
  if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '') {
    throw new TargetNotAllowed('the base URL may not carry credentials, a query or a fragment');
  }
  checkScheme(base, allowHttpLoopback);
  if (!allowedHostsFor(provider, connectionBase).has(hostKey(base))) {
    throw new TargetNotAllowed(`host ${base.host} is not in the allowed hosts of provider "${provider.name}"`);
  }
  if (override !== undefined) checkAgentPath(base.pathname === '/' ? '' : base.pathname.replace(/\/+$/, ''));
  return base;
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Checks the (still percent-encoded) path an agent asked for. Anything that
 * could climb out of the base path or change the authority is refused rather
 * than "cleaned": dot segments (also encoded), encoded slashes and
 * backslashes, empty segments (`//host`), `@`, backslashes, control
 * characters and a scheme in the first segment.
 */
export function checkAgentPath(raw: string): string {
  const path = raw === '' ? '/' : raw;
  if (!path.startsWith('/')) throw new TargetNotAllowed('the path must start with "/"');
  if (/[\\@\s]/.test(path) || hasControl(path)) throw new TargetNotAllowed('the path contains a character that is not allowed (@, \\, space or control)');
  if (/%(2f|5c|00)/i.test(path)) throw new TargetNotAllowed('the path contains an encoded slash, backslash or NUL');
  if (path.includes('//')) throw new TargetNotAllowed('the path contains an empty segment ("//")');
  for (const segment of path.split('/')) {
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') throw new TargetNotAllowed('the path contains a dot segment');
  }
  if (/^\/[a-z][a-z0-9+.-]*:/i.test(path)) throw new TargetNotAllowed('the path may not be an absolute URL');
  return path;
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
  return { origin: base.origin, host: hostKey(base), path, upstreamPath, query: rawQuery };
}

import { isIP } from 'node:net';
import { InvalidRequest } from '../errors.js';
import { addressKind, isPermitted } from '../net/index.js';

/** Loopback names and addresses: the only hosts plain http may reach, and only when allowed. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Parses an endpoint or API base URL: https only, or http to a loopback host
 * when the operator allowed it (development and tests).
 */
export function checkEndpointUrl(field: string, value: string, allowHttpLoopback: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidRequest(`${field} is not a valid URL`);
  }
  if (url.username !== '' || url.password !== '') throw new InvalidRequest(`${field} must not carry credentials`);
  if (url.protocol === 'https:' || url.protocol === 'http:') checkHostAddress(field, url.hostname, allowHttpLoopback);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowHttpLoopback && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) {
    throw new InvalidRequest(`${field} uses http: allowed for loopback hosts only with LATCHKEY_ALLOW_HTTP_LOOPBACK=1`);
  }
  throw new InvalidRequest(`${field} must be an https URL`);
}

/**
 * Refuses, when a URL or host is registered, an IP literal in a special range
 * (and a loopback name) that the address guard would refuse at connect time
 * anyway. Names are judged again on every connection: DNS answers change.
 */
export function checkHostAddress(field: string, hostname: string, allowHttpLoopback: boolean): void {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const loopbackName = isIP(host) === 0 && isLoopbackHost(host);
  if (isIP(host) === 0 && !loopbackName) return;
  const kind = loopbackName ? 'loopback' : addressKind(host);
  if (isPermitted(kind, allowHttpLoopback)) return;
  const hint =
    kind === 'loopback'
      ? ' (loopback is allowed only with LATCHKEY_ALLOW_HTTP_LOOPBACK=1)'
      : kind === 'private'
        ? ' (a host in LATCHKEY_ALLOWED_PRIVATE_NETWORKS is given by name)'
        : '';
  throw new InvalidRequest(`${field} points to a ${kind} address, which Latchkey does not connect to${hint}`);
}

/** An allowedHosts entry, normalised, and refused if it is an IP literal Latchkey does not connect to. */
export function checkAllowedHost(entry: string, allowHttpLoopback: boolean): string {
  const host = normaliseAllowedHost(entry);
  checkHostAddress(`allowedHosts entry "${entry}"`, new URL(`https://${host}`).hostname, allowHttpLoopback);
  return host;
}

/** An API base URL: an endpoint URL without a query or fragment, kept without a trailing slash. */
export function checkApiBaseUrl(field: string, value: string, allowHttpLoopback: boolean): string {
  const base = checkEndpointUrl(field, value, allowHttpLoopback);
  if (base.search !== '' || base.hash !== '') throw new InvalidRequest(`${field} must not have a query or fragment`);
  return base.href.replace(/\/+$/, '');
}

/**
 * The connection's own API base from a token response, for providers that
 * name one there (quirk `instanceUrlField`; Salesforce's `instance_url`).
 * Undefined when the provider has no such field or the response leaves it
 * out; throws InvalidRequest when the value is not a usable base URL.
 */
export function instanceApiBase(
  quirks: { instanceUrlField?: string },
  response: Record<string, unknown>,
  allowHttpLoopback: boolean,
): string | undefined {
  const field = quirks.instanceUrlField;
  if (field === undefined) return undefined;
  const raw = response[field];
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') throw new InvalidRequest(`${field} in the token response is not a string`);
  return checkApiBaseUrl(`${field} in the token response`, raw, allowHttpLoopback);
}

/** `host` or `host:port`, lower-cased, with the scheme's default port left out. */
export function hostKey(url: URL): string {
  return url.host.toLowerCase();
}

/** Normalises an allowedHosts entry to `host` or `host:port`. */
export function normaliseAllowedHost(entry: string): string {
  const trimmed = entry.trim().toLowerCase();
  if (trimmed === '' || /[/\s@\\?#]/.test(trimmed) || trimmed.includes('://')) {
    throw new InvalidRequest(`allowedHosts entry "${entry}" must be a host name or host:port`);
  }
  let parsed: URL;
  try {
    parsed = new URL(`https://${trimmed}`);
  } catch {
    throw new InvalidRequest(`allowedHosts entry "${entry}" must be a host name or host:port`);
  }
  // Keep an explicit :443 as typed would be dropped by URL; both mean the default port.
  return parsed.host;
}

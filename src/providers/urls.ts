import { isIP } from 'node:net';
import { InvalidRequest } from '../errors.js';

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
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowHttpLoopback && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) {
    throw new InvalidRequest(`${field} uses http: allowed for loopback hosts only with LATCHKEY_ALLOW_HTTP_LOOPBACK=1`);
  }
  throw new InvalidRequest(`${field} must be an https URL`);
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

import { CAPABILITY_NAME_RULE, CONNECTION_NAME_RULE, isCapabilityName, isConnectionName } from '../api/names.js';

/**
 * The SDK refused to build a request (nothing was sent): an argument would
 * have made a URL that fetch resolves into another Latchkey route, such as a
 * connection named ".." turning `/v1/proxy/../leases` into `/v1/leases`.
 */
export class LatchkeyRequestError extends Error {
  readonly code = 'invalid_request';
  constructor(message: string) {
    super(message);
    this.name = 'LatchkeyRequestError';
  }
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * One path segment of a Latchkey route (a name or an id), percent-encoded.
 * encodeURIComponent leaves "." alone, and a URL parser resolves the
 * segments "." and ".." (and drops an empty one's meaning), so those are
 * refused rather than sent; so are "/", "\" and control characters, which no
 * name or id holds.
 */
export function enc(segment: string, what = 'name'): string {
  if (segment === '' || segment === '.' || segment === '..') throw new LatchkeyRequestError(`the ${what} "${segment}" is not valid`);
  if (/[/\\]/.test(segment) || hasControl(segment)) throw new LatchkeyRequestError(`the ${what} may not contain "/", "\\" or control characters`);
  try {
    return encodeURIComponent(segment);
  } catch {
    // A lone surrogate: not text at all.
    throw new LatchkeyRequestError(`the ${what} is not valid text`);
  }
}

/** A connection name (or id) checked by the same rule the server names connections by, then encoded. */
export function connectionSegment(connection: string): string {
  if (!isConnectionName(connection)) throw new LatchkeyRequestError(`connection "${connection.slice(0, 200)}" is not a valid name: ${CONNECTION_NAME_RULE}`);
  return enc(connection, 'connection name');
}

export function capabilitySegment(capability: string): string {
  if (!isCapabilityName(capability)) throw new LatchkeyRequestError(`capability "${capability.slice(0, 200)}" is not a valid name: ${CAPABILITY_NAME_RULE}`);
  return enc(capability, 'capability name');
}

/** Whether a path segment is one a URL parser resolves: ".", "..", also written with %2e. */
function isDotSegment(segment: string): boolean {
  const s = segment.toLowerCase().replaceAll('%2e', '.');
  return s === '.' || s === '..';
}

/**
 * Why a path for the proxy (relative to the API base, query allowed) cannot
 * be sent as it is, or undefined. fetch would resolve dot segments (also
 * `%2e%2e`) and turn "\" into "/", so the request would leave the
 * connection's proxy prefix on the client, before the server could refuse it.
 */
export function proxyPathProblem(path: string): string | undefined {
  if (path.includes('\\') || path.includes('#')) return 'the path must not contain "\\" or "#"';
  if (hasControl(path)) return 'the path must not contain control characters';
  const pathOnly = path.split('?', 1)[0] ?? '';
  if (pathOnly.split('/').some(isDotSegment)) return 'the path must not contain "." or ".." segments';
  return undefined;
}

/**
 * The URL as fetch will send it, refused unless its path still starts with
 * `prefix` (a path under the client's base URL): the last guard against an
 * argument that re-resolves the request onto another route.
 */
export function urlUnder(base: string, pathAndQuery: string, prefix: string): URL {
  const url = new URL(base + pathAndQuery);
  const root = new URL(base).pathname.replace(/\/+$/, '');
  const expected = `${root}${prefix}`;
  const rest = url.pathname.slice(expected.length);
  if (!url.pathname.startsWith(expected) || (rest !== '' && !rest.startsWith('/') && !prefix.endsWith('/'))) {
    throw new LatchkeyRequestError(`the request would leave ${prefix} once the URL is resolved`);
  }
  return url;
}

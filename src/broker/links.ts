/**
 * Links an upstream hands the agent. APIs like GitHub's answer with
 * `Link: <https://api.github.com/user/repos?page=2>; rel="next"`, and clients
 * (Octokit's `paginate`, most SDKs) follow that URL as it is, with the agent
 * key they used for the request. So:
 *
 * - a link under the API base the request went to is rewritten to the same
 *   place under `/v1/proxy/{connection}` (proxy only; invoke has no such URL);
 * - a link to a host the connection's token may not be sent to (another
 *   origin, another scheme, a malformed reference) is dropped: a hostile
 *   upstream must not be able to steer the agent key elsewhere;
 * - a link to another allowed host, or outside the base on the same host, is
 *   left as it is.
 *
 * `Location` (a redirect, or a 201's new resource) under the API base is
 * rewritten the same way, so a followed redirect comes back through the proxy;
 * a `Location` elsewhere is passed on (Latchkey never follows redirects, and
 * fetch drops `Authorization` on a cross-origin redirect).
 */

/** Where upstream links are judged and rewritten. */
export interface LinkBases {
  /** The upstream URL the request went to: relative references resolve against it. */
  requestUrl: string;
  /** The upstream origin the request went to, e.g. `https://api.github.com`. */
  upstreamOrigin: string;
  /** The API base path on that origin, without a trailing slash ("" for the root). */
  upstreamBasePath: string;
  /** The proxy URL for the connection, without a trailing slash; absent for invoke. */
  proxyBase?: string | undefined;
  /** Whether the connection's token may be sent to this URL's origin. */
  allowed(url: URL): boolean;
}

/** The proxy URL for `url` when it is under the API base, else undefined. */
function proxied(url: URL, bases: LinkBases): string | undefined {
  if (bases.proxyBase === undefined || url.origin !== bases.upstreamOrigin || url.username !== '' || url.password !== '') return undefined;
  const base = bases.upstreamBasePath;
  const under = base === '' || url.pathname === base || url.pathname.startsWith(`${base}/`);
  return under ? `${bases.proxyBase}${url.pathname.slice(base.length)}${url.search}${url.hash}` : undefined;
}

function resolve(ref: string, bases: LinkBases): URL | undefined {
  try {
    return new URL(ref, bases.requestUrl);
  } catch {
    return undefined;
  }
}

/** Splits a `Link` value into its link-values at the commas outside `<...>` and quoted strings (RFC 8288). */
export function splitLinkValues(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let angle = false;
  let quote = false;
  for (let i = 0; i < value.length; i += 1) {
    const c = value[i];
    if (quote) {
      if (c === '\\') i += 1;
      else if (c === '"') quote = false;
    } else if (angle) {
      if (c === '>') angle = false;
    } else if (c === '<') angle = true;
    else if (c === '"') quote = true;
    else if (c === ',') {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function relayLinkValue(linkValue: string, bases: LinkBases): string | undefined {
  const close = linkValue.indexOf('>');
  if (!linkValue.startsWith('<') || close === -1) return undefined;
  const ref = linkValue.slice(1, close);
  const url = resolve(ref, bases);
  if (url === undefined || !bases.allowed(url)) return undefined;
  const rewritten = proxied(url, bases);
  return rewritten === undefined ? linkValue : `<${rewritten}>${linkValue.slice(close + 1)}`;
}

/** One `Link` header value with foreign links dropped and links under the base rewritten; undefined when none is left. */
export function relayLinkHeader(value: string, bases: LinkBases): string | undefined {
  const kept = splitLinkValues(value)
    .map((v) => relayLinkValue(v, bases))
    .filter((v): v is string => v !== undefined);
  return kept.length === 0 ? undefined : kept.join(', ');
}

export function relayLinks(value: string | string[], bases: LinkBases): string | string[] | undefined {
  if (!Array.isArray(value)) return relayLinkHeader(value, bases);
  const kept = value.map((v) => relayLinkHeader(v, bases)).filter((v): v is string => v !== undefined);
  return kept.length === 0 ? undefined : kept;
}

/** `Location` under the API base, rewritten to the proxy; anything else unchanged. */
export function relayLocation(value: string, bases: LinkBases): string {
  const url = resolve(value, bases);
  return (url !== undefined && proxied(url, bases)) || value;
}

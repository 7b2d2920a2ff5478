/**
 * Pagination through the proxy. APIs like GitHub's answer with
 * `Link: <https://api.github.com/user/repos?page=2>; rel="next"`, and clients
 * (Octokit's `paginate`, most SDKs) follow that absolute URL as it is. Sent to
 * the upstream directly it would skip the proxy and carry the agent key to the
 * provider, so every link under the API base the request went to is rewritten
 * to the same place under `/v1/proxy/{connection}`. Links elsewhere, and
 * relative ones (which already resolve against the proxy URL), are left alone.
 */

/** Where upstream links are rewritten from and to. */
export interface LinkBases {
  /** The upstream origin the request went to, e.g. `https://api.github.com`. */
  upstreamOrigin: string;
  /** The API base path on that origin, without a trailing slash ("" for the root). */
  upstreamBasePath: string;
  /** The proxy URL for the connection, without a trailing slash, e.g. `https://lk.example/v1/proxy/github`. */
  proxyBase: string;
}

const URI_REFERENCE = /<([^>]*)>/g;

function rewriteOne(ref: string, bases: LinkBases): string {
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return ref; // relative or malformed: not ours to change
  }
  if (url.origin !== bases.upstreamOrigin || url.username !== '' || url.password !== '') return ref;
  const base = bases.upstreamBasePath;
  const under = base === '' || url.pathname === base || url.pathname.startsWith(`${base}/`);
  if (!under) return ref;
  return `${bases.proxyBase}${url.pathname.slice(base.length)}${url.search}${url.hash}`;
}

/** Rewrites the URI references of one `Link` header value (RFC 8288). */
export function rewriteLinkHeader(value: string, bases: LinkBases): string {
  return value.replace(URI_REFERENCE, (_all, ref: string) => `<${rewriteOne(ref, bases)}>`);
}

export function rewriteLinks(value: string | string[], bases: LinkBases): string | string[] {
  return Array.isArray(value) ? value.map((v) => rewriteLinkHeader(v, bases)) : rewriteLinkHeader(value, bases);
}

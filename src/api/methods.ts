/**
 * The HTTP methods the proxy and invoke forward (api.md, `method_not_allowed`).
 * Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET. TRACE,
 * CONNECT and extension methods (PROPFIND, PURGE, …) answer 405.
 */
export const FORWARDED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type ForwardedMethod = (typeof FORWARDED_METHODS)[number];

const FORWARDED = new Set<string>(FORWARDED_METHODS);

export function isForwardedMethod(method: string): method is ForwardedMethod {
  return FORWARDED.has(method);
}

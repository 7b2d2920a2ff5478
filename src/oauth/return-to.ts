import { InvalidRequest } from '../errors.js';

/**
 * A returnTo is a path on Latchkey's own origin or a URL on an origin the
 * operator listed (LATCHKEY_ALLOWED_RETURN_ORIGINS); anything else would make
 * the callback an open redirect.
 */
export function checkReturnTo(value: string | undefined, allowedOrigins: string[]): string | null {
  if (value === undefined || value === '') return null;
  // "//host" and "/\host" are protocol-relative to browsers, not paths.
  if (value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')) {
    if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c === '\\')) throw new InvalidRequest('returnTo contains characters a path may not hold');
    return value;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidRequest('returnTo must be a relative path or a URL on an allowed origin');
  }
  if (!allowedOrigins.includes(url.origin) || url.username !== '' || url.password !== '') {
    throw new InvalidRequest(`returnTo origin ${url.origin} is not in LATCHKEY_ALLOWED_RETURN_ORIGINS`);
  }
  return url.href;
}

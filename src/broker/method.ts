import { FORWARDED_METHODS, isForwardedMethod } from '../api/index.js';
import { MethodNotAllowed, TargetNotAllowed } from '../errors.js';

/** The form of a query-string key that many frameworks (Rails, Laravel, Symfony) read as the real method. */
const OVERRIDE_KEY = '_method';

function decodeQueryPart(part: string): string {
  const spaced = part.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * The method the policy judges must be the one the upstream acts on. Only
 * the allow-listed methods are forwarded (405 otherwise, case-sensitive as
 * HTTP is), and a `_method` query parameter (Rails, Laravel, Symfony read it
 * as the real method) is refused unless it names the method actually used.
 * The override headers (X-HTTP-Method-Override, …) are dropped in headers.ts.
 */
export function checkMethod(method: string, rawQuery: string): void {
  if (!isForwardedMethod(method)) {
    throw new MethodNotAllowed(`the broker forwards ${FORWARDED_METHODS.join(', ')} only, not ${JSON.stringify(method.slice(0, 32))}`);
  }
  // Cheap test first: a "_method" key is either spelled out or percent-encoded.
  if (rawQuery === '' || !/method|%/i.test(rawQuery)) return;
  for (const pair of rawQuery.split(/[&;]/)) {
    const eq = pair.indexOf('=');
    const key = decodeQueryPart(eq === -1 ? pair : pair.slice(0, eq)).trim().toLowerCase();
    if (key !== OVERRIDE_KEY) continue;
    const value = decodeQueryPart(eq === -1 ? '' : pair.slice(eq + 1)).trim().toUpperCase();
    if (value !== method) {
      throw new TargetNotAllowed(`the query parameter _method asks for another method than the request's (${method}); send that method instead`);
    }
  }
}

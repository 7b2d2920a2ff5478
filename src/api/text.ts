
/**
 * Rules for strings a caller sends, shared by the server's edge checks and the
 * request schemas. NUL and lone surrogates are refused everywhere (PostgreSQL
 * cannot store NUL, and neither survives UTF-8); names and single-line fields
 * also refuse control and bidi-override characters, which could forge a
 * terminal line or a log line.
 */

/** Longest connection, provider, agent or environment name. */
export const NAME_MAX = 128;
/** Longest path (invoke's `path`, a path prefix). */
export const PATH_MAX = 2048;
/** Longest single-line value (URLs, endpoints, ids, scopes, header values). */
export const LINE_MAX = 4096;
/** Longest free text (a description). */
export const TEXT_MAX = 4096;

// C0 controls, DEL, C1 controls (U+009B is a CSI), line/paragraph separators and the bidi embeddings, overrides and isolates.
const CONTROL_CLASS = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
// The same but tab, newline and carriage return, for text that may span lines.
const TEXT_CONTROL_CLASS = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069';

/** JSON-schema patterns (Ajv compiles them with the `u` flag). */
export const SINGLE_LINE_PATTERN = `^[^${CONTROL_CLASS}]*$`;
export const TEXT_PATTERN = `^[^${TEXT_CONTROL_CLASS}]*$`;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a decoded string cannot be accepted anywhere, or undefined. */
export function unsafeText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'is not valid Unicode (a lone surrogate)';
  return undefined;
}

/**
 * How deep a JSON request body may nest. Policies, capabilities and metadata
 * need a handful of levels, an invoke body a few more; 10,000 levels would
 * otherwise overflow the stack of whatever walks the value next.
 */
export const MAX_JSON_DEPTH = 64;

/** The first string (key or value) in decoded JSON that `unsafeText` refuses, with where it is, or a nesting too deep. */
export function findUnsafeText(value: unknown, at = 'body', depth = 0): string | undefined {
  if (typeof value === 'string') {
    const problem = unsafeText(value);
    return problem === undefined ? undefined : `${at} ${problem}`;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) return `body nests deeper than ${MAX_JSON_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const problem = findUnsafeText(item, `${at}[${i}]`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = unsafeText(key);
    if (keyProblem !== undefined) return `a field name in ${at} ${keyProblem}`;
    const problem = findUnsafeText(item, `${at}.${key}`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

const ESCAPE = /%([0-9a-fA-F]{2})/g;

/**
 * Why a raw request target (path and query, still percent-encoded) cannot be
 * accepted, or undefined: a NUL (raw or `%00`), or escapes that do not decode
 * to UTF-8 (`%ff`). Malformed escapes (`%zz`) are left to the route.
 */
export function unsafeUrl(rawUrl: string): string | undefined {
  if (rawUrl.includes('\u0000')) return 'the URL contains a NUL character';
  if (!rawUrl.includes('%')) return undefined;
  // Node hands the request line over as latin1, so each character is one byte.
  const latin1 = rawUrl.replace(ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const bytes = Uint8Array.from(latin1, (c) => c.charCodeAt(0) & 0xff);
  if (bytes.includes(0)) return 'the URL contains an encoded NUL (%00)';
  if (!isUtf8(bytes)) return 'the URL contains percent-escapes that are not UTF-8';
  return undefined;
}

// Web-standard rather than node:buffer, so the browser console can type-check the contract too.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

import { TargetNotAllowed } from '../errors.js';

/** C0 controls and DEL. */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Percent-decodings tried per segment; a segment still encoded after that many is refused. */
const MAX_DECODINGS = 3;
const ESCAPE_RUN = /(?:%[0-9a-fA-F]{2})+/g;
const ESCAPE = /%[0-9a-fA-F]{2}/;
const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/;
/** Printable ASCII without "%", ";" and "\": text made of these needs only the plain dot test. */
const PLAIN = /^[\x21-\x24\x26-\x3a\x3c-\x5b\x5d-\x7e]*$/;
/** A segment of dots only, in a PLAIN path. */
const PLAIN_DOT_SEGMENT = /(?:^|\/)\.+(?:\/|$)/;
/** A segment of dots only, maybe with trailing spaces (IIS trims them), in a decoded path without ";". */
const DECODED_DOT_SEGMENT = /(?:^|\/)\.+\s*(?:\/|$)/;
const SCHEME = /^\/[a-z][a-z0-9+.-]*:/i;

/**
 * A dot segment as some server reads it: "." or ".." also with a `;param`
 * suffix (Tomcat, Jetty, Spring drop it: `..;/`), trailing spaces (IIS
 * trims them) or more dots (`...`).
 */
function isDotSegment(segment: string): boolean {
  const semi = segment.indexOf(';');
  const head = (semi === -1 ? segment : segment.slice(0, semi)).replace(/\s+$/, '');
  if (head === '') return false;
  for (let i = 0; i < head.length; i += 1) if (head.charCodeAt(i) !== 0x2e) return false;
  return true;
}

/**
 * One round of percent-decoding of the valid escapes (a "%" that starts none
 * is a literal after the first round); undefined when the decoded bytes are
 * not UTF-8: decodeURIComponent refuses overlong forms such as %c0%ae.
 */
function decodeOnce(text: string): string | undefined {
  try {
    return text.replace(ESCAPE_RUN, decodeURIComponent);
  } catch {
    return undefined;
  }
}

/**
 * Why one raw path segment could be read as something other than a name by
 * an upstream that decodes once more than it should, or undefined. Each
 * decoding is checked for dot segments, slashes, backslashes and control
 * characters, up to MAX_DECODINGS deep: `%252e%252e` and `%252f` are caught
 * at their second decoding, `%c0%ae` as invalid UTF-8, `%u002e` as an IIS escape.
 */
function segmentProblem(segment: string): string | undefined {
  if (PLAIN.test(segment)) return isDotSegment(segment) ? 'a dot segment' : undefined;
  let text = segment;
  for (let depth = 0; ; depth += 1) {
    if (isDotSegment(text)) return 'a dot segment (perhaps encoded)';
    if (depth > 0 && (text.includes('/') || text.includes('\\'))) return 'an encoded slash or backslash';
    if (hasControl(text)) return 'an encoded control character';
    if (/%u[0-9a-f]{4}/i.test(text)) return 'a %u escape';
    if (!ESCAPE.test(text)) return undefined;
    if (depth === MAX_DECODINGS) return `percent-encoding more than ${MAX_DECODINGS} levels deep`;
    const next = decodeOnce(text);
    if (next === undefined) return 'percent-encoded bytes that are not UTF-8 (such as an overlong %c0%ae)';
    text = next;
  }
}

/**
 * Checks the (still percent-encoded) path an agent asked for. Anything that
 * could climb out of the base path or change the authority, at the first
 * decoding or a later one, is refused rather than "cleaned": dot segments in
 * any spelling, encoded slashes and backslashes, empty segments (`//host`),
 * `@`, backslashes, control characters, malformed or non-UTF-8 escapes and
 * a scheme in the first segment.
 */
export function checkAgentPath(raw: string): string {
  const path = raw === '' ? '/' : raw;
  if (!path.startsWith('/')) throw new TargetNotAllowed('the path must start with "/"');
  // Most paths are plain ASCII without escapes: three tests of the whole path, no per-segment work.
  if (PLAIN.test(path) && !path.includes('@') && !path.includes('//') && !PLAIN_DOT_SEGMENT.test(path) && !SCHEME.test(path)) return path;
  if (/[\\@\s]/.test(path) || hasControl(path)) throw new TargetNotAllowed('the path contains a character that is not allowed (@, \\, space or control)');
  if (/%(2f|5c|00)/i.test(path)) throw new TargetNotAllowed('the path contains an encoded slash, backslash or NUL');
  if (path.includes('//')) throw new TargetNotAllowed('the path contains an empty segment ("//")');
  if (BAD_ESCAPE.test(path)) throw new TargetNotAllowed('the path contains a "%" that is not followed by two hex digits');
  // Encoded once, as most escaped paths are: one decoding of the whole path tells (%2f is refused above,
  // so decoded segments are the raw ones); deeper encodings and ";params" are checked segment by segment.
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new TargetNotAllowed('the path contains percent-encoded bytes that are not UTF-8 (such as an overlong %c0%ae)');
  }
  if (!decoded.includes('%') && !decoded.includes(';')) {
    if (hasControl(decoded)) throw new TargetNotAllowed('the path contains an encoded control character');
    if (DECODED_DOT_SEGMENT.test(decoded)) throw new TargetNotAllowed('the path contains a dot segment (perhaps encoded)');
    if (SCHEME.test(path)) throw new TargetNotAllowed('the path may not be an absolute URL');
    return path;
  }
  for (const segment of path.slice(1).split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) throw new TargetNotAllowed(`the path contains ${problem}`);
  }
  if (SCHEME.test(path)) throw new TargetNotAllowed('the path may not be an absolute URL');
  return path;
}

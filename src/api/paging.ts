/**
 * Pagination of every list route (docs/api.md, "Pagination"): `limit` (1..1000,
 * default 100) and an opaque `cursor`. With either in the query the answer is
 * `{items, nextCursor}`; without, the bare array of the first page, as before.
 */
export const PAGE_LIMIT_DEFAULT = 100;
export const PAGE_LIMIT_MAX = 1000;
/** The response header carrying the next page's cursor (absent on the last page). */
export const NEXT_CURSOR_HEADER = 'latchkey-next-cursor';

/** Query properties every list route accepts. Strings: query values are not coerced. */
export const pageQueryProperties = {
  limit: { type: 'string', pattern: '^\\d{1,9}$', description: 'page size, 1 to 1000 (default 100)' },
  cursor: { type: 'string', maxLength: 2048, pattern: '^[A-Za-z0-9_-]*$', description: 'opaque: the nextCursor of the previous page' },
} as const;

/** A list route's query schema: its own filters plus `limit` and `cursor`. */
export function pagedQuery<const P extends Record<string, unknown>>(properties: P) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: { ...properties, ...pageQueryProperties },
  } as const;
}

/** The object form of one page. */
export function pageObject<const I>(item: I) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: item },
      nextCursor: { type: ['string', 'null'] },
    },
  } as const;
}

/** A list route's 200 answer: the bare array (no `limit`/`cursor` asked) or the page object. */
export function pageOf<const I>(item: I) {
  return { anyOf: [{ type: 'array', items: item }, pageObject(item)] } as const;
}

/** One page as the SDK sees it. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { NEXT_CURSOR_HEADER, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, type Page } from '../api/index.js';
import { InvalidRequest } from '../errors.js';

/** `limit` and `cursor` as a list route receives them (query strings, see api/paging.ts). */
export interface PageQuery {
  limit?: string;
  cursor?: string;
}

/** What a list route asks its store for, and how it answers. */
export interface PageRequest {
  /** The page size asked for. */
  limit: number;
  /** The keyset position to continue after (the last row of the previous page); undefined: the first page. */
  after: string[] | undefined;
  /** Answer `{items, nextCursor}` rather than the bare array. */
  wrapped: boolean;
  /** The store query: one row more than the page, so a next page is known without counting. */
  fetch: { limit: number; after?: string[] };
}

const CURSOR_VERSION = 1;
const KEY_MAX = 1024;

/** A cursor this list did not make (also for a list's own checks of the keyset it decodes). */
export function refuseCursor(): never {
  throw new InvalidRequest('cursor is not valid: pass the nextCursor of the previous page of the same list unchanged');
}

/**
 * A cursor is base64url of `{"v":1,"r":<list>,"k":[…]}`: the keyset of the last
 * row sent. It carries no authority (filters and the caller's rights come from
 * the request), so it is not signed; one that does not decode to exactly that
 * shape for this list is refused with 400.
 */
function encodeCursor(list: string, key: readonly string[]): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, r: list, k: key })).toString('base64url');
}

function decodeCursor(list: string, cursor: string, keyLength: number): string[] {
  const bytes = Buffer.from(cursor, 'base64url');
  // Node's decoder skips what is not base64url; a cursor must be exactly what encodeCursor made.
  if (bytes.toString('base64url') !== cursor) refuseCursor();
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    refuseCursor();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuseCursor();
  const { v, r, k, ...rest } = value as Record<string, unknown>;
  if (v !== CURSOR_VERSION || r !== list || Object.keys(rest).length > 0) refuseCursor();
  if (!Array.isArray(k) || k.length !== keyLength) refuseCursor();
  if (!k.every((part): part is string => typeof part === 'string' && part.length <= KEY_MAX && !part.includes('\u0000'))) refuseCursor();
  return k;
}

/**
 * Reads `limit` and `cursor`. `wrapWhen` says which of them turns the answer
 * into the page object: both for every list, only `cursor` for `/v1/audit`,
 * whose `limit` predates pagination. An empty `cursor=` asks for the first page.
 */
function readPage(list: string, query: PageQuery, keyLength: number, wrapWhen: 'limit-or-cursor' | 'cursor' = 'limit-or-cursor'): PageRequest {
  let limit = PAGE_LIMIT_DEFAULT;
  if (query.limit !== undefined) {
    limit = /^\d{1,9}$/.test(query.limit) ? Number(query.limit) : 0;
    if (limit < 1 || limit > PAGE_LIMIT_MAX) throw new InvalidRequest(`limit must be an integer from 1 to ${PAGE_LIMIT_MAX}`);
  }
  const after = query.cursor === undefined || query.cursor === '' ? undefined : decodeCursor(list, query.cursor, keyLength);
  const wrapped = query.cursor !== undefined || (wrapWhen === 'limit-or-cursor' && query.limit !== undefined);
  return { limit, after, wrapped, fetch: { limit: limit + 1, ...(after === undefined ? {} : { after }) } };
}

/** Cuts the store's rows (fetched with `page.fetch`) to the page and makes the next cursor from its last row. */
function takePage<R>(list: string, page: PageRequest, rows: R[], keyOf: (row: R) => readonly string[]): { rows: R[]; nextCursor: string | null } {
  if (rows.length <= page.limit) return { rows, nextCursor: null };
  const kept = rows.slice(0, page.limit);
  return { rows: kept, nextCursor: encodeCursor(list, keyOf(kept[kept.length - 1] as R)) };
}

/**
 * The answer: headers `Latchkey-Next-Cursor` and `Link: <…>; rel="next"` when
 * there is a next page, and the bare array or `{items, nextCursor}`.
 */
function answerPage<T>(request: FastifyRequest, reply: FastifyReply, page: PageRequest, items: T[], nextCursor: string | null): T[] | Page<T> {
  if (nextCursor !== null) {
    const next = new URL(request.url, 'http://latchkey.invalid');
    next.searchParams.set('cursor', nextCursor);
    reply.header(NEXT_CURSOR_HEADER, nextCursor);
    // A relative reference (RFC 8288 §3.1): it resolves against the URL the client used.
    reply.header('link', `<${next.pathname}${next.search}>; rel="next"`);
  }
  return page.wrapped ? { items, nextCursor } : items;
}

/** The usual route body: read, fetch, cut, map, answer. */
export async function listPage<R, T>(
  request: FastifyRequest,
  reply: FastifyReply,
  spec: { list: string; keyLength: number; wrapWhen?: 'limit-or-cursor' | 'cursor' },
  fetchRows: (fetch: PageRequest['fetch']) => Promise<R[]>,
  keyOf: (row: R) => readonly string[],
  present: (rows: R[]) => Promise<T[]> | T[],
): Promise<T[] | Page<T>> {
  const page = readPage(spec.list, request.query as PageQuery, spec.keyLength, spec.wrapWhen);
  const { rows, nextCursor } = takePage(spec.list, page, await fetchRows(page.fetch), keyOf);
  return answerPage(request, reply, page, await present(rows), nextCursor);
}

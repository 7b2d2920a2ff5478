import type { Page } from '../api/index.js';
import type { HttpClient, Query } from './http.js';

/** How to page: `limit` per request (1..1000, default 100), and where to start (a `nextCursor`). */
export interface PageOptions {
  limit?: number;
  cursor?: string;
}

/** One page of a list route (`{items, nextCursor}`): an empty cursor asks for the first page. */
export function fetchPage<T>(http: HttpClient, path: string, query: Query = {}, options: PageOptions = {}): Promise<Page<T>> {
  return http.json<Page<T>>('GET', path, { query: { ...query, limit: options.limit, cursor: options.cursor ?? '' } });
}

/**
 * Every item of a list route, a page at a time: the next page is asked for
 * only when the loop reaches it. Keyset cursors make this stable while items
 * are added: each item present throughout is yielded exactly once.
 */
export async function* iteratePages<T>(http: HttpClient, path: string, query: Query = {}, options: PageOptions = {}): AsyncGenerator<T, void, undefined> {
  let cursor = options.cursor ?? '';
  for (;;) {
    const page = await fetchPage<T>(http, path, query, { ...options, cursor });
    yield* page.items;
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
}

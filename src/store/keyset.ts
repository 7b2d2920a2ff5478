import { sql, type SelectQueryBuilder } from 'kysely';

/** One page of a list: at most `limit` rows, strictly after the row whose key is `after`. */
export interface Keyset {
  limit: number;
  /** The values of the ordering columns of the last row already seen. */
  after?: readonly string[];
}

/**
 * Keyset pagination on a stable unique order: `(c1, c2, …) > (v1, v2, …)`
 * (`<` descending), ordered by the same columns. A row value comparison is
 * one condition an index on those columns answers directly (PostgreSQL and
 * SQLite ≥ 3.15 both have them), and rows inserted meanwhile never shift a
 * page the way an offset does. Every key column is text.
 */
export function keysetPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  columns: readonly string[],
  page: Keyset | undefined,
  direction: 'asc' | 'desc' = 'asc',
): SelectQueryBuilder<DB, TB, O> {
  let q = query;
  if (page?.after !== undefined) {
    if (page.after.length !== columns.length) throw new Error('keyset: the cursor does not match the ordering');
    const keys = sql.join(columns.map((c) => sql.ref(c)));
    const values = sql.join(page.after.map((v) => sql`${v}`));
    q = q.where(sql<boolean>`(${keys}) ${sql.raw(direction === 'asc' ? '>' : '<')} (${values})`);
  }
  for (const c of columns) q = q.orderBy(sql.ref(c), direction);
  return page === undefined ? q : q.limit(page.limit);
}

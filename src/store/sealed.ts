import { sql } from 'kysely';
import type { Db } from './dialect.js';

/** Every column that holds a sealed envelope. A new sealed column must be listed here, or key rotation skips it. */
export const SEALED_COLUMNS: ReadonlyArray<{ table: string; column: string }> = [
  { table: 'providers', column: 'client_secret' },
  { table: 'provider_clients', column: 'client_secret' },
  { table: 'connections', column: 'tokens' },
  { table: 'oauth_states', column: 'secrets' },
  { table: 'device_authorizations', column: 'device_code' },
  { table: 'leases', column: 'token' },
  { table: 'webhooks', column: 'secret' },
  { table: 'revocations', column: 'token' },
  { table: 'revocations', column: 'client' },
];

export interface SealedValue {
  table: string;
  column: string;
  rowId: string;
  envelope: string;
}

export function sealedStore(db: Db) {
  return {
    /** Sealed values in one column, a page at a time, ordered by row id. */
    async page(table: string, column: string, afterId: string, limit: number): Promise<SealedValue[]> {
      const rows = await sql<{ id: string; envelope: string }>`
        select id, ${sql.ref(column)} as envelope from ${sql.table(table)}
        where ${sql.ref(column)} is not null and id > ${afterId}
        order by id limit ${limit}`.execute(db.kysely);
      return rows.rows.map((r) => ({ table, column, rowId: r.id, envelope: r.envelope }));
    },
    /** Replaces a sealed value only if it is unchanged since it was read. */
    async replace(value: SealedValue, envelope: string): Promise<boolean> {
      const result = await sql`
        update ${sql.table(value.table)} set ${sql.ref(value.column)} = ${envelope}
        where id = ${value.rowId} and ${sql.ref(value.column)} = ${value.envelope}`.execute(db.kysely);
      return Number(result.numAffectedRows ?? 0n) === 1;
    },
  };
}

export type SealedStore = ReturnType<typeof sealedStore>;

import type { Db } from './dialect.js';
import { keysetPage, type Keyset } from './keyset.js';
import { fromJson, toJson } from './json.js';
import type { LeasesTable } from './schema.js';

/** A lease row; `token` stays sealed. */
export interface LeaseRow {
  id: string;
  agentId: string;
  connectionId: string;
  token: string | null;
  scopes: string[];
  expiresAt: string;
  tokenExpiresAt: string | null;
  createdAt: string;
  endedAt: string | null;
}

function decode(r: LeasesTable): LeaseRow {
  return { ...r, scopes: fromJson<string[]>(r.scopes, []) };
}

export function leaseStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: LeaseRow): Promise<void> {
      await k.insertInto('leases').values({ ...row, scopes: toJson(row.scopes) }).execute();
    },
    async findById(id: string): Promise<LeaseRow | undefined> {
      const r = await k.selectFrom('leases').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    /** Leases not ended and not yet expired at `now`, soonest to expire first (ties by id); with `page`, one keyset page. */
    async listActive(now: string, filter: { agentId?: string } = {}, page?: Keyset): Promise<LeaseRow[]> {
      let q = k.selectFrom('leases').selectAll().where('endedAt', 'is', null).where('expiresAt', '>', now);
      if (filter.agentId !== undefined) q = q.where('agentId', '=', filter.agentId);
      return (await keysetPage(q, ['expiresAt', 'id'], page).execute()).map(decode);
    },
    /** Ends a lease once; returns whether this call ended it. */
    async end(id: string, endedAt: string): Promise<boolean> {
      const result = await k
        .updateTable('leases')
        .set({ endedAt, token: null })
        .where('id', '=', id)
        .where('endedAt', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /**
     * Drops the sealed copy of every leased token that has itself expired:
     * past that it is useless to anyone, and until then `rotate=true` may
     * still need it to revoke a leaked copy, even after the lease ran out.
     */
    async forgetExpiredTokens(now: string): Promise<number> {
      const result = await k
        .updateTable('leases')
        .set({ token: null })
        .where('token', 'is not', null)
        .where('tokenExpiresAt', 'is not', null)
        .where('tokenExpiresAt', '<=', now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async endForAgent(agentId: string, endedAt: string): Promise<void> {
      await k.updateTable('leases').set({ endedAt, token: null }).where('agentId', '=', agentId).where('endedAt', 'is', null).execute();
    },
  };
}

export type LeaseStore = ReturnType<typeof leaseStore>;

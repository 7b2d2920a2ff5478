import type { Db } from './dialect.js';
import type { DeviceAuthorizationsTable } from './schema.js';
import { fromJson, toJson } from './json.js';

/** A device code being polled (RFC 8628); `deviceCode` is sealed. */
export type DeviceAuthorizationRow = Omit<DeviceAuthorizationsTable, 'scopes'> & { scopes: string[] };

export function deviceAuthorizationStore(db: Db) {
  const k = db.kysely;
  const decode = (r: DeviceAuthorizationsTable): DeviceAuthorizationRow => ({ ...r, scopes: fromJson<string[]>(r.scopes, []), intervalSeconds: Number(r.intervalSeconds) });
  return {
    async insert(row: DeviceAuthorizationRow): Promise<void> {
      await k
        .insertInto('deviceAuthorizations')
        .values({ ...row, scopes: toJson(row.scopes) })
        .execute();
    },
    async listDue(now: string, limit = 50): Promise<DeviceAuthorizationRow[]> {
      const rows = await k
        .selectFrom('deviceAuthorizations')
        .selectAll()
        .where('nextPollAt', '<=', now)
        .orderBy('nextPollAt')
        .limit(limit)
        .execute();
      return rows.map(decode);
    },
    /** The earliest time any device code is due, to know when to look again. */
    async nextDue(): Promise<string | undefined> {
      const row = await k
        .selectFrom('deviceAuthorizations')
        .select('nextPollAt')
        .orderBy('nextPollAt')
        .limit(1)
        .executeTakeFirst();
      return row?.nextPollAt;
    },
    /**
     * Claims one poll: moves nextPollAt forward only if nobody else did since
     * it was read, so two replicas never poll the same code at once.
     */
    async claimPoll(id: string, seenNextPollAt: string, nextPollAt: string): Promise<boolean> {
      const result = await k
        .updateTable('deviceAuthorizations')
        .set({ nextPollAt })
        .where('id', '=', id)
        .where('nextPollAt', '=', seenNextPollAt)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** After `slow_down`: a longer interval from now on (RFC 8628 §3.5). */
    async slowDown(id: string, intervalSeconds: number, nextPollAt: string): Promise<void> {
      await k.updateTable('deviceAuthorizations').set({ intervalSeconds, nextPollAt }).where('id', '=', id).execute();
    },
    async remove(id: string): Promise<void> {
      await k.deleteFrom('deviceAuthorizations').where('id', '=', id).execute();
    },
  };
}

export type DeviceAuthorizationStore = ReturnType<typeof deviceAuthorizationStore>;

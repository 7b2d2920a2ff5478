import type { Db } from './dialect.js';
import type { ProviderStatusTable } from './schema.js';

export type ProviderStatusRow = ProviderStatusTable;

function decode(r: ProviderStatusTable): ProviderStatusRow {
  return { ...r, checks: Number(r.checks) };
}

/** Owner of provider_status: a row exists only while a provider is marked (misconfigured). */
export function providerStatusStore(db: Db) {
  const k = db.kysely;
  return {
    async find(providerId: string): Promise<ProviderStatusRow | undefined> {
      const r = await k.selectFrom('providerStatus').selectAll().where('providerId', '=', providerId).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    async list(): Promise<ProviderStatusRow[]> {
      return (await k.selectFrom('providerStatus').selectAll().orderBy('since').execute()).map(decode);
    },
    /** Marks the provider unless it already is; true only for the caller that marked it (once across replicas). */
    async mark(row: ProviderStatusRow): Promise<boolean> {
      const result = await k
        .insertInto('providerStatus')
        .values(row)
        .onConflict((oc) => oc.column('providerId').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    /** Takes the next periodic check: one replica at a time, only once it is due; moves it to `until` meanwhile. */
    async claimCheck(providerId: string, now: string, until: string): Promise<boolean> {
      const result = await k
        .updateTable('providerStatus')
        .set({ nextCheckAt: until })
        .where('providerId', '=', providerId)
        .where('nextCheckAt', '<=', now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** A check found the client still refused: say why and when to look again. */
    async reschedule(providerId: string, change: { reason: string; checks: number; nextCheckAt: string; updatedAt: string }): Promise<void> {
      await k.updateTable('providerStatus').set(change).where('providerId', '=', providerId).execute();
    },
    /** The provider accepts the client again (or it was changed): true when there was a mark to clear. */
    async clear(providerId: string): Promise<boolean> {
      const result = await k.deleteFrom('providerStatus').where('providerId', '=', providerId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type ProviderStatusStore = ReturnType<typeof providerStatusStore>;

import type { Db } from './dialect.js';
import type { ProviderClientsTable } from './schema.js';

/** A provider's extra OAuth client; `clientSecret` stays sealed. */
export type ProviderClientRow = ProviderClientsTable;

export function providerClientStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: ProviderClientRow): Promise<void> {
      await k.insertInto('providerClients').values(row).execute();
    },
    async findById(id: string): Promise<ProviderClientRow | undefined> {
      return k.selectFrom('providerClients').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async findByClientId(providerId: string, clientId: string): Promise<ProviderClientRow | undefined> {
      return k
        .selectFrom('providerClients')
        .selectAll()
        .where('providerId', '=', providerId)
        .where('clientId', '=', clientId)
        .executeTakeFirst();
    },
    async listByProvider(providerId: string): Promise<ProviderClientRow[]> {
      return k.selectFrom('providerClients').selectAll().where('providerId', '=', providerId).orderBy('createdAt').orderBy('id').execute();
    },
    /**
     * An operator's explicit change: every connection that uses the client follows it.
     * Only while the row is still the one read (the new MAC is computed over it).
     */
    async update(
      row: ProviderClientRow,
      write: Partial<Pick<ProviderClientRow, 'clientSecret' | 'tokenEndpointAuthMethod'>> & { integrity: string },
    ): Promise<boolean> {
      const result = await k
        .updateTable('providerClients')
        .set(write)
        .where('id', '=', row.id)
        .where((eb) => (row.integrity === null ? eb('integrity', 'is', null) : eb('integrity', '=', row.integrity)))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /**
     * Replaces the client's secret only while no connection uses the client and
     * the secret is still the one read, so a client in use is never rewritten.
     */
    async replaceSecretIfUnused(
      row: ProviderClientRow,
      write: Pick<ProviderClientRow, 'clientSecret' | 'tokenEndpointAuthMethod' | 'integrity'>,
    ): Promise<boolean> {
      const result = await k
        .updateTable('providerClients')
        .set(write)
        .where('id', '=', row.id)
        .where((eb) =>
          row.clientSecret === null ? eb('clientSecret', 'is', null) : eb('clientSecret', '=', row.clientSecret),
        )
        .where((eb) => (row.integrity === null ? eb('integrity', 'is', null) : eb('integrity', '=', row.integrity)))
        .where((eb) =>
          eb.not(eb.exists(eb.selectFrom('connections').select('connections.id').where('connections.providerClientId', '=', row.id))),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async listAll(): Promise<ProviderClientRow[]> {
      return k.selectFrom('providerClients').selectAll().orderBy('id').execute();
    },
    /** Fills in a MAC where there is none yet: only on the start that applied migration 0014. */
    async setIntegrityIfMissing(id: string, integrity: string): Promise<void> {
      await k.updateTable('providerClients').set({ integrity }).where('id', '=', id).where('integrity', 'is', null).execute();
    },
    async remove(id: string): Promise<void> {
      await k.deleteFrom('providerClients').where('id', '=', id).execute();
    },
    async removeByProvider(providerId: string): Promise<void> {
      await k.deleteFrom('providerClients').where('providerId', '=', providerId).execute();
    },
  };
}

export type ProviderClientStore = ReturnType<typeof providerClientStore>;

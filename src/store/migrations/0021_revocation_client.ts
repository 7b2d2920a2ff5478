import type { Kysely } from 'kysely';

// revocations.client: the provider as the grant's client saw it when the job was queued (endpoints,
// client id, auth method, client secret), sealed (AAD: revocations, id, client), so a retry can still
// revoke after the provider or its client is removed. Jobs from before (null) need the provider row.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('revocations').addColumn('client', 'text').execute();
}

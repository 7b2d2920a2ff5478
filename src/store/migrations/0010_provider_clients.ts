import type { Kysely } from 'kysely';

// A provider may hold several OAuth clients (bring-your-own-app per tenant). The
// provider row keeps its own client as the default, so existing rows and their
// sealed secrets stay as they are; this table holds the others. A connection
// names the client that minted its grant; null: the provider's default client.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('provider_clients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'text', (c) => c.notNull().references('providers.id'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_secret', 'text')
    .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('provider_clients_client_idx')
    .on('provider_clients')
    .columns(['provider_id', 'client_id'])
    .unique()
    .execute();
  await db.schema.alterTable('connections').addColumn('provider_client_id', 'text').execute();
  await db.schema.createIndex('connections_provider_client_idx').on('connections').column('provider_client_id').execute();
}

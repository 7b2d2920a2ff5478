import type { Kysely } from 'kysely';

// A connection's own API base URL, from its provider's token responses (Salesforce's instance_url).
// Null: the connection uses its provider's apiBaseUrl.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connections').addColumn('api_base_url', 'text').execute();
}

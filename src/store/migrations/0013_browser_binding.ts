import type { Kysely } from 'kysely';

// An authorization request is opened through Latchkey's start page, which binds it to one browser:
// `start_id` is the SHA-256 of the start link's token, `browser_binding` the SHA-256 of the cookie
// that page set. Rows from before (both null) keep the old, unbound behaviour until they expire.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oauth_states').addColumn('start_id', 'text').execute();
  await db.schema.alterTable('oauth_states').addColumn('browser_binding', 'text').execute();
  await db.schema.createIndex('oauth_states_start_id').on('oauth_states').column('start_id').unique().execute();
}

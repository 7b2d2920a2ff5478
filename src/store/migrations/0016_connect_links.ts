import type { Kysely } from 'kysely';

// A connect link is a single-use, expiring page an account owner opens to connect (or reconnect)
// their own account. Only the SHA-256 of its token is kept. `connection_id` is set for a link that
// reconnects an existing connection in place; `requested_by` is the audit actor (JSON) who asked.
// An authorization request started from a link remembers it (`oauth_states.connect_link_id`), so
// the callback can say whether it connected or reconnected.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connect_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('provider_id', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text')
    .addColumn('name', 'text')
    .addColumn('subject', 'text')
    .addColumn('environment', 'text')
    .addColumn('scopes', 'text')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('connect_links_expires_idx').on('connect_links').column('expires_at').execute();
  await db.schema.alterTable('oauth_states').addColumn('connect_link_id', 'text').execute();
}

import type { Kysely } from 'kysely';

// An upstream MCP server behind Latchkey (issue 13, gateway). Its OAuth side is an ordinary
// provider row (sealed client secret, integrity MAC); this row only ties the server's URL and
// resource identifier to that provider and says how Latchkey registered as its client.
// Idempotent (IF NOT EXISTS): replaying it, as an upgrade test does, changes nothing.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mcp_servers')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'text', (c) => c.notNull().references('providers.id'))
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('registration', 'text', (c) => c.notNull())
    .addColumn('resource_metadata_url', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mcp_servers_provider_idx').ifNotExists().on('mcp_servers').column('provider_id').unique().execute();
}

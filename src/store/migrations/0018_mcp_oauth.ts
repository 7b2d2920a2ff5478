import type { Kysely } from 'kysely';

// Latchkey as the OAuth authorization server of its own /mcp endpoint (oidc-provider's adapter).
// Every row is keyed by the SHA-256 of the model's id, never the id itself: for tokens and codes
// the id IS the bearer secret. Lookups by grant, uid and user code go through hashes as well.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mcp_oauth')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id_hash', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_hash', 'text')
    .addColumn('uid_hash', 'text')
    .addColumn('user_code_hash', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('consumed_at', 'text')
    .addPrimaryKeyConstraint('mcp_oauth_pk', ['model', 'id_hash'])
    .execute();
  await db.schema.createIndex('mcp_oauth_grant_idx').on('mcp_oauth').column('grant_hash').execute();
  await db.schema.createIndex('mcp_oauth_uid_idx').on('mcp_oauth').columns(['model', 'uid_hash']).execute();
  await db.schema.createIndex('mcp_oauth_expires_idx').on('mcp_oauth').column('expires_at').execute();
}

import type { Kysely } from 'kysely';

// Migrations use the schema builder only, so one file serves both dialects.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('keyring_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('seals_reserved', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('providers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('preset', 'text')
    .addColumn('issuer', 'text')
    .addColumn('authorization_endpoint', 'text')
    .addColumn('token_endpoint', 'text')
    .addColumn('revocation_endpoint', 'text')
    .addColumn('device_authorization_endpoint', 'text')
    .addColumn('userinfo_endpoint', 'text')
    .addColumn('introspection_endpoint', 'text')
    .addColumn('client_id', 'text')
    .addColumn('client_secret', 'text')
    .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('pkce', 'integer', (c) => c.notNull())
    .addColumn('authorize_params', 'text', (c) => c.notNull())
    .addColumn('api_base_url', 'text')
    .addColumn('allowed_hosts', 'text', (c) => c.notNull())
    .addColumn('capabilities', 'text', (c) => c.notNull())
    .addColumn('quirks', 'text', (c) => c.notNull())
    .addColumn('iss_parameter_supported', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('connections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('provider_id', 'text', (c) => c.notNull().references('providers.id'))
    .addColumn('subject', 'text')
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('grant_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('token_type', 'text')
    .addColumn('tokens', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('refresh_token_expires_at', 'text')
    .addColumn('last_refreshed_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('refresh_claim_owner', 'text')
    .addColumn('refresh_claim_until', 'text')
    .addColumn('refresh_intent', 'text')
    .addColumn('failure_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('connections_provider_idx').on('connections').column('provider_id').execute();
  await db.schema.createIndex('connections_expiry_idx').on('connections').columns(['status', 'expires_at']).execute();
}

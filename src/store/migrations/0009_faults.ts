import type { Kysely } from 'kysely';

// Faults kept apart from dead grants (issue 10):
// - connections.unauthorized_refresh_at: when an upstream 401 last triggered a refresh (the cooldown);
// - provider_status: a provider whose token endpoint refused Latchkey's own client (invalid_client);
// - revocations: durable RFC 7009 revocation jobs that outlive the deleted connection.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connections').addColumn('unauthorized_refresh_at', 'text').execute();

  await db.schema
    .createTable('provider_status')
    .addColumn('provider_id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('grant_type', 'text', (c) => c.notNull())
    .addColumn('since', 'text', (c) => c.notNull())
    .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_check_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('revocations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('connection_name', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('provider_client_id', 'text')
    .addColumn('token_type_hint', 'text', (c) => c.notNull())
    .addColumn('token', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('claim_owner', 'text')
    .addColumn('claim_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('revocations_due_idx').on('revocations').columns(['status', 'next_attempt_at']).execute();
}

import type { Kysely } from 'kysely';

// Idempotent (IF NOT EXISTS): an upgrade test replays the migrations after an older one.
// Indexes for the paginated lists (keyset on a stable unique order, see store/keyset.ts): each
// list filter with its order, so a page is an index range scan rather than a sort of the table.
export async function up(db: Kysely<unknown>): Promise<void> {
  const index = (name: string, table: string, columns: string[]) => db.schema.createIndex(name).ifNotExists().on(table).columns(columns).execute();
  await index('connections_status_name_idx', 'connections', ['status', 'name']);
  await index('connections_subject_name_idx', 'connections', ['subject', 'name']);
  await index('connections_environment_name_idx', 'connections', ['environment', 'name']);
  await index('connections_provider_name_idx', 'connections', ['provider_id', 'name']);
  await index('connections_expires_at_idx', 'connections', ['expires_at']);
  await index('leases_active_page_idx', 'leases', ['ended_at', 'expires_at', 'id']);
  await index('webhooks_page_idx', 'webhooks', ['created_at', 'id']);
  await index('webhook_deliveries_page_idx', 'webhook_deliveries', ['webhook_id', 'created_at', 'id']);
  await index('revocations_page_idx', 'revocations', ['created_at', 'id']);
  await index('revocations_status_page_idx', 'revocations', ['status', 'created_at', 'id']);
}

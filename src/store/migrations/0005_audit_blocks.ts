import type { Kysely } from 'kysely';

// The audit log as blocks: one row per group commit holding its events as a JSON array, hash-chained
// block to block. One row per event cost more than the proxying it records (docs/decisions.md,
// "Audit log storage"). Events written by 0004's one-row-per-event format stay where they are, and
// are still listed and verified.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_blocks')
    .addColumn('chain_id', 'text', (c) => c.notNull())
    .addColumn('block', 'bigint', (c) => c.notNull())
    .addColumn('first_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('first_at', 'text', (c) => c.notNull())
    .addColumn('last_at', 'text', (c) => c.notNull())
    // JSON array of events, exactly the text that was hashed.
    .addColumn('events', 'text', (c) => c.notNull())
    // The events' actors, connections and actions, one per line: filtered listing skips other blocks.
    .addColumn('search_keys', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_blocks_pk', ['chain_id', 'block'])
    .execute();
  await db.schema.createIndex('audit_blocks_last_at_idx').on('audit_blocks').column('last_at').execute();
  await db.schema
    .alterTable('audit_chains')
    .addColumn('last_block', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

import type { Kysely } from 'kysely';

// Where each audit chain starts after old events were pruned: the last pruned block (0 for a chain
// written one row per event), the last pruned event and its hash, which the first kept block or
// event links to. An `audit.prune` event records every anchor, so verify can tell a prune from a
// deletion (docs/agents.md, "Retention").
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_chains').addColumn('anchor_block', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('audit_chains').addColumn('anchor_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('audit_chains').addColumn('anchor_hash', 'text').execute();
}

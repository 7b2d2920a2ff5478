import type { Kysely } from 'kysely';

// The refresh claim becomes a fence: a generation bumped on every claim (the commit is
// conditional on owner and generation), and whether the connection's provider has been
// seen rotating its refresh token (an answer lost on such a connection is never resent).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('connections')
    .addColumn('refresh_claim_generation', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('connections')
    .addColumn('refresh_token_rotates', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

import type { Kysely } from 'kysely';

// A MAC over a provider's (and a provider client's) security-relevant fields, under a key derived
// from the master key. SQL cannot compute it: the process start that applies this migration fills
// it in for the rows already there (trust on upgrade); from then on a NULL integrity fails the check.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('providers').addColumn('integrity', 'text').execute();
  await db.schema.alterTable('provider_clients').addColumn('integrity', 'text').execute();
}

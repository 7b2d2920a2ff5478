import { Migrator, type MigrationProvider, type Migration } from 'kysely';
import type { Db } from './dialect.js';
import { MIGRATIONS } from './migrations/index.js';

const provider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => MIGRATIONS,
};

/**
 * Brings the schema up to date; safe to run from several replicas at once (Kysely takes a lock).
 * Returns the names of the migrations this call applied (none when another replica did).
 */
export async function migrate(db: Db): Promise<string[]> {
  // Numbers are handed out to parallel branches (0011/0012 land after 0013/0014 have shipped; a database from
  // before 0014 may meet 0019 first), so a missing earlier migration is applied rather than called corruption.
  const migrator = new Migrator({ db: db.kysely, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

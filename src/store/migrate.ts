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
  // Numbers are handed out per feature, so a database may have run a later one (say 0015) before
  // an earlier one (0011) exists in its release; each migration stands alone, so order is not enforced.
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

import { chmodSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliFailure, dataDirOf, type GlobalOptions } from '../context.js';
import { printJson, say } from '../output.js';

interface BackupOptions {
  out: string;
  dataDir?: string;
  databaseUrl?: string;
}

export function backupCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('backup')
    .description('write a consistent snapshot of the SQLite database (never the master key); for PostgreSQL, use pg_dump')
    .requiredOption('--out <file>', 'where to write the snapshot (must not exist yet)')
    .option('--data-dir <dir>', 'data directory (LATCHKEY_DATA_DIR, default ~/.latchkey)')
    .option('--database-url <url>', 'the server’s database (DATABASE_URL), if PostgreSQL')
    .action(async (options: BackupOptions) => {
      if ((options.databaseUrl ?? process.env.DATABASE_URL ?? '') !== '') {
        throw new CliFailure(
          'the database is PostgreSQL: back it up with pg_dump, e.g. pg_dump --format=custom --file FILE "$DATABASE_URL". ' +
            'The master key is not in the database: keep LATCHKEY_MASTER_KEY in a separate, safe place.',
        );
      }
      // Loaded here, not with the CLI: every other command is a thin API client.
      const { SQLITE_FILE } = await import('../../store/index.js');
      const source = join(options.dataDir === undefined ? dataDirOf() : resolve(options.dataDir), SQLITE_FILE);
      const out = resolve(options.out);
      if (!existsSync(source)) throw new CliFailure(`there is no database at ${source} (use --data-dir)`);
      if (existsSync(out)) throw new CliFailure(`${out} already exists; choose another file`);
      await snapshot(source, out);
      const bytes = statSync(out).size;
      if (globals().json) return printJson({ out, bytes });
      say`backup written to ${out} (${bytes} bytes, mode 600)\n`;
      say`It holds sealed secrets only; the master key is not in it. Keep the key (master.key or LATCHKEY_MASTER_KEY) in a separate place: the backup cannot be opened without it.\n`;
    });
}

/**
 * `VACUUM INTO` copies the database as of one read transaction, so a server
 * writing meanwhile (WAL) cannot leave the copy half-updated.
 */
async function snapshot(source: string, out: string): Promise<void> {
  const { default: SQLite } = await import('better-sqlite3');
  const db = new SQLite(source, { fileMustExist: true });
  // The copy holds every sealed secret: it is created owner-only, not made private after the fact.
  const umask = process.umask(0o077);
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(out);
  } finally {
    process.umask(umask);
    db.close();
  }
  chmodSync(out, 0o600);
}

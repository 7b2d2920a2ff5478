import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, SqliteDialect, sql, type RawBuilder } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from './schema.js';

/** Every SQLite/PostgreSQL difference lives in this file. */
export type DialectName = 'sqlite' | 'postgres';

export interface StoreOptions {
  /** `postgres://...`; undefined for SQLite in dataDir. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** SQLite file name inside dataDir. */
  sqliteFile?: string;
}

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** Human description without credentials, for logs. */
  describe: string;
  /**
   * The SQLite handle under Kysely, for the one hot write path (audit appends)
   * where Kysely's per-statement overhead costs more than SQLite itself. Use it
   * only inside `kysely.connection().execute(...)`, which holds Kysely's single
   * connection, so no Kysely transaction is open around the raw statements.
   */
  sqlite?: BetterSqlite3.Database;
  close(): Promise<void>;
}

export const SQLITE_FILE = 'latchkey.db';

export async function openDb(options: StoreOptions): Promise<Db> {
  if (options.databaseUrl !== undefined) return openPostgres(options.databaseUrl);
  return openSqlite(join(options.dataDir, options.sqliteFile ?? SQLITE_FILE), options.dataDir);
}

async function openSqlite(path: string, dataDir: string): Promise<Db> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Loaded only when used: a PostgreSQL deployment never needs the native module.
  const { default: SQLite } = await import('better-sqlite3');
  const created = !existsSync(path);
  const database = new SQLite(path);
  // Owner-only, like the key file; SQLite gives the -wal and -shm files the same mode.
  if (created) chmodSync(path, 0o600);
  // WAL lets readers run beside the single writer; busy_timeout makes a second
  // process wait for the write lock instead of failing at once.
  if (database.pragma('journal_mode', { simple: true }) !== 'wal') database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  const kysely = new Kysely<Database>({
    dialect: new SqliteDialect({ database }),
    plugins: [new CamelCasePlugin()],
  });
  return {
    kysely,
    dialect: 'sqlite',
    describe: `sqlite:${path}`,
    sqlite: database,
    close: () => kysely.destroy(),
  };
}

function openPostgres(url: string): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // int8 (counts, sums) as numbers: our counters stay far below 2^53.
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
    } as pg.CustomTypesConfig,
  });
  // An idle client the server closed (restart, failover, admin command) emits 'error' on the
  // pool; without a listener that would crash the process. The pool drops the client itself.
  pool.on('error', () => {});
  // A checked-out client whose connection drops between queries (a database outage) emits
  // 'error' on itself, which the pool does not listen to then; the next query on it fails and
  // the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  const kysely = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
  });
  const parsed = new URL(url);
  return {
    kysely,
    dialect: 'postgres',
    describe: `postgres://${parsed.host}${parsed.pathname}`,
    close: () => kysely.destroy(),
  };
}

/** True when the error is a unique-constraint violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** True when the error is a foreign-key violation on either dialect (a row still refers to the one being deleted). */
export function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

const SQLITE_UNAVAILABLE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|CORRUPT|NOMEM|PROTOCOL|NOTADB|INTERRUPT|PERM)/;
// Connection, resources, operator intervention, system, transaction rollback, lock, internal.
const PG_UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58', '40', '55', 'XX']);

/**
 * True when a write failed because the database cannot take writes now (down,
 * disk full, locked), not because of what was written: then retrying the
 * same rows in smaller pieces cannot help.
 */
export function isUnavailable(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return true;
  if (code.startsWith('SQLITE_')) return SQLITE_UNAVAILABLE.test(code);
  // A SQLSTATE is five characters; anything else (ECONNREFUSED, ETIMEDOUT) is the network.
  return !/^[0-9A-Z]{5}$/.test(code) || PG_UNAVAILABLE_CLASSES.has(code.slice(0, 2));
}

/** Whether a text column can hold `value` at all: PostgreSQL refuses NUL in text (and in a query comparing with it). */
export function storableText(db: Db, value: string | undefined): boolean {
  return db.dialect !== 'postgres' || value === undefined || !value.includes('\u0000');
}

/** `column` holds `needle` as a substring: a plain search, with no LIKE wildcards to escape. */
export function containsText(db: Db, column: string, needle: string): RawBuilder<boolean> {
  return db.dialect === 'sqlite'
    ? sql<boolean>`instr(${sql.ref(column)}, ${needle}) > 0`
    : sql<boolean>`strpos(${sql.ref(column)}, ${needle}) > 0`;
}

/** Whether a table exists, without creating or changing anything. */
export async function tableExists(db: Db, table: string): Promise<boolean> {
  if (db.dialect === 'sqlite') {
    const rows = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = ${table}`.execute(db.kysely);
    return Number(rows.rows[0]?.n ?? 0) > 0;
  }
  const rows = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = current_schema() and table_name = ${table}`.execute(db.kysely);
  return Number(rows.rows[0]?.n ?? 0) > 0;
}

/**
 * `select … for update` on PostgreSQL. SQLite has no row locks (and no such
 * syntax): a transaction that has written already holds the database's one
 * write lock, which is what callers rely on there.
 */
export function forUpdate<Q extends { forUpdate(): Q }>(db: Db, query: Q): Q {
  return db.dialect === 'postgres' ? query.forUpdate() : query;
}

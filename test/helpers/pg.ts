import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Set in CI; on a machine without PostgreSQL the PostgreSQL suites skip with a visible message. */
export const PG_URL = process.env.LATCHKEY_TEST_DATABASE_URL;

export const PG_SKIP = PG_URL
  ? false
  : 'PostgreSQL suite skipped: set LATCHKEY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run it';

if (PG_SKIP) process.stderr.write(`# ${PG_SKIP}\n`);

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database per test file, so suites can run in parallel on one server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!PG_URL) throw new Error(PG_SKIP || 'no PostgreSQL');
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The environment several `latchkey serve` processes on one PostgreSQL share (same master key, no background refresher). */
export function replicaEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
    DATABASE_URL: url,
    LATCHKEY_ALLOW_HTTP_LOOPBACK: '1',
    LATCHKEY_REFRESHER_INTERVAL: '0',
    ...extra,
  };
}

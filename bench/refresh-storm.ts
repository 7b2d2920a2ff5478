import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startAuthorizationServer } from '../test/fixtures/authorization-server.js';
import { startLatchkey, TEST_ADMIN_TOKEN, type LatchkeyProcess } from '../test/helpers/latchkey-process.js';
import { adminClient, addProvider, fixtureTokens, importConnection } from '../test/helpers/token-lifecycle.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * `npm run bench -- refresh-storm [--callers 1000] [--replicas 1] [--database-url postgres://…]`:
 * N callers ask at once for the token of a connection that has just expired,
 * spread over `--replicas` real `latchkey serve` processes (built dist/); the
 * callers run here, in another process than any server, so their waits are
 * the servers' and not the load generator's. Prints the token endpoint calls
 * the authorization server saw (must be 1) and the callers' waits. More than
 * one replica needs PostgreSQL: --database-url, or LATCHKEY_TEST_DATABASE_URL
 * (a fresh database is made on that server and dropped afterwards).
 */
export async function refreshStormBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      callers: { type: 'string', default: '1000' },
      replicas: { type: 'string', default: '1' },
      'database-url': { type: 'string' },
    },
  });
  const callers = Number(values.callers);
  const replicaCount = Number(values.replicas);
  if (!Number.isInteger(callers) || callers < 1) throw new Error('--callers must be a positive whole number');
  if (!Number.isInteger(replicaCount) || replicaCount < 1) throw new Error('--replicas must be a positive whole number');
  const pgServer = values['database-url'] ?? process.env.LATCHKEY_TEST_DATABASE_URL;
  if (replicaCount > 1 && pgServer === undefined) {
    throw new Error('--replicas above 1 needs PostgreSQL: give --database-url or set LATCHKEY_TEST_DATABASE_URL');
  }
  if (pgServer !== undefined) process.env.LATCHKEY_TEST_DATABASE_URL = pgServer;
  // Read after the variable is set: the helper takes the server from it.
  const pg = pgServer === undefined ? undefined : await import('../test/helpers/pg.js');
  const db = pg === undefined ? undefined : await pg.createTestDatabase();

  const as = await startAuthorizationServer();
  const replicas: LatchkeyProcess[] = [];
  try {
    const env = {
      LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
      LATCHKEY_ALLOW_HTTP_LOOPBACK: '1',
      LATCHKEY_REFRESHER_INTERVAL: '0',
      LATCHKEY_LOG_LEVEL: 'warn',
      ...(db === undefined ? {} : { DATABASE_URL: db.url }),
    };
    // The first one creates the schema and the keyring; the others join it.
    replicas.push(await startLatchkey({ env }));
    replicas.push(...(await Promise.all(Array.from({ length: replicaCount - 1 }, () => startLatchkey({ env })))));
    const admin = adminClient(replicas[0]?.url ?? '', TEST_ADMIN_TOKEN);
    await addProvider(admin, as);
    const issued = await fixtureTokens(as);
    const conn = await importConnection(admin, {
      name: 'storm',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    as.resetCounts();

    const storm = await readAtOnce(replicas, conn.id, callers);
    const counts = as.counts();
    const calls = Object.values(counts).reduce((a, b) => a + b, 0);
    // The same callers again, now that the token is fresh: what the waits cost without a refresh.
    const baseline = await readAtOnce(replicas, conn.id, callers);
    const backend = db === undefined ? 'sqlite' : 'postgres';
    process.stdout.write(
      `refresh-storm (${replicaCount} replica${replicaCount === 1 ? '' : 's'}, ${backend}, load in a separate process): ` +
        `${callers} callers in ${storm.totalMs.toFixed(0)} ms, ${storm.failed} not 200\n` +
        `  token endpoint calls: ${calls} (${JSON.stringify(counts)})${calls === 1 ? '' : '  <-- expected exactly 1'}\n` +
        `  wait, expired token (one refresh): ${summary(storm.waits)}\n` +
        `  wait, fresh token (no refresh):    ${summary(baseline.waits)}\n`,
    );
    if (calls !== 1 || storm.failed > 0) process.exitCode = 1;
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
    await as.close();
    await db?.drop();
  }
}

function summary(sorted: number[]): string {
  return `p50 ${percentile(sorted, 50).toFixed(1)} ms   p99 ${percentile(sorted, 99).toFixed(1)} ms   max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`;
}

/** `callers` token reads at once, round-robin over the replicas; waits sorted. */
async function readAtOnce(
  replicas: LatchkeyProcess[],
  connectionId: string,
  callers: number,
): Promise<{ waits: number[]; failed: number; totalMs: number }> {
  const start = performance.now();
  let failed = 0;
  const waits = await Promise.all(
    Array.from({ length: callers }, async (_, i) => {
      const t0 = performance.now();
      const url = replicas[i % replicas.length]?.url ?? '';
      const res = await fetch(`${url}/v1/connections/${connectionId}/token`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      await res.arrayBuffer();
      if (res.status !== 200) failed += 1;
      return performance.now() - t0;
    }),
  );
  return { waits: waits.sort((a, b) => a - b), failed, totalMs: performance.now() - start };
}

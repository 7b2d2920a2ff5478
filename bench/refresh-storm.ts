import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { startServer } from '../src/server/index.js';
import { startAuthorizationServer } from '../test/fixtures/authorization-server.js';
import { adminClient, addProvider, fixtureTokens, importConnection } from '../test/helpers/token-lifecycle.js';

const ADMIN = 'lka_bench_admin_token_0000000000';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * `npm run bench -- refresh-storm [--callers 1000] [--via http|service]`:
 * N callers ask at once for the token of a connection that has just expired.
 * Prints the token endpoint calls the authorization server saw (must be 1)
 * and how long callers waited. DATABASE_URL=postgres://... runs it on PostgreSQL.
 */
export async function refreshStormBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { callers: { type: 'string', default: '1000' }, via: { type: 'string', default: 'http' } },
  });
  const callers = Number(values.callers);
  if (!Number.isInteger(callers) || callers < 1) throw new Error('--callers must be a positive whole number');
  const via = values.via === 'service' ? 'service' : 'http';

  const as = await startAuthorizationServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const config = loadConfig(
    { port: 0, dataDir, ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}) },
    { LATCHKEY_ADMIN_TOKEN: ADMIN, LATCHKEY_ALLOW_HTTP_LOOPBACK: '1', LATCHKEY_REFRESHER_INTERVAL: '0' },
  );
  const server = await startServer(config, { logger: createLogger('silent') });
  try {
    const admin = adminClient(server.url, ADMIN);
    await addProvider(admin, as);
    const issued = await fixtureTokens(as);
    const conn = await importConnection(admin, {
      name: 'storm',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    as.resetCounts();

    const start = performance.now();
    const waits = await Promise.all(
      Array.from({ length: callers }, async () => {
        const t0 = performance.now();
        if (via === 'http') {
          const res = await fetch(`${server.url}/v1/connections/${conn.id}/token`, { headers: { authorization: `Bearer ${ADMIN}` } });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`token read answered ${res.status}`);
        } else {
          await server.core.tokens.getValidToken(await server.core.connections.get(conn.id));
        }
        return performance.now() - t0;
      }),
    );
    const total = performance.now() - start;
    waits.sort((a, b) => a - b);
    const counts = as.counts();
    const calls = Object.values(counts).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `refresh-storm (${via}, ${server.core.store.db.dialect}): ${callers} callers in ${total.toFixed(0)} ms\n` +
        `  token endpoint calls: ${calls} (${JSON.stringify(counts)})${calls === 1 ? '' : '  <-- expected exactly 1'}\n` +
        `  wait p50 ${percentile(waits, 50).toFixed(1)} ms   p99 ${percentile(waits, 99).toFixed(1)} ms   max ${(waits.at(-1) ?? 0).toFixed(1)} ms\n`,
    );
    if (calls !== 1) process.exitCode = 1;
  } finally {
    await server.close();
    await as.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

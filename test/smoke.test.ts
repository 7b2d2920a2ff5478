import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startInProcess } from './helpers/in-process.js';
import { createTestDatabase, PG_SKIP } from './helpers/pg.js';

/**
 * A quick run of the core on whatever Node runs it (CI also runs this file on
 * Node 24). It uses PostgreSQL: better-sqlite3's native module is built for
 * the Node that installed it.
 */
test('smoke: serve, register a provider, import and list a connection', { skip: PG_SKIP }, async () => {
  const db = await createTestDatabase();
  const server = await startInProcess({ databaseUrl: db.url });
  try {
    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
    assert.equal((await server.admin('POST', '/v1/providers', { name: 'spotify', preset: 'spotify' })).status, 201);
    const imported = await server.admin('POST', '/v1/connections/import', {
      provider: 'spotify',
      refreshToken: 'smoke-refresh-token',
    });
    assert.equal(imported.status, 201);
    const list = await server.admin('GET', '/v1/connections');
    assert.deepEqual(
      (list.body as Array<{ name: string }>).map((c) => c.name),
      ['spotify'],
    );
    assert.ok(!server.logs.text().includes('smoke-refresh-token'));
  } finally {
    await server.close();
    await db.drop();
  }
  process.stdout.write(`# smoke test ran on Node ${process.version}\n`);
});

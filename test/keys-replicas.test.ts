import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { SEALED_COLUMNS } from '../src/store/index.js';
import { startLatchkey, TEST_ADMIN_TOKEN, type LatchkeyProcess } from './helpers/latchkey-process.js';
import { PG_SKIP, createTestDatabase, replicaEnv, type TestDatabase } from './helpers/pg.js';
import { adminClient, importConnection, type AdminCall, type TokenView } from './helpers/token-lifecycle.js';

/** Every key id found in any sealed column of the database. */
async function keyIdsInUse(url: string): Promise<Map<string, string[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const used = new Map<string, string[]>();
  try {
    for (const { table, column } of SEALED_COLUMNS) {
      const rows = await client.query<{ id: string; v: string }>(`select id, ${column} as v from ${table} where ${column} is not null`);
      for (const r of rows.rows) {
        const keyId = r.v.split('.')[1] ?? '';
        used.set(keyId, [...(used.get(keyId) ?? []), `${table}.${column}:${r.id}`]);
      }
    }
  } finally {
    await client.end();
  }
  return used;
}

describe('key rotation across replicas on one PostgreSQL', { skip: PG_SKIP }, () => {
  let db: TestDatabase;
  let a: LatchkeyProcess;
  let b: LatchkeyProcess;
  let adminA: AdminCall;
  let adminB: AdminCall;

  before(async () => {
    db = await createTestDatabase();
    const env = replicaEnv(db.url);
    a = await startLatchkey({ env });
    b = await startLatchkey({ env });
    adminA = adminClient(a.url, TEST_ADMIN_TOKEN);
    adminB = adminClient(b.url, TEST_ADMIN_TOKEN);
    const provider = await adminA('POST', '/v1/providers', {
      name: 'plain',
      tokenEndpoint: 'http://127.0.0.1:9/token',
      clientId: 'c',
      clientSecret: 'client-secret-0123456789',
      apiBaseUrl: 'http://127.0.0.1:9',
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  test('after a rotation on A, B seals under the new key at once and never under the retired one', async () => {
    const later = new Date(Date.now() + 3600_000).toISOString();
    // B has sealed before: it holds a reserved block of seals under the first key.
    await importConnection(adminB, { name: 'before', provider: 'plain', accessToken: 'access-before-0123456789', expiresAt: later });
    const [firstKey] = [...(await keyIdsInUse(db.url)).keys()];

    const rotated = await adminA('POST', '/v1/keys/rotate');
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const { newKeyId, retiredKeyIds } = rotated.body as { newKeyId: string; retiredKeyIds: string[] };
    assert.deepEqual(retiredKeyIds, [firstKey]);

    // B seals new secrets right after: an imported connection and a webhook secret.
    await importConnection(adminB, { name: 'after', provider: 'plain', accessToken: 'access-after-0123456789', expiresAt: later });
    const hook = await adminB('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));

    const used = await keyIdsInUse(db.url);
    assert.deepEqual([...used.keys()], [newKeyId], `sealed under: ${JSON.stringify(Object.fromEntries(used))}`);
    for (const admin of [adminA, adminB]) {
      const res = await admin('GET', '/v1/connections/after/token');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((res.body as TokenView).accessToken, 'access-after-0123456789');
    }
    const keys = (await adminB('GET', '/v1/keys')).body as Array<{ id: string; status: string }>;
    assert.deepEqual(keys.map((k) => [k.id, k.status]), [[firstKey, 'retired'], [newKeyId, 'active']]);
  });
});

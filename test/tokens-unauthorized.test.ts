import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { createAgent, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { startLatchkey, TEST_ADMIN_TOKEN, type LatchkeyProcess } from './helpers/latchkey-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';
import { PG_SKIP, createTestDatabase, replicaEnv, type TestDatabase } from './helpers/pg.js';
import { adminClient, assertNoSecret, fixtureTokens, importConnection, type AdminCall } from './helpers/token-lifecycle.js';

const REJECTION = '{"error":"invalid_token","hint":"this API rejects every token"}';

/** An API that answers 401 to every request, with a body the agent must get back unchanged. */
function alwaysUnauthorized(): Promise<FakeApi> {
  return startFakeApi((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }).end(REJECTION);
  });
}

/** A provider on the fixture's token endpoint whose API is `api`, a connection with real tokens, and an agent allowed to use it. */
async function setUp(admin: AdminCall, as: AuthorizationServer, api: FakeApi, secrets: string[]): Promise<string> {
  const provider = await admin('POST', '/v1/providers', {
    name: 'strict',
    issuer: as.issuer,
    clientId: as.confidentialClient.clientId,
    clientSecret: as.confidentialClient.clientSecret,
    apiBaseUrl: api.url,
  });
  assert.equal(provider.status, 201, JSON.stringify(provider.body));
  const issued = await fixtureTokens(as);
  secrets.push(issued.accessToken, issued.refreshToken);
  await importConnection(admin, {
    name: 'strict',
    provider: 'strict',
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  const agent = await createAgent({ admin }, { name: 'poker', policy: { rules: [{ connections: ['strict'], methods: ['GET'], paths: ['/**'] }] } });
  return agent.apiKey;
}

async function proxyGet(url: string, agentKey: string, i: number): Promise<{ status: number; body: string; challenge: string | null }> {
  const res = await fetch(`${url}/v1/proxy/strict/items/${i}`, { headers: { authorization: `Bearer ${agentKey}` } });
  return { status: res.status, body: await res.text(), challenge: res.headers.get('www-authenticate') };
}

for (const backend of BACKENDS) {
  describe(`upstream 401 refresh cooldown (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let api: FakeApi;
    let server: InProcess;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    let agentKey: string;
    const clock = new ManualClock();
    const secrets: string[] = [];

    before(async () => {
      as = await startAuthorizationServer();
      api = await alwaysUnauthorized();
      db = await backend.open();
      server = await startInProcess({
        clock,
        env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0' },
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      });
      agentKey = await setUp(server.admin, as, api, secrets);
    });

    after(async () => {
      assertNoSecret(server.logs.text(), secrets, 'the logs');
      await server.close();
      await api.close();
      await as.close();
      await db.drop();
    });

    test('120 concurrent requests against an API that answers 401 to everything: one refresh, every 401 relayed as it is', async () => {
      as.resetCounts();
      const results = await Promise.all(Array.from({ length: 120 }, (_, i) => proxyGet(server.url, agentKey, i)));
      for (const r of results) {
        assert.equal(r.status, 401);
        assert.equal(r.body, REJECTION);
        assert.equal(r.challenge, 'Bearer error="invalid_token"');
      }
      assert.equal(as.counts().refresh_token, 1, 'one refresh grant for the whole burst');

      // Still within the cooldown: more 401s change nothing.
      clock.advance(30_000);
      assert.equal((await proxyGet(server.url, agentKey, 999)).status, 401);
      assert.equal(as.counts().refresh_token, 1);
      const view = (await server.admin('GET', '/v1/connections/strict')).body as { status: string };
      assert.equal(view.status, 'active');
    });

    test('after the cooldown a new 401 may refresh again, once', async () => {
      as.resetCounts();
      clock.advance(31_000);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => proxyGet(server.url, agentKey, i)));
      for (const r of results) assert.equal(r.status, 401);
      assert.equal(as.counts().refresh_token, 1);
    });
  });
}

describe('upstream 401 refresh cooldown across two replicas on PostgreSQL', { skip: PG_SKIP }, () => {
  let as: AuthorizationServer;
  let api: FakeApi;
  let db: TestDatabase;
  const replicas: LatchkeyProcess[] = [];
  let agentKey: string;
  const secrets: string[] = [];

  before(async () => {
    as = await startAuthorizationServer();
    api = await alwaysUnauthorized();
    db = await createTestDatabase();
    const env = replicaEnv(db.url);
    replicas.push(await startLatchkey({ env }));
    replicas.push(await startLatchkey({ env }));
    agentKey = await setUp(adminClient(replicas[0]?.url ?? '', TEST_ADMIN_TOKEN), as, api, secrets);
  });

  after(async () => {
    for (const r of replicas) assertNoSecret(r.output(), secrets, 'replica output');
    await Promise.all(replicas.map((r) => r.stop()));
    await api.close();
    await as.close();
    await db.drop();
  });

  test('120 requests over two processes, 20 at a time: at most one refresh grant', async () => {
    as.resetCounts();
    // In waves, so that later requests carry the token the first refresh made (the way agents keep calling).
    const results = [];
    for (let wave = 0; wave < 6; wave += 1) {
      results.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) => proxyGet((replicas[i % 2] as LatchkeyProcess).url, agentKey, wave * 20 + i)),
        )),
      );
    }
    for (const r of results) {
      assert.equal(r.status, 401);
      assert.equal(r.body, REJECTION);
    }
    // Exactly one: the first 401 refreshes (so the mechanism works across replicas), no later one does.
    assert.equal(as.counts().refresh_token ?? 0, 1, `refresh grants: ${as.counts().refresh_token}`);
  });
});

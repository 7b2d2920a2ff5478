import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startLatchkey, TEST_ADMIN_TOKEN, type LatchkeyProcess } from './helpers/latchkey-process.js';
import { PG_SKIP, createTestDatabase, type TestDatabase } from './helpers/pg.js';
import {
  adminClient,
  addProvider,
  assertNoSecret,
  fixtureTokens,
  importConnection,
  type AdminCall,
  type ConnectionView,
  type TokenView,
} from './helpers/token-lifecycle.js';
import { startTokenProxy, type TokenProxy } from './helpers/token-proxy.js';

const RUNS = 20;
const CONNECTIONS_PER_RUN = 3;
const READS_PER_REPLICA = 2;
/** Longer than the claim TTL (1 s): without a heartbeat the claim lapses while the answer is on its way. */
const ANSWER_DELAY_MS = 1200;

describe('the refresh claim is a fence across replicas (PostgreSQL, slow token endpoint)', { skip: PG_SKIP }, () => {
  let as: AuthorizationServer;
  let proxy: TokenProxy;
  let db: TestDatabase;
  const replicas: LatchkeyProcess[] = [];
  const admins: AdminCall[] = [];
  const secrets: string[] = [];

  before(async () => {
    as = await startAuthorizationServer();
    proxy = await startTokenProxy(`${as.issuer}/token`);
    db = await createTestDatabase();
    const env = {
      LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
      DATABASE_URL: db.url,
      LATCHKEY_ALLOW_HTTP_LOOPBACK: '1',
      LATCHKEY_REFRESHER_INTERVAL: '0',
      LATCHKEY_REFRESH_CLAIM_TTL: '1',
      LATCHKEY_TOKEN_TIMEOUT: '10',
    };
    replicas.push(await startLatchkey({ env }));
    replicas.push(...(await Promise.all([startLatchkey({ env }), startLatchkey({ env })])));
    for (const r of replicas) admins.push(adminClient(r.url, TEST_ADMIN_TOKEN));
    await addProvider(admins[0] as AdminCall, as, 'fixture', { tokenEndpoint: proxy.tokenEndpoint });
  });

  after(async () => {
    for (const r of replicas) assertNoSecret(r.output(), secrets, 'replica output');
    await Promise.all(replicas.map((r) => r.stop()));
    await proxy.close();
    await as.close();
    await db.drop();
  });

  test(`${RUNS} runs: answers later than the claim TTL, the provider never sees a refresh token twice`, async () => {
    const connections: ConnectionView[] = [];
    for (let i = 0; i < RUNS * CONNECTIONS_PER_RUN; i += CONNECTIONS_PER_RUN) {
      const made = await Promise.all(
        Array.from({ length: CONNECTIONS_PER_RUN }, async (_, c) => {
          const issued = await fixtureTokens(as);
          secrets.push(issued.accessToken, issued.refreshToken);
          return importConnection(admins[0] as AdminCall, {
            name: `fence-${i + c}`,
            accessToken: issued.accessToken,
            refreshToken: issued.refreshToken,
            expiresAt: new Date(Date.now() - 60_000).toISOString(),
          });
        }),
      );
      connections.push(...made);
    }
    proxy.delayMs = ANSWER_DELAY_MS;
    const lastTokens = new Map<string, string>();
    for (let run = 0; run < RUNS; run += 1) {
      const batch = connections.slice(run * CONNECTIONS_PER_RUN, (run + 1) * CONNECTIONS_PER_RUN);
      const reads = batch.flatMap((conn) =>
        admins.flatMap((admin) =>
          Array.from({ length: READS_PER_REPLICA }, () => admin('GET', `/v1/connections/${conn.id}/token`)),
        ),
      );
      const results = await Promise.all(reads);
      for (const r of results) assert.equal(r.status, 200, `run ${run}: ${JSON.stringify(r.body)}`);
      const perConnection = READS_PER_REPLICA * admins.length;
      batch.forEach((conn, c) => {
        const seen = new Set(results.slice(c * perConnection, (c + 1) * perConnection).map((r) => (r.body as TokenView).accessToken));
        assert.equal(seen.size, 1, `run ${run}: one new token for ${conn.name}`);
        lastTokens.set(conn.id, [...seen][0] as string);
      });
      assert.deepEqual(proxy.repeats(), [], `run ${run}: a refresh token reached the provider twice`);
    }
    secrets.push(...lastTokens.values());
    assert.equal(proxy.refreshTokens.length, RUNS * CONNECTIONS_PER_RUN, 'one refresh per connection');

    // No connection is active on a revoked grant: each one's token is live at the provider
    // (reuse detection would have revoked the whole grant), and a few refresh once more with
    // the rotated refresh token they stored.
    proxy.delayMs = 0;
    for (const conn of connections) {
      const view = await admins[1]?.('GET', `/v1/connections/${conn.id}`);
      assert.equal((view?.body as ConnectionView).status, 'active');
      assert.equal((await as.introspect(lastTokens.get(conn.id) ?? '')).active, true, `${conn.name} ends on a live grant`);
    }
    for (const conn of connections.slice(0, CONNECTIONS_PER_RUN)) {
      const forced = await admins[2]?.('POST', `/v1/connections/${conn.id}/refresh`);
      assert.equal(forced?.status, 200, JSON.stringify(forced?.body));
    }
    assert.deepEqual(proxy.repeats(), []);
  });
});

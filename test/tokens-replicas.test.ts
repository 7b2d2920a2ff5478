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
  until,
  type AdminCall,
  type TokenView,
} from './helpers/token-lifecycle.js';

describe('refresh across replicas on one PostgreSQL', { skip: PG_SKIP }, () => {
  let as: AuthorizationServer;
  let db: TestDatabase;
  const replicas: LatchkeyProcess[] = [];
  const admins: AdminCall[] = [];
  const secrets: string[] = [];

  before(async () => {
    as = await startAuthorizationServer();
    db = await createTestDatabase();
    const env = {
      LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
      DATABASE_URL: db.url,
      LATCHKEY_ALLOW_HTTP_LOOPBACK: '1',
      LATCHKEY_REFRESHER_INTERVAL: '0',
      // Short lease and token timeout so the crashed-holder test takes seconds, not a minute: a
      // taker waits for the dead holder's request until it can no longer be answered.
      LATCHKEY_REFRESH_CLAIM_TTL: '2',
      LATCHKEY_TOKEN_TIMEOUT: '3',
    };
    // The first one creates the schema and the keyring; the others join it.
    replicas.push(await startLatchkey({ env }));
    replicas.push(...(await Promise.all([startLatchkey({ env }), startLatchkey({ env })])));
    for (const r of replicas) admins.push(adminClient(r.url, TEST_ADMIN_TOKEN));
    await addProvider(admins[0] as AdminCall, as);
  });

  after(async () => {
    for (const r of replicas) assertNoSecret(r.output(), secrets, 'replica output');
    await Promise.all(replicas.map((r) => r.stop()));
    await as.close();
    await db.drop();
  });

  test('300 concurrent token reads over three processes: exactly one refresh_token grant', async () => {
    const issued = await fixtureTokens(as);
    secrets.push(issued.accessToken, issued.refreshToken);
    const conn = await importConnection(admins[0] as AdminCall, {
      name: 'shared',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    as.resetCounts();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => (admins[i % 3] as AdminCall)('GET', `/v1/connections/${conn.id}/token`)),
    );
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
    const tokens = new Set(results.map((r) => (r.body as TokenView).accessToken));
    assert.equal(tokens.size, 1);
    secrets.push(...tokens);
    assert.equal(as.counts().refresh_token, 1);
  });

  test('a holder killed mid-refresh: another replica takes over after the lease, no rotated token lost', async () => {
    const issued = await fixtureTokens(as);
    secrets.push(issued.accessToken, issued.refreshToken);
    const conn = await importConnection(admins[0] as AdminCall, {
      name: 'crash',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    as.resetCounts();
    as.tokenEndpointBehaviour('hang');
    const [holder, taker, third] = [replicas[0], admins[1], admins[2]] as [LatchkeyProcess, AdminCall, AdminCall];
    const hung = adminClient(holder.url, TEST_ADMIN_TOKEN)('GET', `/v1/connections/${conn.id}/token`).catch(() => undefined);
    // The holder has the claim and its request is at the token endpoint.
    await until(() => ((as.counts().refresh_token ?? 0) >= 1 ? true : undefined));
    await holder.kill();
    await hung;
    as.tokenEndpointBehaviour('normal');

    const started = Date.now();
    const res = await taker('GET', `/v1/connections/${conn.id}/token`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(Date.now() - started < 10_000, 'took over once the lease and the dead request had run out');
    const token = (res.body as TokenView).accessToken;
    secrets.push(token);
    assert.equal(as.counts().refresh_token, 2, 'the hung request and the takeover');
    const resource = await fetch(as.protectedResourceUrl, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(resource.status, 200);
    assert.equal((await as.introspect(issued.refreshToken)).active, false, 'the old refresh token was rotated away');

    // The rotated refresh token was stored: a forced refresh through yet another replica works.
    const forced = await third('POST', `/v1/connections/${conn.id}/refresh`);
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal((forced.body as { status: string }).status, 'active');
    assert.equal(as.counts().refresh_token, 3);
    const latest = await third('GET', `/v1/connections/${conn.id}/token`);
    secrets.push((latest.body as TokenView).accessToken);
    assert.equal((await as.introspect((latest.body as TokenView).accessToken)).active, true);
    assert.match(replicas[1]?.output() ?? '', /got no answer/);
  });
});

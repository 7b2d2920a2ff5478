import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';
import { addProvider, assertNoSecret, fixtureTokens, importConnection, type TokenView } from './helpers/token-lifecycle.js';

for (const backend of BACKENDS) {
  describe(`background refresher and 401 reports (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let one: InProcess;
    let two: InProcess;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    const clock = new ManualClock();
    const secrets: string[] = [];

    before(async () => {
      as = await startAuthorizationServer({ accessTokenTtl: 600 });
      db = await backend.open();
      // Two replicas on one database (for SQLite: one data directory).
      const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-refresher-'));
      const options = {
        dataDir,
        clock,
        env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0', LATCHKEY_REFRESHER_LEAD: '300' },
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      };
      one = await startInProcess(options);
      two = await startInProcess(options);
      await addProvider(one.admin, as);
    });

    after(async () => {
      assertNoSecret(one.logs.text() + two.logs.text(), secrets, 'the logs');
      await one.close();
      await two.close();
      await as.close();
      await db.drop();
    });

    test('refreshes what expires within the lead time, once, though two replicas run at once', async () => {
      const soon = await fixtureTokens(as);
      const later = await fixtureTokens(as);
      secrets.push(soon.accessToken, soon.refreshToken, later.accessToken, later.refreshToken);
      await importConnection(one.admin, {
        name: 'soon',
        accessToken: soon.accessToken,
        refreshToken: soon.refreshToken,
        expiresAt: new Date(clock.now().getTime() + 120_000).toISOString(),
      });
      await importConnection(one.admin, {
        name: 'later',
        accessToken: later.accessToken,
        refreshToken: later.refreshToken,
        expiresAt: new Date(clock.now().getTime() + 3600_000).toISOString(),
      });
      as.resetCounts();
      await Promise.all([one.core.refresher.runOnce(), two.core.refresher.runOnce(), one.core.refresher.runOnce()]);
      assert.equal(as.counts().refresh_token, 1);
      const view = (await one.admin('GET', '/v1/connections/soon')).body as { expiresAt: string; lastRefreshedAt: string };
      assert.ok(Date.parse(view.expiresAt) > clock.now().getTime() + 500_000, 'a new 600 s token');
      // The fresh token is not refreshed again on the next pass.
      await Promise.all([one.core.refresher.runOnce(), two.core.refresher.runOnce()]);
      assert.equal(as.counts().refresh_token, 1);
      const token = (await two.admin('GET', '/v1/connections/soon/token')).body as TokenView;
      assert.notEqual(token.accessToken, soon.accessToken);
      secrets.push(token.accessToken);
      assert.equal(as.counts().refresh_token, 1, 'read from the store');
    });

    test('an upstream 401 refreshes once; a report about an already replaced token does not', async () => {
      const conn = await one.core.connections.get('later');
      const current = await one.core.tokens.getValidToken(conn);
      as.resetCounts();
      const [a, b] = await Promise.all([
        one.core.tokens.reportUnauthorized(conn, current.accessToken),
        two.core.tokens.reportUnauthorized(await two.core.connections.get('later'), current.accessToken),
      ]);
      assert.equal(as.counts().refresh_token, 1);
      assert.ok(a !== undefined && b !== undefined, 'both got a token to retry with');
      assert.equal(a.accessToken, b.accessToken);
      assert.notEqual(a.accessToken, current.accessToken);
      secrets.push(a.accessToken);
      const again = await one.core.tokens.reportUnauthorized(conn, current.accessToken);
      assert.equal(again?.accessToken, a.accessToken);
      assert.equal(as.counts().refresh_token, 1);
    });

    test('connection.expiring goes out once when the refresh token itself nears its end', async () => {
      const conn = await one.core.connections.get('later');
      const ends = new Date(clock.now().getTime() + 86400_000).toISOString();
      await one.core.store.connections.update(conn.id, { refreshTokenExpiresAt: ends }, clock.now().toISOString());
      await Promise.all([one.core.refresher.runOnce(), two.core.refresher.runOnce()]);
      await one.core.refresher.runOnce();
      const events = await one.core.store.events.listEvents({ type: 'connection.expiring' });
      assert.equal(events.length, 1);
      const body = JSON.parse(events[0]?.payload ?? '{}') as { data: { connection: { name: string; refreshTokenExpiresAt: string } } };
      assert.equal(body.data.connection.name, 'later');
      assert.equal(body.data.connection.refreshTokenExpiresAt, ends);
    });

    test('client_credentials connections fetch a new token when theirs expired', async () => {
      const res = await one.admin('POST', '/v1/connect/fixture/client-credentials', { name: 'machine', scopes: ['api:read'] });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const first = (await one.admin('GET', '/v1/connections/machine/token')).body as TokenView;
      secrets.push(first.accessToken);
      as.resetCounts();
      clock.advance(3600_000);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).admin('GET', '/v1/connections/machine/token')));
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(new Set(results.map((r) => (r.body as TokenView).accessToken)).size, 1);
      const second = results[0]?.body as TokenView;
      assert.notEqual(second.accessToken, first.accessToken);
      secrets.push(second.accessToken);
      assert.equal(as.counts().client_credentials, 1);
    });
  });
}

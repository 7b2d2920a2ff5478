import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { openTokens } from '../src/tokens/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';
import { addProvider, assertNoSecret, fixtureTokens, importConnection, type TokenView } from './helpers/token-lifecycle.js';

const QUIET = { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0' };

for (const backend of BACKENDS) {
  describe(`token refresh (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    const clock = new ManualClock();
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-tokens-'));
    const secrets: string[] = [];

    const start = (): Promise<InProcess> =>
      startInProcess({ dataDir, clock, env: QUIET, ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}) });

    async function storedTokens(id: string): Promise<{ accessToken?: string; refreshToken?: string }> {
      const row = await server.core.store.connections.findById(id);
      assert.ok(row);
      return openTokens(server.core.keyring, id, row.tokens);
    }

    before(async () => {
      as = await startAuthorizationServer();
      db = await backend.open();
      server = await start();
      await addProvider(server.admin, as);
    });

    after(async () => {
      assertNoSecret(server.logs.text(), secrets, 'the logs');
      await server.close();
      await as.close();
      await db.drop();
    });

    test('200 concurrent reads of an expired token: one refresh_token grant, one new token for all', async () => {
      const issued = await fixtureTokens(as);
      secrets.push(issued.accessToken, issued.refreshToken);
      const conn = await importConnection(server.admin, {
        name: 'storm',
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresAt: new Date(clock.now().getTime() - 1000).toISOString(),
      });
      as.resetCounts();
      const results = await Promise.all(
        Array.from({ length: 200 }, () => server.admin('GET', `/v1/connections/${conn.id}/token`)),
      );
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
      const tokens = new Set(results.map((r) => (r.body as TokenView).accessToken));
      assert.equal(tokens.size, 1, 'every caller got the same token');
      const [fresh] = [...tokens];
      assert.ok(fresh !== undefined && fresh !== issued.accessToken);
      secrets.push(fresh);
      assert.equal(as.counts().refresh_token, 1);

      // Rotation: the old refresh token is dead at the provider, the new one is stored and live.
      const stored = await storedTokens(conn.id);
      assert.ok(stored.refreshToken !== undefined && stored.refreshToken !== issued.refreshToken);
      secrets.push(stored.refreshToken);
      assert.equal((await as.introspect(issued.refreshToken)).active, false);
      assert.equal((await as.introspect(stored.refreshToken)).active, true);
      assert.equal((await as.introspect(fresh)).active, true);
      const resource = await fetch(as.protectedResourceUrl, { headers: { authorization: `Bearer ${fresh}` } });
      assert.equal(resource.status, 200);

      // A fresh token is served from the store without another grant.
      const again = await server.admin('GET', `/v1/connections/storm/token`);
      assert.equal((again.body as TokenView).accessToken, fresh);
      assert.equal(as.counts().refresh_token, 1);
    });

    test('a restarted server keeps refreshing with the stored rotated token', async () => {
      await server.close();
      clock.advance(2 * 3600 * 1000);
      server = await start();
      as.resetCounts();
      const res = await server.admin('GET', '/v1/connections/storm/token');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const token = (res.body as TokenView).accessToken;
      secrets.push(token);
      assert.equal(as.counts().refresh_token, 1);
      assert.equal((await as.introspect(token)).active, true);
      const view = await server.admin('GET', '/v1/connections/storm');
      assert.equal((view.body as { status: string }).status, 'active');
      secrets.push(...Object.values(await storedTokens((view.body as { id: string }).id)).filter((v): v is string => !!v));
    });

    test('POST /refresh forces a refresh of a fresh token', async () => {
      as.resetCounts();
      const before = (await server.admin('GET', '/v1/connections/storm/token')).body as TokenView;
      const res = await server.admin('POST', '/v1/connections/storm/refresh');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((res.body as { status: string }).status, 'active');
      assert.equal(as.counts().refresh_token, 1);
      const after = (await server.admin('GET', '/v1/connections/storm/token')).body as TokenView;
      assert.notEqual(after.accessToken, before.accessToken);
      secrets.push(after.accessToken);
    });

    test('deleting a connection revokes its refresh token at the provider', async () => {
      const view = (await server.admin('GET', '/v1/connections/storm')).body as { id: string };
      const stored = await storedTokens(view.id);
      assert.ok(stored.refreshToken);
      secrets.push(stored.refreshToken);
      assert.equal((await as.introspect(stored.refreshToken)).active, true);
      const res = await server.admin('DELETE', '/v1/connections/storm');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { deleted: true, revokedAtProvider: true });
      assert.equal((await as.introspect(stored.refreshToken)).active, false);
      assert.equal((await server.admin('GET', '/v1/connections/storm')).status, 404);
      const events = await server.core.store.events.listEvents({ type: 'connection.revoked' });
      assert.equal(events.length, 1);
      assertNoSecret(JSON.stringify(events), secrets, 'events');
    });

    test('a provider failure does not stop the local delete', async () => {
      const issued = await fixtureTokens(as);
      secrets.push(issued.accessToken, issued.refreshToken);
      await importConnection(server.admin, { name: 'doomed', accessToken: issued.accessToken, refreshToken: issued.refreshToken });
      // Point revocation at a closed port: the provider cannot be reached.
      await server.core.providers.update('fixture', { revocationEndpoint: 'http://127.0.0.1:9/revoke' });
      const res = await server.admin('DELETE', '/v1/connections/doomed');
      assert.equal(res.status, 200);
      const body = res.body as { deleted: boolean; revokedAtProvider: boolean; revocation: { status: string; lastError: string } };
      assert.equal(body.deleted, true);
      assert.equal(body.revokedAtProvider, false);
      assert.equal(body.revocation.status, 'pending', 'a revocation job keeps trying');
      assert.match(body.revocation.lastError, /revocation endpoint unreachable/);
      assert.equal((await server.admin('GET', '/v1/connections/doomed')).status, 404);
    });
  });
}

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';
import { addProvider, assertNoSecret, fixtureTokens, importConnection } from './helpers/token-lifecycle.js';
import { startUpstreamMcp, type UpstreamMcp } from './helpers/upstream-mcp.js';

interface Revocation {
  id: string;
  connection: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

// Removing a provider (directly, or with its MCP server) must not end the
// durable revocation of the grants it held: the job keeps, sealed, what it
// needs to revoke without the provider row.
for (const backend of BACKENDS) {
  describe(`revocation outlives a removed provider (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let upstream: UpstreamMcp;
    let lk: InProcess;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    const clock = new ManualClock();
    const secrets: string[] = [];

    before(async () => {
      as = await startAuthorizationServer();
      upstream = await startUpstreamMcp(as);
      db = await backend.open();
      lk = await startInProcess({
        dataDir: mkdtempSync(join(tmpdir(), 'latchkey-revoke-removed-')),
        clock,
        env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0', LATCHKEY_REVOCATION_INTERVAL: '0' },
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      });
      secrets.push(as.confidentialClient.clientSecret ?? '');
    });

    afterEach(() => {
      as.revocationEndpointBehaviour('normal');
      as.onRevocationRequest(undefined);
    });

    after(async () => {
      if (lk !== undefined) assertNoSecret(lk.logs.text(), secrets, 'the logs');
      await lk?.close();
      await upstream?.close();
      await as?.close();
      await db?.drop();
    });

    async function connect(name: string, provider: string): Promise<string> {
      const issued = await fixtureTokens(as);
      secrets.push(issued.accessToken, issued.refreshToken);
      await importConnection(lk.admin, { name, provider, accessToken: issued.accessToken, refreshToken: issued.refreshToken });
      return issued.refreshToken;
    }

    async function addServer(name: string): Promise<void> {
      const res = await lk.admin('POST', '/v1/mcp-servers', {
        name,
        url: upstream.url,
        clientId: as.confidentialClient.clientId,
        clientSecret: as.confidentialClient.clientSecret,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }

    async function job(connection: string): Promise<Revocation | undefined> {
      return ((await lk.admin('GET', '/v1/revocations')).body as Revocation[]).find((r) => r.connection === connection);
    }

    /** The revocation endpoint comes back; the worker's next due pass must end the grant upstream. */
    async function retryRevokes(connection: string, refreshToken: string, options: { rotateKeys?: boolean } = {}): Promise<void> {
      const pending = await job(connection);
      assert.equal(pending?.status, 'pending', JSON.stringify(pending));
      assert.equal((await as.introspect(refreshToken)).active, true, 'the grant still lives upstream');
      const row = await lk.core.store.revocations.findById(pending.id);
      assert.match(row?.client ?? '', /^lk1\./, 'what the retry needs waits sealed in the job');
      assertNoSecret(JSON.stringify(row), secrets, 'the job row');
      if (options.rotateKeys === true) {
        // Key rotation re-seals the job's client like every other secret, and retires the old key.
        const rotated = await lk.admin('POST', '/v1/keys/rotate');
        assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
        const resealed = await lk.core.store.revocations.findById(pending.id);
        assert.notEqual(resealed?.client, row?.client, 'the client was re-sealed');
        assert.match(resealed?.client ?? '', new RegExp(`^lk1\\.${(rotated.body as { newKeyId: string }).newKeyId}\\.`));
      }

      as.revocationEndpointBehaviour('normal');
      clock.advance(3600_000);
      assert.equal(await lk.core.revocations.runOnce(), 1);
      const done = await job(connection);
      assert.equal(done?.status, 'revoked', JSON.stringify(done));
      assert.equal((await as.introspect(refreshToken)).active, false, 'the refresh token is dead upstream');
      const finished = await lk.core.store.revocations.findById(pending.id);
      assert.equal(finished?.token, null, 'the token is forgotten');
      assert.equal(finished?.client, null, 'the client and its secret are forgotten');
    }

    test('mcp-servers remove --force while the revocation endpoint is down: the retry still revokes the grant', async () => {
      await addServer('srv');
      const refreshToken = await connect('srv-a', 'srv');
      as.revocationEndpointBehaviour('unavailable');
      const del = await lk.admin('DELETE', '/v1/mcp-servers/srv?force=true');
      assert.equal(del.status, 200, JSON.stringify(del.body));
      assert.deepEqual(del.body, { deleted: true, removedConnections: 1, revokedAtProvider: 0 });
      assert.equal((await lk.admin('GET', '/v1/providers/srv')).status, 404, 'the provider is gone');
      await retryRevokes('srv-a', refreshToken);
    });

    test('DELETE /v1/providers?force revokes each connection, and a failed revocation retries after the provider is gone', async () => {
      await addProvider(lk.admin, as, 'plain');
      const live = await connect('plain-a', 'plain');
      const refreshToken = await connect('plain-b', 'plain');
      let calls = 0;
      // The first revocation goes through, the second meets an outage.
      as.onRevocationRequest(async () => {
        calls += 1;
        if (calls === 2) as.revocationEndpointBehaviour('unavailable');
      });
      const del = await lk.admin('DELETE', '/v1/providers/plain?force=true');
      assert.equal(del.status, 200, JSON.stringify(del.body));
      assert.deepEqual(del.body, { deleted: true, removedConnections: 2, revokedAtProvider: 1 });
      assert.equal((await as.introspect(live)).active, false, 'revoked during the delete');
      assert.equal((await lk.admin('GET', '/v1/providers/plain')).status, 404);
      await retryRevokes('plain-b', refreshToken, { rotateKeys: true });
    });

    test('a connection made while a provider is being removed is revoked too, never deleted unrevoked', async () => {
      await addProvider(lk.admin, as, 'racy');
      const first = await connect('racy-a', 'racy');
      let late: string | undefined;
      // A consent callback lands while the first revocation is in flight.
      as.onRevocationRequest(async () => {
        as.onRevocationRequest(undefined);
        late = await connect('racy-late', 'racy');
      });
      const del = await lk.admin('DELETE', '/v1/providers/racy?force=true');
      assert.equal(del.status, 200, JSON.stringify(del.body));
      assert.deepEqual(del.body, { deleted: true, removedConnections: 2, revokedAtProvider: 2 });
      assert.ok(late !== undefined);
      assert.equal((await as.introspect(first)).active, false);
      assert.equal((await as.introspect(late)).active, false, 'the late connection was revoked as well');
    });

    test("DELETE /v1/providers on an MCP server's provider is 409, pointing at mcp-servers remove", async () => {
      await addServer('kept');
      await connect('kept-a', 'kept');
      for (const path of ['/v1/providers/kept', '/v1/providers/kept?force=true']) {
        const res = await lk.admin('DELETE', path);
        assert.equal(res.status, 409, JSON.stringify(res.body));
        const body = res.body as { error: string; message: string };
        assert.equal(body.error, 'conflict');
        assert.match(body.message, /latchkey mcp-servers remove kept/);
      }
      assert.equal((await lk.admin('GET', '/v1/connections/kept-a')).status, 200, 'nothing was removed');
      assert.equal((await lk.admin('GET', '/v1/mcp-servers/kept')).status, 200);
      assert.equal((await lk.admin('GET', '/v1/providers/kept')).status, 200);
    });
  });
}

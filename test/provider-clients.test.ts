import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { startAuthorizationServer, type AuthorizationServer, type ClientCall } from './fixtures/authorization-server.js';
import { auditEvents, createAgent, rawRequest } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { BACKENDS, openLink, visit } from './helpers/oauth-flows.js';
import { addProvider, assertNoSecret, fixtureTokens } from './helpers/token-lifecycle.js';

const QUIET = { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0' };

interface ClientView {
  id: string | null;
  default: boolean;
  clientId: string | null;
  hasClientSecret: boolean;
  connections: number;
}

// Issue 10 item 8: importing tokens minted by another OAuth client (another tenant's own app)
// must not rewrite the provider's client, which the provider's other connections refresh with.
for (const backend of BACKENDS) {
  describe(`a provider's OAuth clients (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let lk: InProcess;
    let drop: () => Promise<void> = async () => {};
    let env: Record<string, string>;
    let agentKey: string;
    const clock = new ManualClock();
    const secrets: string[] = [];

    const lastCall = (endpoint: ClientCall['endpoint']): ClientCall | undefined =>
      as.clientCalls().filter((c) => c.endpoint === endpoint).at(-1);
    const clients = async (): Promise<ClientView[]> => {
      const res = await lk.admin('GET', '/v1/providers/fixture/clients');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as ClientView[];
    };
    const forceRefresh = async (name: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await lk.admin('POST', `/v1/connections/${name}/refresh`);
      return { status: res.status, body: res.body as Record<string, unknown> };
    };
    /** The agent's call through the proxy to the fixture's protected resource: {client_id} of the token it carried. */
    const throughProxy = async (name: string): Promise<{ status: number; body: string }> => {
      const path = new URL(as.protectedResourceUrl).pathname;
      const res = await rawRequest(lk.url, { path: `/v1/proxy/${name}${path}`, headers: { authorization: `Bearer ${agentKey}` } });
      return { status: res.status, body: res.body };
    };
    /** A forced refresh of `name` succeeds, and the authorization server saw `clientId` authenticate. */
    const refreshesWith = async (name: string, clientId: string | undefined): Promise<void> => {
      const forced = await forceRefresh(name);
      assert.equal(forced.status, 200, JSON.stringify(forced.body));
      assert.deepEqual([forced.body.status, forced.body.clientId], ['active', clientId]);
      assert.deepEqual(lastCall('token'), { endpoint: 'token', grantType: 'refresh_token', clientId, status: 200 });
    };
    /** The agent's call on an expired token refreshes it with `clientId`, and the API sees that client's token. */
    const proxiesWith = async (name: string, clientId: string | undefined): Promise<void> => {
      const proxied = await throughProxy(name);
      assert.equal(proxied.status, 200, proxied.body);
      assert.equal(JSON.parse(proxied.body).client_id, clientId);
      assert.deepEqual(lastCall('token'), { endpoint: 'token', grantType: 'refresh_token', clientId, status: 200 });
    };
    const sealedClientSecrets = async (): Promise<string[]> => {
      const provider = await lk.core.store.providers.findByName('fixture');
      assert.ok(provider);
      const extra = await lk.core.store.providerClients.listByProvider(provider.id);
      return [provider.clientSecret ?? '', ...extra.map((c) => c.clientSecret ?? '')];
    };

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      as = await startAuthorizationServer();
      lk = await startInProcess({
        dataDir: mkdtempSync(join(tmpdir(), 'latchkey-clients-')),
        clock,
        env: QUIET,
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      });
      await addProvider(lk.admin, as);
      agentKey = (await createAgent(lk, { name: 'clients-bot', policy: { rules: [{ connections: ['*'], methods: ['GET'] }] } })).apiKey;
      env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
      secrets.push(agentKey, as.confidentialClient.clientSecret ?? '', as.secondClient.clientSecret ?? '');
    });

    after(async () => {
      assertNoSecret(lk.logs.text(), secrets, 'the logs');
      await lk?.close();
      await as?.close();
      await drop();
    });

    test('importing B with another client leaves A healthy; each refreshes and revokes with its own client', async () => {
      const expired = new Date(clock.now().getTime() - 1000).toISOString();
      const a = await fixtureTokens(as);
      secrets.push(a.accessToken, a.refreshToken);
      const importedA = await lk.admin('POST', '/v1/connections/import', {
        name: 'alice',
        provider: 'fixture',
        accessToken: a.accessToken,
        refreshToken: a.refreshToken,
        expiresAt: expired,
      });
      assert.equal(importedA.status, 201, JSON.stringify(importedA.body));
      assert.equal((importedA.body as { clientId: string }).clientId, as.confidentialClient.clientId);
      const firstA = await throughProxy('alice');
      assert.equal(firstA.status, 200, firstA.body);
      assert.equal(JSON.parse(firstA.body).client_id, as.confidentialClient.clientId);
      const providerBefore = (await lk.admin('GET', '/v1/providers/fixture')).body as Record<string, unknown>;

      // B's tokens were issued to another tenant's app; the operator imports them with the real CLI.
      const b = await fixtureTokens(as, 'openid offline_access api:read', as.secondClient);
      secrets.push(b.accessToken, b.refreshToken);
      const value = {
        clientId: as.secondClient.clientId,
        clientSecret: as.secondClient.clientSecret,
        refreshToken: b.refreshToken,
        accessToken: b.accessToken,
        expiresAt: expired,
      };
      const created = await runCli(['secrets', 'create', '--name', 'bob', '--provider', 'fixture', '--value', JSON.stringify(value)], env);
      assert.equal(created.code, 0, created.stderr);
      assertNoSecret(created.stdout + created.stderr, secrets, 'the CLI output');

      const audited = (await auditEvents(lk, '?connection=bob')).find((e) => e.action === 'connection.create');
      assert.deepEqual(audited?.detail, { grantType: 'imported', clientId: as.secondClient.clientId });

      // The provider's own client is as it was.
      assert.deepEqual((await lk.admin('GET', '/v1/providers/fixture')).body, providerBefore);
      const listed = await clients();
      assert.deepEqual(
        listed.map((c) => [c.default, c.clientId, c.hasClientSecret, c.connections]),
        [
          [true, as.confidentialClient.clientId, true, 1],
          [false, as.secondClient.clientId, true, 1],
        ],
      );
      assertNoSecret(JSON.stringify(listed), secrets, 'the clients listing');
      assert.match(listed[1]?.id ?? '', /^pcl_/);

      // A refreshes with the provider's client, through the proxy and when forced.
      clock.advance(2 * 3600 * 1000);
      await proxiesWith('alice', as.confidentialClient.clientId);
      await refreshesWith('alice', as.confidentialClient.clientId);
      // B refreshes with its own client: the authorization server sees latchkey-second authenticate.
      await proxiesWith('bob', as.secondClient.clientId);
      await refreshesWith('bob', as.secondClient.clientId);
    });

    test('an import with a known client id but another secret is refused while in use, and changes nothing', async () => {
      const c = await fixtureTokens(as, 'openid offline_access api:read', as.secondClient);
      secrets.push(c.accessToken, c.refreshToken);
      const before = { clients: await clients(), sealed: await sealedClientSecrets(), calls: as.clientCalls().length };
      for (const clientId of [as.secondClient.clientId, as.confidentialClient.clientId]) {
        const value = { clientId, clientSecret: 'not-the-secret-0123456789', refreshToken: c.refreshToken };
        const refused = await runCli(['secrets', 'create', '--name', 'carol', '--provider', 'fixture', '--value', JSON.stringify(value)], env);
        assert.equal(refused.code, 1, refused.stdout);
        assert.match(refused.stderr, /different secret/);
        assert.match(refused.stderr, /PATCH \/v1\/providers\/fixture/);
        assertNoSecret(refused.stderr, [...secrets, 'not-the-secret-0123456789'], 'the refusal');

        const api = await lk.admin('POST', '/v1/connections/import', { name: 'carol', provider: 'fixture', ...value });
        assert.equal(api.status, 409, JSON.stringify(api.body));
        assert.equal((api.body as { error: string }).error, 'conflict');
      }
      assert.equal((await lk.admin('GET', '/v1/connections/carol')).status, 404);
      assert.deepEqual(await clients(), before.clients);
      assert.deepEqual(await sealedClientSecrets(), before.sealed);
      assert.equal(as.clientCalls().length, before.calls, 'nothing was sent to the authorization server');

      // The same client and secret select the existing client; no new one appears.
      const same = await lk.admin('POST', '/v1/connections/import', {
        name: 'carol',
        provider: 'fixture',
        refreshToken: c.refreshToken,
        clientId: as.secondClient.clientId,
        clientSecret: as.secondClient.clientSecret,
      });
      assert.equal(same.status, 201, JSON.stringify(same.body));
      assert.deepEqual(
        (await clients()).map((x) => [x.clientId, x.connections]),
        [
          [as.confidentialClient.clientId, 1],
          [as.secondClient.clientId, 2],
        ],
      );
      const bad = await lk.admin('POST', '/v1/connections/import', { name: 'dave', provider: 'fixture', refreshToken: 'x', clientSecret: 's' });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
    });

    test('a failed import leaves no client behind; an unused client takes a new secret; an operator changes one in use', async () => {
      const before = await clients();
      const fresh = { provider: 'fixture', refreshToken: 'imported-elsewhere-0123456789', clientId: 'fresh-app' };
      const taken = await lk.admin('POST', '/v1/connections/import', { ...fresh, name: 'alice', clientSecret: 'first-secret-0123456789' });
      assert.equal(taken.status, 409, JSON.stringify(taken.body));
      assert.deepEqual(await clients(), before);

      const frank = await lk.admin('POST', '/v1/connections/import', { ...fresh, name: 'frank', clientSecret: 'first-secret-0123456789' });
      assert.equal(frank.status, 201, JSON.stringify(frank.body));
      assert.equal((frank.body as { clientId: string }).clientId, 'fresh-app');
      assert.equal((await lk.admin('DELETE', '/v1/connections/frank')).status, 200);
      const unused = (await clients()).find((c) => c.clientId === 'fresh-app');
      assert.deepEqual([unused?.connections, unused?.hasClientSecret], [0, true]);
      const sealedBefore = await sealedClientSecrets();
      const again = await lk.admin('POST', '/v1/connections/import', { ...fresh, name: 'frank', clientSecret: 'second-secret-0123456789' });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.notDeepEqual(await sealedClientSecrets(), sealedBefore, 'the unused client took the new secret');
      const inUse = await lk.admin('POST', '/v1/connections/import', { ...fresh, name: 'gina', clientSecret: 'first-secret-0123456789' });
      assert.equal(inUse.status, 409, JSON.stringify(inUse.body));

      const changed = await lk.admin('PATCH', `/v1/providers/fixture/clients/${unused?.id}`, { clientSecret: 'first-secret-0123456789' });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.deepEqual(changed.body, { ...unused, connections: 1 });
      const gina = await lk.admin('POST', '/v1/connections/import', { ...fresh, name: 'gina', clientSecret: 'first-secret-0123456789' });
      assert.equal(gina.status, 201, JSON.stringify(gina.body));
      assert.equal((await lk.admin('PATCH', '/v1/providers/fixture/clients/pcl_nope', { clientSecret: 'x' })).status, 404);
      for (const name of ['frank', 'gina']) assert.equal((await lk.admin('DELETE', `/v1/connections/${name}`)).status, 200);
    });

    test('keys rotate re-seals the secrets of every client, and both clients still authenticate', async () => {
      const rotated = await runCli(['keys', 'rotate', '--json'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const { newKeyId, retiredKeyIds } = JSON.parse(rotated.stdout) as { newKeyId: string; retiredKeyIds: string[] };
      assert.ok(retiredKeyIds.length > 0, 'the old key was retired: nothing uses it any more');
      const sealed = await sealedClientSecrets();
      assert.equal(sealed.length, (await clients()).filter((c) => c.hasClientSecret).length);
      assert.ok(sealed.length >= 3, 'the default client and two others');
      for (const envelope of sealed) assert.equal(lk.core.keyring.keyIdOf(envelope), newKeyId);
      await refreshesWith('alice', as.confidentialClient.clientId);
      await refreshesWith('bob', as.secondClient.clientId);
    });

    test('reconnecting an imported connection through consent moves it to the default client', async () => {
      const imported = await lk.admin('POST', '/v1/connections/import', {
        name: 'erin',
        provider: 'fixture',
        refreshToken: 'not-a-live-refresh-token-0123456789',
        clientId: as.secondClient.clientId,
        clientSecret: as.secondClient.clientSecret,
      });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      const dead = await forceRefresh('erin');
      assert.equal(dead.status, 409, JSON.stringify(dead.body));
      assert.equal(lastCall('token')?.clientId, as.secondClient.clientId);

      const started = await lk.admin('POST', '/v1/connect/fixture', { name: 'erin' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const location = await as.approve(await openLink((started.body as { authorizationUrl: string }).authorizationUrl));
      const landed = await visit(location);
      assert.equal(landed.status, 200, landed.body);
      await refreshesWith('erin', as.confidentialClient.clientId);
    });

    test('deleting B revokes its grant with its own client; A stays healthy', async () => {
      const deleted = await lk.admin('DELETE', '/v1/connections/bob');
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      assert.deepEqual(deleted.body, { deleted: true, revokedAtProvider: true });
      assert.deepEqual(lastCall('revocation'), {
        endpoint: 'revocation',
        grantType: undefined,
        clientId: as.secondClient.clientId,
        status: 200,
      });
      await refreshesWith('alice', as.confidentialClient.clientId);
    });
  });
}

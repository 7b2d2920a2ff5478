import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { createAgent, fixtureTokens, json, rawRequest, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS, assertNoSecrets } from './helpers/oauth-flows.js';

// Salesforce-style providers name each connection's API host in their token responses
// (`instance_url`); the provider's own apiBaseUrl is only the default.
for (const backend of BACKENDS) {
  describe(`a connection's own API base from the token response (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let lk: InProcess;
    let drop: () => Promise<void> = async () => {};
    let providerDefault: FakeApi;
    let instanceA: FakeApi;
    let instanceB: FakeApi;
    let agentKey: string;
    const secrets: string[] = [];

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      as = await startAuthorizationServer();
      lk = await startInProcess(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {});
      [providerDefault, instanceA, instanceB] = await Promise.all([startFakeApi(), startFakeApi(), startFakeApi()]);
      const created = await lk.admin('POST', '/v1/providers', {
        name: 'sf',
        issuer: as.issuer,
        clientId: as.confidentialClient.clientId,
        clientSecret: as.confidentialClient.clientSecret,
        apiBaseUrl: providerDefault.url,
        quirks: { instanceUrlField: 'instance_url' },
        capabilities: [{ name: 'data-read', description: 'read records', methods: ['GET'], pathPrefixes: ['/services/data/'] }],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const agent = await createAgent(lk, { name: 'sf-bot', policy: { rules: [{ connections: ['sf-*'] }] } });
      agentKey = agent.apiKey;
      secrets.push(agentKey);
    });

    after(async () => {
      await lk?.close();
      await as?.close();
      await Promise.all([providerDefault?.close(), instanceA?.close(), instanceB?.close()]);
      await drop();
    });

    const proxyGet = (connection: string, path: string, headers: Record<string, string> = {}) =>
      rawRequest(lk.url, { path: `/v1/proxy/${connection}${path}`, headers: { authorization: `Bearer ${agentKey}`, ...headers } });

    test('a refresh stores the instance URL; proxied calls and capabilities go there, with the new token', async () => {
      const tokens = await fixtureTokens(as);
      secrets.push(tokens.access_token, tokens.refresh_token ?? '');
      const imported = await lk.admin('POST', '/v1/connections/import', {
        name: 'sf-alice',
        provider: 'sf',
        refreshToken: tokens.refresh_token,
      });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      assert.equal((imported.body as { apiBaseUrl: unknown }).apiBaseUrl, null);

      as.addToTokenResponses({ instance_url: `${instanceA.url}/` });
      const refreshed = await lk.admin('POST', '/v1/connections/sf-alice/refresh');
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.equal((refreshed.body as { apiBaseUrl: unknown }).apiBaseUrl, instanceA.url, 'kept without its trailing slash');

      const res = await proxyGet('sf-alice', '/services/data/v60.0/query?q=SELECT');
      assert.equal(res.status, 200, res.body);
      assert.equal(providerDefault.seen.length, 0, 'nothing went to the provider default');
      const seen = instanceA.seen.at(-1);
      assert.equal(seen?.url, '/services/data/v60.0/query?q=SELECT');
      const token = await lk.admin('GET', '/v1/connections/sf-alice/token');
      const accessToken = (token.body as { accessToken: string }).accessToken;
      secrets.push(accessToken);
      assert.equal(seen?.headers.authorization, `Bearer ${accessToken}`);

      const invoked = await rawRequest(lk.url, {
        method: 'POST',
        path: '/v1/invoke/sf-alice/data-read',
        headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ path: '/services/data/v60.0/sobjects' }),
      });
      assert.equal(invoked.status, 200, invoked.body);
      assert.equal(instanceA.seen.at(-1)?.url, '/services/data/v60.0/sobjects');
      assert.equal(providerDefault.seen.length, 0);
    });

    test('an unusable instance URL in a refresh is ignored with a warning; the stored one stays', async () => {
      as.addToTokenResponses({ instance_url: 'http://salesforce.example.com' });
      const refreshed = await lk.admin('POST', '/v1/connections/sf-alice/refresh');
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.equal((refreshed.body as { apiBaseUrl: unknown }).apiBaseUrl, instanceA.url);
      assert.match(lk.logs.text(), /kept the stored API base URL/);
    });

    test("the instance host is allowed for that connection only, not for the provider's other connections", async () => {
      as.addToTokenResponses({});
      const tokens = await fixtureTokens(as);
      secrets.push(tokens.access_token, tokens.refresh_token ?? '');
      const other = await lk.admin('POST', '/v1/connections/import', { name: 'sf-bob', provider: 'sf', accessToken: tokens.access_token });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      const before = instanceA.seen.length;
      const refused = await proxyGet('sf-bob', '/services/data/v60.0/limits', { 'latchkey-base-url': instanceA.url });
      assert.equal(refused.status, 400, refused.body);
      assert.equal(json(refused.body).error, 'target_not_allowed');
      assert.equal(instanceA.seen.length, before);
      // Its own connection may name it explicitly.
      const allowed = await proxyGet('sf-alice', '/services/data/v60.0/limits', { 'latchkey-base-url': instanceA.url });
      assert.equal(allowed.status, 200, allowed.body);
      // Without an instance URL, calls go to the provider's apiBaseUrl.
      const plain = await proxyGet('sf-bob', '/services/data/v60.0/limits');
      assert.equal(plain.status, 200, plain.body);
      assert.equal(providerDefault.seen.at(-1)?.url, '/services/data/v60.0/limits');
    });

    test('client credentials: the instance URL of the first token response is stored; an unusable one fails with 502', async () => {
      as.addToTokenResponses({ instance_url: instanceB.url });
      const created = await lk.admin('POST', '/v1/connect/sf/client-credentials', { name: 'sf-service', scopes: ['api:read'] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((created.body as { apiBaseUrl: unknown }).apiBaseUrl, instanceB.url);
      const res = await proxyGet('sf-service', '/services/data/v60.0/limits');
      assert.equal(res.status, 200, res.body);
      assert.equal(instanceB.seen.at(-1)?.url, '/services/data/v60.0/limits');

      as.addToTokenResponses({ instance_url: 'https://instance.example.com/?org=1' });
      const bad = await lk.admin('POST', '/v1/connect/sf/client-credentials', { name: 'sf-broken', scopes: ['api:read'] });
      assert.equal(bad.status, 502, JSON.stringify(bad.body));
      assert.equal((bad.body as { error: string }).error, 'upstream_error');
      assert.match((bad.body as { message: string }).message, /instance_url .* query or fragment/);
      const listed = await lk.admin('GET', '/v1/connections');
      assert.ok(!(listed.body as Array<{ name: string }>).some((c) => c.name === 'sf-broken'), 'nothing half-written');
      as.addToTokenResponses({});
    });

    test('an import may name the API base; a bad one is 400 and nothing is written', async () => {
      const imported = await lk.admin('POST', '/v1/connections/import', {
        name: 'sf-carol',
        provider: 'sf',
        accessToken: 'carol-access-token-0123456789',
        apiBaseUrl: instanceB.url,
      });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      secrets.push('carol-access-token-0123456789');
      const res = await proxyGet('sf-carol', '/services/data/v60.0/sobjects/Account');
      assert.equal(res.status, 200, res.body);
      assert.equal(instanceB.seen.at(-1)?.headers.authorization, 'Bearer carol-access-token-0123456789');

      for (const apiBaseUrl of ['ftp://instance.example.com', 'https://instance.example.com/#x', 'not a url']) {
        const bad = await lk.admin('POST', '/v1/connections/import', { name: 'sf-dave', provider: 'sf', accessToken: 'x-token-0123456789', apiBaseUrl });
        assert.equal(bad.status, 400, `${apiBaseUrl}: ${JSON.stringify(bad.body)}`);
        assert.equal((bad.body as { error: string }).error, 'invalid_request');
      }
      const dave = await lk.admin('GET', '/v1/connections/sf-dave');
      assert.equal(dave.status, 404);
    });

    test('no token or agent key in the logs', () => {
      assertNoSecrets(lk.logs.text(), secrets, 'logs');
    });
  });
}

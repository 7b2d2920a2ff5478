import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import type { AuthorizationServer } from './fixtures/authorization-server.js';
import type { InProcess } from './helpers/in-process.js';
import { BACKENDS, assertNoSecrets, callResource, getConnection, startFlowServer } from './helpers/oauth-flows.js';

const TTL_SECONDS = 3600;

for (const backend of BACKENDS) {
  describe(`client credentials (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let close: () => Promise<void>;
    const clock = new ManualClock();
    const secrets: string[] = [];

    before(async () => {
      ({ as, server, close } = await startFlowServer(backend, {
        clock,
        // The background refresher would renew tokens on its own when the clock jumps; these tests count fetches.
        env: { LATCHKEY_REFRESHER_INTERVAL: '0' },
        as: { accessTokenTtl: TTL_SECONDS },
        provider: { scopes: ['api:read'] },
      }));
    });

    after(async () => {
      assertNoSecrets(server.logs.text(), [...secrets, as.confidentialClient.clientSecret], 'server log');
      await close();
    });

    test('connect fetches a token at once and the connection is active', async () => {
      const res = await server.admin('POST', '/v1/connect/fixture/client-credentials', { name: 'machine' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const body = res.body as { id: string; status: string; grantType: string; scopes: string[]; expiresAt: string };
      assert.equal(body.status, 'active');
      assert.equal(body.grantType, 'client_credentials');
      assert.deepEqual(body.scopes, ['api:read']);
      assert.equal(new Date(body.expiresAt).getTime(), clock.now().getTime() + TTL_SECONDS * 1000);
      assert.ok(!JSON.stringify(body).includes('accessToken'));
      assert.equal(as.counts().client_credentials, 1);
    });

    test('the token is served from the sealed cache while valid and fetched again once it expires (GET /v1/connections/{id}/token, injected clock)', async () => {
      const fetches = as.counts().client_credentials ?? 0;
      const first = await server.admin('GET', '/v1/connections/machine/token');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const firstToken = (first.body as { accessToken: string }).accessToken;
      secrets.push(firstToken);
      assert.equal(as.counts().client_credentials ?? 0, fetches, 'served from the sealed cache');
      assert.equal((await callResource(as, firstToken)).status, 200);

      // Past expiry minus the 60 s refresh skew.
      clock.advance((TTL_SECONDS - 30) * 1000);
      const second = await server.admin('GET', '/v1/connections/machine/token');
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const body = second.body as { accessToken: string; expiresAt: string; scopes: string[] };
      secrets.push(body.accessToken);
      assert.notEqual(body.accessToken, firstToken);
      assert.equal(as.counts().client_credentials ?? 0, fetches + 1, 'fetched again once expired');
      assert.deepEqual(body.scopes, ['api:read']);
      assert.equal(new Date(body.expiresAt).getTime(), clock.now().getTime() + TTL_SECONDS * 1000);
      assert.equal((await callResource(as, body.accessToken)).status, 200);
      assert.equal((await getConnection(server, 'machine')).expiresAt, body.expiresAt);
      const third = await server.admin('GET', '/v1/connections/machine/token');
      assert.equal((third.body as { accessToken: string }).accessToken, body.accessToken, 'the new token is cached in turn');
      assert.equal(as.counts().client_credentials ?? 0, fetches + 1);
    });

    test('a client without client_credentials rights is refused with the provider’s reason', async () => {
      const res = await server.admin('POST', '/v1/providers', {
        name: 'public',
        issuer: as.issuer,
        clientId: as.publicClient.clientId,
        tokenEndpointAuthMethod: 'none',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const refused = await server.admin('POST', '/v1/connect/public/client-credentials', { name: 'nope' });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal((await server.admin('GET', '/v1/connections/nope')).status, 404, 'nothing stored');
    });
  });
}

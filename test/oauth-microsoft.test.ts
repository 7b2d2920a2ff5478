import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { FIXTURE_SCOPES, getConnection, openLink, visit } from './helpers/oauth-flows.js';

/**
 * The microsoft preset's multi-tenant issuer: oidc-provider plays a tenant of
 * login.microsoftonline.com (its tokens name the tenant's issuer and carry a
 * `tid` claim) while listening on 127.0.0.1; the preset's endpoints point there.
 */
describe('microsoft preset: the multi-tenant issuer template', () => {
  let good: AuthorizationServer;
  let forged: AuthorizationServer;
  let server: InProcess;

  before(async () => {
    good = await startAuthorizationServer({
      issuer: 'https://login.microsoftonline.com/tenant-0123/v2.0',
      idTokenClaims: { tid: 'tenant-0123' },
    });
    // A token whose tid names another tenant than its issuer: what the template check is for.
    forged = await startAuthorizationServer({
      issuer: 'https://login.microsoftonline.com/tenant-0123/v2.0',
      idTokenClaims: { tid: 'tenant-9999' },
    });
    server = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    for (const [name, as] of [['microsoft', good], ['microsoft-forged', forged]] as const) {
      // Without RFC 9207 `iss`, each provider has a callback path of its own.
      as.setRedirectUris([`http://127.0.0.1/oauth/callback/${name}`]);
      const res = await server.admin('POST', '/v1/providers', {
        name,
        preset: 'microsoft',
        authorizationEndpoint: `${as.baseUrl}/auth`,
        tokenEndpoint: `${as.baseUrl}/token`,
        clientId: as.confidentialClient.clientId,
        clientSecret: as.confidentialClient.clientSecret,
        tokenEndpointAuthMethod: 'client_secret_basic',
        scopes: FIXTURE_SCOPES,
        apiBaseUrl: as.baseUrl,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal((res.body as { issuer: string }).issuer, 'https://login.microsoftonline.com/{tenantid}/v2.0');
    }
  });

  after(async () => {
    await server.close();
    await good.close();
    await forged.close();
  });

  /** Consent through Latchkey; Microsoft sends no `iss` in its authorization response. */
  async function connect(provider: string, as: AuthorizationServer): Promise<{ connectionId: string; page: { status: number; body: string } }> {
    const started = await server.admin('POST', `/v1/connect/${provider}`, { name: `${provider}-user` });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const { connectionId, authorizationUrl } = started.body as { connectionId: string; authorizationUrl: string };
    const location = new URL(await as.approve(await openLink(authorizationUrl)));
    location.searchParams.delete('iss');
    return { connectionId, page: await visit(location.href) };
  }

  test('consent works: the ID token iss matches the template with its tid; refreshes validate the same way', async () => {
    const { connectionId, page } = await connect('microsoft', good);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /id="success"/);
    assert.equal((await getConnection(server, connectionId)).status, 'active');

    const refreshed = await server.admin('POST', `/v1/connections/${connectionId}/refresh`);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(good.counts().refresh_token, 1);
  });

  test('an ID token whose tid names another tenant than its iss is refused at the callback', async () => {
    const { connectionId, page } = await connect('microsoft-forged', forged);
    assert.notEqual(page.status, 200);
    assert.notEqual((await getConnection(server, connectionId)).status, 'active');
    assert.match(server.logs.text(), /OAUTH_JWT_CLAIM_COMPARISON_FAILED|unexpected JWT "iss"/);
  });
});

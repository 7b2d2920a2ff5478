import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { normaliseTokenResponse } from '../src/providers/index.js';
import { findPreset } from '../src/providers/presets.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

describe('providers API', () => {
  let server: InProcess;
  let as: AuthorizationServer;
  let liar: Server;
  let liarUrl: string;

  before(async () => {
    as = await startAuthorizationServer();
    server = await startInProcess();
    // A metadata document that names another issuer than the one it is served for.
    liar = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: 'https://someone-else.example', token_endpoint: 'https://someone-else.example/token' }));
    });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    const address = liar.address();
    liarUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await server?.close();
    await as?.close();
    liar?.close();
  });

  test('GET /v1/presets lists the catalogue', async () => {
    const res = await server.admin('GET', '/v1/presets');
    assert.equal(res.status, 200);
    const presets = res.body as Array<{ name: string; tokenEndpoint: string; capabilities: unknown[] }>;
    assert.ok(presets.length >= 20);
    const spotify = presets.find((p) => p.name === 'spotify');
    assert.equal(spotify?.tokenEndpoint, 'https://accounts.spotify.com/api/token');
  });

  test('discovery from an issuer fills the endpoints; explicit fields win', async () => {
    const res = await server.admin('POST', '/v1/providers', {
      name: 'local-idp',
      issuer: as.issuer,
      clientId: as.confidentialClient.clientId,
      clientSecret: as.confidentialClient.clientSecret,
      scopes: ['openid', 'offline_access'],
      revocationEndpoint: `${as.issuer}/custom-revoke`,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const p = res.body as Record<string, unknown>;
    assert.equal(p.issuer, as.issuer);
    assert.match(String(p.tokenEndpoint), /\/token$/);
    assert.match(String(p.deviceAuthorizationEndpoint), /device/);
    assert.equal(p.revocationEndpoint, `${as.issuer}/custom-revoke`);
    assert.equal(p.issParameterSupported, true);
    assert.equal(p.hasClientSecret, true);
    assert.equal(p.clientSecret, undefined);
    assert.ok(!JSON.stringify(p).includes(String(as.confidentialClient.clientSecret)));
  });

  test('a discovery document for another issuer is invalid_issuer and writes nothing', async () => {
    const res = await server.admin('POST', '/v1/providers', { name: 'liar', issuer: liarUrl });
    assert.equal(res.status, 400);
    assert.equal((res.body as { error: string }).error, 'invalid_issuer');
    assert.equal((await server.admin('GET', '/v1/providers/liar')).status, 404);
  });

  test('PATCH changes fields and can clear the secret; DELETE with force removes connections', async () => {
    const patched = await server.admin('PATCH', '/v1/providers/local-idp', { scopes: ['openid'], clientSecret: null });
    assert.equal(patched.status, 200);
    assert.deepEqual((patched.body as { scopes: string[] }).scopes, ['openid']);
    assert.equal((patched.body as { hasClientSecret: boolean }).hasClientSecret, false);
    const imported = await server.admin('POST', '/v1/connections/import', { provider: 'local-idp', accessToken: 'x' });
    assert.equal(imported.status, 201);
    assert.equal((imported.body as { name: string }).name, 'local-idp');
    assert.equal((await server.admin('DELETE', '/v1/providers/local-idp')).status, 409);
    const removed = await server.admin('DELETE', '/v1/providers/local-idp?force=true');
    assert.equal(removed.status, 200);
    assert.equal((removed.body as { removedConnections: number }).removedConnections, 1);
    assert.deepEqual((await server.admin('GET', '/v1/connections')).body, []);
  });

  test('connections list filters by expiry window', async () => {
    await server.admin('POST', '/v1/providers', { name: 'gh', preset: 'github' });
    const soon = new Date(Date.now() + 30 * 60_000).toISOString();
    const later = new Date(Date.now() + 5 * 3600_000).toISOString();
    await server.admin('POST', '/v1/connections/import', { name: 'soon', provider: 'gh', accessToken: 'a', expiresAt: soon });
    await server.admin('POST', '/v1/connections/import', { name: 'later', provider: 'gh', accessToken: 'b', expiresAt: later });
    const within = await server.admin('GET', '/v1/connections?expiringWithin=3600');
    assert.deepEqual(
      (within.body as Array<{ name: string }>).map((c) => c.name),
      ['soon'],
    );
    const duration = await server.admin('GET', '/v1/connections?expiringWithin=6h&provider=gh');
    assert.equal((duration.body as unknown[]).length, 2);
  });
});

describe('token endpoint quirks are data', () => {
  const github = findPreset('github');
  assert.ok(github);

  test('GitHub: 200 with an error body becomes a 400 OAuth error', () => {
    const out = normaliseTokenResponse(200, { error: 'bad_verification_code', error_description: 'x' }, github.quirks);
    assert.equal(out.status, 400);
  });

  test('GitHub: comma-separated scopes and no expires_in', () => {
    const out = normaliseTokenResponse(200, { access_token: 'a', token_type: 'bearer', scope: 'repo,read:org' }, github.quirks);
    assert.equal(out.json.scope, 'repo read:org');
    assert.equal(out.json.expires_in, undefined);
  });

  test('a provider without quirks is left alone', () => {
    const input = { access_token: 'a', token_type: 'Bearer', scope: 'a,b', expires_in: 3600 };
    assert.deepEqual(normaliseTokenResponse(200, input, {}).json, { ...input, token_type: 'bearer' });
  });

  test('Slack: the user token nested under authed_user is lifted', () => {
    const slack = findPreset('slack');
    assert.ok(slack?.quirks.tokenResponseRoot);
    const out = normaliseTokenResponse(
      200,
      { ok: true, access_token: 'xoxb-bot', authed_user: { access_token: 'xoxp-user', token_type: 'user', scope: 'a,b' } },
      slack.quirks,
    );
    assert.equal(out.json.access_token, 'xoxp-user');
    assert.equal(out.json.token_type, 'bearer');
  });
});

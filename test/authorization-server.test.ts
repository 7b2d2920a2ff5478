import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { startAuthorizationServer, type AuthorizationServer, type FixtureClient } from './fixtures/authorization-server.js';

const REDIRECT_URI = 'http://127.0.0.1:45123/oauth/callback';
const insecure = { execute: [client.allowInsecureRequests] };

async function configFor(as: AuthorizationServer, fixtureClient: FixtureClient): Promise<client.Configuration> {
  return fixtureClient.clientSecret
    ? client.discovery(
        new URL(as.issuer),
        fixtureClient.clientId,
        fixtureClient.clientSecret,
        client.ClientSecretBasic(fixtureClient.clientSecret),
        insecure,
      )
    : client.discovery(new URL(as.issuer), fixtureClient.clientId, undefined, client.None(), insecure);
}

interface CodeFlowResult {
  tokens: client.TokenEndpointResponse;
  location: URL;
}

async function codeFlow(
  as: AuthorizationServer,
  config: client.Configuration,
  scope = 'openid offline_access api:read',
  accountId?: string,
  redirectUri = REDIRECT_URI,
): Promise<CodeFlowResult> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const location = new URL(await as.approve(url.href, { accountId }));
  const tokens = await client.authorizationCodeGrant(config, location, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  return { tokens, location };
}

async function callResource(as: AuthorizationServer, token?: string): Promise<Response> {
  return fetch(as.protectedResourceUrl, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

function isResponseBodyError(err: unknown, error: string, status?: number): boolean {
  return err instanceof client.ResponseBodyError && err.error === error && (status === undefined || err.status === status);
}

describe('authorization server fixture', () => {
  let as: AuthorizationServer;
  let confidential: client.Configuration;
  let pub: client.Configuration;

  before(async () => {
    as = await startAuthorizationServer();
    as.setRedirectUris([REDIRECT_URI]);
    confidential = await configFor(as, as.confidentialClient);
    pub = await configFor(as, as.publicClient);
  });

  after(async () => {
    await as.close();
  });

  test('discovery advertises the expected endpoints and capabilities', () => {
    const metadata = confidential.serverMetadata();
    assert.equal(metadata.issuer, as.issuer);
    assert.match(as.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.ok(metadata.device_authorization_endpoint?.startsWith(as.issuer));
    assert.ok(metadata.introspection_endpoint?.startsWith(as.issuer));
    assert.ok(metadata.revocation_endpoint?.startsWith(as.issuer));
    for (const grant of ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']) {
      assert.ok(metadata.grant_types_supported?.includes(grant), grant);
    }
    for (const scope of ['openid', 'offline_access', 'profile', 'email', 'api:read', 'api:write']) {
      assert.ok(metadata.scopes_supported?.includes(scope), scope);
    }
  });

  test('authorization code + PKCE (confidential client) yields access and refresh tokens usable at the resource', async () => {
    const { tokens, location } = await codeFlow(as, confidential, 'openid offline_access api:read', 'alice');
    assert.equal(location.origin + location.pathname, REDIRECT_URI);
    assert.equal(location.searchParams.get('iss'), as.issuer);
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'refresh token issued for offline_access');
    assert.equal(tokens.expires_in, 3600);
    assert.ok(tokens.scope?.split(' ').includes('offline_access'));
    assert.ok(tokens.id_token);
    assert.doesNotMatch(tokens.access_token, /^ey/, 'opaque access token');

    const ok = await callResource(as, tokens.access_token);
    assert.equal(ok.status, 200);
    const me = (await ok.json()) as { sub: string; scope: string; client_id: string };
    assert.equal(me.sub, 'alice');
    assert.equal(me.client_id, as.confidentialClient.clientId);
    assert.ok(me.scope.split(' ').includes('api:read'));

    const missing = await callResource(as);
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    const bogus = await callResource(as, 'not-a-token');
    assert.equal(bogus.status, 401);
    assert.match(bogus.headers.get('www-authenticate') ?? '', /invalid_token/);
    const withRefresh = await callResource(as, tokens.refresh_token);
    assert.equal(withRefresh.status, 401, 'refresh tokens are not accepted as access tokens');
  });

  test('authorization code + PKCE works for the public client too, on any loopback port', async () => {
    // native clients: registered http://127.0.0.1:45123/... also matches other loopback ports (RFC 8252)
    const { tokens, location } = await codeFlow(as, pub, 'openid offline_access api:write', undefined, 'http://127.0.0.1:50999/oauth/callback');
    assert.equal(location.port, '50999');
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token);
    const info = await as.introspect(tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, as.publicClient.clientId);
    assert.equal(info.sub, 'test-user');

    const withoutOffline = await codeFlow(as, pub, 'openid api:read');
    assert.equal(withoutOffline.tokens.refresh_token, undefined, 'no offline_access, no refresh token');
  });

  test('PKCE is required, and denial redirects with access_denied', async () => {
    const withoutPkce = client.buildAuthorizationUrl(confidential, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: 'xyz',
    });
    const rejected = new URL(await as.approve(withoutPkce.href));
    assert.equal(rejected.searchParams.get('error'), 'invalid_request');
    assert.match(rejected.searchParams.get('error_description') ?? '', /PKCE/);

    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(confidential, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid api:read',
      state: 'deny-state',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const denied = new URL(await as.approve(url.href, { deny: true }));
    assert.equal(denied.origin + denied.pathname, REDIRECT_URI);
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), 'deny-state');
    assert.equal(denied.searchParams.get('iss'), as.issuer);
    assert.equal(denied.searchParams.get('code'), null);
  });

  test('unregistered redirect_uri is refused by approve()', async () => {
    const url = client.buildAuthorizationUrl(confidential, {
      redirect_uri: 'http://127.0.0.1:45123/elsewhere',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    await assert.rejects(as.approve(url.href), /redirect_uri/);
  });

  test('refresh rotates; reusing a rotated refresh token fails and revokes the grant; counts() tracks calls', async () => {
    const { tokens } = await codeFlow(as, confidential);
    const first = tokens.refresh_token;
    assert.ok(first);
    as.resetCounts();

    const refreshed = await client.refreshTokenGrant(confidential, first);
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, first);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.equal((await callResource(as, refreshed.access_token)).status, 200);

    await assert.rejects(client.refreshTokenGrant(confidential, first), (err) => isResponseBodyError(err, 'invalid_grant', 400));
    // reuse detection revoked the whole grant: the newest refresh token and access token are dead too
    await assert.rejects(client.refreshTokenGrant(confidential, refreshed.refresh_token), (err) =>
      isResponseBodyError(err, 'invalid_grant'),
    );
    assert.equal((await as.introspect(refreshed.access_token)).active, false);
    assert.equal((await callResource(as, refreshed.access_token)).status, 401);

    assert.deepEqual(as.counts(), { refresh_token: 3 });
    as.resetCounts();
    assert.deepEqual(as.counts(), {});
  });

  test('device grant: approve yields tokens (with a refresh token)', async () => {
    const device = await client.initiateDeviceAuthorization(pub, { scope: 'openid offline_access api:read' });
    assert.ok(device.user_code);
    assert.equal(device.interval, 1);
    assert.ok(device.verification_uri.startsWith(as.issuer));
    const polling = client.pollDeviceAuthorizationGrant(pub, device);
    await as.approveDevice(device.user_code, { accountId: 'bob' });
    const tokens = await polling;
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token);
    const info = await as.introspect(tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.sub, 'bob');

    // the device grant also gets a refresh token without offline_access
    const device2 = await client.initiateDeviceAuthorization(confidential, { scope: 'api:read' });
    const polling2 = client.pollDeviceAuthorizationGrant(confidential, device2);
    await as.approveDevice(device2.user_code);
    const tokens2 = await polling2;
    assert.ok(tokens2.refresh_token);
    const rotated = await client.refreshTokenGrant(confidential, tokens2.refresh_token);
    assert.notEqual(rotated.refresh_token, tokens2.refresh_token);
  });

  test('device grant: deny makes the poll fail with access_denied', async () => {
    const device = await client.initiateDeviceAuthorization(pub, { scope: 'openid api:read' });
    const outcome = client.pollDeviceAuthorizationGrant(pub, device).then(
      () => undefined,
      (err: unknown) => err,
    );
    await as.approveDevice(device.user_code, { deny: true });
    assert.ok(isResponseBodyError(await outcome, 'access_denied'));
    await assert.rejects(as.approveDevice('BCDF-GHJK'), /user code rejected/);
  });

  test('client credentials yields an opaque access token accepted by the resource', async () => {
    as.resetCounts();
    const tokens = await client.clientCredentialsGrant(confidential, { scope: 'api:read api:write' });
    assert.ok(tokens.access_token);
    assert.equal(tokens.refresh_token, undefined);
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.scope, 'api:read api:write');
    const res = await callResource(as, tokens.access_token);
    assert.equal(res.status, 200);
    const me = (await res.json()) as { sub: string; client_id: string; scope: string };
    assert.equal(me.client_id, as.confidentialClient.clientId);
    assert.equal(me.scope, 'api:read api:write');
    assert.deepEqual(as.counts(), { client_credentials: 1 });
  });

  test('revocation makes introspection inactive', async () => {
    const { tokens } = await codeFlow(as, confidential);
    assert.ok(tokens.refresh_token);
    assert.equal((await as.introspect(tokens.access_token)).active, true);
    await client.tokenRevocation(confidential, tokens.access_token);
    assert.equal((await as.introspect(tokens.access_token)).active, false);
    assert.equal((await callResource(as, tokens.access_token)).status, 401);
    // oidc-provider 9 revokes every token of the grant, including the refresh token
    assert.equal((await as.introspect(tokens.refresh_token)).active, false);

    const second = await codeFlow(as, confidential);
    assert.ok(second.tokens.refresh_token);
    assert.equal((await as.introspect(second.tokens.refresh_token)).active, true);
    await client.tokenRevocation(confidential, second.tokens.refresh_token);
    assert.equal((await as.introspect(second.tokens.refresh_token)).active, false);
    assert.equal((await as.introspect(second.tokens.access_token)).active, false);
    await assert.rejects(client.refreshTokenGrant(confidential, second.tokens.refresh_token), (err) =>
      isResponseBodyError(err, 'invalid_grant'),
    );

    const cc = await client.clientCredentialsGrant(confidential, { scope: 'api:read' });
    await client.tokenRevocation(confidential, cc.access_token);
    assert.equal((await as.introspect(cc.access_token)).active, false);
  });

  test('failed token requests are counted too', async () => {
    as.resetCounts();
    await assert.rejects(client.refreshTokenGrant(pub, 'definitely-not-a-refresh-token'), (err) =>
      isResponseBodyError(err, 'invalid_grant'),
    );
    await assert.rejects(client.clientCredentialsGrant(pub), (err) => isResponseBodyError(err, 'unauthorized_client') || isResponseBodyError(err, 'invalid_request'));
    assert.deepEqual(as.counts(), { refresh_token: 1, client_credentials: 1 });
  });

  test("tokenEndpointBehaviour('unavailable') answers 503 (and still counts)", async () => {
    as.resetCounts();
    as.tokenEndpointBehaviour('unavailable');
    try {
      // oauth4webapi only parses OAuth error bodies on 4xx: a 503 surfaces as a ClientError whose cause is the Response
      await assert.rejects(
        client.clientCredentialsGrant(confidential, { scope: 'api:read' }),
        (err: unknown) => err instanceof client.ClientError && err.cause instanceof Response && err.cause.status === 503,
      );
      const raw = await fetch(`${as.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token&refresh_token=x',
      });
      assert.equal(raw.status, 503);
      await raw.arrayBuffer();
    } finally {
      as.tokenEndpointBehaviour('normal');
    }
    assert.deepEqual(as.counts(), { client_credentials: 1, refresh_token: 1 });
    const tokens = await client.clientCredentialsGrant(confidential, { scope: 'api:read' });
    assert.ok(tokens.access_token);
  });

  test('storage is unbounded: the first of 1200 tokens is still active', async () => {
    const first = await client.clientCredentialsGrant(confidential, { scope: 'api:read' });
    const queue = Array.from({ length: 1200 }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (queue.pop() !== undefined) await client.clientCredentialsGrant(confidential, { scope: 'api:read' });
      }),
    );
    assert.equal((await as.introspect(first.access_token)).active, true);
  });
});

describe('authorization server fixture options', () => {
  test('short access token TTL and no rotation', async () => {
    const as = await startAuthorizationServer({ accessTokenTtl: 2, rotateRefreshTokens: false });
    try {
      as.setRedirectUris([REDIRECT_URI]);
      const confidential = await configFor(as, as.confidentialClient);
      const cc = await client.clientCredentialsGrant(confidential, { scope: 'api:read' });
      assert.equal(cc.expires_in, 2);

      const { tokens } = await codeFlow(as, confidential);
      assert.equal(tokens.expires_in, 2);
      assert.ok(tokens.refresh_token);
      const refreshed = await client.refreshTokenGrant(confidential, tokens.refresh_token);
      assert.equal(refreshed.refresh_token, tokens.refresh_token, 'not rotated');
      assert.equal(refreshed.expires_in, 2);

      await new Promise((resolve) => setTimeout(resolve, 2100));
      assert.equal((await as.introspect(cc.access_token)).active, false);
      assert.equal((await callResource(as, refreshed.access_token)).status, 401);
      const again = await client.refreshTokenGrant(confidential, tokens.refresh_token);
      assert.equal((await callResource(as, again.access_token)).status, 200);
    } finally {
      await as.close();
    }
  });

  test("tokenEndpointBehaviour('hang') never answers, and close() still frees the port", async () => {
    const as = await startAuthorizationServer();
    const port = Number(new URL(as.issuer).port);
    as.tokenEndpointBehaviour('hang');
    const pending = fetch(`${as.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(300),
    });
    await assert.rejects(pending, (err: unknown) => err instanceof Error && err.name === 'TimeoutError');
    assert.deepEqual(as.counts(), { client_credentials: 1 });

    const stillHanging = fetch(`${as.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=x',
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await as.close();
    await assert.rejects(stillHanging);

    const again = await startAuthorizationServer({ port });
    try {
      assert.equal(again.issuer, as.issuer);
    } finally {
      await again.close();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EventBody } from '../src/events/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import {
  addProvider,
  assertNoSecret,
  fixtureTokens,
  importConnection,
  startReceiver,
  until,
  type ConnectionView,
  type Receiver,
  type TokenView,
} from './helpers/token-lifecycle.js';
import { startTokenProxy, type TokenProxy } from './helpers/token-proxy.js';

/**
 * Rotated refresh tokens through slow, lost and replayed answers, against
 * oidc-provider with rotation and reuse detection on (a reused refresh token
 * revokes the whole grant), behind a proxy that delays or drops answers.
 */
describe('rotated refresh tokens are never lost or resent', () => {
  let as: AuthorizationServer;
  let proxy: TokenProxy;
  let server: InProcess;
  let receiver: Receiver;
  const secrets: string[] = [];

  before(async () => {
    as = await startAuthorizationServer();
    proxy = await startTokenProxy(`${as.issuer}/token`);
    receiver = await startReceiver();
    server = await startInProcess({
      env: {
        LATCHKEY_REFRESHER_INTERVAL: '0',
        LATCHKEY_REFRESH_CLAIM_TTL: '2',
        LATCHKEY_TOKEN_TIMEOUT: '6',
        LATCHKEY_LOG_LEVEL: 'info',
      },
    });
    await addProvider(server.admin, as, 'fixture', { tokenEndpoint: proxy.tokenEndpoint });
    await addProvider(server.admin, as, 'rotating', { tokenEndpoint: proxy.tokenEndpoint, quirks: { rotatesRefreshTokens: true } });
    // No issuer (like the microsoft preset before its fix): the provider's ID tokens fail openid-client's
    // issuer check, after the provider has rotated.
    const noIssuer = await server.admin('POST', '/v1/providers', {
      name: 'no-issuer',
      authorizationEndpoint: `${as.issuer}/auth`,
      tokenEndpoint: proxy.tokenEndpoint,
      clientId: as.confidentialClient.clientId,
      clientSecret: as.confidentialClient.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['openid', 'offline_access', 'api:read'],
      apiBaseUrl: as.issuer,
    });
    assert.equal(noIssuer.status, 201, JSON.stringify(noIssuer.body));
    const hook = await server.admin('POST', '/v1/webhooks', { url: receiver.url, events: ['connection.needs_reauth'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
  });

  after(async () => {
    assertNoSecret(server.logs.text(), secrets, 'the logs');
    for (const r of receiver.received) assertNoSecret(r.body, secrets, 'a webhook');
    await server.close();
    await receiver.close();
    await proxy.close();
    await as.close();
  });

  async function connection(name: string, provider = 'fixture'): Promise<{ conn: ConnectionView; refreshToken: string }> {
    const issued = await fixtureTokens(as);
    secrets.push(issued.accessToken, issued.refreshToken);
    const conn = await importConnection(server.admin, {
      name,
      provider,
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    return { conn, refreshToken: issued.refreshToken };
  }

  async function needsReauthEvent(name: string): Promise<EventBody> {
    return until(() => {
      const found = receiver.received.map((r) => JSON.parse(r.body) as EventBody).find((e) => e.data.connection.name === name);
      return found;
    });
  }

  test('an answer later than the claim TTL is stored; the next refresh sends the rotated token', async () => {
    proxy.mode = 'forward';
    proxy.delayMs = 3500; // past the claim (2 s) and ¾ of it, within the token timeout (6 s)
    const { conn, refreshToken } = await connection('slow');
    const sentBefore = proxy.refreshTokens.length;
    const res = await server.admin('GET', `/v1/connections/${conn.id}/token`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    secrets.push((res.body as TokenView).accessToken);
    assert.equal((await as.introspect(refreshToken)).active, false, 'the provider rotated');
    proxy.delayMs = 0;
    const forced = await server.admin('POST', `/v1/connections/${conn.id}/refresh`);
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    const sent = proxy.refreshTokens.slice(sentBefore);
    assert.equal(sent.length, 2);
    assert.equal(sent[0], refreshToken);
    assert.equal(sent[1], proxy.issuedRefreshTokens.at(-2), 'the second refresh sent the token the late answer carried');
    assert.deepEqual(proxy.repeats(), []);
  });

  test('an answer lost on a rotating provider: rotation_lost, an event, and no resend', async () => {
    proxy.delayMs = 0;
    proxy.mode = 'drop'; // the provider rotates, the answer never arrives
    const { conn, refreshToken } = await connection('lost', 'rotating');
    const sentBefore = proxy.refreshTokens.length;
    const res = await server.admin('GET', `/v1/connections/${conn.id}/token`);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    const body = res.body as { error: string; message: string; reconnectUrl: string };
    assert.equal(body.error, 'needs_reauth');
    assert.match(body.message, /rotation_lost: a refresh at .* sent this refresh token and its answer was lost/);
    assert.match(body.reconnectUrl, /\/console\/connections\/lost\?reconnect=1$/);

    const view = (await server.admin('GET', `/v1/connections/${conn.id}`)).body as ConnectionView;
    assert.equal(view.status, 'needs_reauth');
    assert.match(view.lastError ?? '', /^rotation_lost: /);
    const event = await needsReauthEvent('lost');
    assert.equal(event.data.connection.reason, 'rotation_lost');
    assert.match(String(event.data.connection.lastError), /^rotation_lost: /);

    // Nothing sends that refresh token again: not callers, not a forced refresh.
    proxy.mode = 'forward';
    assert.equal((await server.admin('GET', `/v1/connections/${conn.id}/token`)).status, 409);
    assert.equal((await server.admin('POST', `/v1/connections/${conn.id}/refresh`)).status, 409);
    assert.deepEqual(proxy.refreshTokens.slice(sentBefore), [refreshToken]);
    assert.equal((await as.introspect(refreshToken)).active, false, 'the provider did rotate it');
  });

  test('a provider without the quirk is learned to rotate from the first rotation seen', async () => {
    proxy.delayMs = 0;
    proxy.mode = 'forward';
    const { conn } = await connection('learned');
    const first = await server.admin('POST', `/v1/connections/${conn.id}/refresh`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const sentBefore = proxy.refreshTokens.length;
    proxy.mode = 'drop';
    const res = await server.admin('POST', `/v1/connections/${conn.id}/refresh`);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.match((res.body as { message: string }).message, /rotation_lost/);
    proxy.mode = 'forward';
    assert.equal((await server.admin('POST', `/v1/connections/${conn.id}/refresh`)).status, 409);
    assert.equal(proxy.refreshTokens.length, sentBefore + 1, 'sent once, never again');
    assert.deepEqual(proxy.repeats(), []);
  });

  test('a genuinely rotated refresh token replayed by another client: the grant is revoked, the connection says so', async () => {
    proxy.delayMs = 0;
    proxy.mode = 'forward';
    const { conn, refreshToken: original } = await connection('replayed');
    const refreshed = await server.admin('POST', `/v1/connections/${conn.id}/refresh`);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const current = (await server.admin('GET', `/v1/connections/${conn.id}/token`)).body as TokenView;
    secrets.push(current.accessToken);
    assert.equal((await as.introspect(current.accessToken)).active, true);

    // Another client still holding the original refresh token uses it: reuse detection at the provider.
    const replay = await fetch(`${as.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${as.confidentialClient.clientId}:${as.confidentialClient.clientSecret ?? ''}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: original }).toString(),
    });
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
    assert.equal((await as.introspect(current.accessToken)).active, false, 'the provider revoked the whole grant');

    const res = await server.admin('POST', `/v1/connections/${conn.id}/refresh`);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    const view = (await server.admin('GET', `/v1/connections/${conn.id}`)).body as ConnectionView;
    assert.equal(view.status, 'needs_reauth');
    assert.match(view.lastError ?? '', /invalid_grant/);
    assert.match(view.lastError ?? '', /rotates refresh tokens.*an earlier refresh token of this grant/);
    const event = await needsReauthEvent('replayed');
    assert.equal(event.data.connection.status, 'needs_reauth');
    assert.match(String(event.data.connection.lastError), /invalid_grant/);
    assert.deepEqual(proxy.repeats(), [], 'Latchkey itself never resent a refresh token');
  });

  test('a 200 answer rejected by validation after the provider rotated: the rotated refresh token is kept', async () => {
    proxy.delayMs = 0;
    proxy.mode = 'mangle'; // the provider rotates; the answer then fails openid-client's checks
    const { conn, refreshToken } = await connection('unvalidated');
    const sentBefore = proxy.refreshTokens.length;
    const first = await server.admin('POST', `/v1/connections/${conn.id}/refresh`);
    assert.notEqual(first.status, 200, 'the answer does not validate');
    const rotated = proxy.issuedRefreshTokens.at(-1) ?? '';
    secrets.push(rotated);
    assert.equal((await as.introspect(refreshToken)).active, false, 'the provider rotated');
    const view = (await server.admin('GET', `/v1/connections/${conn.id}`)).body as ConnectionView;
    assert.equal(view.status, 'active', 'a rejected answer is not a dead grant');

    // The next refresh sends the rotated token, which was stored before the answer was checked.
    proxy.mode = 'forward';
    const second = await server.admin('POST', `/v1/connections/${conn.id}/refresh`);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.deepEqual(proxy.refreshTokens.slice(sentBefore), [refreshToken, rotated]);
    assert.deepEqual(proxy.repeats(), []);
  });

  test('a provider without an issuer (microsoft preset): an ID token from another issuer does not fail the refresh', async () => {
    proxy.delayMs = 0;
    proxy.mode = 'forward';
    const { conn } = await connection('tenant-issuer', 'no-issuer');
    const sentBefore = proxy.refreshTokens.length;
    for (let i = 0; i < 2; i += 1) {
      const res = await server.admin('POST', `/v1/connections/${conn.id}/refresh`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    assert.equal(proxy.refreshTokens.length, sentBefore + 2);
    assert.deepEqual(proxy.repeats(), []);
    const token = (await server.admin('GET', `/v1/connections/${conn.id}/token`)).body as TokenView;
    secrets.push(token.accessToken);
    assert.equal((await as.introspect(token.accessToken)).active, true);
  });
});

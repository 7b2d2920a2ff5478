import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import type { AuthorizationServer } from './fixtures/authorization-server.js';
import { ADMIN, type InProcess } from './helpers/in-process.js';
import {
  BACKENDS,
  FIXTURE_SCOPES,
  assertNoSecrets,
  callResource,
  getConnection,
  listConnections,
  openLink,
  pageError,
  startFlowServer,
  storedTokens,
  visit,
} from './helpers/oauth-flows.js';

interface Started {
  connectionId: string;
  authorizationUrl: string;
  expiresAt: string;
}

for (const backend of BACKENDS) {
  describe(`authorization code flow (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let close: () => Promise<void>;
    const clock = new ManualClock();
    const secrets: string[] = [];

    before(async () => {
      ({ as, server, close } = await startFlowServer(backend, {
        clock,
        env: { LATCHKEY_ALLOWED_RETURN_ORIGINS: 'https://app.example', LATCHKEY_REFRESHER_INTERVAL: '0' },
      }));
    });

    after(async () => {
      // Whatever happened, no token, code or verifier reached the logs.
      assertNoSecrets(server.logs.text(), [...secrets, as.confidentialClient.clientSecret], 'server log');
      assert.doesNotMatch(server.logs.text(), /[?&](code|state|code_verifier)=/, 'no callback query string in the log');
      await close();
    });

    async function start(body: Record<string, unknown> = {}): Promise<Started> {
      const res = await server.admin('POST', '/v1/connect/fixture', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as Started;
    }

    /** The provider's redirect back to Latchkey, with the code and state in it. */
    async function consent(started: Started, options: { deny?: boolean } = {}): Promise<URL> {
      const location = new URL(await as.approve(await openLink(started.authorizationUrl), options));
      const code = location.searchParams.get('code');
      if (code !== null) secrets.push(code);
      return location;
    }

    test('the authorization URL carries S256 PKCE, a 256-bit state, a nonce and the callback redirect URI', async () => {
      const started = await start({ name: 'shape' });
      assert.match(started.authorizationUrl, new RegExp(`^${server.url}/oauth/start/[A-Za-z0-9_-]{43}$`), 'the link is Latchkey’s start page');
      const url = new URL(await openLink(started.authorizationUrl));
      assert.equal(url.origin + url.pathname, `${as.issuer}/auth`);
      assert.equal(url.searchParams.get('response_type'), 'code');
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok((url.searchParams.get('state') ?? '').length >= 22, 'state has at least 128 bits');
      assert.ok(url.searchParams.get('nonce'));
      assert.equal(url.searchParams.get('redirect_uri'), `${server.url}/oauth/callback`);
      assert.equal(url.searchParams.get('scope'), FIXTURE_SCOPES.join(' '));
      assert.equal(new Date(started.expiresAt).getTime(), clock.now().getTime() + 10 * 60 * 1000);
      const pending = await getConnection(server, started.connectionId);
      assert.equal(pending.status, 'pending');
      assert.equal(pending.grantType, 'authorization_code');
      // The database holds neither the state nor the verifier in clear.
      const rows = await server.core.store.db.kysely.selectFrom('oauthStates').selectAll().execute();
      const state = url.searchParams.get('state') ?? '';
      assert.ok(rows.length > 0);
      for (const row of rows) {
        assert.ok(!JSON.stringify(row).includes(state));
        assert.match(row.secrets, /^lk1\./);
      }
    });

    test('consent makes the connection active with the granted scopes and expiry; the tokens work at the resource', async () => {
      const started = await start({ name: 'alice', subject: 'alice' });
      const location = await consent(started);
      assert.equal(location.origin, server.url);
      const head = await fetch(location.href, { method: 'HEAD', redirect: 'manual' });
      assert.equal(head.status, 404, 'HEAD does not run the callback');
      assert.equal(location.searchParams.get('iss'), as.issuer);
      const page = await visit(location.href);
      assert.equal(page.status, 200, page.body);
      assert.match(page.body, /id="success"/);
      assert.match(page.body, /alice/);

      const connection = await getConnection(server, started.connectionId);
      assert.equal(connection.status, 'active');
      assert.equal(connection.name, 'alice');
      assert.deepEqual([...connection.scopes].sort(), [...FIXTURE_SCOPES].sort());
      assert.equal(new Date(connection.expiresAt ?? 0).getTime(), clock.now().getTime() + 3600 * 1000);
      assert.equal(connection.lastError, null);

      const tokens = await storedTokens(server, started.connectionId);
      assert.ok(tokens.accessToken && tokens.refreshToken && tokens.idToken);
      secrets.push(tokens.accessToken, tokens.refreshToken, tokens.idToken);
      const resource = await callResource(as, tokens.accessToken);
      assert.equal(resource.status, 200);
      assert.deepEqual(resource.body, { sub: 'test-user', scope: FIXTURE_SCOPES.join(' '), client_id: as.confidentialClient.clientId });
      assertNoSecrets(page.body, [tokens.accessToken, location.searchParams.get('code') ?? undefined], 'success page');
      const events = await server.core.store.events.listEvents({ type: 'connection.created', connectionId: started.connectionId });
      assert.equal(events.length, 1, 'connection.created is in the webhook outbox');
      assertNoSecrets(events[0]?.payload ?? '', [tokens.accessToken, tokens.refreshToken], 'event payload');
    });

    test('the audit log records the start and the completed connection, with no secret in it', async () => {
      const res = await server.admin('GET', '/v1/audit?connection=alice');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const actions = (res.body as Array<{ action: string; outcome: string }>).map((e) => `${e.action}:${e.outcome}`);
      assert.ok(actions.includes('connection.connect:success'), actions.join());
      assert.ok(actions.includes('connection.create:success'), actions.join());
      assertNoSecrets(JSON.stringify(res.body), secrets, 'audit log');
    });

    test('a pending authorization request survives key rotation (its sealed verifier is re-sealed)', async () => {
      const started = await start({ name: 'rotated' });
      const before = await server.core.store.db.kysely.selectFrom('oauthStates').select('secrets').execute();
      const rotated = await server.admin('POST', '/v1/keys/rotate');
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      const newKeyId = (rotated.body as { newKeyId: string }).newKeyId;
      const after = await server.core.store.db.kysely.selectFrom('oauthStates').select('secrets').execute();
      assert.equal(after.length, before.length);
      for (const row of after) assert.ok(row.secrets.startsWith(`lk1.${newKeyId}.`), 'state secrets re-sealed under the new key');
      const page = await visit((await consent(started)).href);
      assert.equal(page.status, 200, page.body);
      assert.equal((await getConnection(server, 'rotated')).status, 'active');
    });

    test('a tampered state is refused and the flow it belonged to stays unfinished', async () => {
      const started = await start({ name: 'tampered' });
      const location = await consent(started);
      const state = location.searchParams.get('state') ?? '';
      location.searchParams.set('state', `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`);
      const page = await visit(location.href);
      assert.equal(page.status, 400);
      assert.equal(pageError(page.body), 'invalid_state');
      assert.equal((await getConnection(server, started.connectionId)).status, 'pending');
      assert.equal((await storedTokens(server, started.connectionId)).accessToken, undefined);
    });

    test('a state is good for one callback: replaying it is refused and changes nothing', async () => {
      const started = await start({ name: 'replayed' });
      const location = await consent(started);
      assert.equal((await visit(location.href)).status, 200);
      const before = await getConnection(server, started.connectionId);
      const exchanges = as.counts().authorization_code ?? 0;
      const replay = await visit(location.href);
      assert.equal(replay.status, 400);
      assert.equal(pageError(replay.body), 'invalid_state');
      assert.equal(as.counts().authorization_code ?? 0, exchanges, 'no second code exchange');
      assert.deepEqual(await getConnection(server, started.connectionId), before);
    });

    test('an expired state (10 minutes, injected clock) is refused and nothing is exchanged', async () => {
      const started = await start({ name: 'late' });
      const location = await consent(started);
      const exchanges = as.counts().authorization_code ?? 0;
      clock.advance(10 * 60 * 1000 + 1000);
      const page = await visit(location.href);
      assert.equal(page.status, 400);
      assert.equal(pageError(page.body), 'invalid_state');
      assert.equal(as.counts().authorization_code ?? 0, exchanges);
      const connection = await getConnection(server, started.connectionId);
      assert.equal(connection.status, 'error');
      assert.match(connection.lastError ?? '', /expired/);
      assert.equal((await storedTokens(server, started.connectionId)).accessToken, undefined);
    });

    test('a code replayed a second time (under another flow’s state) is refused by the provider; nothing is stored', async () => {
      const first = await start({ name: 'code-owner' });
      const firstLocation = await consent(first);
      assert.equal((await visit(firstLocation.href)).status, 200);

      const second = await start({ name: 'code-thief' });
      const secondLocation = await consent(second);
      secondLocation.searchParams.set('code', firstLocation.searchParams.get('code') ?? '');
      const page = await visit(secondLocation.href);
      assert.equal(page.status, 400);
      assert.match(page.body, /invalid_grant/);
      const connection = await getConnection(server, second.connectionId);
      assert.equal(connection.status, 'error');
      assert.match(connection.lastError ?? '', /invalid_grant/);
      assert.equal((await storedTokens(server, second.connectionId)).accessToken, undefined);
    });

    test('error=access_denied from the provider shows a 400 page and leaves the connection in error', async () => {
      const started = await start({ name: 'denied' });
      const location = await consent(started, { deny: true });
      assert.equal(location.searchParams.get('error'), 'access_denied');
      const page = await visit(location.href);
      assert.equal(page.status, 400);
      assert.match(page.body, /access_denied/);
      const connection = await getConnection(server, started.connectionId);
      assert.equal(connection.status, 'error');
      assert.match(connection.lastError ?? '', /access_denied/);
      assert.equal((await storedTokens(server, started.connectionId)).accessToken, undefined);
    });

    test('a mismatched iss (RFC 9207) is refused before the code is exchanged', async () => {
      const started = await start({ name: 'mixup' });
      const location = await consent(started);
      const exchanges = as.counts().authorization_code ?? 0;
      location.searchParams.set('iss', 'https://evil.example');
      const page = await visit(location.href);
      assert.equal(page.status, 400);
      assert.equal(pageError(page.body), 'invalid_issuer');
      assert.equal(as.counts().authorization_code ?? 0, exchanges);
      assert.equal((await getConnection(server, started.connectionId)).status, 'error');
    });

    test('a missing iss from a provider that promises one is refused', async () => {
      const started = await start({ name: 'no-iss' });
      const location = await consent(started);
      location.searchParams.delete('iss');
      const page = await visit(location.href);
      assert.equal(page.status, 400);
      assert.equal(pageError(page.body), 'invalid_issuer');
    });

    test('returnTo must be a relative path or on an allowed origin', async () => {
      const count = (await listConnections(server)).length;
      for (const returnTo of ['https://evil.example', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', 'https://app.example.evil.example/']) {
        const res = await server.admin('POST', '/v1/connect/fixture', { name: 'redirected', returnTo });
        assert.equal(res.status, 400, returnTo);
        assert.equal((res.body as { error: string }).error, 'invalid_request');
      }
      assert.equal((await listConnections(server)).length, count, 'a refused start creates no connection');

      const relative = await start({ name: 'back-home', returnTo: '/done?x=1' });
      const back = await visit((await consent(relative)).href);
      assert.equal(back.status, 302);
      assert.equal(back.location, '/done?x=1');

      const allowed = await start({ name: 'to-app', returnTo: 'https://app.example/connected' });
      const toApp = await visit((await consent(allowed)).href);
      assert.equal(toApp.status, 302);
      assert.equal(toApp.location, 'https://app.example/connected');
      assert.equal((await getConnection(server, 'to-app')).status, 'active');
    });

    test('a callback without state, or for an unknown provider, is refused; connect needs admin', async () => {
      const page = await visit(`${server.url}/oauth/callback?code=abc`);
      assert.equal(page.status, 400);
      assert.equal(pageError(page.body), 'invalid_state');
      assert.equal((await server.admin('POST', '/v1/connect/nope', {})).status, 404);
      const anonymous = await fetch(`${server.url}/v1/connect/fixture`, { method: 'POST' });
      assert.equal(anonymous.status, 401);
      // Every field is optional: no body at all starts a flow with the provider's defaults.
      const bare = await fetch(`${server.url}/v1/connect/fixture`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
      assert.equal(bare.status, 201);
    });

    test('an abandoned or failed connection can be started again under its name', async () => {
      const retried = await start({ name: 'denied' });
      const connection = await getConnection(server, retried.connectionId);
      assert.equal(connection.status, 'pending');
      assert.equal(connection.lastError, null);
      assert.equal((await visit((await consent(retried)).href)).status, 200);
      assert.equal((await getConnection(server, 'denied')).status, 'active');
      const taken = await server.admin('POST', '/v1/connect/fixture', { name: 'denied' });
      assert.equal(taken.status, 409, 'an active connection is not silently replaced');
    });

    test('the error page escapes what the provider sent', async () => {
      const started = await start({ name: 'escaped' });
      const location = await consent(started, { deny: true });
      location.searchParams.set('error_description', '<script>alert(1)</script>');
      const page = await visit(location.href);
      assert.equal(page.status, 400);
      assert.ok(!page.body.includes('<script>'));
      assert.match(page.body, /&#60;script&#62;/);
    });
  });
}

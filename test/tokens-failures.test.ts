import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { verifySignature, type EventBody } from '../src/events/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS, openLink, visit } from './helpers/oauth-flows.js';
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

const WEBHOOK_SECRET = 'whsec_test_secret_for_signatures_0001';

for (const backend of BACKENDS) {
  describe(`refresh failures (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let receiver: Receiver;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    const clock = new ManualClock();
    const secrets: string[] = [WEBHOOK_SECRET];

    before(async () => {
      as = await startAuthorizationServer();
      db = await backend.open();
      receiver = await startReceiver();
      server = await startInProcess({
        clock,
        env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0', LATCHKEY_TOKEN_TIMEOUT: '1' },
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      });
      await addProvider(server.admin, as);
      const hook = await server.admin('POST', '/v1/webhooks', {
        url: receiver.url,
        events: ['connection.needs_reauth'],
        secret: WEBHOOK_SECRET,
      });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
    });

    after(async () => {
      assertNoSecret(server.logs.text(), secrets, 'the logs');
      await server.close();
      await receiver.close();
      await as.close();
      await db.drop();
    });

    test('invalid_grant: needs_reauth, 409 with a reconnect URL, a signed webhook, no more attempts', async () => {
      secrets.push('bogus-refresh-token-0123456789', 'stale-access-token-0123456789');
      const conn = await importConnection(server.admin, {
        name: 'broken',
        accessToken: 'stale-access-token-0123456789',
        refreshToken: 'bogus-refresh-token-0123456789',
        expiresAt: new Date(clock.now().getTime() - 1000).toISOString(),
      });
      as.resetCounts();
      const res = await server.admin('GET', `/v1/connections/${conn.id}/token`);
      assert.equal(res.status, 409, JSON.stringify(res.body));
      const body = res.body as { error: string; reconnectUrl: string; message: string };
      assert.equal(body.error, 'needs_reauth');
      assert.equal(body.reconnectUrl, `${server.url}/console/connections/broken?reconnect=1`);
      assert.equal(as.counts().refresh_token, 1);

      const view = (await server.admin('GET', '/v1/connections/broken')).body as ConnectionView;
      assert.equal(view.status, 'needs_reauth');
      assert.match(view.lastError ?? '', /invalid_grant/);

      // Nothing retries a dead grant: not callers, not a forced refresh, not the background refresher.
      assert.equal((await server.admin('GET', '/v1/connections/broken/token')).status, 409);
      assert.equal((await server.admin('POST', '/v1/connections/broken/refresh')).status, 409);
      clock.advance(3600_000);
      await server.core.refresher.runOnce();
      assert.equal(as.counts().refresh_token, 1);

      const delivered = await until(() => receiver.received[0]);
      const signature = delivered.headers['latchkey-signature'];
      assert.equal(typeof signature, 'string');
      assert.ok(
        verifySignature(WEBHOOK_SECRET, signature as string, delivered.body, { now: Math.floor(clock.now().getTime() / 1000), toleranceSeconds: 7200 }),
        'signature verifies',
      );
      assert.ok(!verifySignature('whsec_another_secret_0000000000', signature as string, delivered.body, { now: Math.floor(clock.now().getTime() / 1000), toleranceSeconds: 7200 }));
      const event = JSON.parse(delivered.body) as EventBody;
      assert.equal(event.type, 'connection.needs_reauth');
      assert.equal(event.data.connection.name, 'broken');
      assert.equal(event.data.connection.status, 'needs_reauth');
      assert.equal(delivered.headers['latchkey-event'], 'connection.needs_reauth');
      assert.equal(receiver.received.length, 1);
      assertNoSecret(delivered.body, secrets, 'the webhook body');
    });

    test('a successful reconnect makes a needs_reauth connection active again', async () => {
      as.resetCounts();
      const start = await server.admin('POST', '/v1/connect/fixture', { name: 'broken' });
      assert.equal(start.status, 201, JSON.stringify(start.body));
      const { authorizationUrl } = start.body as { authorizationUrl: string };
      const callback = await visit(await as.approve(await openLink(authorizationUrl)));
      assert.ok(callback.status < 400, `callback answered ${callback.status}`);
      const view = (await server.admin('GET', '/v1/connections/broken')).body as ConnectionView;
      assert.equal(view.status, 'active');
      const token = await server.admin('GET', '/v1/connections/broken/token');
      assert.equal(token.status, 200, JSON.stringify(token.body));
      secrets.push((token.body as TokenView).accessToken);
      const resource = await fetch(as.protectedResourceUrl, { headers: { authorization: `Bearer ${(token.body as TokenView).accessToken}` } });
      assert.equal(resource.status, 200);
    });

    test('token endpoint down: a still-valid token keeps being served, an expired one gets 503 + Retry-After', async () => {
      const issued = await fixtureTokens(as);
      // Obtained now: a hanging token endpoint hangs the code exchange too.
      const other = await fixtureTokens(as);
      secrets.push(issued.accessToken, issued.refreshToken, other.accessToken, other.refreshToken);
      await importConnection(server.admin, {
        name: 'flaky',
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        // inside the 60 s skew window: a refresh is due, but the token still works
        expiresAt: new Date(clock.now().getTime() + 30_000).toISOString(),
      });
      as.resetCounts();
      as.tokenEndpointBehaviour('unavailable');

      const served = await server.admin('GET', '/v1/connections/flaky/token');
      assert.equal(served.status, 200, JSON.stringify(served.body));
      assert.equal((served.body as TokenView).accessToken, issued.accessToken);
      assert.equal(as.counts().refresh_token, 1);
      let view = (await server.admin('GET', '/v1/connections/flaky')).body as ConnectionView;
      assert.equal(view.status, 'active');
      assert.match(view.lastError ?? '', /unavailable \(HTTP 503\)/);

      // Backing off: the next read does not call the provider again.
      assert.equal((await server.admin('GET', '/v1/connections/flaky/token')).status, 200);
      assert.equal(as.counts().refresh_token, 1);

      clock.advance(61_000);
      const expired = await server.admin('GET', '/v1/connections/flaky/token');
      assert.equal(expired.status, 503, JSON.stringify(expired.body));
      assert.equal((expired.body as { error: string }).error, 'provider_unavailable');
      assert.ok(Number(expired.headers.get('retry-after')) >= 1);

      // Hanging: the request times out (LATCHKEY_TOKEN_TIMEOUT=1) and the caller gets 503, not a hang.
      as.tokenEndpointBehaviour('hang');
      clock.advance(600_000);
      const started = Date.now();
      const hung = await server.admin('GET', '/v1/connections/flaky/token');
      assert.equal(hung.status, 503, JSON.stringify(hung.body));
      assert.ok(Number(hung.headers.get('retry-after')) >= 1);
      assert.ok(Date.now() - started < 5000);

      // A still-valid token is served at once while the endpoint hangs.
      await importConnection(server.admin, {
        name: 'slow',
        accessToken: other.accessToken,
        refreshToken: other.refreshToken,
        expiresAt: new Date(clock.now().getTime() + 30_000).toISOString(),
      });
      const slow = await server.admin('GET', '/v1/connections/slow/token');
      assert.equal(slow.status, 200);
      assert.equal((slow.body as TokenView).accessToken, other.accessToken);

      // Never needs_reauth for an outage; once the provider is back, the next attempt succeeds.
      view = (await server.admin('GET', '/v1/connections/flaky')).body as ConnectionView;
      assert.equal(view.status, 'active');
      as.tokenEndpointBehaviour('normal');
      clock.advance(600_000);
      const recovered = await server.admin('GET', '/v1/connections/flaky/token');
      assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
      assert.notEqual((recovered.body as TokenView).accessToken, issued.accessToken);
      secrets.push((recovered.body as TokenView).accessToken);
      view = (await server.admin('GET', '/v1/connections/flaky')).body as ConnectionView;
      assert.equal(view.status, 'active');
      assert.equal(view.lastError, null);
      const reauth = await server.core.store.events.listEvents({ type: 'connection.needs_reauth' });
      assert.deepEqual(
        reauth.map((e) => JSON.parse(e.payload).data.connection.name),
        ['broken'],
        'only the invalid_grant connection ever needed reauth',
      );
      const failed = await server.core.store.events.listEvents({ type: 'connection.refresh_failed' });
      assert.ok(failed.length >= 2);
      assertNoSecret(JSON.stringify(failed), secrets, 'events');
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import type { EventBody, ProviderEventData } from '../src/events/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
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

interface ProviderStatus {
  status: string;
  statusReason: string | null;
  statusSince: string | null;
  nextCheckAt: string | null;
}

for (const backend of BACKENDS) {
  describe(`a provider that refuses Latchkey's client (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let receiver: Receiver;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    let original: string;
    const clock = new ManualClock();
    const secrets: string[] = [];
    const expired = (): string => new Date(clock.now().getTime() - 1000).toISOString();
    const provider = async (): Promise<ProviderStatus> => (await server.admin('GET', '/v1/providers/fixture')).body as ProviderStatus;

    before(async () => {
      as = await startAuthorizationServer();
      original = as.confidentialClient.clientSecret ?? '';
      secrets.push(original);
      db = await backend.open();
      receiver = await startReceiver();
      server = await startInProcess({
        clock,
        env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0' },
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      });
      await addProvider(server.admin, as);
      const hook = await server.admin('POST', '/v1/webhooks', { url: receiver.url, events: ['provider.misconfigured'] });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      for (const name of ['alice', 'bob']) {
        const issued = await fixtureTokens(as);
        secrets.push(issued.accessToken, issued.refreshToken);
        await importConnection(server.admin, { name, accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: expired() });
      }
    });

    after(async () => {
      assertNoSecret(server.logs.text(), secrets, 'the logs');
      await server.close();
      await receiver.close();
      await as.close();
      await db.drop();
    });

    test('invalid_client marks the provider, not its connections: 503 provider_misconfigured naming the cause, one event', async () => {
      const rotated = 'rotated-at-the-provider-0123456789';
      secrets.push(rotated);
      as.setClientSecret(rotated);
      as.resetCounts();

      const res = await server.admin('GET', '/v1/connections/alice/token');
      assert.equal(res.status, 503, JSON.stringify(res.body));
      const body = res.body as { error: string; message: string };
      assert.equal(body.error, 'provider_misconfigured');
      assert.match(body.message, /invalid_client/);
      assert.doesNotMatch(body.message, /unreachable|unavailable/);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.equal(as.counts().refresh_token, 1);

      // Another connection of the provider is not sent to the token endpoint while it is marked.
      const bob = await server.admin('GET', '/v1/connections/bob/token');
      assert.equal(bob.status, 503);
      assert.equal((bob.body as { error: string }).error, 'provider_misconfigured');
      assert.equal(as.counts().refresh_token, 1);

      for (const name of ['alice', 'bob']) {
        const view = (await server.admin('GET', `/v1/connections/${name}`)).body as ConnectionView;
        assert.equal(view.status, 'active', `${name} keeps its status`);
        assert.equal(view.lastError, null);
      }
      const status = await provider();
      assert.equal(status.status, 'misconfigured');
      assert.match(status.statusReason ?? '', /invalid_client/);
      assert.equal(status.statusSince, clock.now().toISOString());
      assert.ok(Date.parse(status.nextCheckAt ?? '') > clock.now().getTime());
      const events = await server.core.store.events.listEvents({ type: 'connection.needs_reauth' });
      assert.equal(events.length, 0);

      await server.core.events.delivery.runOnce();
      const delivered = await until(() => receiver.received[0]);
      const event = JSON.parse(delivered.body) as EventBody<{ provider: ProviderEventData }>;
      assert.equal(event.type, 'provider.misconfigured');
      assert.equal(event.data.provider.name, 'fixture');
      assert.match(String(event.data.provider.reason), /invalid_client/);
      assert.equal(receiver.received.length, 1);
      assertNoSecret(delivered.body, secrets, 'the webhook');

      const shown = await runCli(['providers', 'show', 'fixture', '--url', server.url], { LATCHKEY_ADMIN_TOKEN: ADMIN });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /status\s+misconfigured/);
      assert.match(shown.stdout, /invalid_client/);
    });

    test('the periodic check backs off while refused and clears the mark once the provider accepts the client again', async () => {
      as.resetCounts();
      clock.advance(3600_000);
      await server.core.refresher.runOnce();
      assert.equal(as.counts().refresh_token, 1, 'one check, not one refresh per connection');
      const still = await provider();
      assert.equal(still.status, 'misconfigured');
      assert.ok(Date.parse(still.nextCheckAt ?? '') > clock.now().getTime());
      await server.core.refresher.runOnce();
      assert.equal(as.counts().refresh_token, 1, 'not due again yet');

      // The provider side is fixed (the secret Latchkey holds works again).
      as.setClientSecret(original);
      clock.advance(3600_000);
      await server.core.refresher.runOnce();
      assert.equal((await provider()).status, 'ok');
      const res = await server.admin('GET', '/v1/connections/alice/token');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      secrets.push((res.body as TokenView).accessToken);
      assert.equal(receiver.received.length, 1, 'one event for one episode');
    });

    test('PATCH with the new client secret clears the mark at once', async () => {
      const rotated = 'rotated-again-at-the-provider-0123456789';
      secrets.push(rotated);
      as.setClientSecret(rotated);
      assert.equal((await server.admin('GET', '/v1/connections/bob/token')).status, 503);
      assert.equal((await provider()).status, 'misconfigured');
      const patched = await server.admin('PATCH', '/v1/providers/fixture', { clientSecret: rotated });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal((patched.body as ProviderStatus).status, 'ok');
      const res = await server.admin('GET', '/v1/connections/bob/token');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      secrets.push((res.body as TokenView).accessToken);
      as.setClientSecret(original);
      assert.equal((await server.admin('PATCH', '/v1/providers/fixture', { clientSecret: original })).status, 200);
    });

    test('client credentials and the consent flow name the cause too', async () => {
      const made = await server.admin('POST', '/v1/connect/fixture/client-credentials', { name: 'machine', scopes: ['api:read'] });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      as.setClientSecret('rotated-for-machines-0123456789');
      clock.advance(7200_000);
      const res = await server.admin('GET', '/v1/connections/machine/token');
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal((res.body as { error: string }).error, 'provider_misconfigured');
      assert.equal(((await server.admin('GET', '/v1/connections/machine')).body as ConnectionView).status, 'active');
      await server.admin('PATCH', '/v1/providers/fixture', { clientSecret: original });

      // The code exchange refused: the connection's error and the page say why.
      const start = await server.admin('POST', '/v1/connect/fixture', { name: 'carol' });
      assert.equal(start.status, 201, JSON.stringify(start.body));
      const location = await as.approve(await openLink((start.body as { authorizationUrl: string }).authorizationUrl));
      const { status, body: page } = await visit(location);
      assert.equal(status, 400, 'every callback failure is a 400 page');
      assert.match(page, /provider_misconfigured/);
      assert.match(page, /invalid_client/);
      const carol = (await server.admin('GET', '/v1/connections/carol')).body as ConnectionView;
      assert.equal(carol.status, 'error');
      assert.match(carol.lastError ?? '', /invalid_client/);

      // The device authorization request authenticates the client too.
      const device = await server.admin('POST', '/v1/connect/fixture/device', { name: 'dave' });
      assert.equal(device.status, 503, JSON.stringify(device.body));
      assert.equal((device.body as { error: string }).error, 'provider_misconfigured');
      assert.match((device.body as { message: string }).message, /invalid_client/);
      as.setClientSecret(original);
      await server.admin('PATCH', '/v1/providers/fixture', { clientSecret: original });
    });
  });
}

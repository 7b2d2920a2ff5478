import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { signatureHeader, verifySignature, type EventBody } from '../src/events/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';
import { addProvider, assertNoSecret, importConnection, startReceiver, until, type Receiver } from './helpers/token-lifecycle.js';

test('signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">', () => {
  const header = signatureHeader('whsec_0123456789abcdef', 1700000000, '{"a":1}');
  assert.match(header, /^t=1700000000,v1=[0-9a-f]{64}$/);
  assert.ok(verifySignature('whsec_0123456789abcdef', header, '{"a":1}', { now: 1700000010 }));
  assert.ok(!verifySignature('whsec_0123456789abcdef', header, '{"a":2}', { now: 1700000010 }));
  assert.ok(!verifySignature('whsec_0123456789abcdef', header, '{"a":1}', { now: 1700009999 }), 'too old');
});

interface DeliveryView {
  status: string;
  attempts: number;
  lastError: string | null;
}

for (const backend of BACKENDS) {
  describe(`webhook delivery (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    const clock = new ManualClock();
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-events-'));
    let logs = '';

    const start = (): Promise<InProcess> =>
      startInProcess({
        dataDir,
        clock,
        env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0' },
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      });

    before(async () => {
      as = await startAuthorizationServer();
      db = await backend.open();
      server = await start();
      await addProvider(server.admin, as);
    });

    after(async () => {
      await server.close();
      await as.close();
      await db.drop();
    });

    test('receiver down, then Latchkey restarts, then the receiver is back: delivered once, nothing lost', async () => {
      // A port that refuses connections: take one, then close it.
      let receiver: Receiver = await startReceiver();
      const port = receiver.port;
      await receiver.close();

      const created = await server.admin('POST', '/v1/webhooks', { url: `http://127.0.0.1:${port}/hook`, events: ['connection.created'] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const hook = created.body as { id: string; secret: string };
      assert.match(hook.secret, /^whsec_/);
      const listed = await server.admin('GET', '/v1/webhooks');
      assert.ok(!JSON.stringify(listed.body).includes(hook.secret), 'the secret is shown once only');

      await importConnection(server.admin, { name: 'hooked', accessToken: 'access-token-for-webhook-test-0001' });
      const failed = await until(async () => {
        const res = await server.admin('GET', `/v1/webhooks/${hook.id}/deliveries`);
        const [d] = res.body as DeliveryView[];
        return d !== undefined && d.attempts >= 1 ? d : undefined;
      });
      assert.equal(failed.status, 'pending');
      assert.match(failed.lastError ?? '', /ECONNREFUSED|unreachable/);

      // Restart: the delivery lives in the database, not in memory.
      logs += server.logs.text();
      await server.close();
      receiver = await startReceiver(port);
      try {
        server = await start();
        // The sealed webhook secret survives a key rotation (it is listed in SEALED_COLUMNS).
        assert.equal((await server.admin('POST', '/v1/keys/rotate')).status, 200);
        clock.advance(3600_000);
        await server.core.events.delivery.runOnce();
        const got = await until(() => receiver.received[0]);
        const body = JSON.parse(got.body) as EventBody;
        assert.equal(body.type, 'connection.created');
        assert.equal(body.data.connection.name, 'hooked');
        assert.ok(
          verifySignature(hook.secret, String(got.headers['latchkey-signature']), got.body, {
            now: Math.floor(clock.now().getTime() / 1000),
          }),
        );
        const [done] = (await server.admin('GET', `/v1/webhooks/${hook.id}/deliveries`)).body as DeliveryView[];
        assert.equal(done?.status, 'delivered');
        // Delivered means done: later passes send nothing again.
        clock.advance(3600_000);
        await server.core.events.delivery.runOnce();
        assert.equal(receiver.received.length, 1);
      } finally {
        await receiver.close();
      }
      logs += server.logs.text();
      assertNoSecret(logs, [hook.secret, 'access-token-for-webhook-test-0001'], 'the logs');
    });

    test('a webhook that answers non-2xx is retried with backoff until it does', async () => {
      const failing = await startReceiver(0, 500);
      const hook = (await server.admin('POST', '/v1/webhooks', { url: failing.url, events: ['*'] })).body as { id: string };
      await importConnection(server.admin, { name: 'retried', accessToken: 'access-token-for-webhook-test-0002' });
      await until(() => (failing.received.length >= 1 ? true : undefined));
      await server.core.events.delivery.runOnce();
      assert.equal(failing.received.length, 1, 'not retried before its backoff');
      clock.advance(3600_000);
      await server.core.events.delivery.runOnce();
      assert.equal(failing.received.length, 2);
      const [d] = (await server.admin('GET', `/v1/webhooks/${hook.id}/deliveries`)).body as DeliveryView[];
      assert.equal(d?.attempts, 2);
      assert.equal(d?.status, 'pending');
      const cli = await runCli(['--url', server.url, '--json', 'webhooks', 'deliveries', hook.id], { LATCHKEY_ADMIN_TOKEN: ADMIN });
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal((JSON.parse(cli.stdout) as DeliveryView[])[0]?.attempts, 2);
      assert.equal((await runCli(['--url', server.url, 'webhooks', 'rm', hook.id], { LATCHKEY_ADMIN_TOKEN: ADMIN })).code, 0);
      assert.equal((await server.admin('GET', `/v1/webhooks/${hook.id}/deliveries`)).status, 404);
      assert.equal((await server.admin('DELETE', `/v1/webhooks/${hook.id}`)).status, 404);
      await failing.close();
    });
  });
}

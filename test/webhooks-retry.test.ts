import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';
import { raw } from './helpers/operators.js';
import { addProvider, importConnection, startReceiver, until, type Receiver } from './helpers/token-lifecycle.js';

/**
 * Issue 12: `POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry` makes a
 * pending delivery due now (its attempts kept) and wakes the delivery worker.
 */
interface DeliveryView {
  id: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

/** A port nothing listens on: take one, then close it. */
async function closedPort(): Promise<number> {
  const r = await startReceiver();
  await r.close();
  return r.port;
}

for (const backend of BACKENDS) {
  describe(`webhook delivery retry (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    const receivers: Receiver[] = [];
    const clock = new ManualClock(Date.parse('2026-03-01T09:00:00Z'));

    before(async () => {
      as = await startAuthorizationServer();
      db = await backend.open();
      server = await startInProcess({
        clock,
        // No timer: deliveries are sent when an event (or a retry) nudges the worker, or by runOnce.
        env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0' },
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      });
      await addProvider(server.admin, as);
    });

    after(async () => {
      await server.close();
      for (const r of receivers) await r.close();
      await as.close();
      await db.drop();
    });

    const deliveriesOf = async (hookId: string): Promise<DeliveryView[]> => {
      const res = await server.admin('GET', `/v1/webhooks/${hookId}/deliveries`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as DeliveryView[];
    };
    const retry = (hookId: string, deliveryId: string) => server.admin('POST', `/v1/webhooks/${hookId}/deliveries/${deliveryId}/retry`);

    test('a failed delivery waits for its backoff; retry makes it due now and it is sent; then 409, 404, 403, and the CLI', async () => {
      const portA = await closedPort();
      const portB = await closedPort();
      const hookA = (await server.admin('POST', '/v1/webhooks', { url: `http://127.0.0.1:${portA}/hook`, events: ['connection.created'] })).body as { id: string };
      const hookB = (await server.admin('POST', '/v1/webhooks', { url: `http://127.0.0.1:${portB}/hook`, events: ['connection.created'] })).body as { id: string };
      await importConnection(server.admin, { name: 'retry-me', accessToken: 'access-token-for-retry-test-0001' });

      const failedA = await until(async () => ((await deliveriesOf(hookA.id)).find((d) => d.attempts >= 1)));
      const failedB = await until(async () => ((await deliveriesOf(hookB.id)).find((d) => d.attempts >= 1)));
      assert.equal(failedA.status, 'pending');
      assert.match(failedA.lastError ?? '', /ECONNREFUSED|unreachable/);
      assert.ok(failedA.nextAttemptAt !== null && Date.parse(failedA.nextAttemptAt) > clock.now().getTime(), 'the next attempt is after a backoff');

      // The receiver is back, but the delivery is not due yet: a pass sends nothing.
      const receiver = await startReceiver(portA);
      receivers.push(receiver);
      await server.core.events.delivery.runOnce();
      assert.equal(receiver.received.length, 0);

      // Unknown webhook, unknown delivery, another webhook's delivery: 404, and nothing changes.
      for (const [hookId, deliveryId] of [
        [hookA.id, failedB.id],
        [hookB.id, failedA.id],
        [hookA.id, 'evt_nope.whk_nope'],
        ['whk_nope', failedA.id],
      ] as const) {
        const res = await retry(hookId, deliveryId);
        assert.equal(res.status, 404, JSON.stringify(res.body));
        assert.equal((res.body as { error: string }).error, 'not_found');
      }

      // A viewer reads deliveries but cannot retry them.
      assert.equal((await server.admin('POST', '/v1/operators', { name: 'vic', role: 'viewer', password: 'vic-viewer-password-3' })).status, 201);
      const key = (await server.admin('POST', '/v1/operators/vic/keys', {})).body as { apiKey: string };
      const asViewer = (method: string, path: string) => raw(server.url, method, path, { authorization: `Bearer ${key.apiKey}` });
      assert.equal((await asViewer('GET', `/v1/webhooks/${hookA.id}/deliveries`)).status, 200);
      assert.equal((await asViewer('POST', `/v1/webhooks/${hookA.id}/deliveries/${failedA.id}/retry`)).status, 403);
      assert.equal((await deliveriesOf(hookA.id))[0]?.nextAttemptAt, failedA.nextAttemptAt, 'a refused retry changes nothing');

      // Retry: due now, attempts kept, and the worker is woken (no runOnce, no clock change).
      const retried = await retry(hookA.id, failedA.id);
      assert.equal(retried.status, 200, JSON.stringify(retried.body));
      const view = retried.body as DeliveryView;
      assert.equal(view.id, failedA.id);
      assert.equal(view.attempts, failedA.attempts);
      assert.ok(view.nextAttemptAt === null || Date.parse(view.nextAttemptAt) <= clock.now().getTime(), JSON.stringify(view));
      await until(() => receiver.received[0]);
      const delivered = await until(async () => (await deliveriesOf(hookA.id)).find((d) => d.status === 'delivered'));
      assert.equal(delivered.attempts, failedA.attempts + 1);
      assert.equal(receiver.received.length, 1);
      assert.equal(receiver.received[0]?.headers['latchkey-delivery'], failedA.id);

      const again = await retry(hookA.id, failedA.id);
      assert.equal(again.status, 409, JSON.stringify(again.body));
      assert.equal((again.body as { error: string }).error, 'conflict');
      assert.match((again.body as { message: string }).message, /delivered already/);

      const audited = await server.admin('GET', `/v1/audit?action=webhook.delivery_retry&limit=100`);
      const rows = (Array.isArray(audited.body) ? audited.body : (audited.body as { items: unknown[] }).items) as Array<{ detail: Record<string, unknown> }>;
      assert.equal(rows.length, 1, 'only the retry that happened is audited');
      assert.deepEqual(rows[0]?.detail, { webhook: hookA.id, delivery: failedA.id, attempts: failedA.attempts });

      // The CLI: B's receiver is still down, so its retry is sent and fails again.
      const cli = await runCli(['--url', server.url, 'webhooks', 'retry', hookB.id, failedB.id], { LATCHKEY_ADMIN_TOKEN: ADMIN });
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, new RegExp(`delivery ${failedB.id.replace(/\./g, '\\.')} is due now`));
      await until(async () => ((await deliveriesOf(hookB.id))[0]?.attempts === failedB.attempts + 1 ? true : undefined));
      const refused = await runCli(['--url', server.url, '--json', 'webhooks', 'retry', hookA.id, failedA.id], { LATCHKEY_ADMIN_TOKEN: ADMIN });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /delivered already/);
    });
  });
}

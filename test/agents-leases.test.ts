import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { leaseSeconds } from '../src/agents/index.js';
import { ManualClock } from '../src/clock.js';
import { Latchkey, isApiError } from '../src/sdk/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { addFixtureApiProvider, auditEvents, createAgent, fixtureTokens, importTokens } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS, assertNoSecrets } from './helpers/oauth-flows.js';

describe('lease length (unit)', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  test('the shortest of the request, the policy and the token life left minus the skew', () => {
    const base = { now, skewSeconds: 60 };
    assert.equal(leaseSeconds({ ...base, requested: 3600, maxTtl: 900, tokenExpiresAt: '2026-01-01T01:00:00Z' }), 900);
    assert.equal(leaseSeconds({ ...base, requested: 300, maxTtl: 900, tokenExpiresAt: '2026-01-01T01:00:00Z' }), 300);
    assert.equal(leaseSeconds({ ...base, requested: 3600, maxTtl: 7200, tokenExpiresAt: '2026-01-01T00:10:00Z' }), 540);
    assert.equal(leaseSeconds({ ...base, requested: 3600, maxTtl: undefined, tokenExpiresAt: null }), 3600);
  });
});

for (const backend of BACKENDS) {
  describe(`leases against the authorization server fixture (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let lk: InProcess;
    let drop: () => Promise<void> = async () => {};
    const clock = new ManualClock(Date.now());
    let leaser: { apiKey: string; id: string };
    let short: { apiKey: string };
    const secrets: string[] = [];

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      as = await startAuthorizationServer();
      lk = await startInProcess({ clock, ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}) });
      await addFixtureApiProvider(lk, as);
      for (const name of ['fx', 'fx-rotate']) {
        const t = await fixtureTokens(as);
        secrets.push(t.access_token, t.refresh_token ?? '');
        // Latchkey is told the token lives 10 more minutes (the fixture's really live an hour).
        await importTokens(lk, {
          name,
          provider: 'fixture',
          accessToken: t.access_token,
          ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}),
          expiresAt: new Date(clock.now().getTime() + 600_000).toISOString(),
          scopes: ['openid', 'offline_access', 'api:read'],
        });
      }
      leaser = await createAgent(lk, { name: 'leaser', policy: { rules: [{ connections: ['fx*'] }], lease: { allowed: true, maxTtl: '1h', rotate: true } } });
      short = await createAgent(lk, { name: 'short', policy: { rules: [{ connections: ['fx'] }], lease: { allowed: true, maxTtl: '5m' } } });
      secrets.push(leaser.apiKey, short.apiKey);
    });

    after(async () => {
      await lk?.close();
      await as?.close();
      await drop();
    });

    test('a lease never outlives the token (minus the skew) nor the policy', async () => {
      const sdk = new Latchkey({ url: lk.url, agentKey: leaser.apiKey });
      const lease = await sdk.lease('fx', { ttl: '1h' });
      const now = clock.now().getTime();
      assert.equal(new Date(lease.expiresAt).getTime(), now + 540_000, 'token life left (600 s) minus skew (60 s)');
      assert.equal(lease.tokenExpiresAt, new Date(now + 600_000).toISOString());
      assert.equal((await as.introspect(lease.accessToken)).active, true, 'the leased token is the real one');

      const capped = await new Latchkey({ url: lk.url, agentKey: short.apiKey }).lease('fx', { ttl: '1h' });
      assert.equal(new Date(capped.expiresAt).getTime(), now + 300_000, 'the policy maxTtl');
      const asked = await sdk.lease('fx', { ttl: '2m' });
      assert.equal(new Date(asked.expiresAt).getTime(), now + 120_000, 'the requested ttl');

      const list = await lk.admin('GET', '/v1/leases');
      const shown = (list.body as Array<{ id: string; expiresAt: string; tokenExpiresAt: string; agent: string; connection: string }>).find((l) => l.id === lease.leaseId);
      assert.ok(shown);
      assert.equal(shown.expiresAt, lease.expiresAt);
      assert.equal(shown.tokenExpiresAt, lease.tokenExpiresAt);
      assert.equal(shown.agent, 'leaser');
      assert.equal(shown.connection, 'fx');
      assertNoSecrets(JSON.stringify(list.body), secrets, 'the lease listing');

      clock.advance(200_000);
      const after = (await lk.admin('GET', '/v1/leases')).body as Array<{ id: string }>;
      assert.ok(!after.some((l) => l.id === asked.leaseId), 'expired leases are not listed');
      assert.ok(after.some((l) => l.id === lease.leaseId));
    });

    test('leases need the policy to allow them and the connection to be usable', async () => {
      const none = await createAgent(lk, { name: 'no-lease', policy: { rules: [{ connections: ['fx'] }] } });
      await assert.rejects(new Latchkey({ url: lk.url, agentKey: none.apiKey }).lease('fx'), (err: unknown) => isApiError(err, 'forbidden'));
      await assert.rejects(new Latchkey({ url: lk.url, agentKey: short.apiKey }).lease('fx-rotate'), (err: unknown) => isApiError(err, 'forbidden'));
      const denied = await auditEvents(lk, '?action=auth.denied');
      assert.ok(denied.some((e) => e.actor.name === 'no-lease' && e.detail.operation === 'lease.create'));
    });

    test('rotate=true makes the leased token inactive at the authorization server', async () => {
      const sdk = new Latchkey({ url: lk.url, agentKey: leaser.apiKey });
      const lease = await sdk.lease('fx-rotate', { ttl: '10m' });
      assert.equal((await as.introspect(lease.accessToken)).active, true);
      const other = await new Latchkey({ url: lk.url, agentKey: short.apiKey }).endLease(lease.leaseId).catch((err: unknown) => err);
      assert.ok(isApiError(other, 'not_found'), "an agent cannot end another agent's lease");
      const ended = await sdk.endLease(lease.leaseId, { rotate: true });
      assert.equal(ended.ended, true);
      assert.equal(ended.revokedAtProvider, true);
      assert.equal((await as.introspect(lease.accessToken)).active, false, 'the leaked copy stops working');
      const events = await auditEvents(lk, '?action=lease.revoke');
      assert.ok(events.some((e) => e.detail.leaseId === lease.leaseId && e.detail.rotate === true));
      const list = (await lk.admin('GET', '/v1/leases')).body as Array<{ id: string }>;
      assert.ok(!list.some((l) => l.id === lease.leaseId));
    });

    test('rotate=true without policy.lease.rotate is 403 and leaves the token and the lease alone', async () => {
      const sdk = new Latchkey({ url: lk.url, agentKey: short.apiKey });
      const lease = await sdk.lease('fx', { ttl: '1m' });
      const refused = await sdk.endLease(lease.leaseId, { rotate: true }).catch((err: unknown) => err);
      assert.ok(isApiError(refused, 'forbidden'), String(refused));
      assert.equal((await as.introspect(lease.accessToken)).active, true, 'nothing was revoked');
      const list = (await lk.admin('GET', '/v1/leases')).body as Array<{ id: string }>;
      assert.ok(list.some((l) => l.id === lease.leaseId), 'the lease is still active');
      const denied = await auditEvents(lk, '?action=auth.denied');
      assert.ok(denied.some((e) => e.actor.name === 'short' && e.detail.operation === 'lease.rotate'));
      assert.deepEqual(await sdk.endLease(lease.leaseId), { ended: true, revokedAtProvider: false, refreshed: null, refreshError: null });
      assert.equal((await as.introspect(lease.accessToken)).active, true);
    });

    test('a token without expiry is leased only under the policy maxTtl, which bounds the lease', async () => {
      const t = await fixtureTokens(as);
      secrets.push(t.access_token, t.refresh_token ?? '');
      await importTokens(lk, { name: 'forever', provider: 'fixture', accessToken: t.access_token, scopes: ['api:read'] });
      const unbounded = await createAgent(lk, { name: 'unbounded', policy: { rules: [{ connections: ['forever'] }], lease: { allowed: true } } });
      const bounded = await createAgent(lk, { name: 'bounded', policy: { rules: [{ connections: ['forever'] }], lease: { allowed: true, maxTtl: '5m' } } });
      const lease = (agentKey: string, body: Record<string, unknown>) =>
        fetch(`${lk.url}/v1/leases`, { method: 'POST', headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

      for (const body of [{ connection: 'forever' }, { connection: 'forever', ttl: '1m' }]) {
        const refused = await lease(unbounded.apiKey, body);
        assert.equal(refused.status, 409);
        const error = (await refused.json()) as { error: string; message: string };
        assert.equal(error.error, 'lease_unbounded', 'an agent-chosen ttl is no bound either');
        assertNoSecrets(error.message, secrets, 'the refusal');
      }
      const denied = await auditEvents(lk, '?action=auth.denied');
      assert.ok(denied.some((e) => e.actor.name === 'unbounded' && e.detail.reason === 'lease_unbounded' && e.connection === 'forever'));
      assert.ok(!((await lk.admin('GET', '/v1/leases')).body as Array<{ agent: string }>).some((l) => l.agent === 'unbounded'), 'no lease row');

      const granted = await lease(bounded.apiKey, { connection: 'forever', ttl: '1h' });
      assert.equal(granted.status, 201);
      assert.equal(granted.headers.get('cache-control'), 'no-store');
      assert.equal(granted.headers.get('pragma'), 'no-cache');
      const body = (await granted.json()) as { leaseId: string; accessToken: string; expiresAt: string; tokenExpiresAt: string | null };
      assert.equal(body.accessToken, t.access_token);
      assert.equal(body.tokenExpiresAt, null, 'the token itself outlives the lease');
      assert.equal(new Date(body.expiresAt).getTime(), clock.now().getTime() + 300_000, 'bounded by maxTtl, not the asked hour');
      const asked = (await (await lease(bounded.apiKey, { connection: 'forever', ttl: '2m' })).json()) as { expiresAt: string };
      assert.equal(new Date(asked.expiresAt).getTime(), clock.now().getTime() + 120_000);

      // The lease ran out; the token did not. Only a rotation ends the agent's copy.
      clock.advance(301_000);
      const { leaseId } = body;
      assert.ok(!((await lk.admin('GET', '/v1/leases')).body as Array<{ id: string }>).some((l) => l.id === leaseId));
      assert.equal((await as.introspect(body.accessToken)).active, true, 'the token outlives the lease');
      const rotated = await lk.admin('DELETE', `/v1/leases/${leaseId}?rotate=true`);
      assert.equal((rotated.body as { revokedAtProvider: boolean }).revokedAtProvider, true, JSON.stringify(rotated.body));
      assert.equal((await as.introspect(body.accessToken)).active, false);
    });

    test('every response carrying a token or key says Cache-Control: no-store', async () => {
      const fx = (await lk.admin('GET', '/v1/connections/fx')).body as { id: string };
      const read = await lk.admin('GET', `/v1/connections/${fx.id}/token`);
      assert.equal(read.status, 200);
      const created = await lk.admin('POST', '/v1/agents', { name: 'cache-check' });
      assert.equal(created.status, 201);
      const key = await lk.admin('POST', '/v1/agents/cache-check/keys');
      assert.equal(key.status, 201);
      const hook = await lk.admin('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'] });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      for (const [what, res] of Object.entries({ read, created, key, hook })) {
        assert.equal(res.headers.get('cache-control'), 'no-store', what);
        assert.equal(res.headers.get('pragma'), 'no-cache', what);
      }
      assert.equal((await lk.admin('GET', '/v1/agents')).headers.get('cache-control'), null, 'only responses with a secret');
    });

    test('the operator can end any lease', async () => {
      const lease = await new Latchkey({ url: lk.url, agentKey: leaser.apiKey }).lease('fx', { ttl: '1m' });
      const res = await lk.admin('DELETE', `/v1/leases/${lease.leaseId}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((res.body as { ended: boolean }).ended, true);
      assertNoSecrets(lk.logs.text(), secrets, 'the logs');
      assertNoSecrets(JSON.stringify((await lk.admin('GET', '/v1/audit?limit=1000')).body), secrets, 'the audit log');
    });

    test('the sealed copy of a leased token is kept while the token lives, then forgotten', async () => {
      const leases = lk.core.store.leases;
      const at = (ms: number): string => new Date(clock.now().getTime() + ms).toISOString();
      const row = (id: string, tokenExpiresAt: string | null) => ({
        id,
        agentId: 'agt_x',
        connectionId: 'conn_x',
        token: 'lk1.sealed',
        scopes: [],
        expiresAt: at(-60_000),
        tokenExpiresAt,
        createdAt: at(-120_000),
        endedAt: null,
      });
      await leases.insert(row('lse_dead', at(-1000)));
      await leases.insert(row('lse_alive', at(60_000)));
      await leases.insert(row('lse_forever', null));
      assert.equal(await leases.forgetExpiredTokens(clock.now().toISOString()), 1);
      assert.equal((await leases.findById('lse_dead'))?.token, null);
      assert.equal((await leases.findById('lse_alive'))?.token, 'lk1.sealed', 'rotate=true may still need it');
      assert.equal((await leases.findById('lse_forever'))?.token, 'lk1.sealed');
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LatchkeyAdmin } from '../src/sdk/index.js';
import { createAgent, importTokens } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';

interface PageBody {
  items: Array<Record<string, unknown>>;
  nextCursor: string | null;
}

const CONNECTIONS = 105;

/** Follows a list page by page; checks the headers against the body on every page. */
async function walk(lk: InProcess, path: string, limit: number, between?: (page: number) => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const seen: Array<Record<string, unknown>> = [];
  const sep = path.includes('?') ? '&' : '?';
  let url = `${path}${sep}limit=${limit}`;
  for (let page = 0; ; page++) {
    const res = await lk.admin('GET', url);
    assert.equal(res.status, 200, `${url}: ${JSON.stringify(res.body)}`);
    const body = res.body as PageBody;
    assert.ok(Array.isArray(body.items), `${url} answers the page object`);
    assert.ok(body.items.length <= limit);
    seen.push(...body.items);
    if (body.nextCursor === null) {
      assert.equal(res.headers.get('latchkey-next-cursor'), null, 'no cursor header on the last page');
      assert.equal(res.headers.get('link'), null, 'no Link header on the last page');
      return seen;
    }
    assert.equal(body.items.length, limit, 'a page before the last is full');
    assert.equal(res.headers.get('latchkey-next-cursor'), body.nextCursor);
    const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '');
    assert.ok(link, `Link header: ${res.headers.get('link')}`);
    const next = new URL(link[1] as string, lk.url);
    assert.equal(next.searchParams.get('cursor'), body.nextCursor);
    assert.equal(next.searchParams.get('limit'), String(limit), 'the Link keeps the query');
    await between?.(page);
    url = `${next.pathname}${next.search}`;
  }
}

function ids(items: Array<Record<string, unknown>>, key = 'id'): string[] {
  return items.map((i) => String(i[key]));
}

for (const backend of BACKENDS) {
  describe(`pagination of every list route (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let drop: () => Promise<void> = async () => {};
    let webhookId = '';

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      // No background refresher: the soon-expiring connections keep their status while the suite runs.
      lk = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' }, ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}) });
      const provider = await lk.admin('POST', '/v1/providers', {
        name: 'p',
        authorizationEndpoint: 'http://127.0.0.1:9/authorize',
        tokenEndpoint: 'http://127.0.0.1:9/token',
        clientId: 'c',
        apiBaseUrl: 'http://127.0.0.1:9',
      });
      assert.equal(provider.status, 201, JSON.stringify(provider.body));
      const expiresAt = new Date(Date.now() + 3600_000).toISOString();
      for (let i = 0; i < CONNECTIONS; i++) {
        await lk.admin('POST', '/v1/connections/import', {
          name: `conn-${String(i).padStart(3, '0')}`,
          provider: 'p',
          subject: i % 3 === 0 ? 'alice' : 'bob',
          accessToken: `at-${i}`,
          // Every fifth expires soon, for the --expiring filter.
          expiresAt: i % 5 === 0 ? new Date(Date.now() + 60_000).toISOString() : expiresAt,
        });
      }
      const leaser = await createAgent(lk, { name: 'agent-00', policy: { rules: [{ connections: ['conn-*'] }], lease: { allowed: true, maxTtl: '1h' } } });
      for (let i = 1; i < 12; i++) await createAgent(lk, { name: `agent-${String(i).padStart(2, '0')}` });
      // Not conn-000 nor conn-005: their tokens expire too soon to lease.
      for (const i of [1, 2, 3, 4, 6, 7, 8]) {
        const res = await fetch(`${lk.url}/v1/leases`, {
          method: 'POST',
          headers: { authorization: `Bearer ${leaser.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ connection: `conn-00${i}`, ttl: `${10 + i}m` }),
        });
        assert.equal(res.status, 201, await res.text());
      }
      for (let i = 0; i < 6; i++) {
        const res = await lk.admin('POST', '/v1/webhooks', { url: `http://127.0.0.1:9/hook-${i}`, events: ['*'] });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        if (i === 0) webhookId = (res.body as { id: string }).id;
      }
      for (let i = 0; i < 7; i++) {
        const res = await lk.admin('POST', '/v1/connect-links', { provider: 'p', subject: `owner-${i}`, name: `linked-${i}` });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
      // Proposals of one agent, each asking for a different path (the same request twice is one proposal).
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${lk.url}/v1/proposals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${leaser.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ connection: 'conn-001', methods: ['GET'], paths: [`/p${i}/**`], reason: `asking ${i}` }),
        });
        assert.equal(res.status, 201, await res.text());
      }
      // Deliveries: every event goes to each webhook; the port answers nobody, so they stay listed.
      for (let i = 0; i < 9; i++) await lk.core.events.emit('connection.revoked', { id: `conn_x${i}`, name: `gone-${i}`, status: 'revoked' });
      const now = new Date().toISOString();
      for (let i = 0; i < 8; i++) {
        await lk.core.store.revocations.insert({
          id: `rvk_${i}`,
          connectionId: `conn_gone${i}`,
          connectionName: `gone-${i}`,
          providerId: 'prv_none',
          clientId: null,
          providerClientId: null,
          tokenTypeHint: 'refresh_token',
          token: null,
          client: null,
          status: i % 2 === 0 ? 'pending' : 'failed',
          attempts: 1,
          nextAttemptAt: '2999-01-01T00:00:00.000Z',
          claimOwner: null,
          claimUntil: null,
          lastError: null,
          // Two jobs share each time: the id breaks the tie.
          createdAt: new Date(Date.parse(now) - Math.floor(i / 2) * 1000).toISOString(),
          updatedAt: now,
          finishedAt: null,
        });
      }
    });

    after(async () => {
      await lk?.close();
      await drop();
    });

    const ROUTES: Array<{ path: string; min: number; key?: string }> = [
      { path: '/v1/connections', min: CONNECTIONS },
      { path: '/v1/agents', min: 12 },
      { path: '/v1/leases', min: 7 },
      { path: '/v1/webhooks', min: 6 },
      { path: '/v1/revocations', min: 8 },
      { path: '/v1/connect-links', min: 7 },
      { path: '/v1/proposals', min: 8 },
      { path: '/v1/audit?cursor=', min: 20 },
    ];

    test('every list route pages through all its items once, in the order of the whole list', async () => {
      for (const route of [...ROUTES, { path: `/v1/webhooks/${webhookId}/deliveries`, min: 9 }]) {
        const whole = await lk.admin('GET', `${route.path}${route.path.includes('?') ? '&' : '?'}limit=1000`);
        assert.equal(whole.status, 200, route.path);
        const all = ids((whole.body as PageBody).items);
        assert.ok(all.length >= route.min, `${route.path}: ${all.length} items`);
        for (const limit of [1, 3, 7]) {
          // The audit log grows with every request and the deliveries with background events
          // (connection.expiring); compare only what existed before the walk.
          const paged = ids(await walk(lk, route.path, limit));
          assert.equal(new Set(paged).size, paged.length, `${route.path} limit=${limit}: no item twice`);
          if (/audit|deliveries/.test(route.path)) assert.deepEqual(paged.filter((id) => all.includes(id)), all, route.path);
          else assert.deepEqual(paged, all, `${route.path} limit=${limit}`);
        }
      }
    });

    test('without limit or cursor a list is the bare array of the first 100, with the next-page headers', async () => {
      const res = await lk.admin('GET', '/v1/connections');
      assert.ok(Array.isArray(res.body));
      assert.equal((res.body as unknown[]).length, 100);
      const cursor = res.headers.get('latchkey-next-cursor');
      assert.ok(cursor);
      const rest = await lk.admin('GET', `/v1/connections?cursor=${cursor}`);
      assert.deepEqual(ids((rest.body as PageBody).items, 'name'), ['conn-100', 'conn-101', 'conn-102', 'conn-103', 'conn-104']);
      assert.equal((rest.body as PageBody).nextCursor, null);
      // The audit log's `limit` predates pagination: it stays a bare array; `cursor` asks for the object.
      const audit = await lk.admin('GET', '/v1/audit?limit=2');
      assert.ok(Array.isArray(audit.body));
      assert.equal((audit.body as unknown[]).length, 2);
      assert.ok(audit.headers.get('latchkey-next-cursor'));
      const first = await lk.admin('GET', '/v1/audit?cursor=&limit=2');
      assert.equal((first.body as PageBody).items.length, 2);
    });

    test('limits are enforced: 0, 1001 and non-numbers are refused with 400', async () => {
      for (const route of [...ROUTES.map((r) => r.path.replace('?cursor=', '')), `/v1/webhooks/${webhookId}/deliveries`]) {
        for (const limit of ['0', '1001', '-1', 'ten', '1e3', '99999999999']) {
          const res = await lk.admin('GET', `${route}?limit=${limit}`);
          assert.equal(res.status, 400, `${route}?limit=${limit}`);
          assert.equal((res.body as { error: string }).error, 'invalid_request');
        }
        assert.equal((await lk.admin('GET', `${route}?limit=1000`)).status, 200, route);
        assert.equal((await lk.admin('GET', `${route}?limit=1`)).status, 200, route);
      }
    });

    test('garbage, tampered and foreign cursors are refused with 400 invalid_request', async () => {
      const page = (await lk.admin('GET', '/v1/connections?limit=2')).body as PageBody;
      const good = page.nextCursor as string;
      const decoded = JSON.parse(Buffer.from(good, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forge = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
      const bad = [
        'zzz',
        'not a cursor',
        '%00',
        `${good}A`,
        forge({ ...decoded, r: 'agents' }),
        forge({ ...decoded, v: 2 }),
        forge({ ...decoded, k: [1] }),
        forge({ ...decoded, k: ['a', 'b'] }),
        forge({ ...decoded, extra: true }),
        forge(['connections']),
        forge('x'.repeat(10)),
        Buffer.from('{not json').toString('base64url'),
        'A'.repeat(3000),
      ];
      for (const cursor of bad) {
        const res = await lk.admin('GET', `/v1/connections?cursor=${encodeURIComponent(cursor)}`);
        assert.equal(res.status, 400, `cursor ${cursor.slice(0, 40)}: ${JSON.stringify(res.body)}`);
        assert.equal((res.body as { error: string }).error, 'invalid_request');
      }
      // A cursor of one list is no cursor of another, nor of another webhook's deliveries.
      assert.equal((await lk.admin('GET', `/v1/agents?cursor=${good}`)).status, 400);
      const deliveries = (await lk.admin('GET', `/v1/webhooks/${webhookId}/deliveries?limit=1`)).body as PageBody;
      const other = ((await lk.admin('GET', '/v1/webhooks?limit=2')).body as PageBody).items[1]?.id as string;
      assert.equal((await lk.admin('GET', `/v1/webhooks/${other}/deliveries?cursor=${deliveries.nextCursor}`)).status, 400);
      const audit = (await lk.admin('GET', '/v1/audit?cursor=&limit=1')).body as PageBody;
      const auditKey = JSON.parse(Buffer.from(audit.nextCursor as string, 'base64url').toString('utf8')) as { k: string[] };
      const forgedAudit = forge({ v: 1, r: 'audit', k: [auditKey.k[0], auditKey.k[1], 'NaN'] });
      assert.equal((await lk.admin('GET', `/v1/audit?cursor=${forgedAudit}`)).status, 400);
    });

    test('stable under concurrent inserts and deletes: every item there from start to end is seen exactly once', async () => {
      const before = ids(await walk(lk, '/v1/connections', 1000), 'name');
      let n = 0;
      const paged = ids(
        await walk(lk, '/v1/connections', 10, async () => {
          // Names before and after the cursor, and one in the middle of the page to come.
          for (const name of [`aaa-${n}`, `conn-05${n}x`, `zzz-${n}`]) await importTokens(lk, { name, provider: 'p', accessToken: `late-${n}` });
          n++;
        }),
        'name',
      );
      assert.equal(new Set(paged).size, paged.length, 'no connection twice');
      for (const name of before) assert.ok(paged.includes(name), `${name} was seen`);
      assert.deepEqual([...paged].sort(), paged, 'in name order');
      for (let i = 0; i < n; i++) {
        for (const name of [`aaa-${i}`, `conn-05${i}x`, `zzz-${i}`]) assert.equal((await lk.admin('DELETE', `/v1/connections/${name}`)).status, 200);
      }
    });

    test('filters run with the pages: subject, status, expiring', async () => {
      const alice = ids(await walk(lk, '/v1/connections?subject=alice', 4), 'name');
      assert.equal(alice.length, Math.ceil(CONNECTIONS / 3));
      assert.ok(alice.every((name) => Number(name.slice(5)) % 3 === 0));
      const expiring = ids(await walk(lk, '/v1/connections?expiringWithin=10m', 5), 'name');
      assert.equal(expiring.length, CONNECTIONS / 5);
      assert.equal(ids(await walk(lk, '/v1/connections?status=active&provider=p', 50), 'name').length, CONNECTIONS);
      assert.equal(ids(await walk(lk, '/v1/revocations?status=pending', 3)).length, 4);
    });

    test('the CLI follows the pages as it prints (table and --json)', async () => {
      const env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
      const json = await runCli(['--json', 'connections', 'list'], env);
      assert.equal(json.code, 0, json.stderr);
      const listed = JSON.parse(json.stdout) as Array<{ name: string }>;
      assert.equal(listed.length, CONNECTIONS, 'more than the first page of 100');
      assert.deepEqual(listed[104]?.name, 'conn-104');
      const table = await runCli(['connections', 'list', '--subject', 'alice'], env);
      assert.equal(table.code, 0, table.stderr);
      assert.equal(table.stdout.trim().split('\n').length, 1 + Math.ceil(CONNECTIONS / 3));
      const agents = await runCli(['--json', 'agents', 'list'], env);
      assert.equal((JSON.parse(agents.stdout) as unknown[]).length, 12);
      const none = await runCli(['--json', 'connections', 'list', '--subject', 'nobody'], env);
      assert.deepEqual(JSON.parse(none.stdout), []);
      // `audit --limit` above a page follows the pages; below, it stops where it is told.
      const three = await runCli(['--json', 'audit', '--limit', '3'], env);
      assert.equal((JSON.parse(three.stdout) as unknown[]).length, 3);
      const many = await runCli(['--json', 'audit', '--limit', '1500', '--action', 'connection.create'], env);
      assert.equal(many.code, 0, many.stderr);
      assert.ok((JSON.parse(many.stdout) as unknown[]).length >= CONNECTIONS);
    });

    test('the SDK iterates over every page; the CLI-facing list stays one call', async () => {
      const admin = new LatchkeyAdmin({ url: lk.url, adminToken: ADMIN });
      const names: string[] = [];
      for await (const c of admin.connections.iterate({ subject: 'bob' }, { limit: 9 })) names.push(c.name);
      assert.equal(names.length, CONNECTIONS - Math.ceil(CONNECTIONS / 3));
      const page = await admin.connections.page({ limit: 2 });
      assert.equal(page.items.length, 2);
      assert.ok(page.nextCursor);
      const agents: string[] = [];
      for await (const a of admin.agents.iterate({ limit: 5 })) agents.push(a.name);
      assert.equal(agents.length, 12);
      let webhooks = 0;
      for await (const w of admin.webhooks.iterate({ limit: 4 })) webhooks += w.id === '' ? 0 : 1;
      assert.equal(webhooks, 6);
      let leases = 0;
      for await (const l of admin.leases.iterate({ limit: 2 })) leases += l.id === '' ? 0 : 1;
      assert.equal(leases, 7);
      let revocations = 0;
      for await (const r of admin.revocations.iterate({ status: 'failed' }, { limit: 3 })) revocations += r.status === 'failed' ? 1 : 0;
      assert.equal(revocations, 4);
      // Every event since (the deletes above, connection.expiring in the background) went to each webhook.
      const deliveryCount = async (): Promise<number> =>
        ((await lk.admin('GET', `/v1/webhooks/${webhookId}/deliveries?limit=1000`)).body as PageBody).items.length;
      const fewest = await deliveryCount();
      let deliveries = 0;
      for await (const d of admin.webhooks.iterateDeliveries(webhookId, { limit: 4 })) deliveries += d.id === '' ? 0 : 1;
      assert.ok(deliveries >= Math.max(fewest, 9) && deliveries <= (await deliveryCount()), `${deliveries} deliveries`);
      let audit = 0;
      for await (const e of admin.audit.iterate({ action: 'agent.create' }, { limit: 5 })) audit += e.action === 'agent.create' ? 1 : 0;
      assert.equal(audit, 12);
    });
  });
}

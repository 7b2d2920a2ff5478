import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { auditLog, type AuditLog } from '../src/audit/index.js';
import { systemClock } from '../src/clock.js';
import { createLogger } from '../src/log.js';
import { openMigratedStore, type Store } from '../src/store/index.js';
import { createAgent, importTokens, json, rawRequest, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';

const silent = createLogger('silent');

async function addEvents(log: AuditLog, n: number, tag: string): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      log.record({ actor: { type: 'agent', id: 'agt_x', name: 'x' }, action: 'proxy.request', connection: 'c', outcome: 'success', status: 200, detail: { i, tag } }),
    ),
  );
}

/** Disables inserts into audit_events the way a broken or full audit device would. */
async function breakAuditTable(store: Store): Promise<void> {
  if (store.db.dialect === 'sqlite') {
    await sql`create trigger audit_off before insert on audit_events begin select raise(abort, 'audit device unavailable'); end`.execute(store.db.kysely);
  } else {
    await sql`create function audit_off() returns trigger language plpgsql as $$ begin raise exception 'audit device unavailable'; end $$`.execute(store.db.kysely);
    await sql`create trigger audit_off before insert on audit_events for each row execute function audit_off()`.execute(store.db.kysely);
  }
}

async function repairAuditTable(store: Store): Promise<void> {
  await sql`drop trigger audit_off${store.db.dialect === 'postgres' ? sql` on audit_events` : sql``}`.execute(store.db.kysely);
}

for (const backend of BACKENDS) {
  describe(`audit hash chain (${backend.name})`, { skip: backend.skip }, () => {
    let store: Store;
    let drop: () => Promise<void> = async () => {};
    let log: AuditLog;
    let batches = 0;

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      store = await openMigratedStore({ dataDir: mkdtempSync(join(tmpdir(), 'latchkey-audit-')), databaseUrl: db.databaseUrl });
      const counted = { ...store.audit, appendBatch: (...args: Parameters<Store['audit']['appendBatch']>) => ((batches += 1), store.audit.appendBatch(...args)) };
      log = auditLog({ store: counted, clock: systemClock, logger: silent });
    });

    after(async () => {
      await store?.close();
      await drop();
    });

    test('concurrent events are written in a few group commits and verify', async () => {
      await addEvents(log, 200, 'a');
      assert.ok(batches <= 3, `200 concurrent events took ${batches} transactions`);
      // A second writer (another process or replica) keeps its own chain.
      const other = auditLog({ store: store.audit, clock: systemClock, logger: silent });
      await Promise.all([addEvents(log, 20, 'b'), addEvents(other, 20, 'c')]);
      assert.notEqual(other.chainId, log.chainId);
      assert.deepEqual(await log.verify(), { ok: true, events: 240 });
    });

    test('an edited event fails verification at that event, even with its hash recomputed', async () => {
      const target = (await store.audit.page(log.chainId, 9, 1))[0]!;
      await sql`update audit_events set detail = ${'{"i":999}'} where id = ${target.id}`.execute(store.db.kysely);
      const edited = await log.verify();
      assert.equal(edited.ok, false);
      assert.ok(!edited.ok && edited.broken.id === target.id && edited.broken.seq === 10, JSON.stringify(edited));
      await sql`update audit_events set detail = ${target.detail} where id = ${target.id}`.execute(store.db.kysely);
      assert.equal((await log.verify()).ok, true);

      // Rewriting the hash as well only moves the break to the next link.
      const { hashEvent } = await import('../src/audit/index.js');
      const forged = { ...target, detail: '{"i":999}' };
      const { hash: _old, ...rest } = forged;
      await sql`update audit_events set detail = ${forged.detail}, hash = ${hashEvent(rest)} where id = ${target.id}`.execute(store.db.kysely);
      const rehashed = await log.verify();
      assert.ok(!rehashed.ok && rehashed.broken.seq === 11, JSON.stringify(rehashed));
      await sql`update audit_events set detail = ${target.detail}, hash = ${target.hash} where id = ${target.id}`.execute(store.db.kysely);
    });

    test('a deleted event fails verification where it was; so does a deleted newest event', async () => {
      const target = (await store.audit.page(log.chainId, 19, 1))[0]!;
      await sql`delete from audit_events where id = ${target.id}`.execute(store.db.kysely);
      const deleted = await log.verify();
      assert.ok(!deleted.ok && deleted.broken.seq === 20 && deleted.broken.chainId === log.chainId, JSON.stringify(deleted));
      await store.db.kysely.insertInto('auditEvents').values(target).execute();
      assert.equal((await log.verify()).ok, true);

      const last = (await store.audit.page(log.chainId, 219, 1))[0]!;
      assert.equal(last.seq, 220);
      await sql`delete from audit_events where id = ${last.id}`.execute(store.db.kysely);
      const truncated = await log.verify();
      assert.ok(!truncated.ok && truncated.broken.seq === 220, JSON.stringify(truncated));
      await store.db.kysely.insertInto('auditEvents').values(last).execute();
    });

    test('when the table cannot be written the events are refused, and the chain continues afterwards', async () => {
      await breakAuditTable(store);
      await assert.rejects(addEvents(log, 5, 'lost'), (err: unknown) => (err as { code?: string }).code === 'audit_unavailable');
      await repairAuditTable(store);
      await addEvents(log, 5, 'd');
      assert.deepEqual(await log.verify(), { ok: true, events: 245 });
    });
  });

  describe(`audit through the server (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let api: FakeApi;
    let agentKey: string;
    let drop: () => Promise<void> = async () => {};

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      lk = await startInProcess(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {});
      api = await startFakeApi();
      const p = await lk.admin('POST', '/v1/providers', { name: 'api', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url });
      assert.equal(p.status, 201);
      await importTokens(lk, { name: 'api', provider: 'api', accessToken: 'audit-provider-token-0123456789' });
      agentKey = (await createAgent(lk, { name: 'audited', policy: { rules: [{ connections: ['api'] }] } })).apiKey;
    });

    after(async () => {
      await lk?.close();
      await api?.close();
      await drop();
    });

    test('with the audit table unwritable a proxy request fails with 503 and nothing goes upstream', async () => {
      const ok = await rawRequest(lk.url, { path: '/v1/proxy/api/x', headers: { authorization: `Bearer ${agentKey}` } });
      assert.equal(ok.status, 200);
      const seen = api.seen.length;
      await breakAuditTable(lk.core.store);
      try {
        const res = await rawRequest(lk.url, { path: '/v1/proxy/api/x', headers: { authorization: `Bearer ${agentKey}` } });
        assert.equal(res.status, 503, res.body);
        assert.equal(json(res.body).error, 'audit_unavailable');
        assert.equal(api.seen.length, seen, 'no upstream call');
        const agent = await lk.admin('POST', '/v1/agents', { name: 'unaudited' });
        assert.equal(agent.status, 503, 'admin changes fail too when they cannot be audited');
        assert.equal(json(JSON.stringify(agent.body)).error, 'audit_unavailable');
        const provider = await lk.admin('POST', '/v1/providers', { name: 'unaudited', preset: 'github' });
        assert.equal(provider.status, 503);
      } finally {
        await repairAuditTable(lk.core.store);
      }
      // Refused before the handler ran: nothing was changed without a record.
      assert.equal((await lk.admin('GET', '/v1/agents/unaudited')).status, 404);
      assert.equal((await lk.admin('GET', '/v1/providers/unaudited')).status, 404);
      const again = await rawRequest(lk.url, { path: '/v1/proxy/api/x', headers: { authorization: `Bearer ${agentKey}` } });
      assert.equal(again.status, 200);
    });

    test('GET /v1/audit/verify and `latchkey audit verify` detect an edited event', async () => {
      const intact = await lk.admin('GET', '/v1/audit/verify');
      assert.equal((intact.body as { ok: boolean }).ok, true, JSON.stringify(intact.body));
      const env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
      const good = await runCli(['audit', 'verify'], env);
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /intact/);

      const [event] = (await lk.admin('GET', '/v1/audit?action=proxy.request&limit=1')).body as Array<{ id: string }>;
      assert.ok(event);
      await sql`update audit_events set status = 201 where id = ${event.id}`.execute(lk.core.store.db.kysely);
      const broken = await lk.admin('GET', '/v1/audit/verify');
      const body = broken.body as { ok: boolean; broken: { id: string } };
      assert.equal(body.ok, false);
      assert.equal(body.broken.id, event.id);
      const bad = await runCli(['audit', 'verify'], env);
      assert.equal(bad.code, 1);
      assert.ok(bad.stderr.includes(event.id), bad.stderr);
      const listed = await runCli(['audit', '--agent', 'audited'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /proxy\.request/);
    });
  });
}

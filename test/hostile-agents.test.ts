import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { POISONED_ACTION, auditLog } from '../src/audit/index.js';
import { systemClock } from '../src/clock.js';
import { createLogger } from '../src/log.js';
import { openDb, openMigratedStore, type Db } from '../src/store/index.js';
import { adminClient, type AdminCall } from './helpers/admin-client.js';
import { rawRequest, startFakeApi, type AuditEventBody, type FakeApi } from './helpers/broker-setup.js';
import { startLatchkey, type LatchkeyProcess } from './helpers/latchkey-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';

/** Makes the database refuse any audit block whose events hold every one of `needles`, as a database refuses data it cannot store. */
async function refuseBlocksHolding(db: Db, name: string, needles: string[]): Promise<() => Promise<void>> {
  const quoted = needles.map((n) => `'${n.replaceAll("'", "''")}'`);
  if (db.dialect === 'sqlite') {
    const when = quoted.map((q) => `instr(new.events, ${q}) > 0`).join(' and ');
    await sql.raw(`create trigger ${name} before insert on audit_blocks when ${when} begin select raise(abort, 'refused'); end`).execute(db.kysely);
    return async () => void (await sql.raw(`drop trigger ${name}`).execute(db.kysely));
  }
  const when = quoted.map((q) => `strpos(new.events, ${q}) > 0`).join(' and ');
  await sql.raw(`create or replace function ${name}() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$`).execute(db.kysely);
  await sql.raw(`create trigger ${name} before insert on audit_blocks for each row when (${when}) execute function ${name}()`).execute(db.kysely);
  return async () => void (await sql.raw(`drop trigger ${name} on audit_blocks`).execute(db.kysely));
}

const get = (url: string, key: string): Promise<Response> => fetch(url, { headers: { authorization: `Bearer ${key}` } });

/** Many requests from the well-behaved agents at once; every status they got. */
async function goodTraffic(proc: LatchkeyProcess, keys: string[], rounds: number): Promise<number[]> {
  const statuses: number[] = [];
  await Promise.all(
    keys.map(async (key) => {
      for (let i = 0; i < rounds; i += 1) {
        const res = await get(`${proc.url}/v1/proxy/api/ok?i=${i}`, key);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }),
  );
  return statuses;
}

for (const backend of BACKENDS) {
  describe(`a hostile agent cannot stop the server or fail other agents' requests (${backend.name})`, { skip: backend.skip }, () => {
    let proc: LatchkeyProcess;
    let admin: AdminCall;
    let api: FakeApi;
    let db: Db;
    let hostile: string;
    const good: string[] = [];
    let drop: () => Promise<void> = async () => {};

    before(async () => {
      const database = await backend.open();
      drop = database.drop;
      const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-hostile-'));
      proc = await startLatchkey({
        dataDir,
        env: { LATCHKEY_ALLOW_HTTP_LOOPBACK: '1', LATCHKEY_LOG_LEVEL: 'warn', ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}) },
      });
      db = await openDb({ dataDir, databaseUrl: database.databaseUrl });
      admin = adminClient(proc.url, proc.adminToken);
      api = await startFakeApi();
      assert.equal((await admin('POST', '/v1/providers', { name: 'api', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url })).status, 201);
      const expiresAt = new Date(Date.now() + 3600_000).toISOString();
      assert.equal((await admin('POST', '/v1/connections/import', { name: 'api', provider: 'api', accessToken: 'hostile-test-token-0123456789', expiresAt })).status, 201);
      const agent = async (name: string, policy: unknown): Promise<string> => {
        const res = await admin('POST', '/v1/agents', { name, policy });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return (res.body as { apiKey: string }).apiKey;
      };
      hostile = await agent('hostile', { rules: [{ connections: ['*'] }], lease: { allowed: true, maxTtl: '15m' } });
      good.push(await agent('good-1', { rules: [{ connections: ['api'] }] }), await agent('good-2', { rules: [{ connections: ['api'] }] }));
    });

    after(async () => {
      await proc?.stop();
      await db?.close();
      await api?.close();
      await drop();
    });

    const alive = async (): Promise<void> => {
      assert.equal(proc.child.exitCode, null, `the server exited:\n${proc.output()}`);
      assert.equal((await get(`${proc.url}/v1/proxy/api/ok`, good[0] as string)).status, 200);
    };

    test('NUL, lone surrogates, control characters, invalid UTF-8 and a 15,000-character name are refused with 400, while other agents are served', async () => {
      const bodies: Array<string | Buffer> = [
        '{"connection":"a\\u0000b"}',
        '{"connection":"a\\ud800b"}',
        '{"connection":"a\\u001b[2Jb"}',
        '{"connection":"a\\nb"}',
        JSON.stringify({ connection: 'x'.repeat(15_000) }),
        Buffer.concat([Buffer.from('{"connection":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]),
      ];
      const hostileStatuses: Array<{ status: number; error: string }> = [];
      const attack = (async () => {
        for (let round = 0; round < 10; round += 1) {
          for (const body of bodies) {
            const res = await fetch(`${proc.url}/v1/leases`, {
              method: 'POST',
              headers: { authorization: `Bearer ${hostile}`, 'content-type': 'application/json' },
              body,
            });
            hostileStatuses.push({ status: res.status, error: ((await res.json()) as { error: string }).error });
          }
          for (const path of ['/v1/proxy/a%00b/x', '/v1/proxy/a%ffb/x', '/v1/proxy/a%0ab/x', `/v1/proxy/${'y'.repeat(15_000)}/x`]) {
            const res = await rawRequest(proc.url, { path, headers: { authorization: `Bearer ${hostile}` } });
            hostileStatuses.push({ status: res.status, error: (JSON.parse(res.body) as { error: string }).error });
          }
        }
      })();
      const [statuses] = await Promise.all([goodTraffic(proc, good, 30), attack]);
      assert.deepEqual(new Set(hostileStatuses.map((s) => `${s.status} ${s.error}`)), new Set(['400 invalid_request']));
      assert.deepEqual(new Set(statuses), new Set([200]), 'every request of the other agents succeeded');
      await alive();
      // Nothing of it reached the audit log or the leases.
      assert.equal(((await admin('GET', '/v1/leases')).body as unknown[]).length, 0);
      assert.equal(((await admin('GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);
    });

    test('a block the database refuses is split: only the event it cannot take fails its request, and an encoded copy is kept', async () => {
      const allow = await refuseBlocksHolding(db, 'refuse_poison', ['poison-conn']);
      let hostileStatuses: number[] = [];
      let statuses: number[] = [];
      try {
        const attack = Promise.all(
          Array.from({ length: 10 }, async () => {
            const res = await get(`${proc.url}/v1/proxy/poison-conn/x`, hostile);
            assert.equal(((await res.json()) as { error: string }).error, 'audit_unavailable');
            return res.status;
          }),
        );
        [statuses, hostileStatuses] = await Promise.all([goodTraffic(proc, good, 20), attack]);
      } finally {
        await allow();
      }
      assert.deepEqual(new Set(hostileStatuses), new Set([503]), 'the request whose own event cannot be written fails closed');
      assert.deepEqual(new Set(statuses), new Set([200]), "the other agents' requests in the same blocks succeeded");
      await alive();
      const poisoned = (await admin('GET', `/v1/audit?action=${POISONED_ACTION}&limit=100`)).body as AuditEventBody[];
      assert.equal(poisoned.length, 10, 'each refused event is on record, encoded');
      for (const event of poisoned) {
        assert.equal(event.detail.poisoned, true);
        const original = JSON.parse(Buffer.from(String(event.detail.original), 'base64').toString()) as { actor: { name: string }; action: string; connection: string };
        assert.deepEqual([original.actor.name, original.action, original.connection], ['hostile', 'auth.denied', 'poison-conn']);
      }
      assert.equal(((await admin('GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);
    });

    test("an outcome event that cannot be written after the upstream answered fails that request alone; the process stays up", async () => {
      const allow = await refuseBlocksHolding(db, 'refuse_late', ['"action":"proxy.request"', '/late-fail']);
      const seen = api.seen.length;
      try {
        const [late, statuses] = await Promise.all([
          rawRequest(proc.url, { path: '/v1/proxy/api/late-fail', headers: { authorization: `Bearer ${good[0] as string}` } }),
          goodTraffic(proc, good, 10),
        ]);
        assert.equal(late.status, 503, late.body);
        assert.equal((JSON.parse(late.body) as { error: string }).error, 'audit_unavailable');
        assert.ok(api.seen.slice(seen).some((s) => s.url === '/late-fail'), 'the upstream had answered');
        assert.deepEqual(new Set(statuses), new Set([200]));
        await alive();
      } finally {
        await allow();
      }
      await alive();
    });
  });

  describe(`audit search keys hold what a database cannot store as text (${backend.name})`, { skip: backend.skip }, () => {
    test('an event whose connection holds NUL, a lone surrogate or a line break is stored, found by its connection and verifies', async () => {
      const database = await backend.open();
      const store = await openMigratedStore({ dataDir: mkdtempSync(join(tmpdir(), 'latchkey-keys-')), databaseUrl: database.databaseUrl });
      try {
        const log = auditLog({ store: store.audit, clock: systemClock, logger: createLogger('silent') });
        const names = ['nul\u0000name', 'lone\ud800surrogate', 'line\nc:forged', 'plain'];
        await Promise.all(names.map((connection) => log.record({ actor: { type: 'system', id: null, name: 'test' }, action: 'test.keys', connection, outcome: 'success' })));
        for (const connection of names) assert.deepEqual((await log.list({ connection })).map((e) => e.connection), [connection]);
        assert.deepEqual(await log.verify(), { ok: true, events: names.length });
      } finally {
        await store.close();
        await database.drop();
      }
    });
  });
}

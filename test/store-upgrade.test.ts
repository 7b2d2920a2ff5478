import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { auditLog } from '../src/audit/index.js';
import { ManualClock } from '../src/clock.js';
import { createLogger } from '../src/log.js';
import { isUniqueViolation, migrate, openStore, type Store } from '../src/store/index.js';
import { MIGRATIONS } from '../src/store/migrations/index.js';
import { legacyAuditRows } from './helpers/legacy-audit.js';
import { BACKENDS } from './helpers/oauth-flows.js';

/** The last migration of the first release: a database users already have. */
const FIRST_RELEASE = '0004_agents_audit';
const NOW = '2026-01-01T00:00:00.000Z';

// A database made by the first release, with data in it, brought up to date as `latchkey serve` does.
for (const backend of BACKENDS) {
  describe(`upgrading a first-release database (${backend.name})`, { skip: backend.skip }, () => {
    let store: Store;
    let drop: () => Promise<void> = async () => {};
    const chainId = 'chn_firstrelease00000000000';

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'latchkey-upgrade-')), databaseUrl: db.databaseUrl });
      const migrator = new Migrator({ db: store.db.kysely, provider: { getMigrations: async () => MIGRATIONS } });
      const { error } = await migrator.migrateTo(FIRST_RELEASE);
      assert.equal(error, undefined);

      // Written with the first release's columns only.
      const k = store.db.kysely;
      await sql`insert into providers (id, name, display_name, token_endpoint, token_endpoint_auth_method, scopes, pkce, authorize_params, allowed_hosts, capabilities, quirks, iss_parameter_supported, created_at, updated_at)
        values ('prv_old', 'old', 'Old', 'https://idp.example/token', 'client_secret_basic', '[]', 1, '{}', '[]', '[]', '{}', 0, ${NOW}, ${NOW})`.execute(k);
      await sql`insert into connections (id, name, provider_id, environment, grant_type, status, scopes, metadata, version, failure_count, created_at, updated_at)
        values ('conn_old', 'old-conn', 'prv_old', 'default', 'imported', 'active', '["a"]', '{}', 0, 0, ${NOW}, ${NOW})`.execute(k);
      // audit_events is as 0004 made it; audit_chains gains columns later, so its row goes in by hand.
      const { rows, lastHash } = legacyAuditRows(chainId, 3, (seq) => ({
        at: `2020-01-01T00:00:0${seq}.000Z`,
        actorType: 'admin',
        actorId: null,
        actorName: 'admin',
        action: 'provider.create',
        connection: null,
        outcome: 'success',
        status: null,
        detail: '{}',
      }));
      await k.insertInto('auditEvents').values(rows).execute();
      await sql`insert into audit_chains (id, started_at, last_seq, last_hash) values (${chainId}, '2020-01-01T00:00:00.000Z', 3, ${lastHash})`.execute(k);

      await migrate(store.db);
    });

    after(async () => {
      await store?.close();
      await drop();
    });

    test('rows written before keep their values; new columns take their defaults', async () => {
      const connection = await store.connections.findById('conn_old');
      assert.equal(connection?.name, 'old-conn');
      assert.deepEqual(connection?.scopes, ['a']);
      assert.equal(connection?.apiBaseUrl, null);
      const [chain] = await store.audit.chains();
      assert.deepEqual(
        chain && [chain.lastBlock, chain.anchorBlock, chain.anchorSeq, chain.anchorHash],
        [0, 0, 0, null],
      );
    });

    test('connections from before 0010 use their provider\'s default client; a provider can gain others', async () => {
      assert.equal((await store.connections.findById('conn_old'))?.providerClientId, null);
      const client = { providerId: 'prv_old', clientId: 'tenant-app', clientSecret: null, tokenEndpointAuthMethod: 'none', createdAt: NOW, integrity: null };
      await store.providerClients.insert({ id: 'pcl_upgrade1', ...client });
      await assert.rejects(store.providerClients.insert({ id: 'pcl_upgrade2', ...client }), isUniqueViolation);
      assert.deepEqual([...(await store.connections.countByProviderClient('prv_old'))], [[null, 1]]);
    });

    test('the old audit chain verifies, is listed beside new events, and can be pruned', async () => {
      const clock = new ManualClock(Date.parse(NOW));
      const log = auditLog({ store: store.audit, clock, logger: createLogger('silent') });
      assert.deepEqual(await log.verify(), { ok: true, events: 3 });
      await log.admin('provider.update', {});
      assert.deepEqual(await log.verify(), { ok: true, events: 4 });
      assert.deepEqual(
        (await log.list({ agent: 'admin' })).map((e) => e.action),
        ['provider.update', 'provider.create', 'provider.create', 'provider.create'],
      );
      const pruned = await log.prune('2021-01-01T00:00:00.000Z');
      assert.deepEqual([pruned.events, pruned.chains], [3, 1]);
      // The three old events went; the new one and the prune's own record stayed.
      assert.deepEqual(await log.verify(), { ok: true, events: 2 });
    });
  });
}

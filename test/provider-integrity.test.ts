import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/store/index.js';
import { auditEvents, createAgent, importTokens, rawRequest, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';

const FUTURE = '2099-01-01T00:00:00.000Z';

/** The provider's real token endpoint and API: answers refreshes and API calls. */
function legitimateHandler(): Parameters<typeof startFakeApi>[0] {
  return (req, res) => {
    if (req.url === '/token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'at-fresh', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-fresh' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  };
}

for (const backend of BACKENDS) {
  describe(`provider integrity: a database writer cannot redirect tokens (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let legit: FakeApi;
    let attacker: FakeApi;
    let writer: Store;
    let agentKey: string;
    let databaseUrl: string | undefined;
    let dataDir: string;
    let drop: () => Promise<void> = async () => {};

    before(async () => {
      const db = await backend.open();
      databaseUrl = db.databaseUrl;
      drop = db.drop;
      dataDir = mkdtempSync(join(tmpdir(), 'latchkey-integrity-'));
      legit = await startFakeApi(legitimateHandler());
      attacker = await startFakeApi(legitimateHandler());
      lk = await startInProcess({ dataDir, ...(databaseUrl === undefined ? {} : { databaseUrl }) });
      // The attacker: write access to the database, not to the master key.
      writer = await openStore({ dataDir, databaseUrl });
      agentKey = (await createAgent(lk, { name: 'bot', policy: { rules: [{ connections: ['*'] }] } })).apiKey;
    });

    after(async () => {
      await writer?.close();
      await lk?.close();
      await legit?.close();
      await attacker?.close();
      await drop();
    });

    /** A fresh provider and connection per case, so no cache has seen either. */
    async function provider(name: string): Promise<void> {
      const res = await lk.admin('POST', '/v1/providers', {
        name,
        authorizationEndpoint: `${legit.url}/authorize`,
        tokenEndpoint: `${legit.url}/token`,
        clientId: 'latchkey-app',
        clientSecret: 'app-secret',
        apiBaseUrl: legit.url,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await importTokens(lk, { name: `${name}-conn`, provider: name, accessToken: `at-${name}`, refreshToken: `rt-${name}`, expiresAt: FUTURE });
    }

    function proxy(connection: string, headers: Record<string, string> = {}) {
      return rawRequest(lk.url, { path: `/v1/proxy/${connection}/api/x`, headers: { authorization: `Bearer ${agentKey}`, ...headers } });
    }

    function assertRefused(res: { status: number; body: unknown }, name: string): void {
      const body = (typeof res.body === 'string' ? JSON.parse(res.body) : res.body) as { error: string; message: string };
      assert.equal(res.status, 500, JSON.stringify(body));
      assert.equal(body.error, 'internal_error');
      assert.match(body.message, new RegExp(`provider "${name}" failed its integrity check: its configuration was changed outside Latchkey`));
      assert.equal(attacker.seen.length, 0, 'nothing reached the attacker');
    }

    test('a changed tokenEndpoint: the next refresh is refused and no refresh token leaves', async () => {
      await provider('te');
      await writer.db.kysely.updateTable('providers').set({ tokenEndpoint: `${attacker.url}/token` }).where('name', '=', 'te').execute();
      assertRefused(await lk.admin('POST', '/v1/connections/te-conn/refresh'), 'te');
      assert.ok(lk.logs.text().includes('a provider failed its integrity check'), 'an error is logged');
      const events = await auditEvents(lk, '?action=provider.integrity_failed');
      assert.ok(events.some((e) => e.detail.provider === 'te' && e.outcome === 'failure'), JSON.stringify(events));
    });

    test('a changed quirks.refreshEndpoint: the next refresh is refused', async () => {
      await provider('qr');
      await writer.db.kysely
        .updateTable('providers')
        .set({ quirks: JSON.stringify({ refreshEndpoint: `${attacker.url}/steal` }) })
        .where('name', '=', 'qr')
        .execute();
      assertRefused(await lk.admin('POST', '/v1/connections/qr-conn/refresh'), 'qr');
    });

    test('a changed apiBaseUrl: the next proxied request is refused and the access token stays', async () => {
      await provider('ab');
      await writer.db.kysely.updateTable('providers').set({ apiBaseUrl: attacker.url }).where('name', '=', 'ab').execute();
      const res = await proxy('ab-conn');
      assertRefused({ status: res.status, body: res.body }, 'ab');
    });

    test('a widened allowedHosts: a request for the added host is refused', async () => {
      await provider('ah');
      await writer.db.kysely
        .updateTable('providers')
        .set({ allowedHosts: JSON.stringify([attacker.host]) })
        .where('name', '=', 'ah')
        .execute();
      const res = await proxy('ah-conn', { 'latchkey-base-url': attacker.url });
      assertRefused({ status: res.status, body: res.body }, 'ah');
    });

    test('a NULL integrity (a row written outside Latchkey) is a failure, and restoring the row heals it', async () => {
      await provider('nul');
      const saved = await writer.db.kysely.selectFrom('providers').select('integrity').where('name', '=', 'nul').executeTakeFirstOrThrow();
      await writer.db.kysely.updateTable('providers').set({ integrity: null }).where('name', '=', 'nul').execute();
      assertRefused(await lk.admin('POST', '/v1/connections/nul-conn/refresh'), 'nul');
      await writer.db.kysely.updateTable('providers').set({ integrity: saved.integrity }).where('name', '=', 'nul').execute();
      assert.equal((await lk.admin('POST', '/v1/connections/nul-conn/refresh')).status, 200);
    });

    test('a row MAC\'d for another provider does not fit this one', async () => {
      await provider('swap-a');
      await provider('swap-b');
      const a = await writer.db.kysely.selectFrom('providers').selectAll().where('name', '=', 'swap-a').executeTakeFirstOrThrow();
      // The MAC binds the provider's id and name: one copied from another row does not fit.
      await writer.db.kysely.updateTable('providers').set({ integrity: a.integrity }).where('name', '=', 'swap-b').execute();
      assertRefused(await lk.admin('POST', '/v1/connections/swap-b-conn/refresh'), 'swap-b');
    });

    test('a changed provider client (another OAuth client of the provider) is refused', async () => {
      await provider('pc');
      const imported = await lk.admin('POST', '/v1/connections/import', {
        name: 'pc-tenant',
        provider: 'pc',
        refreshToken: 'rt-tenant',
        clientId: 'tenant-app',
        clientSecret: 'tenant-secret',
      });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      await writer.db.kysely.updateTable('providerClients').set({ tokenEndpointAuthMethod: 'client_secret_post' }).where('clientId', '=', 'tenant-app').execute();
      const res = await lk.admin('POST', '/v1/connections/pc-tenant/refresh');
      assert.equal(res.status, 500, JSON.stringify(res.body));
      assert.match((res.body as { message: string }).message, /provider client "pc\/pcl_\w+" failed its integrity check/);
    });

    test('changes through the API keep working: PATCH, client change, refresh and proxy', async () => {
      await provider('ok');
      const patched = await lk.admin('PATCH', '/v1/providers/ok', { displayName: 'OK', allowedHosts: ['api.example.com'], quirks: { rotatesRefreshTokens: true } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal((await lk.admin('PATCH', '/v1/providers/ok', { clientSecret: 'new-secret' })).status, 200);
      const before = legit.seen.length;
      assert.equal((await lk.admin('POST', '/v1/connections/ok-conn/refresh')).status, 200);
      assert.ok(legit.seen.slice(before).some((s) => s.url === '/token'), 'the refresh went to the real token endpoint');
      assert.equal((await proxy('ok-conn')).status, 200);
      assert.equal(attacker.seen.length, 0);
    });

    test('deleting is the way out for a provider that failed its check', async () => {
      await provider('del');
      await writer.db.kysely.updateTable('providers').set({ tokenEndpoint: `${attacker.url}/token` }).where('name', '=', 'del').execute();
      assert.equal((await lk.admin('DELETE', '/v1/providers/del?force=true')).status, 200);
      assert.equal((await lk.admin('GET', '/v1/providers/del')).status, 404);
    });
  });

  describe(`provider integrity: URL-valued quirks are validated (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let drop: () => Promise<void> = async () => {};

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      lk = await startInProcess(db.databaseUrl === undefined ? {} : { databaseUrl: db.databaseUrl });
    });

    after(async () => {
      await lk?.close();
      await drop();
    });

    const base = { tokenEndpoint: 'https://idp.example.com/token', apiBaseUrl: 'https://api.example.com' };

    for (const [i, [label, quirks, pattern]] of ([
      ['a javascript: refreshEndpoint', { refreshEndpoint: 'javascript:alert(1)' }, /quirks\.refreshEndpoint must be an https URL/],
      ['an http refreshEndpoint off loopback', { refreshEndpoint: 'http://attacker.example/refresh' }, /quirks\.refreshEndpoint must be an https URL/],
      ['a refreshEndpoint with credentials', { refreshEndpoint: 'https://u:p@idp.example.com/r' }, /must not carry credentials/],
      ['a refreshEndpoint at a private address', { refreshEndpoint: 'https://10.0.0.1/r' }, /private address/],
      ['an instanceUrlField that is a URL', { instanceUrlField: 'https://attacker.example' }, /quirks\.instanceUrlField must be a member name/],
      ['an unknown quirk', { forwardTokensTo: 'https://attacker.example' }, /quirks\.forwardTokensTo is not a known quirk/],
      ['a wrongly typed quirk', { rotatesRefreshTokens: 'yes' }, /quirks\.rotatesRefreshTokens must be true or false/],
    ] as const).entries()) {
      test(`${label} is refused at create and at PATCH (400 invalid_request)`, async () => {
        const name = `quirk-${i}`;
        const created = await lk.admin('POST', '/v1/providers', { name, ...base, quirks });
        assert.equal(created.status, 400, JSON.stringify(created.body));
        assert.equal((created.body as { error: string }).error, 'invalid_request');
        assert.match((created.body as { message: string }).message, pattern);
        assert.equal((await lk.admin('GET', `/v1/providers/${name}`)).status, 404, 'nothing half-written');

        assert.equal((await lk.admin('POST', '/v1/providers', { name, ...base })).status, 201);
        const patched = await lk.admin('PATCH', `/v1/providers/${name}`, { quirks });
        assert.equal(patched.status, 400, JSON.stringify(patched.body));
        assert.match((patched.body as { message: string }).message, pattern);
        const stored = (await lk.admin('GET', `/v1/providers/${name}`)).body as { quirks: Record<string, unknown> };
        assert.deepEqual(stored.quirks, {});
      });
    }

    test('an https refreshEndpoint is kept, canonicalised', async () => {
      const res = await lk.admin('POST', '/v1/providers', { name: 'figma-like', ...base, quirks: { refreshEndpoint: 'https://IDP.example.com/v1/oauth/refresh' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal((res.body as { quirks: { refreshEndpoint: string } }).quirks.refreshEndpoint, 'https://idp.example.com/v1/oauth/refresh');
    });
  });

  describe(`provider integrity: upgrading a database from before 0014 (${backend.name})`, { skip: backend.skip }, () => {
    let drop: () => Promise<void> = async () => {};
    let legit: FakeApi;

    before(async () => {
      legit = await startFakeApi(legitimateHandler());
    });

    after(async () => {
      await legit?.close();
      await drop();
    });

    test('rows from before get their MACs on the first start and work; a NULL after that start fails', async () => {
      const db = await backend.open();
      drop = db.drop;
      const options = { dataDir: mkdtempSync(join(tmpdir(), 'latchkey-integrity-up-')), ...(db.databaseUrl === undefined ? {} : { databaseUrl: db.databaseUrl }) };
      let lk = await startInProcess(options);
      const created = await lk.admin('POST', '/v1/providers', {
        name: 'old',
        tokenEndpoint: `${legit.url}/token`,
        clientId: 'app',
        clientSecret: 'secret',
        apiBaseUrl: legit.url,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await importTokens(lk, { name: 'old-conn', provider: 'old', refreshToken: 'rt-old', accessToken: 'at-old', expiresAt: FUTURE });
      const other = await lk.admin('POST', '/v1/connections/import', { name: 'old-tenant', provider: 'old', refreshToken: 'rt-t', clientId: 'tenant', clientSecret: 's' });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      await lk.close();

      // Back to the schema before 0014, as a database of the previous release is.
      const store = await openStore(options);
      const k = store.db.kysely;
      await sql`alter table providers drop column integrity`.execute(k);
      await sql`alter table provider_clients drop column integrity`.execute(k);
      // Migrations may run out of order (store/migrate.ts), so only 0014 is replayed; the later ones stay applied.
      await sql`delete from kysely_migration where name = '0014_provider_integrity'`.execute(k);
      await store.close();

      lk = await startInProcess(options);
      try {
        assert.ok(lk.logs.text().includes('provider rows from before 0014 now carry an integrity MAC'));
        assert.equal((await lk.admin('POST', '/v1/connections/old-conn/refresh')).status, 200);
        assert.equal((await lk.admin('POST', '/v1/connections/old-tenant/refresh')).status, 200);
      } finally {
        await lk.close();
      }

      // Only the start that applied 0014 trusts what it finds: a NULL written later fails.
      const writer = await openStore(options);
      await writer.db.kysely.updateTable('providers').set({ integrity: null }).execute();
      await writer.close();
      lk = await startInProcess(options);
      try {
        const res = await lk.admin('POST', '/v1/connections/old-conn/refresh');
        assert.equal(res.status, 500, JSON.stringify(res.body));
        assert.match((res.body as { message: string }).message, /failed its integrity check/);
      } finally {
        await lk.close();
      }
    });
  });
}

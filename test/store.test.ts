import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isUniqueViolation, openMigratedStore, type ProviderRow, type Store } from '../src/store/index.js';
import { createTestDatabase, PG_SKIP, type TestDatabase } from './helpers/pg.js';

const NOW = '2026-01-01T00:00:00.000Z';

function providerRow(id: string, name: string): ProviderRow {
  return {
    id,
    name,
    displayName: name,
    preset: null,
    issuer: null,
    authorizationEndpoint: 'https://idp.example/authorize',
    tokenEndpoint: 'https://idp.example/token',
    revocationEndpoint: null,
    deviceAuthorizationEndpoint: null,
    userinfoEndpoint: null,
    introspectionEndpoint: null,
    clientId: 'client',
    clientSecret: 'lk1.k.sealed',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['a', 'b'],
    pkce: true,
    authorizeParams: { access_type: 'offline' },
    apiBaseUrl: 'https://api.example',
    allowedHosts: ['api.example'],
    capabilities: [{ name: 'read', methods: ['GET'], pathPrefixes: ['/x'] }],
    quirks: { tokenScopeSeparator: ',' },
    issParameterSupported: true,
    createdAt: NOW,
    updatedAt: NOW,
    integrity: 'v1:stored-as-is',
  };
}

function connectionRow(id: string, name: string, providerId: string, expiresAt: string | null) {
  return {
    id,
    name,
    providerId,
    subject: 'alice',
    environment: 'default',
    grantType: 'imported',
    status: 'active',
    scopes: ['a'],
    tokenType: 'Bearer',
    tokens: 'lk1.k.tokens',
    expiresAt,
    refreshTokenExpiresAt: null,
    lastRefreshedAt: null,
    lastUsedAt: null,
    lastError: null,
    metadata: { team: 'x' },
    apiBaseUrl: null,
    refreshClaimOwner: null,
    refreshClaimUntil: null,
    refreshIntent: null,
    nextAttemptAt: null,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

/** One suite, run on both dialects: the store must behave the same on each. */
function storeSuite(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>, skip: string | false): void {
  describe(`store on ${name}`, { skip }, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(async () => {
      await store?.close();
      await cleanup?.();
    });

    test('providers round-trip JSON and flags', async () => {
      await store.providers.insert(providerRow('prv_1', 'acme'));
      const found = await store.providers.findByName('acme');
      assert.deepEqual(found, providerRow('prv_1', 'acme'));
      assert.deepEqual(await store.providers.findById('prv_1'), found);
      assert.equal(await store.providers.findByName('nope'), undefined);
    });

    test('a duplicate provider name is a unique violation', async () => {
      await assert.rejects(store.providers.insert(providerRow('prv_2', 'acme')), (err) => isUniqueViolation(err));
    });

    test('replace changes every column but the id', async () => {
      await store.providers.replace({ ...providerRow('prv_1', 'acme'), scopes: ['z'], pkce: false });
      const found = await store.providers.findByName('acme');
      assert.deepEqual(found?.scopes, ['z']);
      assert.equal(found?.pkce, false);
    });

    test('connections insert, find, filter and count', async () => {
      await store.connections.insert(connectionRow('conn_1', 'acme-alice', 'prv_1', '2026-01-01T00:10:00.000Z'));
      await store.connections.insert(connectionRow('conn_2', 'acme-bob', 'prv_1', '2026-01-02T00:00:00.000Z'));
      await store.connections.insert(connectionRow('conn_3', 'acme-noexp', 'prv_1', null));
      const one = await store.connections.findByName('acme-alice');
      assert.equal(one?.id, 'conn_1');
      assert.deepEqual(one?.metadata, { team: 'x' });
      assert.equal(one?.version, 0);
      assert.equal((await store.connections.list()).length, 3);
      const soon = await store.connections.list({ expiresBefore: '2026-01-01T01:00:00.000Z' });
      assert.deepEqual(
        soon.map((c) => c.name),
        ['acme-alice'],
      );
      assert.equal(await store.connections.countByProvider('prv_1'), 3);
      assert.equal((await store.connections.list({ status: 'revoked' })).length, 0);
      await assert.rejects(
        store.connections.insert(connectionRow('conn_4', 'acme-alice', 'prv_1', null)),
        (err) => isUniqueViolation(err),
      );
    });

    test('saveTokens commits only against the version it read', async () => {
      const write = { tokens: 'lk1.k.new', tokenType: 'Bearer', expiresAt: '2026-01-01T02:00:00.000Z' };
      assert.equal(await store.connections.saveTokens('conn_1', 0, write, NOW), true);
      assert.equal(await store.connections.saveTokens('conn_1', 0, { ...write, tokens: 'lk1.k.stale' }, NOW), false);
      const row = await store.connections.findById('conn_1');
      assert.equal(row?.tokens, 'lk1.k.new');
      assert.equal(row?.version, 1);
    });

    test('keyring keys: one active, reservations add up', async () => {
      await store.keys.insertActiveKey({ id: 'k1', wrappedKey: 'w1', status: 'active', createdAt: NOW, sealsReserved: 0 });
      await store.keys.insertActiveKey({ id: 'k2', wrappedKey: 'w2', status: 'active', createdAt: NOW, sealsReserved: 0 });
      const keys = await store.keys.listKeys();
      assert.deepEqual(
        keys.filter((k) => k.status === 'active').map((k) => k.id),
        ['k2'],
      );
      assert.equal(await store.keys.reserveSeals('k2', 1024), 1024);
      assert.equal(await store.keys.reserveSeals('k2', 1024), 2048);
      assert.equal(await store.keys.reserveSeals('k1', 1024), undefined, 'no seals under a key that is no longer active');
      assert.equal(await store.keys.activeKeyId(), 'k2');
      assert.equal(await store.keys.hasKeys(), true);
    });

    test('sealed values page by id and replace only when unchanged', async () => {
      const page = await store.sealed.page('connections', 'tokens', '', 2);
      assert.deepEqual(
        page.map((v) => v.rowId),
        ['conn_1', 'conn_2'],
      );
      const first = page[0];
      assert.ok(first);
      assert.equal(await store.sealed.replace(first, 'lk1.k.resealed'), true);
      assert.equal(await store.sealed.replace(first, 'lk1.k.again'), false);
    });

    test('removing a provider with its connections', async () => {
      await store.connections.removeByProvider('prv_1');
      await store.providers.remove('prv_1');
      assert.equal(await store.providers.findById('prv_1'), undefined);
      assert.equal((await store.connections.list()).length, 0);
    });
  });
}

storeSuite(
  'SQLite',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-store-'));
    return { store: await openMigratedStore({ dataDir }), cleanup: async () => {} };
  },
  false,
);

storeSuite(
  'PostgreSQL',
  async () => {
    const db: TestDatabase = await createTestDatabase();
    return { store: await openMigratedStore({ dataDir: tmpdir(), databaseUrl: db.url }), cleanup: () => db.drop() };
  },
  PG_SKIP,
);

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openTokens } from '../src/tokens/index.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { createTestDatabase, PG_SKIP, type TestDatabase } from './helpers/pg.js';

interface Secrets {
  accessToken: string;
  refreshToken: string;
  clientSecret: string;
}

function freshSecrets(): Secrets {
  const tag = randomBytes(8).toString('hex');
  return {
    accessToken: `AT-${tag}-access-token-value`,
    refreshToken: `RT-${tag}-refresh-token-value`,
    clientSecret: `CS-${tag}-client-secret-value`,
  };
}

async function seed(server: InProcess, secrets: Secrets): Promise<{ a: string; b: string }> {
  const provider = await server.admin('POST', '/v1/providers', {
    name: 'acme',
    authorizationEndpoint: 'https://idp.example/authorize',
    tokenEndpoint: 'https://idp.example/token',
    clientId: 'acme-client',
    clientSecret: secrets.clientSecret,
    apiBaseUrl: 'https://api.example',
  });
  assert.equal(provider.status, 201);
  assert.equal((provider.body as { hasClientSecret: boolean }).hasClientSecret, true);
  assert.ok(!JSON.stringify(provider.body).includes(secrets.clientSecret));
  const a = await server.admin('POST', '/v1/connections/import', {
    name: 'acme-alice',
    provider: 'acme',
    accessToken: secrets.accessToken,
    refreshToken: secrets.refreshToken,
    expiresAt: '2030-01-01T00:00:00Z',
    scopes: ['read'],
  });
  assert.equal(a.status, 201);
  assert.ok(!JSON.stringify(a.body).includes(secrets.accessToken));
  assert.ok(!JSON.stringify(a.body).includes(secrets.refreshToken));
  const b = await server.admin('POST', '/v1/connections/import', {
    name: 'acme-bob',
    provider: 'acme',
    refreshToken: `${secrets.refreshToken}-bob`,
  });
  assert.equal(b.status, 201);
  return { a: (a.body as { id: string }).id, b: (b.body as { id: string }).id };
}

function assertNoSecret(haystack: string | Buffer, secrets: Secrets, where: string): void {
  for (const value of Object.values(secrets)) {
    assert.ok(!haystack.includes(value), `${where} contains a secret`);
  }
}

async function assertCopiedCiphertextFails(server: InProcess, ids: { a: string; b: string }): Promise<void> {
  const { store, keyring } = server.core;
  const rowA = await store.connections.findById(ids.a);
  const rowB = await store.connections.findById(ids.b);
  assert.ok(rowA?.tokens && rowB);
  assert.equal((await openTokens(keyring, ids.a, rowA.tokens)).accessToken !== undefined, true);
  await store.connections.saveTokens(ids.b, rowB.version, { tokens: rowA.tokens, tokenType: 'Bearer', expiresAt: null }, rowB.updatedAt);
  await assert.rejects(openTokens(keyring, ids.b, rowA.tokens), /does not open/);
}

async function assertRotationKeepsEverythingReadable(server: InProcess, ids: { a: string }, secrets: Secrets): Promise<void> {
  const { store, keyring } = server.core;
  const oldKey = keyring.activeKeyId;
  const rotated = await server.admin('POST', '/v1/keys/rotate');
  assert.equal(rotated.status, 200);
  const result = rotated.body as { newKeyId: string; resealed: number; retiredKeyIds: string[] };
  assert.notEqual(result.newKeyId, oldKey);
  assert.ok(result.resealed >= 2);
  assert.ok(result.retiredKeyIds.includes(oldKey));
  for (const { table, column } of [
    { table: 'providers', column: 'client_secret' },
    { table: 'connections', column: 'tokens' },
  ]) {
    for (const value of await store.sealed.page(table, column, '', 1000)) {
      assert.equal(keyring.keyIdOf(value.envelope), result.newKeyId, `${table}.${column} ${value.rowId} still on an old key`);
    }
  }
  const rowA = await store.connections.findById(ids.a);
  assert.equal((await openTokens(keyring, ids.a, rowA?.tokens ?? null)).refreshToken, secrets.refreshToken);
  const provider = await server.core.providers.get('acme');
  assert.equal(await server.core.providers.clientSecretOf(provider), secrets.clientSecret);
  const keys = await store.keys.listKeys();
  assert.equal(keys.find((k) => k.id === oldKey)?.status, 'retired');
}

describe('vault on SQLite', () => {
  let server: InProcess;
  const secrets = freshSecrets();
  let ids: { a: string; b: string };
  before(async () => {
    server = await startInProcess();
    ids = await seed(server, secrets);
  });
  after(async () => server?.close());

  test('no token or secret in the SQLite files or the logs', async () => {
    execFileSync('sync');
    for (const file of readdirSync(server.config.dataDir)) {
      if (file.startsWith('latchkey.db')) assertNoSecret(readFileSync(join(server.config.dataDir, file)), secrets, file);
    }
    assertNoSecret(server.logs.text(), secrets, 'logs');
  });

  test('keys rotate re-seals everything and retires the old key', async () => {
    await assertRotationKeepsEverythingReadable(server, ids, secrets);
    assertNoSecret(server.logs.text(), secrets, 'logs');
  });

  test('a ciphertext copied into another row fails to open', async () => {
    await assertCopiedCiphertextFails(server, ids);
  });
});

describe('vault on PostgreSQL', { skip: PG_SKIP }, () => {
  let server: InProcess;
  let db: TestDatabase;
  const secrets = freshSecrets();
  let ids: { a: string; b: string };
  before(async () => {
    db = await createTestDatabase();
    server = await startInProcess({ databaseUrl: db.url });
    ids = await seed(server, secrets);
  });
  after(async () => {
    await server?.close();
    await db?.drop();
  });

  test('no token or secret in a PostgreSQL dump or the logs', async () => {
    const dump = execFileSync('pg_dump', ['--data-only', db.url], { maxBuffer: 64 * 1024 * 1024 });
    assert.ok(dump.includes('acme-alice'), 'the dump has the rows');
    assertNoSecret(dump, secrets, 'pg_dump');
    assertNoSecret(server.logs.text(), secrets, 'logs');
  });

  test('keys rotate re-seals everything and retires the old key', async () => {
    await assertRotationKeepsEverythingReadable(server, ids, secrets);
  });

  test('a ciphertext copied into another row fails to open', async () => {
    await assertCopiedCiphertextFails(server, ids);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEST_ADMIN_TOKEN, runCli, startLatchkey } from './helpers/latchkey-process.js';

const admin = (url: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
  });

test('latchkey backup: a consistent SQLite snapshot without the master key, restorable with the key', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-backup-'));
  const out = join(mkdtempSync(join(tmpdir(), 'latchkey-backup-out-')), 'snapshot.db');
  const accessToken = `at-${randomBytes(12).toString('hex')}`;
  const server = await startLatchkey({ dataDir });
  try {
    assert.equal((await admin(server.url, '/v1/providers', { method: 'POST', body: JSON.stringify({ name: 'gh', preset: 'github', clientId: 'c' }) })).status, 201);
    const imported = await admin(server.url, '/v1/connections/import', {
      method: 'POST',
      body: JSON.stringify({ name: 'gh-alice', provider: 'gh', accessToken }),
    });
    assert.equal(imported.status, 201);

    // Taken while the server runs.
    const backup = await runCli(['backup', '--out', out], { LATCHKEY_DATA_DIR: dataDir });
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /master key is not in it/);
    assert.equal(statSync(out).mode & 0o777, 0o600);

    const bytes = readFileSync(out);
    const masterKey = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
    assert.ok(!bytes.includes(masterKey), 'the base64 master key is not in the backup');
    assert.ok(!bytes.includes(Buffer.from(masterKey, 'base64')), 'the raw master key is not in the backup');
    assert.ok(!bytes.includes(accessToken), 'tokens are in the backup only sealed');

    const again = await runCli(['backup', '--out', out], { LATCHKEY_DATA_DIR: dataDir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);

    // Restored elsewhere with the key kept apart, the connection and its token are back.
    const restoredDir = mkdtempSync(join(tmpdir(), 'latchkey-restored-'));
    copyFileSync(out, join(restoredDir, 'latchkey.db'));
    const restored = await startLatchkey({ dataDir: restoredDir, env: { LATCHKEY_MASTER_KEY: masterKey } });
    try {
      const token = await admin(restored.url, '/v1/connections/gh-alice/token');
      assert.equal(token.status, 200);
      assert.equal(((await token.json()) as { accessToken: string }).accessToken, accessToken);
    } finally {
      await restored.stop();
    }
  } finally {
    await server.stop();
  }
});

test('latchkey backup on PostgreSQL points to pg_dump', async () => {
  const result = await runCli(['backup', '--out', join(tmpdir(), 'never.db')], { DATABASE_URL: 'postgres://db.invalid/latchkey' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /pg_dump/);
  assert.match(result.stderr, /master key is not in the database/);
});

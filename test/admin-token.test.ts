import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startLatchkey } from './helpers/latchkey-process.js';

const status = async (url: string, token: string): Promise<number> =>
  (await fetch(`${url}/v1/providers`, { headers: { authorization: `Bearer ${token}` } })).status;

test('`latchkey admin-token reset` makes a new token; the old one stops working without a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-admin-'));
  const server = await startLatchkey({ dataDir, adminToken: null });
  try {
    const first = server.adminToken;
    assert.equal(await status(server.url, first), 200);
    const reset = await runCli(['admin-token', 'reset', '--json'], { LATCHKEY_DATA_DIR: dataDir });
    assert.equal(reset.code, 0, reset.stderr);
    const second = (JSON.parse(reset.stdout) as { adminToken: string }).adminToken;
    assert.match(second, /^lka_/);
    assert.ok(!readFileSync(join(dataDir, 'admin-token.sha256'), 'utf8').includes(second), 'only the hash is written');
    // The server looks at the hash file at most once a second.
    const deadline = Date.now() + 5000;
    while ((await status(server.url, first)) !== 401 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await status(server.url, first), 401);
    assert.equal(await status(server.url, second), 200);
    assert.ok(!server.output().includes(second));
  } finally {
    await server.stop();
  }
});

test('a clear-text admin-token file from an older release becomes a hash on start; the token keeps working', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-admin-legacy-'));
  const legacy = 'lka_legacy_token_kept_in_clear_0123456789';
  const first = await startLatchkey({ dataDir, adminToken: null });
  await first.stop();
  // What an older release left behind.
  writeFileSync(join(dataDir, 'admin-token'), `${legacy}\n`, { mode: 0o600 });
  rmSync(join(dataDir, 'admin-token.sha256'));
  const server = await startLatchkey({ dataDir, adminToken: null });
  try {
    assert.ok(!readdirSync(dataDir).includes('admin-token'), 'the clear file is gone');
    assert.match(server.output(), /only its hash is kept now/);
    assert.equal(await status(server.url, legacy), 200);
    assert.doesNotMatch(server.output(), /Admin token \(shown once/);
  } finally {
    await server.stop();
  }
});

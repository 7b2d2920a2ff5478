import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TEST_ADMIN_TOKEN, runCli, startLatchkey } from './helpers/latchkey-process.js';

const freshDir = (): string => mkdtempSync(join(tmpdir(), 'latchkey-deploy-'));
const serveOnce = (env: Record<string, string>) =>
  runCli(['serve', '--port', '0'], { LATCHKEY_DATA_DIR: freshDir(), LATCHKEY_ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...env });

describe('unsafe deployments do not start silently', () => {
  test('a plain-http public URL off this machine is refused, naming the setting', async () => {
    const result = await serveOnce({ LATCHKEY_PUBLIC_URL: 'http://latchkey.example.com' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /LATCHKEY_PUBLIC_URL/);
    assert.match(result.stderr, /https/);
  });

  test('a derived public URL from a non-loopback --host is refused too', async () => {
    const result = await runCli(['serve', '--port', '0', '--host', '192.0.2.10'], {
      LATCHKEY_DATA_DIR: freshDir(),
      LATCHKEY_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /LATCHKEY_HOST|--host/);
  });

  test('NODE_TLS_REJECT_UNAUTHORIZED=0 is refused', async () => {
    const result = await serveOnce({ NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /NODE_TLS_REJECT_UNAUTHORIZED/);
    assert.match(result.stderr, /NODE_EXTRA_CA_CERTS/);
  });

  test('LATCHKEY_INSECURE_PUBLIC_URL=1 starts, but warns loudly and audits it', async () => {
    const server = await startLatchkey({ env: { LATCHKEY_PUBLIC_URL: 'http://latchkey.lan:8787', LATCHKEY_INSECURE_PUBLIC_URL: '1' } });
    try {
      assert.match(server.output(), /"level":40[^\n]*LATCHKEY_INSECURE_PUBLIC_URL/);
      const res = await fetch(`${server.url}/v1/audit?action=config.insecure`, { headers: { authorization: `Bearer ${server.adminToken}` } });
      const events = (await res.json()) as Array<{ action: string; detail: { publicUrl: string } }>;
      assert.equal(events.length, 1);
      assert.equal(events[0]?.detail.publicUrl, 'http://latchkey.lan:8787');
    } finally {
      await server.stop();
    }
  });

  test('a master key file readable by others is refused; once private, the same data directory starts', async () => {
    const dataDir = freshDir();
    const first = await startLatchkey({ dataDir });
    await first.stop();
    chmodSync(join(dataDir, 'master.key'), 0o644);
    const refused = await runCli(['serve', '--port', '0'], { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /master\.key is readable by other users \(mode 644\)/);
    assert.match(refused.stderr, /chmod 600/);
    chmodSync(join(dataDir, 'master.key'), 0o600);
    const again = await startLatchkey({ dataDir });
    await again.stop();
  });
});

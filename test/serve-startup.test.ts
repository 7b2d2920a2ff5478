import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLatchkey } from './helpers/latchkey-process.js';

// The /mcp authorization server (oidc-provider) is loaded on first use: a plain `latchkey serve` neither pays
// for it nor prints its Node-version warning (on Node 20 it warns on every load).
test('serve starts without loading the MCP authorization server; its first request loads it', async () => {
  const latchkey = await startLatchkey();
  try {
    assert.equal((await fetch(`${latchkey.url}/healthz`)).status, 200);
    assert.ok(!latchkey.output().includes('oidc-provider'), latchkey.output());
    const metadata = await fetch(`${latchkey.url}/.well-known/oauth-authorization-server`);
    assert.equal(metadata.status, 200);
    assert.equal(((await metadata.json()) as { issuer: string }).issuer, `${latchkey.url}/mcp-oauth`);
    const jwks = await fetch(`${latchkey.url}/mcp-oauth/jwks`);
    assert.equal(jwks.status, 200);
  } finally {
    await latchkey.stop();
  }
});

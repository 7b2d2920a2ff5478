import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { systemClock } from '../src/clock.js';
import { storeAdapter } from '../src/server/mcp/adapter.js';
import { openMigratedStore, type Store } from '../src/store/index.js';

// oidc-provider reads `consumed` before it calls consume(); two redemptions racing on one code or refresh
// token both pass that read, so the adapter's conditional update must refuse the second and end the grant.
let store: Store;
before(async () => {
  store = await openMigratedStore({ dataDir: mkdtempSync(join(tmpdir(), 'latchkey-mcp-consume-')) });
});
after(async () => store?.close());

test('two concurrent redemptions of one refresh token: exactly one wins, the other is invalid_grant and the grant ends', async () => {
  const deps = { store: store.mcpOauth, clock: systemClock, clientSecretKey: Buffer.alloc(32, 1), metadataDocument: async () => undefined };
  const refresh = storeAdapter('RefreshToken', deps);
  const access = storeAdapter('AccessToken', deps);
  await refresh.upsert('rt-secret-value', { grantId: 'grant-1', kind: 'RefreshToken' }, 3600);
  await access.upsert('at-secret-value', { grantId: 'grant-1', kind: 'AccessToken' }, 600);
  const results = await Promise.allSettled([refresh.consume('rt-secret-value'), refresh.consume('rt-secret-value')]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const refused = results.find((r) => r.status === 'rejected');
  assert.match(String((refused as PromiseRejectedResult).reason), /invalid_grant|grant request is invalid/);
  // Reuse detection, as oidc-provider does for a reused rotated token: the grant's tokens are gone.
  assert.equal(await access.find('at-secret-value'), undefined);
});

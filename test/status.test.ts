import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STATUS_ATTENTION_MAX } from '../src/api/index.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

interface Status {
  connections: { total: number; byStatus: Record<string, number> };
  attention: Array<{ kind: string; name: string; status: string; reason?: string | null }>;
  needsAttention: boolean;
}

describe('GET /v1/status', () => {
  let server: InProcess;
  const many = STATUS_ATTENTION_MAX + 3;

  before(async () => {
    server = await startInProcess();
    const provider = await server.admin('POST', '/v1/providers', { name: 'status-api', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'c', apiBaseUrl: 'http://127.0.0.1:9' });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    for (let i = 0; i < many + 2; i += 1) {
      const name = `conn-${String(i).padStart(3, '0')}`;
      const res = await server.admin('POST', '/v1/connections/import', { name, provider: 'status-api', accessToken: `status-token-${i}-0123456789` });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    // All but two need a person; their reason is what the overview shows.
    await server.core.store.db.kysely
      .updateTable('connections')
      .set({ status: 'needs_reauth', lastError: 'invalid_grant' })
      .where('name', 'not in', ['conn-000', 'conn-001'])
      .execute();
  });
  after(async () => server?.close());

  test('lists at most STATUS_ATTENTION_MAX items needing a person while the counts say how many there are in all', async () => {
    const res = await server.admin('GET', '/v1/status');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const status = res.body as Status;
    assert.equal(status.connections.total, many + 2);
    assert.equal(status.connections.byStatus.needs_reauth, many);
    assert.equal(status.needsAttention, true);
    assert.equal(status.attention.length, STATUS_ATTENTION_MAX);
    const connections = status.attention.filter((a) => a.kind === 'connection');
    assert.ok(connections.length > 0);
    for (const a of connections) {
      assert.equal(a.status, 'needs_reauth');
      assert.equal(a.reason, 'invalid_grant');
      assert.notEqual(a.name, 'conn-000');
      assert.notEqual(a.name, 'conn-001');
    }
    assert.equal(new Set(connections.map((a) => a.name)).size, connections.length, 'no connection is listed twice');
  });

  test('a viewer reads it; no credential gets 401', async () => {
    const viewer = await server.admin('POST', '/v1/operators', { name: 'vera', role: 'viewer' });
    assert.equal(viewer.status, 201);
    const key = await server.admin('POST', '/v1/operators/vera/keys', {});
    assert.equal(key.status, 201);
    const apiKey = (key.body as { apiKey: string }).apiKey;
    const asViewer = await fetch(`${server.url}/v1/status`, { headers: { authorization: `Bearer ${apiKey}` } });
    assert.equal(asViewer.status, 200);
    assert.equal(((await asViewer.json()) as Status).attention.length, STATUS_ATTENTION_MAX);
    const anonymous = await fetch(`${server.url}/v1/status`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'unauthorized');
  });
});

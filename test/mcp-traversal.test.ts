import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditEvents, createAgent, importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { startMcp, textOf, type McpSession } from './helpers/mcp-client.js';

const PROVIDER_TOKEN = 'mcp-traversal-provider-token-0123456789';

/**
 * Issue 9, item 3: a crafted tool argument must never reach a Latchkey route
 * other than the proxy or invoke. With the connection "..", the SDK used to
 * build `/v1/proxy/../leases`, which fetch resolves to `/v1/leases`: the
 * agent key leased the raw token straight into the model's context.
 */
describe('latchkey mcp: crafted names and paths stay on the proxy', () => {
  let lk: InProcess;
  let api: FakeApi;
  let mcp: McpSession;
  const results: string[] = [];

  before(async () => {
    lk = await startInProcess();
    api = await startFakeApi();
    const provider = await lk.admin('POST', '/v1/providers', {
      name: 'api',
      tokenEndpoint: `${api.url}/token`,
      apiBaseUrl: api.url,
      capabilities: [{ name: 'items', methods: ['GET'], pathPrefixes: ['/items'] }],
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    await importTokens(lk, { name: 'api', provider: 'api', accessToken: PROVIDER_TOKEN });
    // An agent that may lease: exactly the one a prompt injection would want to steer into /v1/leases.
    const agent = await createAgent(lk, { name: 'mcp-leaser', policy: { rules: [{ connections: ['api'] }], lease: { allowed: true, maxTtl: '5m' } } });
    mcp = await startMcp({ url: lk.url, agentKey: agent.apiKey, home: lk.config.dataDir });
  });

  after(async () => {
    await mcp?.close();
    await lk?.close();
    await api?.close();
  });

  test('call_api and invoke_capability with ".."-style names or paths are refused; no lease, no upstream call', async () => {
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['call_api', { connection: '..', method: 'POST', path: '/leases', body: { connection: 'api' } }],
      ['call_api', { connection: '.', method: 'POST', path: '/v1/leases', body: { connection: 'api' } }],
      ['call_api', { connection: '%2e%2e', method: 'POST', path: '/leases', body: { connection: 'api' } }],
      ['call_api', { connection: 'api/..', method: 'POST', path: '/../leases', body: { connection: 'api' } }],
      ['call_api', { connection: 'api', method: 'POST', path: '/../../leases', body: { connection: 'api' } }],
      ['call_api', { connection: 'api', method: 'POST', path: '/%2e%2e/%2e%2e/leases', body: { connection: 'api' } }],
      ['call_api', { connection: 'api', method: 'POST', path: '/..\\..\\leases', body: { connection: 'api' } }],
      ['invoke_capability', { connection: '..', capability: 'leases', body: { connection: 'api' } }],
      ['invoke_capability', { connection: 'api', capability: '..' }],
      ['invoke_capability', { connection: 'api', capability: '../../leases' }],
    ];
    const before = api.seen.length;
    for (const [tool, args] of attempts) {
      const result = await mcp.call(tool, args);
      const text = textOf(result);
      results.push(text);
      assert.equal(result.isError, true, `${tool} ${JSON.stringify(args)}: ${text}`);
      assert.ok(!text.includes(PROVIDER_TOKEN), `${tool} ${JSON.stringify(args)} showed the provider token`);
      assert.doesNotMatch(text, /accessToken|leaseId/, `${tool} ${JSON.stringify(args)} reached the lease route`);
    }
    assert.equal(api.seen.length, before, 'nothing reached the upstream');
    assert.deepEqual((await lk.admin('GET', '/v1/leases')).body, [], 'no lease was created');
    assert.deepEqual(await auditEvents(lk, '?action=lease.create'), [], 'no lease.create event');
  });

  test('an ordinary call still goes through, and the server stayed up', async () => {
    const ok = await mcp.call('call_api', { connection: 'api', method: 'GET', path: '/items/1' });
    assert.ok(!ok.isError, textOf(ok));
    assert.equal(api.seen.at(-1)?.url, '/items/1');
    assert.deepEqual(mcp.transportErrors.map(String), []);
    assert.ok(!mcp.stderr().includes(PROVIDER_TOKEN));
  });
});

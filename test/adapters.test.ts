import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { latchkeyTools as aiTools } from '../src/sdk/ai.js';
import { latchkeyTools as langchainTools } from '../src/sdk/langchain.js';
import { Latchkey } from '../src/sdk/index.js';
import { createAgent, importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const TOKEN = 'at-adapters-secret-0001';

describe('tool adapters: latchkey/ai and latchkey/langchain run a tool call through the real server', () => {
  let lk: InProcess;
  let api: FakeApi;
  let agent: Latchkey;

  before(async () => {
    api = await startFakeApi((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization === `Bearer ${TOKEN}` }));
    });
    lk = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    const provider = await lk.admin('POST', '/v1/providers', {
      name: 'tracker',
      authorizationEndpoint: `${api.url}/authorize`,
      tokenEndpoint: `${api.url}/token`,
      clientId: 'c',
      apiBaseUrl: api.url,
      capabilities: [
        { name: 'issues.read', description: 'read issues', methods: ['GET'], pathPrefixes: ['/issues'] },
        { name: 'issues.write', description: 'file an issue', methods: ['POST'], pathPrefixes: ['/issues'] },
        { name: 'admin', description: 'everything', methods: ['GET', 'DELETE'], pathPrefixes: ['/'] },
      ],
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    await importTokens(lk, { name: 'work', provider: 'tracker', accessToken: TOKEN, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    await importTokens(lk, { name: 'other', provider: 'tracker', accessToken: 'at-other', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    const created = await createAgent(lk, { name: 'helper', policy: { rules: [{ connections: ['work'], capabilities: ['issues.read', 'issues.write'] }] } });
    agent = new Latchkey({ url: lk.url, agentKey: created.apiKey });
  });

  after(async () => {
    await lk?.close();
    await api?.close();
  });

  test('Vercel AI SDK: one tool per granted capability; execute calls the API with the token Latchkey holds', async () => {
    const tools = await aiTools(agent);
    assert.deepEqual(Object.keys(tools).sort(), ['work__issues_read', 'work__issues_write'], 'only what the policy grants');
    const read = tools.work__issues_read;
    assert.ok(read?.execute);
    assert.match(read.description ?? '', /read issues/);
    const result = await read.execute({ path: '/issues/7', query: { state: 'open' } }, { toolCallId: 'call-1', messages: [] });
    assert.deepEqual(result, { method: 'GET', url: '/issues/7?state=open', auth: true });
    const write = tools.work__issues_write;
    assert.ok(write?.execute);
    assert.deepEqual(await write.execute({ body: { title: 'bug' } }, { toolCallId: 'call-2', messages: [] }), { method: 'POST', url: '/issues', auth: true });
    // The server still decides: a path outside the capability is refused, whatever the model asks.
    await assert.rejects(async () => read.execute?.({ path: '/admin' }, { toolCallId: 'call-3', messages: [] }), /does not cover/);
    const audit = (await lk.admin('GET', '/v1/audit?action=invoke&limit=10')).body as Array<{ actor: { name: string } }>;
    assert.ok(audit.some((e) => e.actor.name === 'helper'), 'each tool call is audited as the agent');
  });

  test('LangChain: DynamicStructuredTool per capability; invoke returns the upstream answer as JSON text', async () => {
    const tools = await langchainTools(agent, { filter: (_connection, capability) => capability === 'issues.read' });
    assert.deepEqual(
      tools.map((t) => t.name),
      ['work__issues_read'],
    );
    const [read] = tools;
    assert.ok(read);
    const text = (await read.invoke({ path: '/issues', query: { page: '2' } })) as string;
    assert.deepEqual(JSON.parse(text), { method: 'GET', url: '/issues?page=2', auth: true });
    assert.ok(!text.includes(TOKEN), 'the token never reaches the model');
    // A method the capability lacks fails the tool's own schema; a path outside it, the server.
    await assert.rejects(read.invoke({ method: 'DELETE' }), /did not match expected schema/);
    await assert.rejects(read.invoke({ path: '/admin' }), /does not cover/);
  });
});

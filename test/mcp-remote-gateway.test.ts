import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { mcpClient } from './helpers/mcp-remote.js';
import { openLink, visit } from './helpers/oauth-flows.js';
import { UPSTREAM_SCOPE, startUpstreamMcp, type UpstreamMcp } from './helpers/upstream-mcp.js';

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

describe('remote MCP: upstream MCP servers behind Latchkey appear on /mcp too', () => {
  let as: AuthorizationServer;
  let upstream: UpstreamMcp;
  let lk: InProcess;

  before(async () => {
    as = await startAuthorizationServer({ dynamicRegistration: true, resourceIndicators: { resources: ['http://127.0.0.1:'], scope: UPSTREAM_SCOPE } });
    upstream = await startUpstreamMcp(as);
    lk = await startInProcess();
  });

  after(async () => {
    await lk?.close();
    await upstream?.close();
    await as?.close();
  });

  test('a namespaced upstream tool is listed and called over /mcp, as the agent, within its policy', async () => {
    const added = await lk.admin('POST', '/v1/mcp-servers', { name: 'tracker', url: upstream.url });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const started = await lk.admin('POST', '/v1/connect/tracker', { name: 'tracker-alice', subject: 'alice' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const providerUrl = await openLink((started.body as { authorizationUrl: string }).authorizationUrl);
    assert.equal((await visit(await as.approve(providerUrl, { accountId: 'alice' }))).status, 200);
    const agent = await lk.admin('POST', '/v1/agents', { name: 'remote-tracker', policy: { rules: [{ mcpServers: ['tracker'], tools: ['echo'] }] } });
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    const key = (agent.body as { apiKey: string }).apiKey;

    const client = mcpClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(`${lk.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('tracker__echo'), names.join(', '));
    assert.ok(!names.includes('tracker__whoami'), 'a tool the policy does not name is not listed');
    const result = (await client.callTool({ name: 'tracker__echo', arguments: { text: 'over /mcp' } })) as CallToolResult;
    assert.equal(textOf(result), 'echo: over /mcp');
    const refused = (await client.callTool({ name: 'tracker__whoami', arguments: {} })) as CallToolResult;
    assert.equal(refused.isError, true);
    await client.close();
  });
});

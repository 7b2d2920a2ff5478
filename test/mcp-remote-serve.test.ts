import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { adminClient } from './helpers/admin-client.js';
import { createAgent, importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startLatchkey, type LatchkeyProcess } from './helpers/latchkey-process.js';
import { TestOAuthProvider, authorizeWithOperator, connectExpectingAuth, mcpClient } from './helpers/mcp-remote.js';

const PROVIDER_TOKEN = 'serve-remote-provider-token-do-not-leak-42';
const REDIRECT = 'http://127.0.0.1:1/callback';

describe('remote MCP against the real `latchkey serve` process', () => {
  let lk: LatchkeyProcess;
  let api: FakeApi;

  before(async () => {
    api = await startFakeApi((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":["a","b"]}'));
    lk = await startLatchkey({ env: { LATCHKEY_ALLOW_HTTP_LOOPBACK: '1' } });
    const admin = { admin: adminClient(lk.url, lk.adminToken) };
    const provider = await admin.admin('POST', '/v1/providers', { name: 'fakeapi', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    await importTokens(admin, { name: 'notes', provider: 'fakeapi', accessToken: PROVIDER_TOKEN });
    await createAgent(admin, { name: 'hosted', policy: { rules: [{ connections: ['notes'], methods: ['GET'], paths: ['/**'] }] } });
  });

  after(async () => {
    await lk?.stop();
    await api?.close();
  });

  test('from nothing: 401, discovery, DCR, consent by an operator, PKCE code exchange, tools, call_api through the proxy', async () => {
    const provider = new TestOAuthProvider(REDIRECT, { client_name: 'Serve Host', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    const transport = await connectExpectingAuth(`${lk.url}/mcp`, provider);
    const { back } = await authorizeWithOperator(provider, adminClient(lk.url, lk.adminToken), { agent: 'hosted' });
    await transport.finishAuth(back.searchParams.get('code') ?? '');
    const client = mcpClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(`${lk.url}/mcp`), { authProvider: provider }));
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'call_api'));
    const result = (await client.callTool({ name: 'call_api', arguments: { connection: 'notes', method: 'GET', path: '/items' } })) as CallToolResult;
    assert.ok(!result.isError, JSON.stringify(result));
    assert.equal(api.seen.at(-1)?.headers.authorization, `Bearer ${PROVIDER_TOKEN}`);
    await client.close();
    const tokens = provider.tokens();
    const output = lk.output();
    for (const secret of [tokens?.access_token ?? '', tokens?.refresh_token ?? '', back.searchParams.get('code') ?? '', PROVIDER_TOKEN]) {
      assert.ok(secret.length > 10 && !output.includes(secret), 'a secret reached the log');
    }
  });
});

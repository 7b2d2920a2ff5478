import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { auditEvents, createAgent, importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { adminClient } from './helpers/admin-client.js';
import type { InProcess } from './helpers/in-process.js';
import { CLI_PATH, REPO_ROOT, runCli, startLatchkey, type LatchkeyProcess } from './helpers/latchkey-process.js';

const PROVIDER_TOKEN = 'mcp-provider-token-do-not-leak-0123456789';

/** The admin side of the test, against the spawned server (the helpers want InProcess's admin()). */
function adminOf(lk: LatchkeyProcess): Pick<InProcess, 'admin'> {
  return { admin: adminClient(lk.url, lk.adminToken) };
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** The body after the status and header lines. */
function bodyOf(result: CallToolResult): unknown {
  const text = textOf(result);
  return JSON.parse(text.slice(text.indexOf('\n\n') + 2)) as unknown;
}

describe('latchkey mcp', () => {
  let lk: LatchkeyProcess;
  let api: FakeApi;
  let agentKey: string;
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';
  const transportErrors: Error[] = [];
  const texts: string[] = [];

  const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    texts.push(textOf(result));
    return result;
  };

  before(async () => {
    api = await startFakeApi((req, res) => {
      const url = req.url ?? '';
      if (url.startsWith('/v1/me/big')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(100_000));
      } else if (url.includes('missing=1')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      } else {
        // Echoes what it got, but never the Authorization header.
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'session=upstream' }).end(JSON.stringify({ method: req.method, url }));
      }
    });
    lk = await startLatchkey({ env: { LATCHKEY_ALLOW_HTTP_LOOPBACK: '1' } });
    const admin = adminOf(lk);
    const provider = await admin.admin('POST', '/v1/providers', {
      name: 'fakeapi',
      tokenEndpoint: `${api.url}/token`,
      apiBaseUrl: api.url,
      capabilities: [
        { name: 'playlists', description: 'list playlists', methods: ['GET'], pathPrefixes: ['/v1/me/playlists'] },
        { name: 'tracks', description: 'list tracks', methods: ['GET'], pathPrefixes: ['/v1/me/tracks'] },
      ],
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    await importTokens(admin, { name: 'music', provider: 'fakeapi', accessToken: PROVIDER_TOKEN, scopes: ['playlist-read'] });
    const agent = await createAgent(admin, {
      name: 'mcp-bot',
      policy: {
        rules: [
          { connections: ['music'], capabilities: ['playlists'] },
          { connections: ['mus*'], methods: ['GET'], paths: ['/v1/me/profile', '/v1/me/big'] },
        ],
      },
    });
    agentKey = agent.apiKey;

    transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_PATH, 'mcp'],
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: lk.dataDir, LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: agentKey },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: 'latchkey-test', version: '1.0.0' });
    // Anything on stdout that is not JSON-RPC shows up here as a parse error.
    client.onerror = (err) => transportErrors.push(err);
    await client.connect(transport);
  });

  after(async () => {
    await client?.close();
    await lk?.stop();
    await api?.close();
  });

  test('lists the four tools with input schemas', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['call_api', 'invoke_capability', 'list_connections', 'request_access']);
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.ok((tool.description ?? '').length > 80, `${tool.name} is described for a model`);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual(byName.get('invoke_capability')?.inputSchema.required?.sort(), ['capability', 'connection']);
    assert.deepEqual(byName.get('call_api')?.inputSchema.required?.sort(), ['connection', 'method', 'path']);
    assert.ok(!tools.some((t) => /lease/.test(t.name)), 'no tool hands out raw tokens');
  });

  test('list_connections shows the connection with what the policy grants', async () => {
    const result = await call('list_connections', {});
    assert.ok(!result.isError, textOf(result));
    const listed = JSON.parse(textOf(result)) as {
      agent: string;
      connections: Array<{ name: string; provider: string; status: string; scopes: string[]; capabilities: Array<{ name: string; description?: string }>; directCalls: unknown[] }>;
    };
    assert.equal(listed.agent, 'mcp-bot');
    assert.equal(listed.connections.length, 1);
    const [music] = listed.connections;
    assert.equal(music?.name, 'music');
    assert.equal(music?.provider, 'fakeapi');
    assert.equal(music?.status, 'active');
    assert.deepEqual(music?.scopes, ['playlist-read']);
    assert.deepEqual(music?.capabilities.map((c) => [c.name, c.description]), [['playlists', 'list playlists']]);
    assert.deepEqual(music?.directCalls, [{ methods: ['GET'], paths: ['/v1/me/profile', '/v1/me/big'] }]);
  });

  test('invoke_capability goes through with the provider token, which the result never shows', async () => {
    const before = api.seen.length;
    const result = await call('invoke_capability', { connection: 'music', capability: 'playlists', query: { limit: 5 } });
    assert.ok(!result.isError, textOf(result));
    assert.match(textOf(result), /^status: 200\ncontent-type: application\/json/);
    assert.doesNotMatch(textOf(result), /set-cookie|session=upstream/i, 'auth-class headers are not shown');
    assert.deepEqual(bodyOf(result), { method: 'GET', url: '/v1/me/playlists?limit=5' });
    assert.equal(api.seen.length, before + 1);
    assert.equal(api.seen.at(-1)?.headers.authorization, `Bearer ${PROVIDER_TOKEN}`);
  });

  test('call_api goes through the proxy on an allowed path', async () => {
    const result = await call('call_api', { connection: 'music', method: 'GET', path: '/v1/me/profile', query: { fields: 'name' } });
    assert.ok(!result.isError, textOf(result));
    assert.deepEqual(bodyOf(result), { method: 'GET', url: '/v1/me/profile?fields=name' });
    assert.equal(api.seen.at(-1)?.headers.authorization, `Bearer ${PROVIDER_TOKEN}`);
  });

  test('refusals come back as isError results with the API error code, and nothing reaches the upstream', async () => {
    const before = api.seen.length;
    const denied = await call('call_api', { connection: 'music', method: 'GET', path: '/v1/admin/settings' });
    assert.equal(denied.isError, true);
    assert.match(textOf(denied), /forbidden/);
    const wrongMethod = await call('call_api', { connection: 'music', method: 'DELETE', path: '/v1/me/profile' });
    assert.equal(wrongMethod.isError, true);
    assert.match(textOf(wrongMethod), /forbidden/);
    const notGranted = await call('invoke_capability', { connection: 'music', capability: 'tracks' });
    assert.equal(notGranted.isError, true);
    assert.match(textOf(notGranted), /forbidden/);
    const otherConnection = await call('call_api', { connection: 'someone-else', method: 'GET', path: '/v1/me/profile' });
    assert.equal(otherConnection.isError, true);
    assert.match(textOf(otherConnection), /forbidden|not_found/);
    const dotDot = await call('call_api', { connection: 'music', method: 'GET', path: '/v1/me/profile/../../admin' });
    assert.equal(dotDot.isError, true);
    assert.match(textOf(dotDot), /invalid_request/);
    const auth = await call('call_api', { connection: 'music', method: 'GET', path: '/v1/me/profile', headers: { Authorization: 'Bearer mine' } });
    assert.equal(auth.isError, true);
    assert.match(textOf(auth), /invalid_request/);
    assert.equal(api.seen.length, before, 'no refused request reached the upstream');
  });

  test('invalid arguments are refused by the schema without crashing the server', async () => {
    const result = await call('call_api', { connection: 'music', method: 'FETCH', path: '/v1/me/profile' });
    assert.equal(result.isError, true);
    const still = await call('list_connections', {});
    assert.ok(!still.isError, 'the server is still serving');
  });

  test('an upstream error status is shown as the API answered it', async () => {
    const result = await call('call_api', { connection: 'music', method: 'GET', path: '/v1/me/profile', query: { missing: 1 } });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /status: 404/);
    assert.doesNotMatch(textOf(result), /Latchkey refused/);
  });

  test('long bodies are truncated with a note', async () => {
    const result = await call('call_api', { connection: 'music', method: 'GET', path: '/v1/me/big' });
    assert.ok(!result.isError, textOf(result).slice(0, 300));
    const text = textOf(result);
    assert.ok(text.length < 40_000, `${text.length} characters`);
    assert.match(text, /\[truncated: showing the first 32000 characters of 100000 characters/);
  });

  test('request_access asks a person; once approved, the refused capability works', async () => {
    const refused = await call('invoke_capability', { connection: 'music', capability: 'tracks' });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /request_access/, 'the refusal says how to ask');
    const missing = await call('request_access', { connection: 'music', capabilities: ['tracks'] });
    assert.equal(missing.isError, true, 'a reason is required');
    const asked = await call('request_access', { connection: 'music', capabilities: ['tracks'], reason: 'to list the tracks the user asked about' });
    assert.ok(!asked.isError, textOf(asked));
    const proposal = JSON.parse(textOf(asked)) as { id: string; status: string; request: unknown };
    assert.equal(proposal.status, 'pending');
    assert.deepEqual(proposal.request, { connection: 'music', capabilities: ['tracks'] });
    const approved = await adminOf(lk).admin('POST', `/v1/proposals/${proposal.id}/approve`, {});
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const polled = await call('request_access', { proposal_id: proposal.id });
    assert.equal((JSON.parse(textOf(polled)) as { status: string }).status, 'approved');
    const works = await call('invoke_capability', { connection: 'music', capability: 'tracks' });
    assert.ok(!works.isError, textOf(works));
  });

  test('the server audited every call as the agent', async () => {
    const events = await auditEvents(adminOf(lk), '?agent=mcp-bot');
    const actions = new Set(events.map((e) => e.action));
    assert.ok(actions.has('invoke'), JSON.stringify([...actions]));
    assert.ok(actions.has('proxy.request'), JSON.stringify([...actions]));
    assert.ok(events.some((e) => e.outcome === 'denied'), 'refusals are audited too');
  });

  test('no secret in any result or on stderr; stdout carried only JSON-RPC; exits when stdin closes', async () => {
    await client.close();
    // The transport ends stdin, then sends SIGTERM if the server is still there 2 s later: the end of
    // stdin must be what stopped it.
    const reasons = [...stderr.matchAll(/stopping: (.*)/g)].map((m) => m[1]);
    assert.equal(reasons[0], 'the host closed stdin', stderr);
    assert.ok(texts.length >= 10);
    for (const text of texts) {
      assert.ok(!text.includes(PROVIDER_TOKEN), 'provider token in a result');
      assert.ok(!text.includes(agentKey), 'agent key in a result');
    }
    assert.match(stderr, /invoke_capability music\/playlists/, 'calls are logged on stderr');
    assert.ok(!stderr.includes(PROVIDER_TOKEN), 'provider token on stderr');
    assert.ok(!stderr.includes(agentKey), 'agent key on stderr');
    assert.deepEqual(transportErrors.map(String), []);
  });

  test('without an agent key, mcp exits 2 with a clear message', async () => {
    const result = await runCli(['mcp'], { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: lk.adminToken });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no agent key: set LATCHKEY_AGENT_KEY or pass --agent-key/);
    assert.equal(result.stdout, '');
    assert.ok(!result.stderr.includes(lk.adminToken));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer } from '../src/mcp/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startHandMcp, type HandMcp } from './helpers/hand-mcp.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { fixtureTokens } from './helpers/token-lifecycle.js';

/** What a hand-written upstream answers: its tools per account, and a tool call's result (or a JSON-RPC error). */
interface Behaviour {
  tools: (account: string) => string[];
  call?: (tool: string) => { result: CallToolResult } | { error: { code: number; message: string } };
}

/** Each call that reached an upstream: `server tool account`. */
const calls: string[] = [];
const accountOf = new Map<string, string>();

/** An upstream whose tool list depends on the account of the token, recording each call in `calls`. */
function startUpstream(label: string, issuer: string, behaviour: Behaviour): Promise<HandMcp> {
  return startHandMcp(issuer, label, ({ method, params, token }) => {
    const account = accountOf.get(token) ?? 'unknown';
    if (method === 'tools/list') {
      return { result: { tools: behaviour.tools(account).map((name) => ({ name, description: `${name} of ${label}`, inputSchema: { type: 'object' } })) } };
    }
    const tool = params?.name ?? '';
    calls.push(`${label} ${tool} ${account}`);
    return behaviour.call?.(tool) ?? { result: { content: [{ type: 'text', text: `${label} ran ${tool} for ${account}` }] } };
  });
}

describe('gateway tool names and listings', () => {
  let as: AuthorizationServer;
  let lk: InProcess;
  const upstreams: HandMcp[] = [];

  before(async () => {
    as = await startAuthorizationServer();
    lk = await startInProcess();
  });

  after(async () => {
    await lk?.close();
    for (const upstream of upstreams) upstream.close();
    await as?.close();
  });

  async function addServer(name: string, behaviour: Behaviour): Promise<void> {
    const upstream = await startUpstream(name, as.issuer, behaviour);
    upstreams.push(upstream);
    const res = await lk.admin('POST', '/v1/mcp-servers', {
      name,
      url: upstream.url,
      clientId: as.confidentialClient.clientId,
      clientSecret: as.confidentialClient.clientSecret,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }

  async function connect(name: string, provider: string, account: string): Promise<void> {
    const issued = await fixtureTokens(as);
    accountOf.set(issued.accessToken, account);
    const res = await lk.admin('POST', '/v1/connections/import', {
      name,
      provider,
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }

  async function agentKey(name: string, rules: unknown[]): Promise<string> {
    const res = await lk.admin('POST', '/v1/agents', { name, policy: { rules } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return (res.body as { apiKey: string }).apiKey;
  }

  async function listed(key: string, prefix: string): Promise<string[]> {
    const res = await fetch(`${lk.url}/v1/mcp-tools?limit=1000`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 200);
    return ((await res.json()) as { items: Array<{ name: string }> }).items.map((t) => t.name).filter((n) => n.startsWith(prefix));
  }

  /** Latchkey's MCP server (the one `latchkey mcp` and /mcp serve) in this process, with its log lines kept. */
  async function mcpSession(key: string): Promise<{ client: Client; lines: string[]; close: () => Promise<void> }> {
    const lines: string[] = [];
    const server = createMcpServer({ url: lk.url, agentKey: key, log: (line) => lines.push(line) });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'names-test', version: '1' });
    await client.connect(clientSide);
    return {
      client,
      lines,
      close: async () => {
        await client.close();
        await server.close();
      },
    };
  }

  test('an MCP server name ending in "_" or containing "__" is refused: "server__tool" splits one way only', async () => {
    for (const name of ['a_', 'a__b', 'x_y_']) {
      const res = await lk.admin('POST', '/v1/mcp-servers', { name, url: 'http://127.0.0.1:1/mcp' });
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
      const body = res.body as { error: string; message: string };
      assert.equal(body.error, 'invalid_request');
      assert.match(body.message, /"__"|"_"/, body.message);
    }
    assert.equal((await lk.admin('GET', '/v1/mcp-servers/a_')).status, 404, 'nothing was half-written');

    // A tool name starting with "_" is fine: "a___x" can only be server "a", tool "_x".
    await addServer('a', { tools: () => ['_x', 'x'] });
    await connect('a-main', 'a', 'alice');
    const key = await agentKey('names-bot', [{ mcpServers: ['a'], tools: ['*'] }]);
    assert.deepEqual(await listed(key, 'a__'), ['a___x', 'a__x']);
    const session = await mcpSession(key);
    try {
      const result = (await session.client.callTool({ name: 'a___x', arguments: {} })) as CallToolResult;
      assert.deepEqual(result.content, [{ type: 'text', text: 'a ran _x for alice' }]);
    } finally {
      await session.close();
    }
    const cli = await runCli(['mcp-tools', 'call', 'a___x'], { LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: key });
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trim(), 'a ran _x for alice');
    assert.deepEqual(calls.filter((c) => c.startsWith('a ')), ['a _x alice', 'a _x alice']);
  });

  test('the MCP server offers every allowed gateway tool, past the API\'s first page of 100', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    await addServer('big', { tools: () => names });
    await connect('big-main', 'big', 'alice');
    const key = await agentKey('big-bot', [{ mcpServers: ['big'], tools: ['*'] }]);
    const session = await mcpSession(key);
    try {
      const { tools } = await session.client.listTools();
      const gateway = tools.map((t) => t.name).filter((n) => n.startsWith('big__'));
      assert.deepEqual(gateway, names.map((n) => `big__${n}`));
      assert.ok(tools.some((t) => t.name === 'list_connections'), "Latchkey's own tools are still there");
      const last = (await session.client.callTool({ name: 'big__t249', arguments: {} })) as CallToolResult;
      assert.deepEqual(last.content, [{ type: 'text', text: 'big ran t249 for alice' }]);
    } finally {
      await session.close();
    }
  });

  test('a listing through a connection shows only the tools the rules allow on that connection', async () => {
    await addServer('acct', { tools: (account) => (account === 'bob' ? ['search', 'admin_tool'] : ['search', 'alice_tool']) });
    await connect('acct-bob', 'acct', 'bob');
    const key = await agentKey('acct-bot', [
      { mcpServers: ['acct'], tools: ['*'], connections: ['acct-alice'] },
      { mcpServers: ['acct'], tools: ['search'], connections: ['acct-bob'] },
    ]);
    assert.deepEqual(await listed(key, 'acct__'), ['acct__search'], 'admin_tool is bob\'s but the bob rule names only search');
    const refused = await fetch(`${lk.url}/v1/mcp-tools/acct/admin_tool`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    // No connection the agent may call admin_tool through: refused before anything goes upstream.
    assert.equal(refused.status, 404);
    assert.equal(((await refused.json()) as { error: string }).error, 'not_found');
    assert.ok(!calls.some((c) => c.startsWith('acct ')), 'nothing reached the upstream');

    // With alice's account connected too, the list is the union: each tool as the rules for its connection allow.
    await connect('acct-alice', 'acct', 'alice');
    assert.deepEqual(await listed(key, 'acct__'), ['acct__alice_tool', 'acct__search']);
  });

  test('with two usable connections the server\'s tools are listed through both, each once; a call names one', async () => {
    await addServer('two', { tools: (account) => (account === 'alice' ? ['search', 'alice_only'] : ['search', 'bob_only']) });
    await connect('two-alice', 'two', 'alice');
    await connect('two-bob', 'two', 'bob');
    const key = await agentKey('two-bot', [{ mcpServers: ['two'], tools: ['*'] }]);
    assert.deepEqual(await listed(key, 'two__'), ['two__alice_only', 'two__bob_only', 'two__search']);
    const call = async (body: unknown): Promise<{ status: number; body: { error?: string; content?: unknown } }> => {
      const res = await fetch(`${lk.url}/v1/mcp-tools/two/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { error?: string; content?: unknown } };
    };
    const ambiguous = await call({});
    assert.equal(ambiguous.status, 400);
    assert.equal(ambiguous.body.error, 'invalid_request');
    const viaBob = await call({ connection: 'two-bob' });
    assert.equal(viaBob.status, 200, JSON.stringify(viaBob.body));
    assert.deepEqual(viaBob.body.content, [{ type: 'text', text: 'two ran search for bob' }]);
  });

  test('upstream text in the MCP server\'s log lines has its control characters escaped', async () => {
    const hostile = '\x1b]0;owned\x07\x1b[2J\x1b[31mFAKE PROMPT$ \u009b1m';
    await addServer('evil', {
      tools: () => ['text', 'fail'],
      call: (tool) =>
        tool === 'text' ? { result: { content: [{ type: 'text', text: `ok ${hostile}` }] } } : { error: { code: -32000, message: `boom ${hostile}` } },
    });
    await connect('evil-main', 'evil', 'alice');
    const key = await agentKey('evil-bot', [{ mcpServers: ['evil'], tools: ['*'] }]);
    const session = await mcpSession(key);
    try {
      const ok = (await session.client.callTool({ name: 'evil__text', arguments: {} })) as CallToolResult;
      assert.notEqual(ok.isError, true);
      const failed = (await session.client.callTool({ name: 'evil__fail', arguments: {} })) as CallToolResult;
      assert.equal(failed.isError, true);
    } finally {
      await session.close();
    }
    const logged = session.lines.filter((l) => l.startsWith('evil__'));
    assert.equal(logged.length, 2, JSON.stringify(session.lines));
    for (const line of logged) {
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, JSON.stringify(line));
      assert.match(line, /\\u001b\[2J/, 'the sequence is shown escaped, not dropped');
    }
  });
});

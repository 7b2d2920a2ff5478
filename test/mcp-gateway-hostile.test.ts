import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startHandMcp, type HandMcp, type HandMcpRequest } from './helpers/hand-mcp.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { fixtureTokens, until } from './helpers/token-lifecycle.js';

const MiB = 1024 * 1024;

/**
 * A hostile upstream MCP server: its tool list is an endless run of empty
 * pages, and its tools answer with bodies far larger than any tool result
 * (declared, chunked, or an event stream that never ends).
 */
async function startHostileMcp(
  issuer: string,
  /** The tools/list result for a bearer token; by default an endless run of empty pages. */
  listFor?: (token: string) => unknown,
): Promise<HandMcp & { listRequests: () => number; closedStreams: () => number }> {
  let listRequests = 0;
  let closedStreams = 0;
  const huge = (id: HandMcpRequest['id']): string =>
    JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'x'.repeat(17 * MiB) }] } });

  const upstream = await startHandMcp(issuer, 'hostile', ({ id, method, params, token }, res) => {
    if (method === 'tools/list') {
      listRequests += 1;
      return { result: listFor?.(token) ?? { tools: [], nextCursor: `page-${listRequests}` } };
    }
    const tool = params?.name;
    if (tool === 'declared') {
      const body = huge(id);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      return undefined;
    }
    if (tool === 'chunked') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = huge(id);
      for (let at = 0; at < body.length && !res.destroyed; at += MiB) res.write(body.slice(at, at + MiB));
      res.end();
      return undefined;
    }
    if (tool === 'endless') {
      // SSE comment lines are valid and carry nothing: the stream never ends and never answers.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('close', () => {
        closedStreams += 1;
      });
      const line = `: ${'y'.repeat(64 * 1024)}\n`;
      const pump = (): void => {
        while (!res.destroyed && res.write(line));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return undefined;
    }
    return { error: { code: -32601, message: 'no such method' } };
  });
  return { ...upstream, listRequests: () => listRequests, closedStreams: () => closedStreams };
}

describe('a hostile upstream MCP server cannot hang or flood the gateway', () => {
  let as: AuthorizationServer;
  let hostile: Awaited<ReturnType<typeof startHostileMcp>>;
  let lk: InProcess;
  let agentKey = '';

  before(async () => {
    as = await startAuthorizationServer();
    hostile = await startHostileMcp(as.issuer);
    lk = await startInProcess();
    const added = await lk.admin('POST', '/v1/mcp-servers', {
      name: 'hostile',
      url: hostile.url,
      clientId: as.confidentialClient.clientId,
      clientSecret: as.confidentialClient.clientSecret,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const issued = await fixtureTokens(as);
    const imported = await lk.admin('POST', '/v1/connections/import', {
      name: 'hostile-main',
      provider: 'hostile',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
    const agent = await lk.admin('POST', '/v1/agents', { name: 'hostile-bot', policy: { rules: [{ mcpServers: ['hostile'], tools: ['*'] }] } });
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    agentKey = (agent.body as { apiKey: string }).apiKey;
  });

  after(async () => {
    await lk?.close();
    hostile?.close();
    await as?.close();
  });

  const asAgent = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: { error?: string; message?: string } & Record<string, unknown> }> => {
    const res = await fetch(`${lk.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${agentKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as { error?: string; message?: string } & Record<string, unknown> };
  };

  test('an endless run of empty tool pages is read to a bound, not forever', async () => {
    const listed = await asAgent('GET', '/v1/mcp-tools');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(listed.body, []);
    assert.equal(hostile.listRequests(), 20, 'the gateway stopped after 20 pages');
  });

  for (const [tool, how] of [
    ['declared', 'a 17 MiB answer it declares in Content-Length'],
    ['chunked', 'a 17 MiB answer sent in chunks'],
    ['endless', 'an event stream that never ends'],
  ] as const) {
    test(`${how} fails the call with a 502 at 16 MiB`, async () => {
      const called = await asAgent('POST', `/v1/mcp-tools/hostile/${tool}`, { arguments: {} });
      assert.equal(called.status, 502, JSON.stringify(called.body).slice(0, 500));
      assert.equal(called.body.error, 'upstream_error');
      assert.match(called.body.message ?? '', /larger than 16 MiB/);
    });
  }

  test('a tool list is kept per connection: one account\'s tools are not shown to an agent of another', async () => {
    const accountOf = new Map<string, string>();
    const perAccount = await startHostileMcp(as.issuer, (token) => ({
      tools: [{ name: `only_${accountOf.get(token) ?? 'unknown'}`, description: 'per account', inputSchema: { type: 'object' } }],
    }));
    try {
      const added = await lk.admin('POST', '/v1/mcp-servers', {
        name: 'accounts',
        url: perAccount.url,
        clientId: as.confidentialClient.clientId,
        clientSecret: as.confidentialClient.clientSecret,
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const keys: Record<string, string> = {};
      for (const account of ['a', 'b']) {
        const issued = await fixtureTokens(as);
        accountOf.set(issued.accessToken, account);
        const imported = await lk.admin('POST', '/v1/connections/import', {
          name: `accounts-${account}`,
          provider: 'accounts',
          accessToken: issued.accessToken,
          refreshToken: issued.refreshToken,
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        });
        assert.equal(imported.status, 201, JSON.stringify(imported.body));
        const rules = [{ mcpServers: ['accounts'], connections: [`accounts-${account}`], tools: ['*'] }];
        const agent = await lk.admin('POST', '/v1/agents', { name: `accounts-bot-${account}`, policy: { rules } });
        assert.equal(agent.status, 201, JSON.stringify(agent.body));
        keys[account] = (agent.body as { apiKey: string }).apiKey;
      }
      const names = async (key: string | undefined): Promise<string[]> => {
        const res = await fetch(`${lk.url}/v1/mcp-tools`, { headers: { authorization: `Bearer ${key ?? ''}` } });
        assert.equal(res.status, 200);
        return ((await res.json()) as Array<{ name: string }>).map((t) => t.name).filter((n) => n.startsWith('accounts__'));
      };
      assert.deepEqual(await names(keys.a), ['accounts__only_a']);
      assert.deepEqual(await names(keys.b), ['accounts__only_b'], 'agent b is not shown the list cached for account a');
      assert.deepEqual(await names(keys.a), ['accounts__only_a']);
      assert.equal(perAccount.listRequests(), 2, 'each account\'s list was cached after its first listing');
    } finally {
      perAccount.close();
    }
  });

  test('the endless stream was closed, and every failure is audited', async () => {
    await until(() => hostile.closedStreams() >= 1 || undefined, 5_000);
    const audit = await lk.admin('GET', '/v1/audit?action=mcp.tool_call&limit=100');
    const events = audit.body as Array<{ outcome: string; detail: { tool: string; error?: string } }>;
    for (const tool of ['declared', 'chunked', 'endless']) {
      const event = events.find((e) => e.detail.tool === tool);
      assert.equal(event?.outcome, 'failure', tool);
      assert.equal(event?.detail.error, 'upstream_error', tool);
    }
  });
});

describe('an upstream MCP server that answers nothing is cut at the gateway\'s time bound', () => {
  let as: AuthorizationServer;
  let silent: HandMcp;
  let lk: InProcess;
  let opened = 0;
  let closed = 0;

  before(async () => {
    as = await startAuthorizationServer();
    // Its tool call opens an event stream and never sends a byte on it.
    silent = await startHandMcp(as.issuer, 'silent', (_request, res) => {
      opened += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      res.on('close', () => {
        closed += 1;
      });
      return undefined;
    });
    lk = await startInProcess({ gatewayTimeoutMs: 1_000 });
    const added = await lk.admin('POST', '/v1/mcp-servers', {
      name: 'silent',
      url: silent.url,
      clientId: as.confidentialClient.clientId,
      clientSecret: as.confidentialClient.clientSecret,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const issued = await fixtureTokens(as);
    const imported = await lk.admin('POST', '/v1/connections/import', {
      name: 'silent-main',
      provider: 'silent',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
  });

  after(async () => {
    await lk?.close();
    silent?.close();
    await as?.close();
  });

  // Well under the MCP SDK's own 60 s request timeout, which the call would otherwise wait for.
  test('a tool call on a silent event stream fails with a 502 at the bound, and the stream is closed', { timeout: 20_000 }, async () => {
    const agent = await lk.admin('POST', '/v1/agents', { name: 'silent-bot', policy: { rules: [{ mcpServers: ['silent'], tools: ['*'] }] } });
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    const res = await fetch(`${lk.url}/v1/mcp-tools/silent/wait`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(agent.body as { apiKey: string }).apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ arguments: {} }),
    });
    const body = (await res.json()) as { error?: string; message?: string };
    assert.equal(res.status, 502, JSON.stringify(body));
    assert.equal(body.error, 'upstream_error');
    assert.equal(opened, 1);
    await until(() => closed >= 1 || undefined, 5_000);
  });
});

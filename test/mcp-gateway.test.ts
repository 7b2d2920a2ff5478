import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { Latchkey } from '../src/sdk/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS, assertNoSecrets, openLink, storedTokens, visit } from './helpers/oauth-flows.js';
import { runCli } from './helpers/latchkey-process.js';
import { startMcp, textOf as textOfMcp } from './helpers/mcp-client.js';
import { UPSTREAM_SCOPE, startUpstreamMcp, type UpstreamMcp } from './helpers/upstream-mcp.js';

interface AuditEvent {
  action: string;
  outcome: string;
  connection: string | null;
  actor: { type: string; name: string };
  detail: Record<string, unknown>;
}

async function createAgent(lk: InProcess, name: string, rules: unknown[]): Promise<string> {
  const res = await lk.admin('POST', '/v1/agents', { name, policy: { rules } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return (res.body as { apiKey: string }).apiKey;
}

async function audit(lk: InProcess, action: string): Promise<AuditEvent[]> {
  const res = await lk.admin('GET', `/v1/audit?action=${encodeURIComponent(action)}&limit=1000`);
  assert.equal(res.status, 200);
  const body = res.body as AuditEvent[] | { items: AuditEvent[] };
  return Array.isArray(body) ? body : body.items;
}

function textOf(result: { content: Array<{ type: string; text?: string }> }): string {
  return result.content.map((c) => c.text ?? '').join('\n');
}

for (const backend of BACKENDS) {
  describe(`an upstream MCP server behind Latchkey (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let upstream: UpstreamMcp;
    let lk: InProcess;
    let drop: () => Promise<void> = async () => {};
    const clock = new ManualClock(Date.now());
    const secrets: string[] = [];
    let connectionId = '';
    let agentKey = '';

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      as = await startAuthorizationServer({
        dynamicRegistration: true,
        resourceIndicators: { resources: ['http://127.0.0.1:'], scope: UPSTREAM_SCOPE },
      });
      upstream = await startUpstreamMcp(as);
      lk = await startInProcess({ clock, ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}) });
    });

    after(async () => {
      await lk?.close();
      await upstream?.close();
      await as?.close();
      await drop();
    });

    test('`latchkey mcp-servers add` discovers the server, registers Latchkey by DCR and makes its provider', async () => {
      const env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
      const added = await runCli(['mcp-servers', 'add', 'tracker', '--url', upstream.url, '--json'], env);
      assert.equal(added.code, 0, added.stderr);
      const server = JSON.parse(added.stdout) as { name: string; registration: string; resource: string; provider: string; clientId: string; scopes: string[] };
      assert.equal(server.registration, 'dcr');
      assert.equal(server.resource, upstream.url);
      assert.equal(server.provider, 'tracker');
      assert.deepEqual(server.scopes.sort(), ['mcp:tools', 'offline_access']);
      const registered = as.registeredClients();
      assert.equal(registered.length, 1);
      assert.equal(registered[0]?.clientId, server.clientId);
      assert.deepEqual(registered[0]?.redirectUris, [`${lk.url}/oauth/callback`]);

      const listed = await runCli(['mcp-servers', 'list'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /tracker/);
      const shown = await runCli(['mcp-servers', 'show', 'tracker'], env);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /dcr/);

      const again = await lk.admin('POST', '/v1/mcp-servers', { name: 'tracker', url: upstream.url });
      assert.equal(again.status, 409);
      // The provider is stored like any other: its secret is never shown.
      const provider = (await lk.admin('GET', '/v1/providers/tracker')).body as { hasClientSecret: boolean; authorizeParams: Record<string, string> };
      assert.equal(provider.hasClientSecret, true);
      assert.equal(provider.authorizeParams.resource, upstream.url);
    });

    test('an operator connects it like any provider; the authorization and token requests carry the resource', async () => {
      const started = await lk.admin('POST', '/v1/connect/tracker', { name: 'tracker-alice', subject: 'alice' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const { authorizationUrl, connectionId: id } = started.body as { authorizationUrl: string; connectionId: string };
      connectionId = id;
      const providerUrl = new URL(await openLink(authorizationUrl));
      assert.equal(providerUrl.searchParams.get('resource'), upstream.url);
      assert.equal(providerUrl.searchParams.get('code_challenge_method'), 'S256');
      const callback = await as.approve(providerUrl.href, { accountId: 'alice' });
      const page = await visit(callback);
      assert.equal(page.status, 200, page.body);
      const connection = (await lk.admin('GET', '/v1/connections/tracker-alice')).body as { status: string };
      assert.equal(connection.status, 'active');
      const tokens = await storedTokens(lk, connectionId);
      assert.ok(tokens.refreshToken, 'a refresh token was issued');
      const bound = await as.findToken('AccessToken', tokens.accessToken ?? '');
      assert.equal(bound?.audience, upstream.url, 'the token is audience-bound to the MCP server (RFC 8707)');
      secrets.push(tokens.accessToken ?? '', tokens.refreshToken ?? '');
    });

    test('an agent lists and calls the upstream tools through Latchkey; the token never reaches it', async () => {
      agentKey = await createAgent(lk, 'tracker-bot', [{ mcpServers: ['tracker'], tools: ['echo', 'whoami', 'leak', 'announce'] }]);
      secrets.push(agentKey);
      const agent = new Latchkey({ url: lk.url, agentKey });
      const tools = await agent.mcpTools.list();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['tracker__announce', 'tracker__echo', 'tracker__leak', 'tracker__whoami']);
      const echo = tools.find((t) => t.tool === 'echo');
      assert.equal(echo?.server, 'tracker');
      assert.deepEqual(Object.keys((echo?.inputSchema as { properties: object }).properties), ['text']);

      // A list route like the others: pages by name, with the next-page cursor.
      const first = await fetch(`${lk.url}/v1/mcp-tools?limit=3`, { headers: { authorization: `Bearer ${agentKey}` } });
      const page = (await first.json()) as { items: Array<{ name: string }>; nextCursor: string | null };
      assert.deepEqual(page.items.map((t) => t.name), ['tracker__announce', 'tracker__echo', 'tracker__leak']);
      assert.equal(first.headers.get('latchkey-next-cursor'), page.nextCursor);
      const walked: string[] = [];
      for await (const t of agent.mcpTools.iterate({ limit: 1 })) walked.push(t.name);
      assert.deepEqual(walked, tools.map((t) => t.name).sort());

      const result = await agent.mcpTools.call('tracker', 'echo', { arguments: { text: 'hello' } });
      assert.equal(textOf(result), 'echo: hello');
      const who = await agent.mcpTools.call('tracker', 'whoami');
      assert.equal(textOf(who), 'account: alice');

      const leak = await agent.mcpTools.call('tracker', 'leak');
      const leaked = JSON.stringify(leak);
      assert.match(leaked, /\[REDACTED\]/);
      assertNoSecrets(leaked, [...secrets, ...upstream.acceptedTokens], 'a tool result');
      const events = await audit(lk, 'mcp.tool_call');
      const leakEvent = events.find((e) => e.detail.tool === 'leak');
      assert.equal(leakEvent?.detail.redacted, true);
      const echoEvent = events.find((e) => e.detail.tool === 'echo');
      assert.equal(echoEvent?.outcome, 'success');
      assert.equal(echoEvent?.connection, 'tracker-alice');
      assert.equal(typeof echoEvent?.detail.durationMs, 'number');
      assert.equal(echoEvent?.detail.text, undefined, 'argument values are not audited');
      assert.ok(!JSON.stringify(events).includes('hello'), 'argument values are not audited');

      const env = { LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: agentKey };
      const listed = await runCli(['mcp-tools', 'list'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /tracker__echo/);
      const called = await runCli(['mcp-tools', 'call', 'tracker__echo', '--arguments', '{"text":"from the cli"}'], env);
      assert.equal(called.code, 0, called.stderr);
      assert.equal(called.stdout.trim(), 'echo: from the cli');
    });

    test('after the upstream token expires, 50 concurrent tool calls cause exactly one refresh', async () => {
      clock.advance(2 * 3600_000);
      as.resetCounts();
      const agent = new Latchkey({ url: lk.url, agentKey });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => agent.mcpTools.call('tracker', 'echo', { arguments: { text: `n${i}` } })),
      );
      results.forEach((r, i) => assert.equal(textOf(r), `echo: n${i}`));
      assert.equal(as.counts().refresh_token, 1, JSON.stringify(as.counts()));
      const tokens = await storedTokens(lk, connectionId);
      secrets.push(tokens.accessToken ?? '', tokens.refreshToken ?? '');
      // The refresh asked for the same resource: the new token is still bound to the MCP server.
      assert.equal((await as.findToken('AccessToken', tokens.accessToken ?? ''))?.audience, upstream.url);
      assert.equal(upstream.acceptedTokens.at(-1), tokens.accessToken, 'the calls went with the refreshed token');
    });

    test('a token the upstream refuses (revoked out of band) is replaced once and the call sent once more', async () => {
      clock.advance(10 * 60_000);
      const before = (await storedTokens(lk, connectionId)).accessToken ?? '';
      assert.equal(await as.destroyToken('AccessToken', before), true);
      as.resetCounts();
      const agent = new Latchkey({ url: lk.url, agentKey });
      assert.equal(textOf(await agent.mcpTools.call('tracker', 'echo', { arguments: { text: 'again' } })), 'echo: again');
      assert.equal(as.counts().refresh_token, 1);
      const after = await storedTokens(lk, connectionId);
      assert.notEqual(after.accessToken, before);
      secrets.push(after.accessToken ?? '', after.refreshToken ?? '');
      // Audited as the proxy audits a 401-caused refresh: who caused it, through which server.
      const replaced = (await audit(lk, 'connection.refresh')).filter((e) => e.detail.reason === 'upstream_401');
      assert.equal(replaced.length, 1, JSON.stringify(replaced));
      assert.equal(replaced[0]?.actor.name, 'tracker-bot');
      assert.equal(replaced[0]?.detail.server, 'tracker');
    });

    test('the stdio MCP server (`latchkey mcp`) offers the namespaced tools and calls them', async () => {
      const session = await startMcp({ url: lk.url, agentKey, home: lk.config.dataDir });
      try {
        const { tools } = await session.client.listTools();
        const echo = tools.find((t) => t.name === 'tracker__echo');
        assert.ok(echo, tools.map((t) => t.name).join(', '));
        assert.deepEqual(Object.keys(echo.inputSchema.properties ?? {}), ['text']);
        assert.ok(tools.some((t) => t.name === 'list_connections'), "Latchkey's own tools are still there");
        assert.equal(textOfMcp(await session.call('tracker__echo', { text: 'via stdio' })), 'echo: via stdio');
        const leak = await session.call('tracker__leak', {});
        assertNoSecrets(JSON.stringify(leak), [...secrets, ...upstream.acceptedTokens], 'a stdio tool result');
        const refused = await session.call('tracker__missing', {});
        assert.equal(refused.isError, true);
        assert.deepEqual(session.transportErrors, []);
      } finally {
        await session.close();
      }
    });

    test('an upstream tools/list_changed is followed', async () => {
      const agent = new Latchkey({ url: lk.url, agentKey: await createAgent(lk, 'tracker-all', [{ mcpServers: ['tracker'], tools: ['*'] }]) });
      assert.ok(!(await agent.mcpTools.list()).some((t) => t.tool === 'late'));
      upstream.addTool('late');
      assert.ok(!(await agent.mcpTools.list()).some((t) => t.tool === 'late'), 'the list is cached');
      await agent.mcpTools.call('tracker', 'announce');
      assert.ok((await agent.mcpTools.list()).some((t) => t.tool === 'late'), 'the notification dropped the cached list');
    });

    test('an agent whose policy does not name the tool is refused, and the refusal is audited', async () => {
      const agent = new Latchkey({ url: lk.url, agentKey: await createAgent(lk, 'echo-only', [{ mcpServers: ['tracker'], tools: ['echo'] }]) });
      assert.deepEqual((await agent.mcpTools.list()).map((t) => t.name), ['tracker__echo']);
      await assert.rejects(agent.mcpTools.call('tracker', 'whoami'), (err: { status?: number; code?: string }) => err.status === 403 && err.code === 'forbidden');
      const before = upstream.calls.get('whoami') ?? 0;
      const denied = (await audit(lk, 'mcp.tool_call')).filter((e) => e.outcome === 'denied' && e.actor.name === 'echo-only');
      assert.equal(denied.length, 1);
      assert.deepEqual({ server: denied[0]?.detail.server, tool: denied[0]?.detail.tool }, { server: 'tracker', tool: 'whoami' });
      assert.equal(upstream.calls.get('whoami') ?? 0, before, 'nothing reached the upstream');

      const none = new Latchkey({ url: lk.url, agentKey: await createAgent(lk, 'api-only', [{ connections: ['tracker-alice'] }]) });
      assert.deepEqual(await none.mcpTools.list(), [], 'a rule naming connections grants no MCP tools');
      await assert.rejects(none.mcpTools.call('tracker', 'echo', { arguments: { text: 'x' } }), (err: { status?: number }) => err.status === 403);
    });

    test('deleting the connection revokes the grant at the upstream authorization server', async () => {
      const tokens = await storedTokens(lk, connectionId);
      assert.ok(await as.findToken('RefreshToken', tokens.refreshToken ?? ''), 'the refresh token is live');
      const refreshToken = tokens.refreshToken ?? '';
      const res = await lk.admin('DELETE', '/v1/connections/tracker-alice');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((res.body as { revokedAtProvider: boolean }).revokedAtProvider, true);
      assert.ok(as.clientCalls().some((c) => c.endpoint === 'revocation' && c.status === 200));
      assert.equal(await as.findToken('RefreshToken', refreshToken), undefined, 'the grant is gone at the AS');
      const agent = new Latchkey({ url: lk.url, agentKey });
      await assert.rejects(agent.mcpTools.call('tracker', 'echo', { arguments: { text: 'x' } }), (err: { status?: number }) => err.status === 404);
    });

    test('no token appears in the logs or the audit log', async () => {
      const all = await lk.admin('GET', '/v1/audit?limit=1000');
      assertNoSecrets(JSON.stringify(all.body), [...secrets, ...upstream.acceptedTokens], 'the audit log');
      assertNoSecrets(lk.logs.text(), [...secrets, ...upstream.acceptedTokens], 'the logs');
    });

    test('removing the server: 409 while connections use it; with force each is revoked upstream, then the provider goes', async () => {
      const started = await lk.admin('POST', '/v1/connect/tracker', { name: 'tracker-bob', subject: 'bob' });
      const { authorizationUrl, connectionId: bobId } = started.body as { authorizationUrl: string; connectionId: string };
      assert.equal((await visit(await as.approve(await openLink(authorizationUrl), { accountId: 'bob' }))).status, 200);
      const refreshToken = (await storedTokens(lk, bobId)).refreshToken ?? '';
      assert.ok(await as.findToken('RefreshToken', refreshToken));

      const refused = await lk.admin('DELETE', '/v1/mcp-servers/tracker');
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      const res = await lk.admin('DELETE', '/v1/mcp-servers/tracker?force=true');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { deleted: true, removedConnections: 1, revokedAtProvider: 1 });
      assert.equal(await as.findToken('RefreshToken', refreshToken), undefined, 'the grant is gone at the AS');
      assert.equal((await lk.admin('GET', '/v1/mcp-servers/tracker')).status, 404);
      assert.equal((await lk.admin('GET', '/v1/providers/tracker')).status, 404);
      assert.equal((await lk.admin('GET', '/v1/connections/tracker-bob')).status, 404);
      assertNoSecrets(lk.logs.text(), [refreshToken], 'the logs');
    });
  });
}

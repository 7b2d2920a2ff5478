import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { REFERENCE_FILE, renderApiReference, type OpenApi } from '../scripts/api-reference.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { fixtureTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { TestOAuthProvider, authorizeWithOperator, connectExpectingAuth } from './helpers/mcp-remote.js';
import { runCli } from './helpers/latchkey-process.js';
import { raw, signIn } from './helpers/operators.js';
import { openLink, visit } from './helpers/oauth-flows.js';
import { UPSTREAM_SCOPE, startUpstreamMcp, type UpstreamMcp } from './helpers/upstream-mcp.js';

interface Operation {
  responses: Record<string, { content?: { 'application/json'?: { schema: object } } }>;
  security: Array<Record<string, unknown>>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, object> };
}

interface Seen {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

/** `/v1/agents/{id}` as a pattern; templates with more literal segments win (`/v1/connections/import` over `{id}`). */
function templateFor(doc: OpenApiDocument, method: string, path: string): string | undefined {
  const candidates = Object.keys(doc.paths).filter((t) => {
    if (doc.paths[t]?.[method.toLowerCase()] === undefined) return false;
    const pattern = new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return pattern.test(path);
  });
  const literal = (t: string): number => t.split('/').filter((s) => !s.startsWith('{')).length;
  return candidates.sort((a, b) => literal(b) - literal(a))[0];
}

describe('OpenAPI 3.1 document at /openapi.json, checked against the real server', () => {
  let as: AuthorizationServer;
  let api: FakeApi;
  let lk: InProcess;
  let mcpAs: AuthorizationServer;
  let upstream: UpstreamMcp;
  let doc: OpenApiDocument;
  const seen: Seen[] = [];

  /** A request whose answer is checked against the document afterwards. */
  async function call(method: string, path: string, body?: unknown, token = ADMIN): Promise<{ status: number; body: unknown }> {
    const res = await fetch(lk.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // the check below reports a body that is not JSON
    }
    seen.push({ method, path: path.split('?')[0] as string, status: res.status, body: parsed });
    return { status: res.status, body: parsed };
  }

  async function ok<T>(method: string, path: string, status: number, body?: unknown, token?: string): Promise<T> {
    const res = await call(method, path, body, token);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body as T;
  }

  before(async () => {
    as = await startAuthorizationServer();
    api = await startFakeApi();
    lk = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    const res = await fetch(`${lk.url}/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as OpenApiDocument;
    seen.push({ method: 'GET', path: '/openapi.json', status: 200, body: doc });

    // A scenario that goes through every route of the document.
    await ok('GET', '/healthz', 200);
    await ok('GET', '/readyz', 200);
    await ok('GET', '/v1/presets', 200);
    const c = as.confidentialClient;
    await ok('POST', '/v1/providers', 201, {
      name: 'fixture',
      issuer: as.issuer,
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      scopes: ['openid', 'offline_access', 'api:read'],
      apiBaseUrl: api.url,
      allowedHosts: [],
      capabilities: [{ name: 'me', description: 'who am I', methods: ['GET'], pathPrefixes: ['/api/me'] }],
    });
    await ok('GET', '/v1/providers', 200);
    await ok('GET', '/v1/providers/fixture', 200);
    await ok('PATCH', '/v1/providers/fixture', 200, { displayName: 'The fixture' });
    const tokens = await fixtureTokens(as);
    await ok('POST', '/v1/connections/import', 201, {
      name: 'main',
      provider: 'fixture',
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    // A grant minted with another client of the provider: it shows in the client list.
    await ok('POST', '/v1/connections/import', 201, { name: 'tenant-conn', provider: 'fixture', refreshToken: 'rt-tenant', clientId: 'tenant', clientSecret: 'tenant-secret' });
    const clients = await ok<Array<{ id: string | null }>>('GET', '/v1/providers/fixture/clients', 200);
    const other = clients.find((x) => x.id !== null);
    assert.ok(other?.id);
    await ok('PATCH', `/v1/providers/fixture/clients/${other.id}`, 200, { clientSecret: 'tenant-secret-2' });
    await ok('GET', '/v1/connections', 200);
    await ok('GET', '/v1/connections?limit=1', 200);
    await ok('GET', '/v1/connections/main', 200);
    await ok('GET', '/v1/connections/main/token', 200);
    await ok('POST', '/v1/connections/main/refresh', 200);
    await ok('POST', '/v1/connect/fixture', 201, { name: 'consent' });
    await ok('POST', '/v1/connect/fixture/device', 201, { name: 'tv' });
    await ok('POST', '/v1/connect/fixture/client-credentials', 201, { name: 'machine', scopes: ['api:read'] });
    await ok('GET', '/v1/keys', 200);
    await ok('POST', '/v1/keys/rotate', 200);
    const hook = await ok<{ id: string }>('POST', '/v1/webhooks', 201, { url: 'http://127.0.0.1:9/hook', events: ['*'] });
    await ok('GET', '/v1/webhooks', 200);
    await ok('GET', `/v1/webhooks/${hook.id}/deliveries`, 200);
    const agent = await ok<{ apiKey: string }>('POST', '/v1/agents', 201, {
      name: 'bot',
      policy: { rules: [{ connections: ['main'], capabilities: ['me'] }], lease: { allowed: true, maxTtl: '1h' } },
    });
    await ok('GET', '/v1/agents', 200);
    await ok('GET', '/v1/agents?limit=5', 200);
    await ok('GET', '/v1/agents/bot', 200);
    await ok('PATCH', '/v1/agents/bot', 200, { policy: { rules: [{ connections: ['main'], capabilities: ['me'] }], lease: { allowed: true, maxTtl: '1h' } } });
    const key = await ok<{ id: string }>('POST', '/v1/agents/bot/keys', 201);
    await ok('DELETE', `/v1/agents/bot/keys/${key.id}`, 200);
    await ok('GET', '/v1/me', 200, undefined, agent.apiKey);
    await ok('POST', '/v1/invoke/main/me', 200, {}, agent.apiKey);
    const lease = await ok<{ leaseId: string }>('POST', '/v1/leases', 201, { connection: 'main', ttl: '10m' }, agent.apiKey);
    await ok('GET', '/v1/leases', 200);
    await ok('DELETE', `/v1/leases/${lease.leaseId}`, 200, undefined, agent.apiKey);
    await ok('GET', '/v1/status', 200);
    // Connect links: a link for an account owner, listed, then withdrawn.
    const link = await ok<{ id: string }>('POST', '/v1/connect-links', 201, { provider: 'fixture', subject: 'dora', name: 'dora-link' });
    await ok('GET', '/v1/connect-links', 200);
    await ok('DELETE', `/v1/connect-links/${link.id}`, 200);
    // Remote MCP: the discovery documents, then a host's authorization that an operator decides (here: denies).
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/mcp-oauth']) {
      await ok('GET', path, 200);
    }
    const hostRedirect = 'http://127.0.0.1:9/callback';
    const host = new TestOAuthProvider(hostRedirect, {
      client_name: 'openapi-test-host',
      redirect_uris: [hostRedirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    await connectExpectingAuth(`${lk.url}/mcp`, host);
    await authorizeWithOperator(host, (method, path, body) => call(method, path, body), { deny: true });
    // Another host approved as the agent, listed under it, and revoked.
    const approved = new TestOAuthProvider(hostRedirect, { ...host.metadata, client_name: 'openapi-approved-host' });
    await connectExpectingAuth(`${lk.url}/mcp`, approved);
    await authorizeWithOperator(approved, (method, path, body) => call(method, path, body), { agent: 'bot' });
    const mcpClients = await ok<Array<{ id: string }>>('GET', '/v1/agents/bot/mcp-clients', 200);
    assert.equal(mcpClients.length, 1);
    await ok('DELETE', `/v1/agents/bot/mcp-clients/${mcpClients[0]?.id ?? ''}`, 200);
    // Access proposals: an agent asks, an operator decides.
    const proposal = await ok<{ id: string }>('POST', '/v1/proposals', 201, { connection: 'main', methods: ['GET'], paths: ['/api/**'], reason: 'read more' }, agent.apiKey);
    await ok('POST', '/v1/proposals', 200, { connection: 'main', methods: ['GET'], paths: ['/api/**'], reason: 'again' }, agent.apiKey);
    await ok('GET', '/v1/proposals', 200);
    await ok('GET', '/v1/proposals?status=pending&limit=1', 200);
    await ok('GET', `/v1/proposals/${proposal.id}`, 200, undefined, agent.apiKey);
    await ok('POST', `/v1/proposals/${proposal.id}/approve`, 200, { rule: { paths: ['/api/me'] } });
    const denied = await ok<{ id: string }>('POST', '/v1/proposals', 201, { connection: 'main', reason: 'everything' }, agent.apiKey);
    await ok('POST', `/v1/proposals/${denied.id}/deny`, 200, { reason: 'too much' });
    // Operators, their keys and console sessions.
    await ok('POST', '/v1/operators', 201, { name: 'olga', role: 'operator', password: 'olga-password-0123456789' });
    await ok('GET', '/v1/operators', 200);
    await ok('GET', '/v1/operators/olga', 200);
    await ok('PATCH', '/v1/operators/olga', 200, { role: 'viewer' });
    const operatorKey = await ok<{ id: string }>('POST', '/v1/operators/olga/keys', 201, {});
    await ok('GET', '/v1/operators/olga/keys', 200);
    await ok('DELETE', `/v1/operators/olga/keys/${operatorKey.id}`, 200);
    await ok('POST', '/v1/operators/olga/sign-in-links', 201);
    const origin = new URL(lk.url).origin.replace('localhost', '127.0.0.1');
    const signedIn = await raw(lk.url, 'POST', '/v1/sessions', { origin }, { name: 'olga', password: 'olga-password-0123456789' });
    seen.push({ method: 'POST', path: '/v1/sessions', status: signedIn.status, body: signedIn.body });
    assert.equal(signedIn.status, 201, signedIn.text);
    const session = await signIn(lk.url, { name: 'olga', password: 'olga-password-0123456789' });
    for (const method of ['GET', 'DELETE']) {
      const res = await session.call(method, '/v1/session');
      seen.push({ method, path: '/v1/session', status: res.status, body: res.body });
      assert.equal(res.status, 200, res.text);
    }
    await ok('DELETE', '/v1/operators/olga', 200);
    await ok('GET', '/v1/audit', 200);
    await ok('GET', '/v1/audit?cursor=&limit=3', 200);
    await ok('GET', '/v1/audit/verify', 200);
    await ok('POST', '/v1/audit/prune', 200, { before: '2000-01-01T00:00:00Z' });
    await ok('DELETE', '/v1/connections/tenant-conn', 200);
    await ok('GET', '/v1/revocations', 200);
    // The events above left deliveries to the (closed) receiver: one is sent again now.
    const deliveries = await ok<Array<{ id: string; status: string }>>('GET', `/v1/webhooks/${hook.id}/deliveries`, 200);
    const pending = deliveries.find((d) => d.status === 'pending');
    assert.ok(pending, `a pending delivery: ${JSON.stringify(deliveries)}`);
    await ok('POST', `/v1/webhooks/${hook.id}/deliveries/${pending.id}/retry`, 200);
    await ok('DELETE', `/v1/webhooks/${hook.id}`, 200);
    await ok('DELETE', '/v1/agents/bot', 200);
    await ok('DELETE', '/v1/providers/fixture?force=true', 200);
    // An upstream MCP server behind Latchkey (the gateway), connected and called by an agent.
    mcpAs = await startAuthorizationServer({ dynamicRegistration: true, resourceIndicators: { resources: ['http://127.0.0.1:'], scope: UPSTREAM_SCOPE } });
    upstream = await startUpstreamMcp(mcpAs);
    await ok('POST', '/v1/mcp-servers', 201, { name: 'tracker', url: upstream.url });
    await ok('GET', '/v1/mcp-servers', 200);
    await ok('GET', '/v1/mcp-servers?limit=1', 200);
    await ok('GET', '/v1/mcp-servers/tracker', 200);
    const consent = await ok<{ authorizationUrl: string }>('POST', '/v1/connect/tracker', 201, { name: 'tracker-main' });
    assert.equal((await visit(await mcpAs.approve(await openLink(consent.authorizationUrl)))).status, 200);
    const mcpAgent = await ok<{ apiKey: string }>('POST', '/v1/agents', 201, { name: 'mcp-bot', policy: { rules: [{ mcpServers: ['tracker'], tools: ['echo'] }] } });
    await ok('GET', '/v1/mcp-tools', 200, undefined, mcpAgent.apiKey);
    await ok('GET', '/v1/mcp-tools?limit=1', 200, undefined, mcpAgent.apiKey);
    await ok('POST', '/v1/mcp-tools/tracker/echo', 200, { arguments: { text: 'hi' } }, mcpAgent.apiKey);
    await ok('DELETE', '/v1/mcp-servers/tracker?force=true', 200);
    // Errors are documented too (the `default` answer).
    await call('GET', '/v1/connections/nope');
    await call('GET', '/v1/connections?limit=0');
    await call('POST', '/v1/agents', { name: 'x', extra: true });
    await call('GET', '/v1/me', undefined, 'lk_not_a_key');
  });

  after(async () => {
    await lk?.close();
    await upstream?.close();
    await mcpAs?.close();
    await api?.close();
    await as?.close();
  });

  test('the document is OpenAPI 3.1 with the security schemes, served without authentication', async () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['adminToken', 'agentKey', 'operatorKey', 'session']);
    assert.deepEqual(doc.paths['/openapi.json']?.get?.security, []);
    assert.deepEqual(doc.paths['/v1/me']?.get?.security, [{ agentKey: [] }]);
    assert.ok(doc.paths['/v1/connections']?.get?.security.some((s) => 'adminToken' in s));
    // Routes outside the REST API (HTML pages, the OAuth callback, metrics) are not in it.
    assert.equal(doc.paths['/oauth/callback'], undefined);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          const schema = response.content?.['application/json']?.schema;
          if (schema !== undefined) assert.doesNotThrow(() => ajv.compile({ ...schema, components: doc.components }), `${method} ${path} ${status} compiles`);
        }
      }
    }
  });

  test('docs/api-reference.md is what `npm run docs:api` renders from this document', () => {
    const rendered = renderApiReference(doc as unknown as OpenApi);
    assert.ok(readFileSync(REFERENCE_FILE, 'utf8') === rendered, 'docs/api-reference.md is out of date: run `npm run docs:api`');
  });

  test('the SDK and `latchkey openapi` read the same document', async () => {
    const printed = await runCli(['--json', 'openapi'], { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN });
    assert.equal(printed.code, 0, printed.stderr);
    assert.deepEqual(Object.keys((JSON.parse(printed.stdout) as OpenApiDocument).paths), Object.keys(doc.paths));
    const table = await runCli(['openapi'], { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN });
    assert.match(table.stdout, /GET\s+\/v1\/me\s+agentKey/);
  });

  test('every /v1 route declares a response schema for its success answer', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const documented = Object.keys(op.responses).filter((s) => s !== 'default' || op.responses[s]?.content === undefined);
        assert.ok(documented.length > 0, `${method.toUpperCase()} ${path} declares no response schema (schema.response in its route options)`);
      }
    }
  });

  test("every documented route's real answers match the document (status and body)", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const compiled = new Map<object, ValidateFunction>();
    const exercised = new Set<string>();
    for (const s of seen) {
      const template = templateFor(doc, s.method, s.path);
      assert.ok(template, `${s.method} ${s.path} is not in the document`);
      const op = doc.paths[template]?.[s.method.toLowerCase()] as Operation;
      const response = op.responses[String(s.status)] ?? op.responses[`${String(s.status)[0]}XX`] ?? op.responses.default;
      assert.ok(response, `${s.method} ${template} answered ${s.status}, which the document does not list`);
      if (s.status < 400) exercised.add(`${s.method} ${template}`);
      const schema = response.content?.['application/json']?.schema;
      if (schema === undefined) continue;
      let validate = compiled.get(schema);
      if (validate === undefined) {
        validate = ajv.compile({ ...schema, components: doc.components });
        compiled.set(schema, validate);
      }
      assert.ok(validate(s.body), `${s.method} ${s.path} ${s.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(s.body).slice(0, 600)}`);
    }
    // The scenario reaches every operation: a route added without a step here fails, so none goes unchecked.
    const missing = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .map((m) => `${m.toUpperCase()} ${path}`)
        .filter((op) => !exercised.has(op)),
    );
    assert.deepEqual(missing, [], 'operations the scenario in test/openapi.test.ts does not exercise yet');
  });
});

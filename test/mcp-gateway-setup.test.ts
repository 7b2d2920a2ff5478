import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isAllowed, mayCallTool, parsePolicy } from '../src/agents/index.js';
import { registerClient } from '../src/gateway/registration.js';
import { clientMetadataUrl, redactJson } from '../src/gateway/index.js';
import type { DiscoveredMetadata } from '../src/providers/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { startUpstreamMcp, type UpstreamMcp } from './helpers/upstream-mcp.js';

/** A server that answers every request with this handler's status, headers and JSON body. */
async function startStub(answer: (path: string) => { status: number; headers?: Record<string, string>; body?: unknown }): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const { status, headers, body } = answer(new URL(req.url ?? '/', 'http://x').pathname);
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body === undefined ? '' : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const AS_METADATA: DiscoveredMetadata = {
  issuer: 'https://as.example',
  issParameterSupported: true,
  clientIdMetadataDocumentSupported: true,
  registrationEndpoint: 'https://as.example/reg',
};

describe('adding an upstream MCP server: registration choices and refusals', () => {
  let as: AuthorizationServer;
  let upstream: UpstreamMcp;
  let lk: InProcess;
  const dialed: string[] = [];
  const stubs: Server[] = [];

  before(async () => {
    as = await startAuthorizationServer();
    upstream = await startUpstreamMcp(as);
    lk = await startInProcess({ onDial: (address) => dialed.push(address) });
  });

  after(async () => {
    await lk?.close();
    await upstream?.close();
    await as?.close();
    for (const s of stubs) s.close();
  });

  test('an AS with neither CIMD nor DCR needs a client given by hand, and says so', async () => {
    const refused = await lk.admin('POST', '/v1/mcp-servers', { name: 'plain', url: upstream.url });
    assert.equal(refused.status, 400);
    assert.equal((refused.body as { error: string }).error, 'invalid_request');
    assert.match((refused.body as { message: string }).message, /register a client there with the redirect URI http:\/\/127\.0\.0\.1:\d+\/oauth\/callback/);
    assert.equal((await lk.admin('GET', '/v1/providers/plain')).status, 404, 'nothing was half-written');

    const added = await lk.admin('POST', '/v1/mcp-servers', {
      name: 'plain',
      url: upstream.url,
      clientId: as.confidentialClient.clientId,
      clientSecret: as.confidentialClient.clientSecret,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal((added.body as { registration: string }).registration, 'manual');
    assert.ok(!JSON.stringify(added.body).includes(as.confidentialClient.clientSecret ?? '-'), 'the secret is never shown');
    const audit = await lk.admin('GET', '/v1/audit?action=mcp_server.create');
    assert.equal((audit.body as unknown[]).length, 1);
  });

  test('a server without protected resource metadata is refused with a clear 400', async () => {
    const stub = await startStub(() => ({ status: 404, body: { error: 'nope' } }));
    stubs.push(stub.server);
    const res = await lk.admin('POST', '/v1/mcp-servers', { name: 'bare', url: `${stub.url}/mcp` });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match((res.body as { message: string }).message, /protected resource metadata/);
  });

  test('metadata about another resource is refused (RFC 9728 §3.3)', async () => {
    const stub = await startStub((path) =>
      path.startsWith('/.well-known/')
        ? { status: 200, body: { resource: 'http://127.0.0.1:1/elsewhere', authorization_servers: [as.issuer] } }
        : { status: 401, headers: { 'www-authenticate': 'Bearer' } },
    );
    stubs.push(stub.server);
    const res = await lk.admin('POST', '/v1/mcp-servers', { name: 'other', url: `${stub.url}/mcp` });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match((res.body as { message: string }).message, /does not cover/);
  });

  test('discovery does not follow a server to addresses Latchkey does not connect to', async () => {
    const stub = await startStub(() => ({
      status: 401,
      headers: { 'www-authenticate': 'Bearer resource_metadata="https://169.254.169.254/latest/meta-data"' },
    }));
    stubs.push(stub.server);
    dialed.length = 0;
    const res = await lk.admin('POST', '/v1/mcp-servers', { name: 'ssrf', url: `${stub.url}/mcp` });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.ok(!dialed.includes('169.254.169.254'), 'the link-local address was never dialled');
    const direct = await lk.admin('POST', '/v1/mcp-servers', { name: 'ssrf2', url: 'https://10.1.2.3/mcp' });
    assert.equal(direct.status, 400);
    assert.match((direct.body as { message: string }).message, /private/);
  });

  test('names: taken by a provider, or holding the tool separator, are refused', async () => {
    await lk.admin('POST', '/v1/providers', { name: 'taken', tokenEndpoint: `${as.issuer}/token`, clientId: 'x' });
    const taken = await lk.admin('POST', '/v1/mcp-servers', { name: 'taken', url: upstream.url });
    assert.equal(taken.status, 409);
    const sep = await lk.admin('POST', '/v1/mcp-servers', { name: 'a__b', url: upstream.url });
    assert.equal(sep.status, 400);
  });

  test('an agent key cannot manage MCP servers', async () => {
    const agent = await lk.admin('POST', '/v1/agents', { name: 'nosy', policy: { rules: [{ mcpServers: ['*'], tools: ['*'] }] } });
    const key = (agent.body as { apiKey: string }).apiKey;
    const res = await fetch(`${lk.url}/v1/mcp-servers`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 401);
  });
});

describe('Client ID Metadata Documents', () => {
  test('CIMD is chosen when the AS supports it and the public URL is https; DCR otherwise; a given client wins', async () => {
    const fetchFn = (): Promise<Response> => Promise.reject(new Error('no network in this test'));
    const input = { clientMetadataUrl: 'https://lk.example/.well-known/latchkey-client/linear/mcp_1', redirectUri: 'https://lk.example/oauth/callback', scopes: [] };
    assert.deepEqual(await registerClient(AS_METADATA, input, fetchFn), {
      registration: 'cimd',
      clientId: 'https://lk.example/.well-known/latchkey-client/linear/mcp_1',
      tokenEndpointAuthMethod: 'none',
    });
    // Not https: no document URL, so dynamic registration is tried.
    await assert.rejects(registerClient(AS_METADATA, { ...input, clientMetadataUrl: undefined }, fetchFn), /could not be reached/);
    const manual = await registerClient(AS_METADATA, { ...input, clientId: 'mine', clientSecret: 's3cret-value' }, fetchFn);
    assert.equal(manual.registration, 'manual');
    assert.equal(manual.tokenEndpointAuthMethod, 'client_secret_basic');
  });

  test('the client id URL names its server; a document is served only for such a server, under an https public URL', async () => {
    assert.equal(clientMetadataUrl('https://latchkey.example/', { name: 'linear', id: 'mcp_1' }), 'https://latchkey.example/.well-known/latchkey-client/linear/mcp_1');
    assert.equal(clientMetadataUrl('https://latchkey.example', undefined), 'https://latchkey.example/.well-known/latchkey-client.json');
    assert.equal(clientMetadataUrl('http://127.0.0.1:8787', { name: 'linear', id: 'mcp_1' }), undefined);
    const https = await startInProcess({ env: { LATCHKEY_PUBLIC_URL: 'https://latchkey.example' } });
    const plain = await startInProcess();
    try {
      // No MCP server registered by CIMD: no document at all (mcp-gateway-cimd.test.ts serves and attacks them).
      assert.equal((await fetch(`${https.url}/.well-known/latchkey-client.json`)).status, 404);
      assert.equal((await fetch(`${https.url}/.well-known/latchkey-client/linear/mcp_1`)).status, 404);
      assert.equal((await fetch(`${plain.url}/.well-known/latchkey-client/linear/mcp_1`)).status, 404);
    } finally {
      await https.close();
      await plain.close();
    }
  });
});

describe('policy rules for MCP servers', () => {
  test('a rule names servers and tools (globs allowed), optionally connections; default deny', () => {
    const policy = parsePolicy({
      rules: [
        { mcpServers: ['linear'], tools: ['create_issue', 'list_*'] },
        { mcpServers: ['git*'], tools: ['*'], connections: ['github-alice'] },
      ],
    });
    assert.equal(mayCallTool(policy, 'linear', 'create_issue'), true);
    assert.equal(mayCallTool(policy, 'linear', 'list_teams'), true);
    assert.equal(mayCallTool(policy, 'linear', 'delete_issue'), false);
    assert.equal(mayCallTool(policy, 'notion', 'create_issue'), false);
    assert.equal(mayCallTool(policy, 'github', 'anything', 'github-alice'), true);
    assert.equal(mayCallTool(policy, 'github', 'anything', 'github-bob'), false);
    // An MCP rule grants nothing on the proxy.
    const request = { connection: 'github-alice', method: 'GET', path: '/user', upstreamPath: '/user', host: 'api.github.com' };
    assert.equal(isAllowed(policy, request, [], 'api.github.com'), false);
  });

  test('malformed MCP rules are refused', () => {
    assert.throws(() => parsePolicy({ rules: [{ mcpServers: ['linear'] }] }), /tools is required/);
    assert.throws(() => parsePolicy({ rules: [{ mcpServers: ['linear'], tools: ['x'], methods: ['GET'] }] }), /unknown field "methods"/);
    assert.throws(() => parsePolicy({ rules: [{ mcpServers: [], tools: ['x'] }] }), /non-empty/);
    assert.throws(() => parsePolicy({ rules: [{ mcpServers: ['Linear Server'], tools: ['x'] }] }), /MCP server names/);
  });
});

describe('tool result redaction', () => {
  test('every form of a token is masked in strings and keys, other text kept intact', () => {
    const token = 'ya29.a0AfH6SMBx-Very_Secret/Token+Value';
    const result = {
      content: [
        { type: 'text', text: `héllo ✓ ${token} "quoted"\n` },
        { type: 'text', text: Buffer.from(`Bearer ${token}`).toString('base64') },
        { type: 'text', text: encodeURIComponent(token) },
      ],
      structuredContent: { [token]: { deep: [token] } },
    };
    const { value, redacted } = redactJson(result, [token]);
    assert.equal(redacted, true);
    const text = JSON.stringify(value);
    for (const form of [token, encodeURIComponent(token), Buffer.from(token).toString('base64').slice(4, -4)]) assert.ok(!text.includes(form), form);
    assert.match(value.content[0]?.text ?? '', /^héllo ✓ \[REDACTED\]\** "quoted"\n$/);
    const clean = { content: [{ type: 'text', text: 'nothing here' }] };
    assert.deepEqual(redactJson(clean, [token]), { value: clean, redacted: false });
  });
});

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { mcpConsentResult, mcpConsentView } from '../src/api/index.js';
import { ManualClock } from '../src/clock.js';
import { startAuthorizationServer } from './fixtures/authorization-server.js';
import { createAgent, fixtureTokens, importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { CookieBrowser, TestOAuthProvider, connectExpectingAuth, mcpClient } from './helpers/mcp-remote.js';

const PROVIDER_TOKEN = 'remote-mcp-provider-token-do-not-leak-0123456789';
const REDIRECT = 'http://127.0.0.1:1/callback';

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

interface Consent {
  uid: string;
  client: { clientId: string; name: string | null; registration: string; metadataUrl: string | null };
  redirectUri: string;
  resource: string;
}

describe('remote MCP: /mcp with Latchkey as its OAuth 2.1 authorization server', () => {
  let lk: InProcess;
  let api: FakeApi;
  let docs: FakeApi;
  const clock = new ManualClock();
  const tokensSeen: string[] = [];

  /** The browser part: authorization URL -> consent page (decided by the operator over the API) -> back at the client with a code. */
  async function authorize(provider: TestOAuthProvider, decision: Record<string, unknown> = { agent: 'remote-bot' }) {
    const browser = new CookieBrowser();
    assert.ok(provider.authorizationUrl, 'the client was sent to authorize');
    const atConsent = await browser.follow(provider.authorizationUrl.href, (u) => u.pathname.startsWith('/console/mcp/consent/'));
    assert.match(atConsent.url.pathname, /^\/console\/mcp\/consent\//, `landed on ${atConsent.url.href}: ${await atConsent.response?.text()}`);
    const uid = decodeURIComponent(atConsent.url.pathname.split('/').pop() ?? '');
    const view = await lk.admin('GET', `/v1/mcp-consent/${uid}`);
    assert.equal(view.status, 200, JSON.stringify(view.body));
    const decided = await lk.admin('POST', `/v1/mcp-consent/${uid}`, decision);
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    // The OpenAPI scenario cannot reach these routes; the SDK's types derive from these schemas, so pin them to real answers.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    assert.ok(ajv.validate(mcpConsentView, view.body), `consent view off its schema: ${ajv.errorsText()}`);
    assert.ok(ajv.validate(mcpConsentResult, decided.body), `consent result off its schema: ${ajv.errorsText()}`);
    const { redirectTo } = decided.body as { redirectTo: string };
    const back = await browser.follow(redirectTo, (u) => u.href.startsWith(REDIRECT));
    return { consent: view.body as Consent, uid, browser, back: back.url, response: back.response };
  }

  async function connectFromNothing(provider: TestOAuthProvider) {
    const transport = await connectExpectingAuth(`${lk.url}/mcp`, provider);
    const { consent, back } = await authorize(provider);
    const code = back.searchParams.get('code');
    assert.ok(code, `no code in ${back.href}`);
    assert.equal(back.searchParams.get('iss'), `${lk.url}/mcp-oauth`, 'the authorization response names its issuer (RFC 9207)');
    await transport.finishAuth(code);
    const client = mcpClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(`${lk.url}/mcp`), { authProvider: provider }));
    const tokens = provider.tokens();
    assert.ok(tokens?.access_token && tokens.refresh_token);
    tokensSeen.push(tokens.access_token, tokens.refresh_token);
    return { client, consent, code };
  }

  before(async () => {
    api = await startFakeApi((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'from the API', url: req.url }));
    });
    let docUrl = '';
    docs = await startFakeApi((req, res) => {
      if (req.url !== '/clients/host.json') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=120' }).end(
        JSON.stringify({
          client_id: docUrl,
          client_name: 'CIMD Test Host',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    docUrl = `${docs.url}/clients/host.json`;
    lk = await startInProcess({ clock, env: { LATCHKEY_LOG_LEVEL: 'debug' } });
    const provider = await lk.admin('POST', '/v1/providers', { name: 'fakeapi', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    await importTokens(lk, { name: 'music', provider: 'fakeapi', accessToken: PROVIDER_TOKEN });
    await createAgent(lk, { name: 'remote-bot', policy: { rules: [{ connections: ['music'], methods: ['GET'], paths: ['/v1/**'] }] } });
  });

  after(async () => {
    await lk?.close();
    await api?.close();
    await docs?.close();
  });

  test('without a token: 401 with the resource metadata challenge; PRM and AS metadata are served', async () => {
    const res = await fetch(`${lk.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${lk.url}/.well-known/oauth-protected-resource/mcp"`);
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const prm = (await (await fetch(`${lk.url}${path}`)).json()) as Record<string, unknown>;
      assert.equal(prm.resource, `${lk.url}/mcp`);
      assert.deepEqual(prm.authorization_servers, [`${lk.url}/mcp-oauth`]);
    }
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/mcp-oauth']) {
      const meta = (await (await fetch(`${lk.url}${path}`)).json()) as Record<string, unknown>;
      assert.equal(meta.issuer, `${lk.url}/mcp-oauth`);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      assert.equal(meta.registration_endpoint, `${lk.url}/mcp-oauth/reg`);
      assert.equal(meta.client_id_metadata_document_supported, true);
      assert.equal(meta.authorization_response_iss_parameter_supported, true);
    }
  });

  test('DCR: the official SDK client registers, an operator consents, tools are listed and call_api reaches the API', async () => {
    const provider = new TestOAuthProvider(REDIRECT, {
      client_name: 'DCR Test Host',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const { client, consent } = await connectFromNothing(provider);
    assert.equal(consent.client.registration, 'dynamic');
    assert.equal(consent.client.name, 'DCR Test Host');
    assert.equal(consent.redirectUri, REDIRECT);
    assert.equal(consent.resource, `${lk.url}/mcp`);
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(tools, ['call_api', 'invoke_capability', 'list_connections', 'request_access']);
    const result = (await client.callTool({ name: 'call_api', arguments: { connection: 'music', method: 'GET', path: '/v1/me' } })) as CallToolResult;
    assert.ok(!result.isError, textOf(result));
    assert.match(textOf(result), /from the API/);
    assert.equal(api.seen.at(-1)?.headers.authorization, `Bearer ${PROVIDER_TOKEN}`);
    assert.ok(!textOf(result).includes(PROVIDER_TOKEN));
    const audit = await lk.admin('GET', '/v1/audit?action=proxy.request');
    const events = audit.body as Array<{ actor: { name: string }; detail: Record<string, unknown> }>;
    const last = events.find((e) => e.actor.name === 'remote-bot');
    assert.ok(last, 'the call is audited as the agent');
    assert.equal(last.detail.mcpClient, (provider.clientInformation() as { client_id: string }).client_id);
    await client.close();
  });

  test('CIMD: a client whose client_id is the URL of its metadata document (served on loopback)', async () => {
    const docUrl = `${docs.url}/clients/host.json`;
    // The SDK picks CIMD by itself only for https ids; a host that knows its id starts from it.
    const provider = new TestOAuthProvider(REDIRECT, { client_name: 'ignored', redirect_uris: [REDIRECT] }, { client_id: docUrl });
    const { client, consent } = await connectFromNothing(provider);
    assert.equal(consent.client.registration, 'metadata_document');
    assert.equal(consent.client.metadataUrl, docUrl);
    assert.equal(consent.client.name, 'CIMD Test Host');
    const result = (await client.callTool({ name: 'list_connections', arguments: {} })) as CallToolResult;
    assert.match(textOf(result), /"music"/);
    await client.close();
  });

  /** A fresh public client registered by DCR, sent to authorize; its code comes back without the SDK redeeming it. */
  async function codeFor(mutate?: (url: URL) => void) {
    const provider = new TestOAuthProvider(REDIRECT, { client_name: 'Manual Host', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' });
    await connectExpectingAuth(`${lk.url}/mcp`, provider);
    if (mutate && provider.authorizationUrl) mutate(provider.authorizationUrl);
    return { provider, ...(await authorize(provider)) };
  }

  async function tokenRequest(params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${lk.url}/mcp-oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const mcpCall = (token: string) =>
    fetch(`${lk.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });

  test('a reused authorization code and a wrong PKCE verifier are refused', async () => {
    const { provider, back } = await codeFor();
    const clientId = (provider.clientInformation() as { client_id: string }).client_id;
    const code = back.searchParams.get('code') ?? '';
    const exchange = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, resource: `${lk.url}/mcp` };
    const wrong = await tokenRequest({ ...exchange, code_verifier: 'x'.repeat(43) });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    // oidc-provider consumes a code even when the verifier is wrong, so the reuse check takes a fresh one.
    const second = await codeFor();
    const secondId = (second.provider.clientInformation() as { client_id: string }).client_id;
    const ok = { grant_type: 'authorization_code', code: second.back.searchParams.get('code') ?? '', redirect_uri: REDIRECT, client_id: secondId, resource: `${lk.url}/mcp`, code_verifier: second.provider.codeVerifier() };
    const first = await tokenRequest(ok);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    tokensSeen.push(String(first.body.access_token), String(first.body.refresh_token), ok.code);
    const again = await tokenRequest(ok);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    // Reuse of a code revokes what it minted (RFC 6749 4.1.2).
    assert.equal((await mcpCall(String(first.body.access_token))).status, 401);
  });

  test('the plain PKCE method, a missing resource and another resource are refused at the authorization endpoint', async () => {
    for (const [label, mutate, error] of [
      ['plain', (u: URL) => { u.searchParams.set('code_challenge_method', 'plain'); u.searchParams.set('code_challenge', 'y'.repeat(43)); }, 'invalid_request'],
      ['no resource', (u: URL) => u.searchParams.delete('resource'), 'invalid_target'],
      ['other resource', (u: URL) => u.searchParams.set('resource', 'https://other.example/mcp'), 'invalid_target'],
    ] as const) {
      const provider = new TestOAuthProvider(REDIRECT, { client_name: 'Bad Host', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
      await connectExpectingAuth(`${lk.url}/mcp`, provider);
      const url = provider.authorizationUrl as URL;
      mutate(url);
      const browser = new CookieBrowser();
      const end = await browser.follow(url.href, (u) => u.href.startsWith(REDIRECT) || u.pathname.startsWith('/console/'));
      assert.ok(end.url.href.startsWith(REDIRECT), `${label}: ended at ${end.url.href}`);
      assert.equal(end.url.searchParams.get('error'), error, `${label}: ${end.url.href}`);
      assert.equal(end.url.searchParams.get('code'), null);
    }
  });

  test('a token another authorization server minted, and a made-up one, are refused on /mcp', async () => {
    const other = await startAuthorizationServer();
    try {
      const foreign = await fixtureTokens(other);
      const res = await mcpCall(foreign.access_token);
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    } finally {
      await other.close();
    }
    assert.equal((await mcpCall('not-a-token-at-all-0123456789')).status, 401);
  });

  test('an agent key also works as the bearer token on /mcp', async () => {
    const agent = await createAgent(lk, { name: 'script-bot', policy: { rules: [{ connections: ['music'], methods: ['GET'], paths: ['/**'] }] } });
    const client = mcpClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(`${lk.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${agent.apiKey}` } } }));
    const result = (await client.callTool({ name: 'call_api', arguments: { connection: 'music', method: 'GET', path: '/x' } })) as CallToolResult;
    assert.ok(!result.isError, textOf(result));
    await client.close();
  });

  test('tokens, codes and client secrets are stored only as hashes; none reaches the log', async () => {
    assert.ok(tokensSeen.length >= 4);
    const dir = lk.config.dataDir;
    const files = readdirSync(dir).filter((f) => f.startsWith('latchkey.db'));
    const db = files.map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    const logs = lk.logs.text();
    for (const secret of tokensSeen) {
      assert.ok(!db.includes(secret), 'a token or code is in the database file');
      assert.ok(!logs.includes(secret), 'a token or code is in the log');
    }
    assert.ok(!logs.includes(PROVIDER_TOKEN));
  });

  test('an expired access token is refused (injected clock); the refresh token rotates and its reuse is refused', async () => {
    const { back, provider } = await codeFor();
    const clientId = (provider.clientInformation() as { client_id: string }).client_id;
    const got = await tokenRequest({ grant_type: 'authorization_code', code: back.searchParams.get('code') ?? '', redirect_uri: REDIRECT, client_id: clientId, resource: `${lk.url}/mcp`, code_verifier: provider.codeVerifier() });
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.ok(Number(got.body.expires_in) <= 600);
    const access = String(got.body.access_token);
    assert.equal((await mcpCall(access)).status, 200);
    clock.advance(11 * 60_000);
    const expired = await mcpCall(access);
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const refresh = { grant_type: 'refresh_token', refresh_token: String(got.body.refresh_token), client_id: clientId, resource: `${lk.url}/mcp` };
    const renewed = await tokenRequest(refresh);
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    assert.notEqual(renewed.body.refresh_token, got.body.refresh_token, 'the refresh token rotates');
    assert.equal((await mcpCall(String(renewed.body.access_token))).status, 200);
    const reused = await tokenRequest(refresh);
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error, 'invalid_grant');
  });

  test('the CLI shows and denies a pending authorization; the client gets access_denied and no code', async () => {
    const provider = new TestOAuthProvider(REDIRECT, { client_name: 'Denied Host', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    await connectExpectingAuth(`${lk.url}/mcp`, provider);
    const browser = new CookieBrowser();
    const atConsent = await browser.follow((provider.authorizationUrl as URL).href, (u) => u.pathname.startsWith('/console/mcp/consent/'));
    const uid = atConsent.url.pathname.split('/').pop() ?? '';
    const env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
    const shown = await runCli(['--json', 'mcp-consent', 'show', uid], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { client: { name: string } }).client.name, 'Denied Host');
    const denied = await runCli(['--json', 'mcp-consent', 'deny', uid], env);
    assert.equal(denied.code, 0, denied.stderr);
    const { redirectTo } = JSON.parse(denied.stdout) as { redirectTo: string };
    const back = await browser.follow(redirectTo, (u) => u.href.startsWith(REDIRECT));
    assert.equal(back.url.searchParams.get('error'), 'access_denied');
    assert.equal(back.url.searchParams.get('code'), null);
    const again = await runCli(['--json', 'mcp-consent', 'approve', uid, '--agent', 'remote-bot'], env);
    assert.equal(again.code, 1, 'a decided authorization cannot be decided again');
  });

  test('consent with a new agent: it starts with a default-deny policy, and deleting it ends its tokens', async () => {
    const provider = new TestOAuthProvider(REDIRECT, { client_name: 'New Agent Host', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    await connectExpectingAuth(`${lk.url}/mcp`, provider);
    const { back } = await authorize(provider, { newAgent: { name: 'fresh-host' } });
    const clientId = (provider.clientInformation() as { client_id: string }).client_id;
    const got = await tokenRequest({ grant_type: 'authorization_code', code: back.searchParams.get('code') ?? '', redirect_uri: REDIRECT, client_id: clientId, resource: `${lk.url}/mcp`, code_verifier: provider.codeVerifier() });
    assert.equal(got.status, 200, JSON.stringify(got.body));
    const agent = await lk.admin('GET', '/v1/agents/fresh-host');
    assert.equal(agent.status, 200);
    assert.deepEqual((agent.body as { policy: { rules: unknown[] } }).policy.rules, []);
    const client = mcpClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(`${lk.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${String(got.body.access_token)}` } } }));
    const refused = (await client.callTool({ name: 'call_api', arguments: { connection: 'music', method: 'GET', path: '/v1/me' } })) as CallToolResult;
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /forbidden/);
    await client.close();
    assert.equal((await lk.admin('DELETE', '/v1/agents/fresh-host')).status, 200);
    assert.equal((await mcpCall(String(got.body.access_token))).status, 401);
  });
});

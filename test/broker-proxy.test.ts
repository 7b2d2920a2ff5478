import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { request as undiciRequest } from 'undici';
import { Latchkey, isApiError } from '../src/sdk/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import {
  addFixtureApiProvider,
  auditEvents,
  createAgent,
  fixtureTokens,
  importTokens,
  json,
  rawRequest,
  startFakeApi,
  type FakeApi,
} from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { assertNoSecrets } from './helpers/oauth-flows.js';

describe('broker end to end: the real server, the authorization server fixture and a protected API', () => {
  let as: AuthorizationServer;
  let lk: InProcess;
  let echo: FakeApi;
  let unauthorized: FakeApi;
  let tokens: client.TokenEndpointResponse;
  let agentKey: string;
  const secretsSeen: string[] = [];
  const secrets = (): string[] => [tokens.access_token, tokens.refresh_token ?? '', agentKey, ...secretsSeen];

  before(async () => {
    as = await startAuthorizationServer();
    lk = await startInProcess();
    echo = await startFakeApi((req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'upstream=1' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body, sawAuthorization: req.headers.authorization !== undefined }));
    });
    await addFixtureApiProvider(lk, as);
    tokens = await fixtureTokens(as);
    await importTokens(lk, {
      name: 'fx',
      provider: 'fixture',
      accessToken: tokens.access_token,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      expiresAt: new Date(Date.now() + (tokens.expires_in ?? 3600) * 1000).toISOString(),
      scopes: ['openid', 'offline_access', 'api:read'],
    });
    const provider = await lk.admin('POST', '/v1/providers', { name: 'echo', tokenEndpoint: `${echo.url}/token`, apiBaseUrl: `${echo.url}/base` });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    await importTokens(lk, { name: 'echo', provider: 'echo', accessToken: 'echo-provider-token-0123456789' });
    unauthorized = await startFakeApi((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"nope"}'));
    const p401 = await lk.admin('POST', '/v1/providers', { name: 'echo-401', tokenEndpoint: `${unauthorized.url}/token`, apiBaseUrl: unauthorized.url });
    assert.equal(p401.status, 201);
    await importTokens(lk, { name: 'echo-401', provider: 'echo-401', accessToken: 'echo-401-token-0123456789', refreshToken: 'r-0123456789' });
    const agent = await createAgent(lk, {
      name: 'bot',
      policy: { rules: [{ connections: ['fx*'], methods: ['GET'], paths: ['/api/**'] }, { connections: ['echo*'] }] },
    });
    agentKey = agent.apiKey;
  });

  after(async () => {
    await lk?.close();
    await echo?.close();
    await unauthorized?.close();
    await as?.close();
  });

  test('the agent reaches the protected API; upstream sees the provider token, never the agent key', async () => {
    const res = await fetch(`${lk.url}/v1/proxy/fx/api/me`, { headers: { authorization: `Bearer ${agentKey}` } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(res.headers.get('latchkey-connection'), 'fx');
    const body = JSON.parse(text) as { sub: string; client_id: string };
    // The fixture answers 200 only when introspection says the Bearer token is its own active token.
    assert.equal(body.sub, 'test-user');
    assert.equal(body.client_id, as.confidentialClient.clientId);
    assertNoSecrets(text + JSON.stringify([...res.headers]), secrets(), 'the agent response');
  });

  test('the request is forwarded with method, path, query and body; agent credentials and hop-by-hop headers are dropped', async () => {
    const before = echo.seen.length;
    const res = await rawRequest(lk.url, {
      method: 'POST',
      path: '/v1/proxy/echo/items/1?x=1&y=two',
      headers: {
        authorization: `token ${agentKey}`,
        cookie: 'session=agent',
        'proxy-authorization': 'Basic abc',
        connection: 'keep-alive, x-hop',
        'x-hop': 'drop me',
        'x-custom': 'keep me',
        'content-type': 'application/json',
        'latchkey-unused': 'internal',
      },
      body: '{"hello":"world"}',
    });
    assert.equal(res.status, 200, res.body);
    const seen = echo.seen.slice(before);
    assert.equal(seen.length, 1);
    const upstream = seen[0]!;
    assert.equal(upstream.url, '/base/items/1?x=1&y=two');
    assert.equal(upstream.body, '{"hello":"world"}');
    assert.equal(upstream.headers.authorization, 'Bearer echo-provider-token-0123456789');
    assert.equal(upstream.headers.cookie, undefined);
    assert.equal(upstream.headers['proxy-authorization'], undefined);
    assert.equal(upstream.headers['x-hop'], undefined);
    assert.equal(upstream.headers['latchkey-unused'], undefined);
    assert.equal(upstream.headers['x-custom'], 'keep me');
    assert.ok(!JSON.stringify(upstream.headers).includes(agentKey), 'upstream never sees the agent key');
    assert.equal(res.headers['content-type'], 'application/json', 'the proxy relays response headers');
    assert.equal(res.headers['set-cookie'], undefined, 'but strips Set-Cookie unless the provider allows it');
    assert.ok(!res.body.includes('echo-provider-token'), 'the response does not carry the provider token');
  });

  test('a large body streams through (chunked, above the replay buffer)', async () => {
    const big = 'x'.repeat(300_000);
    const res = await fetch(`${lk.url}/v1/proxy/echo/upload`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'text/plain' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 200);
    const echoed = (await res.json()) as { body: string };
    assert.equal(echoed.body.length, big.length);
  });

  test('a large body with a declared length keeps its Content-Length upstream', async () => {
    const big = Buffer.alloc(200_000, 'z');
    const res = await rawRequest(lk.url, {
      method: 'PUT',
      path: '/v1/proxy/echo/upload-sized',
      headers: { authorization: `Bearer ${agentKey}`, 'content-length': String(big.length) },
      body: big.toString(),
    });
    assert.equal(res.status, 200, res.body);
    const seen = echo.seen.find((r) => r.url === '/base/upload-sized');
    assert.equal(seen?.headers['content-length'], String(big.length));
    assert.equal(seen?.headers['transfer-encoding'], undefined);
    assert.equal(seen?.body.length, big.length);
  });

  test('HEAD and bodies without a content type pass through', async () => {
    const head = await rawRequest(lk.url, { method: 'HEAD', path: '/v1/proxy/echo/h', headers: { authorization: `Bearer ${agentKey}` } });
    assert.equal(head.status, 200);
    assert.equal(echo.seen.at(-1)?.method, 'HEAD');
    const untyped = await rawRequest(lk.url, { method: 'POST', path: '/v1/proxy/echo/raw', headers: { authorization: `Bearer ${agentKey}`, 'content-length': '5' }, body: 'hello' });
    assert.equal(untyped.status, 200, untyped.body);
    assert.equal(echo.seen.at(-1)?.body, 'hello');
  });

  test('a body over the limit is refused', async () => {
    const res = await fetch(`${lk.url}/v1/proxy/echo/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(lk.config.bodyLimit + 10),
    });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');

    // Without a declared length the limit is found while streaming, and answered the same way.
    const url = new URL(lk.url);
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, method: 'POST', path: '/v1/proxy/echo/upload', headers: { authorization: `Bearer ${agentKey}`, 'transfer-encoding': 'chunked' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      for (let sent = 0; sent <= lk.config.bodyLimit; sent += 64 * 1024) req.write(Buffer.alloc(64 * 1024, 1));
      req.end();
    });
    assert.equal(chunked.status, 413, chunked.body);
    assert.equal(json(chunked.body).error, 'invalid_request');
  });

  test("off-the-shelf clients work unchanged: openid-client's fetchProtectedResource and undici's request", async () => {
    const c = as.confidentialClient;
    const config = await client.discovery(new URL(as.issuer), c.clientId, c.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
    // The agent key stands in for the access token; the proxy URL for the resource server.
    const res = await client.fetchProtectedResource(config, agentKey, new URL(`${lk.url}/v1/proxy/fx/api/me`), 'GET');
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { sub: string }).sub, 'test-user');

    // GitHub clients send "Authorization: token ..."
    const viaUndici = await undiciRequest(`${lk.url}/v1/proxy/fx/api/me`, { headers: { authorization: `token ${agentKey}` } });
    assert.equal(viaUndici.statusCode, 200);
    assert.equal(((await viaUndici.body.json()) as { sub: string }).sub, 'test-user');
  });

  test('the SDK: fetch, invoke, and typed errors with the API code', async () => {
    const lkClient = new Latchkey({ url: lk.url, agentKey });
    const me = await lkClient.fetch('fx', '/api/me');
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { sub: string }).sub, 'test-user');
    const invoked = await lkClient.invoke<{ sub: string }>('fx', 'me');
    assert.equal(invoked.sub, 'test-user');
    await assert.rejects(lkClient.fetch('fx', '/other'), (err: unknown) => isApiError(err, 'forbidden'));
    await assert.rejects(lkClient.lease('fx'), (err: unknown) => isApiError(err, 'forbidden'));
    const identity = await lkClient.me();
    assert.ok(['echo', 'fx'].every((n) => identity.connections.some((c) => c.name === n)));
  });

  test('invoke strips auth-class response headers', async () => {
    const res = await fetch(`${lk.url}/v1/invoke/fx/me`, { method: 'POST', headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('set-cookie'), null);
    const wrongPath = await fetch(`${lk.url}/v1/invoke/fx/me`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/token' }),
    });
    assert.equal(wrongPath.status, 403);
  });

  test('after an upstream 401 the token is refreshed once and the request retried', async () => {
    // A connection whose stored access token the API rejects, but whose refresh token is good.
    const fresh = await fixtureTokens(as);
    assert.ok(fresh.refresh_token);
    await importTokens(lk, {
      name: 'fx-stale',
      provider: 'fixture',
      accessToken: 'rejected-by-the-api-0123456789',
      refreshToken: fresh.refresh_token,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const refreshesBefore = as.counts().refresh_token ?? 0;
    const res = await fetch(`${lk.url}/v1/proxy/fx-stale/api/me`, { headers: { authorization: `Bearer ${agentKey}` } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { sub: string }).sub, 'test-user');
    assert.equal((as.counts().refresh_token ?? 0) - refreshesBefore, 1, 'exactly one refresh');
    const events = await auditEvents(lk, '?action=connection.refresh');
    assert.ok(events.some((e) => e.detail.reason === 'upstream_401' && e.actor.name === 'bot' && e.connection === 'fx-stale'));
    secretsSeen.push(fresh.access_token, fresh.refresh_token);
  });

  test('a 401 on a request whose body cannot be replayed is returned as it is', async () => {
    const res = await fetch(`${lk.url}/v1/proxy/echo-401/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'text/plain' },
      body: new Blob(['y'.repeat(100_000)]).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 401);
    assert.equal(unauthorized.seen.filter((r) => r.url === '/upload').length, 1, 'sent once, not retried');
    assert.equal(unauthorized.seen.filter((r) => r.url === '/token').length, 0, 'no refresh for an unreplayable body');
  });

  test('every proxy request is audited with method, host, path (no query), status and duration', async () => {
    const events = await auditEvents(lk, '?action=proxy.request&connection=echo');
    const post = events.find((e) => e.detail.method === 'POST' && e.detail.path === '/base/items/1');
    assert.ok(post, 'the POST is audited');
    assert.equal(post.status, 200);
    assert.equal(post.detail.path, '/base/items/1');
    assert.equal(post.detail.host, echo.host);
    assert.equal(typeof post.detail.durationMs, 'number');
    assert.deepEqual(post.actor, { type: 'agent', id: post.actor.id, name: 'bot' });
  });

  test('proxied requests are counted in /metrics by route pattern, never by connection or path', async () => {
    const before = await lk.admin('GET', '/metrics');
    const count = (text: string): number =>
      Number(/latchkey_http_requests_total\{method="GET",route="\/v1\/proxy\/:connection\/\*",status="200"\} (\d+)/.exec(text)?.[1] ?? 0);
    const res = await rawRequest(lk.url, { path: '/v1/proxy/echo/items/metrics-probe', headers: { authorization: `Bearer ${agentKey}` } });
    assert.equal(res.status, 200);
    const after = await lk.admin('GET', '/metrics');
    assert.equal(count(String(after.body)), count(String(before.body)) + 1);
    assert.ok(!String(after.body).includes('metrics-probe'));
  });

  test('a proxy URL without a connection name is 404; a bad agent key is 401 and audited', async () => {
    const none = await rawRequest(lk.url, { path: '/v1/proxy/', headers: { authorization: `Bearer ${agentKey}` } });
    assert.equal(none.status, 404);
    assert.equal(json(none.body).error, 'not_found');
    const bad = await rawRequest(lk.url, { path: '/v1/proxy/echo/items/1', headers: { authorization: 'Bearer lk_not-a-real-key' } });
    assert.equal(bad.status, 401);
    assert.equal(json(bad.body).error, 'unauthorized');
    assert.match(bad.headers['content-type'] ?? '', /^application\/json/);
    const denied = await auditEvents(lk, '?action=auth.denied');
    assert.ok(denied.some((e) => e.actor.type === 'anonymous' && e.detail.path === '/v1/proxy/echo/items/1'));
  });

  test('when the agent goes away mid-response, the upstream response is abandoned too', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const slow = await startFakeApi((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024, 1));
      // Never ends on its own: only the broker abandoning it closes it.
      res.once('close', () => upstreamClosed());
    });
    try {
      const p = await lk.admin('POST', '/v1/providers', { name: 'slow', tokenEndpoint: `${slow.url}/token`, apiBaseUrl: slow.url });
      assert.equal(p.status, 201);
      await importTokens(lk, { name: 'echo-slow', provider: 'slow', accessToken: 'slow-token-0123456789' });
      const controller = new AbortController();
      const res = await fetch(`${lk.url}/v1/proxy/echo-slow/stream`, { headers: { authorization: `Bearer ${agentKey}` }, signal: controller.signal });
      assert.equal(res.status, 200);
      const reader = res.body?.getReader();
      assert.ok(reader);
      assert.equal((await reader.read()).value?.length, 1024);
      controller.abort();
      await closed;
    } finally {
      await slow.close();
    }
  });

  test('when the agent goes away mid-upload, the upstream request is abandoned too', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    let received = 0;
    const sink = createServer((req) => {
      req.on('data', (c: Buffer) => (received += c.length));
      req.once('close', () => upstreamClosed());
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    try {
      const p = await lk.admin('POST', '/v1/providers', { name: 'sink', tokenEndpoint: `${sinkUrl}/token`, apiBaseUrl: sinkUrl });
      assert.equal(p.status, 201);
      await importTokens(lk, { name: 'echo-sink', provider: 'sink', accessToken: 'sink-token-0123456789' });
      const url = new URL(lk.url);
      const upload = httpRequest({
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/proxy/echo-sink/upload',
        headers: { authorization: `Bearer ${agentKey}`, 'transfer-encoding': 'chunked' },
      });
      upload.on('error', () => {});
      upload.write(Buffer.alloc(128 * 1024, 1));
      while (received === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      upload.destroy();
      await closed;
      // Latchkey is still serving.
      const after = await rawRequest(lk.url, { path: '/v1/proxy/echo/items/after-abort', headers: { authorization: `Bearer ${agentKey}` } });
      assert.equal(after.status, 200);
    } finally {
      sink.closeAllConnections();
      await new Promise((resolve) => sink.close(resolve));
    }
  });

  test('no provider token or agent key in the logs or the audit log', async () => {
    await lk.core.audit.flush();
    const all = await lk.admin('GET', '/v1/audit?limit=1000');
    assertNoSecrets(JSON.stringify(all.body), [...secrets(), 'echo-provider-token-0123456789'], 'the audit log');
    assertNoSecrets(lk.logs.text(), [...secrets(), 'echo-provider-token-0123456789'], 'the logs');
  });
});

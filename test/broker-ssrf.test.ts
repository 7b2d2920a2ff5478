import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkAgentPath, resolveBase, resolveTarget } from '../src/broker/index.js';
import { isLatchkeyError } from '../src/errors.js';
import type { Provider } from '../src/providers/index.js';
import { auditEvents, createAgent, importTokens, json, rawRequest, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const refused = (err: unknown): boolean => isLatchkeyError(err) && err.code === 'target_not_allowed';

describe('target rules (unit)', () => {
  const provider = {
    name: 'github',
    apiBaseUrl: 'https://api.github.com',
    allowedHosts: ['uploads.github.com'],
  } as unknown as Provider;

  test('paths that could leave the base path are refused, not cleaned', () => {
    for (const path of ['/a/../b', '/..', '/a/%2e%2e/b', '/%2E%2e', '/a/.', '/a%2fb', '/a%2Fb', '//evil.example', '/a//b', '/@evil.example', '/a@b', '/\\\\evil.example', '/a%5cb', '/https://evil.example', '/http:evil.example', '/a b']) {
      assert.throws(() => checkAgentPath(path), refused, path);
    }
    for (const path of ['/', '/user', '/repos/o/r/contents/a.b', '/v1/items:search', '/a/b/', '/a%20b', '/%40scope']) {
      assert.equal(checkAgentPath(path), path);
    }
  });

  test('base URLs: https to listed hosts only; http only to loopback and only when allowed', () => {
    assert.equal(resolveBase(provider, undefined, false).host, 'api.github.com');
    assert.equal(resolveBase(provider, 'https://uploads.github.com', false).host, 'uploads.github.com');
    assert.throws(() => resolveBase(provider, 'https://evil.example', false), refused);
    assert.throws(() => resolveBase(provider, 'http://uploads.github.com', true), refused);
    assert.throws(() => resolveBase(provider, 'https://user:pw@uploads.github.com', false), refused);
    assert.throws(() => resolveBase(provider, 'https://uploads.github.com:8443', false), refused);
    assert.throws(() => resolveBase(provider, 'javascript:alert(1)', false), refused);
    const loopback = { ...provider, apiBaseUrl: 'http://127.0.0.1:9000', allowedHosts: [] } as Provider;
    assert.equal(resolveBase(loopback, undefined, true).host, '127.0.0.1:9000');
    assert.throws(() => resolveBase(loopback, undefined, false), refused);
  });

  test('the target keeps the base path and the raw query', () => {
    const t = resolveTarget(new URL('https://api.example.com/v2'), '/users/me', 'a=1&b=%20');
    assert.equal(t.upstreamPath, '/v2/users/me');
    assert.equal(t.query, 'a=1&b=%20');
    assert.equal(t.origin, 'https://api.example.com');
  });
});

describe('target rules through the real server: refused before any connection is made', () => {
  let lk: InProcess;
  let allowed: FakeApi;
  let other: FakeApi;
  let agentKey: string;

  before(async () => {
    lk = await startInProcess();
    other = await startFakeApi();
    allowed = await startFakeApi((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `${other.url}/steal` }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const p = await lk.admin('POST', '/v1/providers', {
      name: 'api',
      tokenEndpoint: `${allowed.url}/token`,
      apiBaseUrl: allowed.url,
      allowedHosts: ['api.example.com'],
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    await importTokens(lk, { name: 'api', provider: 'api', accessToken: 'ssrf-provider-token-0123456789' });
    agentKey = (await createAgent(lk, { name: 'ssrf-bot', policy: { rules: [{ connections: ['api'] }] } })).apiKey;
  });

  after(async () => {
    await lk?.close();
    await allowed?.close();
    await other?.close();
  });

  const proxy = (path: string, headers: Record<string, string> = {}) =>
    rawRequest(lk.url, { path: `/v1/proxy/api${path}`, headers: { authorization: `Bearer ${agentKey}`, ...headers } });

  test('a normal request reaches the allowed host', async () => {
    const res = await proxy('/ok');
    assert.equal(res.status, 200, res.body);
    assert.equal(allowed.seen.length, 1);
  });

  test('each of these is refused with target_not_allowed and reaches no host', async () => {
    const before = allowed.seen.length;
    const cases: Array<[string, Record<string, string>]> = [
      ['/x', { 'latchkey-base-url': other.url }],
      ['/x', { 'latchkey-base-url': 'https://evil.example' }],
      ['/x', { 'latchkey-base-url': 'http://api.example.com' }],
      ['/x', { 'latchkey-base-url': 'http://evil.example' }],
      ['/a/../../x', {}],
      ['/a/%2e%2e/x', {}],
      ['/%2E%2E/x', {}],
      ['/a%2fx', {}],
      ['/a%2F..%2Fx', {}],
      ['//evil.example/x', {}],
      ['/@evil.example/x', {}],
      ['/\\\\evil.example/x', {}],
      ['/https://evil.example/x', {}],
    ];
    for (const [path, headers] of cases) {
      const res = await proxy(path, headers);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(headers)}: ${res.status} ${res.body}`);
      assert.equal(json(res.body).error, 'target_not_allowed', path);
    }
    assert.equal(allowed.seen.length, before, 'nothing reached the allowed host');
    assert.equal(other.seen.length, 0, 'nothing reached the other host');
    const denied = await auditEvents(lk, '?action=auth.denied&agent=ssrf-bot');
    assert.ok(denied.filter((e) => e.detail.reason === 'target_not_allowed').length >= cases.length);
  });

  test('an upstream redirect to another host goes back to the agent and is not followed', async () => {
    const res = await proxy('/redirect');
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, `${other.url}/steal`);
    assert.equal(other.seen.length, 0, 'the redirect was not followed');
  });
});

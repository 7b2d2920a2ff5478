import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { checkAgentPath } from '../src/broker/index.js';
import { isLatchkeyError } from '../src/errors.js';
import { Latchkey } from '../src/sdk/index.js';
import { auditEvents, createAgent, importTokens, json, rawRequest, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const PROVIDER_TOKEN = 'request-rules-provider-token-0123456789';

/** Paths an upstream could read as climbing out of the base path, spelled so that a single-decoding check misses them. */
const ENCODED_TRAVERSALS = [
  '/public/%252e%252e/%252e%252e/admin',
  '/public/%25252e%25252e/admin',
  '/public/%c0%ae%c0%ae/admin',
  '/public/%C0%AE%C0%AE/admin',
  '/public/%e0%80%ae%e0%80%ae/admin',
  '/public/%c0%af..%c0%afadmin',
  '/public/..;/admin',
  '/public/.;/admin',
  '/public/..;jsessionid=x/admin',
  '/public/%2e%2e;/admin',
  '/public/..%3b/admin',
  '/public/%u002e%u002e/admin',
  '/public/%U002E%U002E/admin',
  '/public/%252fadmin',
  '/public/..%252f..%252fadmin',
  '/public/..%255cadmin',
  '/public/%25%32%65%25%32%65/admin',
  '/public/.../admin',
  '/public/..%20/admin',
  '/public/%2e%2e%09/admin',
  '/public/a%0d%0aX:1',
  '/public/%zz/admin',
  '/public/%2/admin',
  '/public/%25252525252e/admin',
];

/** Paths that look unusual but name an ordinary resource: they must still go through, verbatim. */
const LEGITIMATE = [
  '/public/my%20file.txt',
  '/public/j%C3%BCrgen',
  '/public/%E4%B8%AD%E6%96%87/%F0%9F%98%80',
  '/public/urn:isbn:0451450523',
  '/public/items:search',
  '/public/100%25',
  '/public/100%25zz',
  '/public/v1.2.3/a..b/.hidden',
  '/public/compare/main...feature',
  '/public/matrix;a=b',
  '/public/%EF%BC%8E%EF%BC%8E',
  '/public/．．',
  '/public/%40scope/pkg',
  '/public/a%2Bb',
];

describe('request rules (unit): encoded traversal', () => {
  test('every decoding of every segment is checked; legitimate paths pass unchanged', () => {
    for (const path of ENCODED_TRAVERSALS) {
      assert.throws(() => checkAgentPath(path), (err: unknown) => isLatchkeyError(err) && err.code === 'target_not_allowed', path);
    }
    for (const path of LEGITIMATE) assert.equal(checkAgentPath(path), path);
  });
});

describe('request rules through the real server', () => {
  let lk: InProcess;
  let api: FakeApi;
  let other: FakeApi;
  const keys: Record<string, string> = {};

  before(async () => {
    lk = await startInProcess();
    const echo = (req: { method?: string; url?: string }, res: import('node:http').ServerResponse, body: string): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url, body }));
    };
    api = await startFakeApi((req, res, body) => echo(req, res, body));
    other = await startFakeApi((req, res, body) => echo(req, res, body));
    const provider = await lk.admin('POST', '/v1/providers', {
      name: 'api',
      tokenEndpoint: `${api.url}/token`,
      apiBaseUrl: `${api.url}/api/v1`,
      allowedHosts: [other.host],
      capabilities: [
        { name: 'items', methods: ['GET', 'POST', 'DELETE', 'TRACE'], pathPrefixes: ['/api/v1/items'] },
        { name: 'leases', methods: ['POST'], pathPrefixes: ['/api/v1/leases'] },
      ],
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    await importTokens(lk, { name: 'api', provider: 'api', accessToken: PROVIDER_TOKEN });
    const agents: Array<[string, unknown]> = [
      ['public-bot', { rules: [{ connections: ['api'], methods: ['GET'], paths: ['/public/**'] }] }],
      ['poster', { rules: [{ connections: ['api'], methods: ['POST'], paths: ['/items/**'] }] }],
      ['anything', { rules: [{ connections: ['api'] }] }],
      ['leaser', { rules: [{ connections: ['api'], capabilities: ['items', 'leases'] }], lease: { allowed: true, maxTtl: '5m' } }],
    ];
    for (const [name, policy] of agents) keys[name] = (await createAgent(lk, { name, policy })).apiKey;
  });

  after(async () => {
    await lk?.close();
    await api?.close();
    await other?.close();
  });

  const as = (agent: string, headers: Record<string, string> = {}): Record<string, string> => ({ authorization: `Bearer ${keys[agent]}`, ...headers });
  const seen = (): number => api.seen.length + other.seen.length;
  /** `POST /v1/invoke/api/items` as the agent that may invoke it. */
  const invokeItems = (body: unknown) =>
    rawRequest(lk.url, { method: 'POST', path: '/v1/invoke/api/items', headers: as('leaser', { 'content-type': 'application/json' }), body: JSON.stringify(body) });

  async function noLeases(): Promise<void> {
    const leases = await lk.admin('GET', '/v1/leases');
    assert.deepEqual(leases.body, [], 'no lease was created');
    assert.deepEqual(await auditEvents(lk, '?action=lease.create'), [], 'no lease.create event');
  }

  describe('item 3: a connection segment never reaches another route', () => {
    test('"..", "." and their encodings as the connection segment are 400 invalid_request on the wire', async () => {
      const before = seen();
      for (const path of ['/v1/proxy/..', '/v1/proxy/../leases', '/v1/proxy/%2e%2e/leases', '/v1/proxy/%2E./leases', '/v1/proxy/.%2e/leases', '/v1/proxy/./api/public/x', '/v1/proxy/%2e/api/public/x', '/v1/proxy/a%2fb/x']) {
        const res = await rawRequest(lk.url, { method: 'POST', path, headers: as('leaser', { 'content-type': 'application/json' }), body: '{"connection":"api"}' });
        assert.equal(res.status, 400, `${path}: ${res.status} ${res.body}`);
        assert.equal(json(res.body).error, 'invalid_request', path);
        assert.ok(!res.body.includes(PROVIDER_TOKEN));
      }
      for (const path of ['/v1/invoke/%2e%2e/leases', '/v1/invoke/api/%2e%2e', '/v1/invoke/api/..', '/v1/invoke/a%2Fb/items']) {
        const res = await rawRequest(lk.url, { method: 'POST', path, headers: as('leaser', { 'content-type': 'application/json' }), body: '{}' });
        assert.equal(res.status, 400, `${path}: ${res.status} ${res.body}`);
        assert.equal(json(res.body).error, 'invalid_request', path);
      }
      assert.equal(seen(), before, 'nothing reached an upstream');
      await noLeases();
    });

    test('the SDK refuses, before sending, every argument that fetch would resolve onto another route', async () => {
      const requests: string[] = [];
      const recording: typeof fetch = (input, init) => {
        requests.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      };
      const sdk = new Latchkey({ url: lk.url, agentKey: keys.leaser as string, fetch: recording });
      const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"connection":"api"}' };
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['fetch ..', () => sdk.fetch('..', '/leases', post)],
        ['fetch .', () => sdk.fetch('.', '/v1/leases', post)],
        ['fetch empty', () => sdk.fetch('', '/v1/leases', post)],
        ['fetch a/..', () => sdk.fetch('a/..', '/leases', post)],
        ['fetch path ../..', () => sdk.fetch('api', '/../../leases', post)],
        ['fetch path %2e%2e', () => sdk.fetch('api', '/%2e%2e/%2E%2E/leases', post)],
        ['fetch path .%2e', () => sdk.fetch('api', '/.%2e/.%2e/leases', post)],
        ['fetch path backslash', () => sdk.fetch('api', '/..\\..\\leases', post)],
        ['fetch control', () => sdk.fetch('api\n', '/x')],
        ['invoke ..', () => sdk.invoke('..', 'leases', { body: { connection: 'api' } })],
        ['invoke capability ..', () => sdk.invoke('api', '..')],
        ['invoke capability a/b', () => sdk.invoke('api', '../../leases')],
        ['invokeResponse ..', () => sdk.invokeResponse('..', '..')],
        ['endLease ..', () => sdk.endLease('..')],
        ['endLease empty', () => sdk.endLease('')],
      ];
      for (const [label, attempt] of attempts) {
        await assert.rejects(attempt, (err: Error) => err.name === 'LatchkeyRequestError', label);
      }
      assert.deepEqual(requests, [], 'nothing was sent');
      await noLeases();
    });
  });

  describe('item 3: names at creation follow the same rule', () => {
    test('a name that is not a name is refused; a generated name always fits the rule, also from a long subject', async () => {
      for (const name of ['..', '.', 'a/b', '-a', 'a b', 'a\u0000b', 'conn_x', 'x'.repeat(129)]) {
        const res = await lk.admin('POST', '/v1/connections/import', { name, provider: 'api', accessToken: 'other-token-0123456789' });
        assert.equal(res.status, 400, `${JSON.stringify(name)}: ${JSON.stringify(res.body)}`);
        assert.equal((res.body as { error: string }).error, 'invalid_request');
      }
      const subject = `user/${'a'.repeat(300)}`;
      const names: string[] = [];
      for (let i = 0; i < 2; i += 1) {
        const res = await lk.admin('POST', '/v1/connections/import', { provider: 'api', subject, accessToken: `long-subject-token-${i}-0123456789` });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        names.push((res.body as { name: string }).name);
      }
      assert.notEqual(names[0], names[1]);
      for (const name of names) assert.match(name, /^api-user-a+(-2)?$/);
      for (const name of names) assert.ok(name.length <= 128, name);
    });
  });

  describe('item 4: Latchkey-Base-Url chooses an origin, never a path', () => {
    test('a base with another path is refused, so /public/** cannot reach /admin/secret/public/x', async () => {
      const before = seen();
      for (const base of [`${api.url}/admin/secret`, `${api.url}/api`, `${api.url}/api/v2`, `${other.url}/admin`, `${other.url}/api/v1`, `${api.url}/?x=1`]) {
        const res = await rawRequest(lk.url, { path: '/v1/proxy/api/public/x', headers: as('public-bot', { 'latchkey-base-url': base }) });
        assert.equal(res.status, 400, `${base}: ${res.status} ${res.body}`);
        assert.equal(json(res.body).error, 'target_not_allowed', base);
      }
      assert.equal(seen(), before, 'nothing reached an upstream');
    });

    test("the API base's origin keeps the base path; another allowed origin is judged on its absolute paths", async () => {
      for (const base of [api.url, `${api.url}/`, `${api.url}/api/v1`, `${api.url}/api/v1/`]) {
        const res = await rawRequest(lk.url, { path: '/v1/proxy/api/public/x', headers: as('public-bot', { 'latchkey-base-url': base }) });
        assert.equal(res.status, 200, `${base}: ${res.body}`);
        assert.equal(json(res.body).url, '/api/v1/public/x', base);
      }
      const elsewhere = await rawRequest(lk.url, { path: '/v1/proxy/api/public/x', headers: as('public-bot', { 'latchkey-base-url': other.url }) });
      assert.equal(elsewhere.status, 200, elsewhere.body);
      assert.equal(json(elsewhere.body).url, '/public/x');
      assert.equal(other.seen.at(-1)?.headers.authorization, `Bearer ${PROVIDER_TOKEN}`);
    });
  });

  describe('item 5: the method the policy judged is the one the upstream acts on', () => {
    test('method-override and forwarding headers never reach the upstream, on the proxy and through invoke', async () => {
      const tricks = {
        'x-http-method-override': 'DELETE',
        'x-http-method': 'DELETE',
        'x-method-override': 'DELETE',
        'x-original-url': '/admin',
        'x-rewrite-url': '/admin',
        forwarded: 'for=127.0.0.1;host=internal.example;proto=https',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-host': 'internal.example',
        'x-forwarded-proto': 'http',
        'x-forwarded-prefix': '/admin',
        'x-real-ip': '127.0.0.1',
        via: '1.1 trusted-proxy',
        'x-custom': 'kept',
      };
      const res = await rawRequest(lk.url, { method: 'POST', path: '/v1/proxy/api/items/1', headers: as('poster', tricks), body: 'x' });
      assert.equal(res.status, 200, res.body);
      const upstream = api.seen.at(-1);
      assert.equal(upstream?.method, 'POST');
      for (const name of Object.keys(tricks).filter((n) => n !== 'x-custom')) assert.equal(upstream?.headers[name], undefined, `${name} was forwarded`);
      assert.equal(upstream?.headers['x-custom'], 'kept', 'ordinary headers still go through');

      const invoked = await invokeItems({ method: 'GET', headers: tricks });
      assert.equal(invoked.status, 200, invoked.body);
      for (const name of Object.keys(tricks).filter((n) => n !== 'x-custom')) assert.equal(api.seen.at(-1)?.headers[name], undefined, `${name} was forwarded by invoke`);
    });

    test('a _method query parameter naming another method is refused (target_not_allowed); naming the real one passes', async () => {
      const before = seen();
      for (const query of ['_method=DELETE', '_method=delete', '%5Fmethod=DELETE', '_%6Dethod=PUT', 'a=1&_method=PATCH', 'a=1;_method=DELETE', '_method=POST&_method=DELETE', '_METHOD=DELETE']) {
        const res = await rawRequest(lk.url, { method: 'POST', path: `/v1/proxy/api/items/1?${query}`, headers: as('poster'), body: 'x' });
        assert.equal(res.status, 400, `${query}: ${res.status} ${res.body}`);
        assert.equal(json(res.body).error, 'target_not_allowed', query);
      }
      const invoked = await invokeItems({ method: 'GET', query: { _method: 'DELETE' } });
      assert.equal(invoked.status, 400, invoked.body);
      assert.equal(json(invoked.body).error, 'target_not_allowed');
      assert.equal(seen(), before, 'nothing reached an upstream');
      const same = await rawRequest(lk.url, { method: 'POST', path: '/v1/proxy/api/items/1?_method=post&my_method=DELETE', headers: as('poster'), body: 'x' });
      assert.equal(same.status, 200, same.body);
      assert.equal(api.seen.at(-1)?.url, '/api/v1/items/1?_method=post&my_method=DELETE');
    });

    test('TRACE and extension methods are 405 method_not_allowed with Allow, on the proxy and through invoke', async () => {
      const before = seen();
      for (const method of ['TRACE', 'PROPFIND', 'PURGE', 'MKCOL', 'LOCK', 'SEARCH']) {
        const res = await rawRequest(lk.url, { method, path: '/v1/proxy/api/items/1', headers: as('anything') });
        assert.equal(res.status, 405, `${method}: ${res.status} ${res.body}`);
        assert.equal(json(res.body).error, 'method_not_allowed');
        assert.equal(res.headers.allow, 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      }
      const invoked = await invokeItems({ method: 'TRACE' });
      assert.equal(invoked.status, 405, invoked.body);
      assert.equal(json(invoked.body).error, 'method_not_allowed');
      assert.equal(seen(), before, 'nothing reached an upstream');
      const denied = await auditEvents(lk, '?action=auth.denied&agent=anything');
      assert.ok(denied.some((e) => e.detail.reason === 'method_not_allowed'), 'the refusal is audited');
    });

    test('methods are case-sensitive: a lower-case "get" on the wire never reaches the broker; invoke normalises its JSON field', async () => {
      const before = seen();
      const status = await new Promise<string>((resolve, reject) => {
        const { port } = new URL(lk.url);
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(`get /v1/proxy/api/public/x HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${keys['public-bot']}\r\nconnection: close\r\n\r\n`);
        });
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('end', () => resolve(text.split('\r\n', 1)[0] ?? ''));
        socket.on('error', reject);
      });
      assert.match(status, /^HTTP\/1\.1 400/);
      assert.equal(seen(), before, 'nothing reached an upstream');
      const invoked = await invokeItems({ method: 'get' });
      assert.equal(invoked.status, 200, invoked.body);
      assert.equal(json(invoked.body).method, 'GET');
    });
  });

  describe('item 7: encoded traversal is refused before any upstream sees it', () => {
    test('each spelling is refused with target_not_allowed and audited', async () => {
      const before = seen();
      for (const path of ENCODED_TRAVERSALS) {
        const res = await rawRequest(lk.url, { path: `/v1/proxy/api${path}`, headers: as('public-bot') });
        assert.equal(res.status, 400, `${path}: ${res.status} ${res.body}`);
        assert.equal(json(res.body).error, 'target_not_allowed', path);
      }
      assert.equal(seen(), before, 'nothing reached an upstream');
      const denied = await auditEvents(lk, '?action=auth.denied&agent=public-bot');
      assert.ok(denied.filter((e) => e.detail.reason === 'target_not_allowed').length >= ENCODED_TRAVERSALS.length);
    });

    test('legitimate unusual paths still go through, verbatim', async () => {
      for (const path of LEGITIMATE) {
        const res = await rawRequest(lk.url, { path: `/v1/proxy/api${encodeURI(path).replaceAll('%25', '%')}`, headers: as('public-bot') });
        assert.equal(res.status, 200, `${path}: ${res.status} ${res.body}`);
        assert.equal(api.seen.at(-1)?.url, `/api/v1${encodeURI(path).replaceAll('%25', '%')}`, path);
      }
    });
  });
});

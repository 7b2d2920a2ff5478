import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { createAgent, importTokens, rawRequest } from './helpers/broker-setup.js';

interface Case {
  name: string;
  method?: string;
  path: string;
  as: 'admin' | 'agent';
  body?: string | Buffer;
  error?: string;
}

const invalidUtf8 = (before: string, after: string): Buffer => Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(after)]);

/** The raw response to bytes written on a socket as they are (no client library would send them). */
function rawSocket(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(Buffer.from(bytes, 'latin1')));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('NUL, invalid UTF-8, control characters and over-long strings are a 400 on every route, never a 500', () => {
  let lk: InProcess;
  let agentKey: string;

  before(async () => {
    lk = await startInProcess();
    assert.equal((await lk.admin('POST', '/v1/providers', { name: 'api', tokenEndpoint: 'http://127.0.0.1:9/token', apiBaseUrl: 'http://127.0.0.1:9' })).status, 201);
    await importTokens(lk, { name: 'api', provider: 'api', accessToken: 'edge-token-0123456789' });
    agentKey = (await createAgent(lk, { name: 'edge', policy: { rules: [{ connections: ['*'] }], lease: { allowed: true } } })).apiKey;
  });
  after(async () => {
    await lk?.close();
  });

  const cases: Case[] = [
    { name: 'invalid UTF-8 in a JSON body (admin)', method: 'POST', path: '/v1/providers', as: 'admin', body: invalidUtf8('{"name":"x', '","preset":"github"}') },
    { name: 'invalid UTF-8 in a JSON body (agent)', method: 'POST', path: '/v1/leases', as: 'agent', body: invalidUtf8('{"connection":"api', '"}') },
    { name: 'invalid UTF-8 in an invoke body', method: 'POST', path: '/v1/invoke/api/me', as: 'agent', body: invalidUtf8('{"body":"', '"}') },
    { name: 'an escaped NUL in a name', method: 'POST', path: '/v1/agents', as: 'admin', body: '{"name":"a\\u0000b"}' },
    { name: 'an escaped NUL deep in a policy', method: 'POST', path: '/v1/agents', as: 'admin', body: '{"name":"deep","policy":{"rules":[{"connections":["a\\u0000"]}]}}' },
    { name: 'a lone surrogate in a field name', method: 'POST', path: '/v1/connections/import', as: 'admin', body: '{"provider":"api","accessToken":"t","metadata":{"\\udc00":"x"}}' },
    { name: 'an escaped NUL in an invoke body forwarded upstream', method: 'POST', path: '/v1/invoke/api/me', as: 'agent', body: '{"body":{"text":"a\\u0000"}}' },
    { name: 'ESC in a connection name', method: 'POST', path: '/v1/connections/import', as: 'admin', body: '{"name":"a\\u001b[31m","provider":"api","accessToken":"t"}' },
    { name: 'a newline in a lease connection', method: 'POST', path: '/v1/leases', as: 'agent', body: '{"connection":"api\\nforged"}' },
    { name: 'a bidi override in an agent name', method: 'POST', path: '/v1/agents', as: 'admin', body: '{"name":"a\\u202eb"}' },
    { name: 'a CSI (U+009B) in a subject', method: 'POST', path: '/v1/connections/import', as: 'admin', body: '{"provider":"api","accessToken":"t","subject":"\\u009b2J"}' },
    { name: 'a 15,000-character connection name', method: 'POST', path: '/v1/connections/import', as: 'admin', body: JSON.stringify({ name: 'x'.repeat(15_000), provider: 'api', accessToken: 't' }) },
    { name: 'a 129-character lease connection', method: 'POST', path: '/v1/leases', as: 'agent', body: JSON.stringify({ connection: 'x'.repeat(129) }) },
    { name: 'a 3,000-character invoke path', method: 'POST', path: '/v1/invoke/api/me', as: 'agent', body: JSON.stringify({ path: `/${'p'.repeat(3000)}` }) },
    { name: 'a newline in an invoke header value', method: 'POST', path: '/v1/invoke/api/me', as: 'agent', body: '{"headers":{"x-a":"1\\r\\nx-b: 2"}}' },
    { name: '%00 in a path parameter (admin)', path: '/v1/connections/a%00b', as: 'admin' },
    { name: '%ff in a path parameter (admin)', path: '/v1/providers/%ff', as: 'admin' },
    { name: '%0a in a path parameter (admin)', path: '/v1/agents/a%0ab', as: 'admin' },
    { name: '%00 in a path parameter (agent)', method: 'DELETE', path: '/v1/leases/a%00b', as: 'agent' },
    { name: '%ff in a path parameter (agent)', method: 'POST', path: '/v1/invoke/%ff/me', as: 'agent', body: '{}' },
    { name: '%00 in a query string (admin)', path: '/v1/audit?connection=a%00b', as: 'admin' },
    { name: '%ff in a query string (admin)', path: '/v1/connections?provider=%ff', as: 'admin' },
    { name: '%1b in a query string (admin)', path: '/v1/audit?connection=a%1b%5b2J', as: 'admin' },
    { name: '%00 in a query string (agent)', method: 'DELETE', path: '/v1/leases/x?rotate=%00', as: 'agent' },
    { name: '%00 on an unknown route', path: '/v1/nowhere%00', as: 'admin' },
    { name: '%00 in the proxy connection', path: '/v1/proxy/a%00b/x', as: 'agent' },
    { name: '%ff in the proxy connection', path: '/v1/proxy/%ff/x', as: 'agent' },
    { name: '%1b in the proxy connection', path: '/v1/proxy/a%1bb/x', as: 'agent' },
    // Past the connection segment, a proxy URL is the upstream target: its refusals are target_not_allowed.
    { name: '%00 in the proxy query', path: '/v1/proxy/api/x?q=%00', as: 'agent', error: 'target_not_allowed' },
    { name: '%ff in the proxy path', path: '/v1/proxy/api/x%ff', as: 'agent', error: 'target_not_allowed' },
  ];

  for (const c of cases) {
    test(`${c.method ?? 'GET'} ${c.path.slice(0, 40)}: ${c.name} → 400 ${c.error ?? 'invalid_request'}`, async () => {
      const res = await rawRequest(lk.url, {
        method: c.method ?? 'GET',
        path: c.path,
        headers: {
          authorization: `Bearer ${c.as === 'admin' ? ADMIN : agentKey}`,
          ...(c.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(c.body === undefined ? {} : { body: c.body as string }),
      });
      assert.equal(res.status, 400, res.body);
      const body = JSON.parse(res.body) as { error: string; message: string };
      assert.equal(body.error, c.error ?? 'invalid_request');
      assert.ok(body.message.length > 0);
    });
  }

  test('raw NUL and control bytes in the request line are refused by the parser in the same error shape', async () => {
    const port = Number(new URL(lk.url).port);
    for (const line of [`GET /v1/agents/a\u0000b HTTP/1.1`, `GET /v1/proxy/a\u001bb/x HTTP/1.1`]) {
      const text = await rawSocket(port, `${line}\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`);
      assert.match(text, /^HTTP\/1\.1 400 /, text);
      assert.equal((JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: string }).error, 'invalid_request');
    }
  });

  test('ordinary text still passes: a multi-line capability description, a 128-character name, UTF-8 names in a body', async () => {
    const res = await lk.admin('POST', '/v1/providers', {
      name: 'described',
      tokenEndpoint: 'http://127.0.0.1:9/token',
      apiBaseUrl: 'http://127.0.0.1:9',
      capabilities: [{ name: 'me', description: 'Reads the profile.\nNothing else — ünïcödé 👍', methods: ['GET'], pathPrefixes: ['/me'] }],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const name = `c${'x'.repeat(127)}`;
    assert.equal((await lk.admin('POST', '/v1/connections/import', { name, provider: 'api', accessToken: 't' })).status, 201);
    assert.equal((await lk.admin('GET', `/v1/connections/${name}`)).status, 200);
  });

  test('nothing above was a server error', () => {
    assert.doesNotMatch(lk.logs.text(), /"msg":"request failed"/);
  });
});

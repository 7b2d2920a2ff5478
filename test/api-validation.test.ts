import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  error: string;
  message?: RegExp;
}

/** A port where nothing answers HTTP: connections are accepted and closed at once. */
async function deadPort(): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

describe('bad input gets the error shape and writes nothing', () => {
  let server: InProcess;
  let dead: { port: number; server: Server };
  let snapshot: () => Promise<string>;

  before(async () => {
    server = await startInProcess();
    dead = await deadPort();
    const created = await server.admin('POST', '/v1/providers', { name: 'acme', preset: 'github', clientId: 'x' });
    assert.equal(created.status, 201);
    const imported = await server.admin('POST', '/v1/connections/import', { name: 'taken', provider: 'acme', accessToken: 'a' });
    assert.equal(imported.status, 201);
    snapshot = async () =>
      JSON.stringify([await server.core.store.providers.list(), await server.core.store.connections.list()]);
  });
  after(async () => {
    await server?.close();
    dead?.server.close();
  });

  const cases: Case[] = [
    { name: 'malformed JSON', method: 'POST', path: '/v1/providers', raw: '{"name": "x",', status: 400, error: 'invalid_request' },
    { name: 'wrong type', method: 'POST', path: '/v1/providers', body: { name: 42 }, status: 400, error: 'invalid_request' },
    { name: 'missing name', method: 'POST', path: '/v1/providers', body: { preset: 'github' }, status: 400, error: 'invalid_request' },
    { name: 'unknown field', method: 'POST', path: '/v1/providers', body: { name: 'x', tokenUrl: 'https://a' }, status: 400, error: 'invalid_request' },
    { name: 'bad name', method: 'POST', path: '/v1/providers', body: { name: 'Bad Name!', preset: 'github' }, status: 400, error: 'invalid_request' },
    { name: 'unknown preset', method: 'POST', path: '/v1/providers', body: { name: 'x', preset: 'nope' }, status: 404, error: 'not_found' },
    { name: 'duplicate name', method: 'POST', path: '/v1/providers', body: { name: 'acme', preset: 'github' }, status: 409, error: 'conflict' },
    { name: 'no token endpoint', method: 'POST', path: '/v1/providers', body: { name: 'x', clientId: 'a' }, status: 400, error: 'invalid_request', message: /tokenEndpoint/ },
    { name: 'http endpoint off loopback', method: 'POST', path: '/v1/providers', body: { name: 'x', tokenEndpoint: 'http://idp.example/token' }, status: 400, error: 'invalid_request', message: /https/ },
    { name: 'not a URL', method: 'POST', path: '/v1/providers', body: { name: 'x', tokenEndpoint: 'token' }, status: 400, error: 'invalid_request' },
    { name: 'bad allowed host', method: 'POST', path: '/v1/providers', body: { name: 'x', preset: 'github', allowedHosts: ['https://a/b'] }, status: 400, error: 'invalid_request' },
    { name: 'bad capability', method: 'POST', path: '/v1/providers', body: { name: 'x', preset: 'github', capabilities: [{ name: 'c', methods: [], pathPrefixes: ['/a'] }] }, status: 400, error: 'invalid_request' },
    { name: 'discovery that does not answer', method: 'POST', path: '/v1/providers', body: { name: 'x', issuer: 'DEAD' }, status: 400, error: 'invalid_request', message: /discovery/ },
    { name: 'wrong content type', method: 'POST', path: '/v1/providers', raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, error: 'invalid_request' },
    { name: 'unknown provider (PATCH)', method: 'PATCH', path: '/v1/providers/nope', body: { scopes: ['a'] }, status: 404, error: 'not_found' },
    { name: 'wrong type (PATCH)', method: 'PATCH', path: '/v1/providers/acme', body: { scopes: 'a' }, status: 400, error: 'invalid_request' },
    { name: 'rename (PATCH)', method: 'PATCH', path: '/v1/providers/acme', body: { name: 'other' }, status: 400, error: 'invalid_request' },
    { name: 'provider in use', method: 'DELETE', path: '/v1/providers/acme', status: 409, error: 'conflict' },
    { name: 'unknown provider (GET)', method: 'GET', path: '/v1/providers/nope', status: 404, error: 'not_found' },
    { name: 'import: unknown provider', method: 'POST', path: '/v1/connections/import', body: { provider: 'nope', accessToken: 'a' }, status: 404, error: 'not_found' },
    { name: 'import: no token', method: 'POST', path: '/v1/connections/import', body: { provider: 'acme' }, status: 400, error: 'invalid_request' },
    { name: 'import: bad expiresAt', method: 'POST', path: '/v1/connections/import', body: { provider: 'acme', accessToken: 'a', expiresAt: 'soon' }, status: 400, error: 'invalid_request' },
    { name: 'import: duplicate name', method: 'POST', path: '/v1/connections/import', body: { name: 'taken', provider: 'acme', accessToken: 'a' }, status: 409, error: 'conflict' },
    { name: 'import: wrong type', method: 'POST', path: '/v1/connections/import', body: { provider: 'acme', accessToken: 5 }, status: 400, error: 'invalid_request' },
    { name: 'import: bad environment', method: 'POST', path: '/v1/connections/import', body: { provider: 'acme', accessToken: 'a', environment: 'Prod Env' }, status: 400, error: 'invalid_request' },
    { name: 'import: oversized body', method: 'POST', path: '/v1/connections/import', raw: JSON.stringify({ provider: 'acme', accessToken: 'a'.repeat(1_100_000) }), status: 413, error: 'invalid_request' },
    { name: 'list: bad status', method: 'GET', path: '/v1/connections?status=bogus', status: 400, error: 'invalid_request' },
    { name: 'list: bad expiringWithin', method: 'GET', path: '/v1/connections?expiringWithin=soon', status: 400, error: 'invalid_request' },
    { name: 'list: unknown provider', method: 'GET', path: '/v1/connections?provider=nope', status: 404, error: 'not_found' },
    { name: 'unknown connection', method: 'GET', path: '/v1/connections/nope', status: 404, error: 'not_found' },
    { name: 'delete unknown connection', method: 'DELETE', path: '/v1/connections/conn_nope', status: 404, error: 'not_found' },
    { name: 'unknown route', method: 'GET', path: '/v1/nothing-here', status: 404, error: 'not_found' },
  ];

  for (const c of cases) {
    test(`${c.method} ${c.path.split('?')[0]}: ${c.name} → ${c.status} ${c.error}`, async () => {
      const before = await snapshot();
      const body = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body).replace('"DEAD"', `"http://127.0.0.1:${dead.port}"`));
      const res = await fetch(server.url + c.path, {
        method: c.method,
        headers: {
          authorization: `Bearer ${ADMIN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...c.headers,
        },
        ...(body === undefined ? {} : { body }),
      });
      const json = (await res.json()) as { error: string; message: string };
      assert.equal(res.status, c.status, JSON.stringify(json));
      assert.equal(json.error, c.error);
      assert.equal(typeof json.message, 'string');
      assert.ok(json.message.length > 0);
      if (c.message) assert.match(json.message, c.message);
      assert.equal(await snapshot(), before, 'something was written');
    });
  }

  test('no admin token or a wrong one is 401 with the error shape', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${ADMIN}` }] as Array<Record<string, string>>) {
      const res = await fetch(`${server.url}/v1/providers`, { headers });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'unauthorized');
    }
  });

  test('health and readiness need no token', async () => {
    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  });
});

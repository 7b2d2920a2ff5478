import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';

interface Answer {
  status: number;
  body: { error?: string; message?: string };
}

/** A raw request, so the test can send the Host and Origin headers a browser would (fetch may not set Host). */
function send(url: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, method, path, headers: { ...headers, ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }) } },
      (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data === '' ? {} : (JSON.parse(data) as Answer['body']) }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

describe('Host and Origin checks', () => {
  let server: InProcess;
  let port: string;
  const auth = { authorization: `Bearer ${ADMIN}` };

  before(async () => {
    server = await startInProcess({ env: { LATCHKEY_ALLOWED_HOSTS: 'latchkey.internal' } });
    port = new URL(server.url).port;
  });
  after(async () => server?.close());

  test('a rebound host name is refused on admin, agent, proxy and callback routes, even with the admin token', async () => {
    for (const path of ['/v1/providers', '/v1/me', '/v1/proxy/github/user', '/oauth/callback?state=x&code=y']) {
      const res = await send(server.url, 'GET', path, { ...auth, host: `evil.example:${port}` });
      assert.equal(res.status, 400, path);
      assert.equal(res.body.error, 'invalid_request', path);
      assert.match(res.body.message ?? '', /evil\.example/, path);
    }
  });

  test('the public URL, localhost, IP literals and LATCHKEY_ALLOWED_HOSTS are answered; health checks by any name', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `10.1.2.3:${port}`, `latchkey.internal:${port}`, 'LOCALHOST']) {
      const res = await send(server.url, 'GET', '/v1/providers', { ...auth, host });
      assert.equal(res.status, 200, host);
    }
    assert.equal((await send(server.url, 'GET', '/healthz', { host: 'lb-probe.example' })).status, 200);
  });

  test('a cross-origin browser request to an admin route is refused before it changes anything', async () => {
    const provider = { name: 'csrf-victim', preset: 'github', clientId: 'c' };
    const foreign = await send(server.url, 'POST', '/v1/providers', { ...auth, host: `127.0.0.1:${port}`, origin: 'https://evil.example' }, provider);
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error, 'forbidden');
    const opaque = await send(server.url, 'POST', '/v1/providers', { ...auth, host: `127.0.0.1:${port}`, origin: 'null' }, provider);
    assert.equal(opaque.status, 403);
    const crossSite = await send(server.url, 'POST', '/v1/providers', { ...auth, host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' }, provider);
    assert.equal(crossSite.status, 403);
    assert.equal((await server.admin('GET', '/v1/providers/csrf-victim')).status, 404);

    const same = await send(server.url, 'POST', '/v1/providers', { ...auth, host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' }, provider);
    assert.equal(same.status, 201, JSON.stringify(same.body));
  });
});

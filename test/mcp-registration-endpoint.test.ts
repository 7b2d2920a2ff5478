import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { systemLookup } from '../src/net/guard.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const REGISTERED_SECRET = 'dcr-secret-must-not-travel-in-clear';

// Dynamic client registration sends the redirect URI and gets back a client
// secret: its endpoint is held to the rule every other endpoint is (https,
// or http on loopback with LATCHKEY_ALLOW_HTTP_LOOPBACK), not taken as discovered.
describe('the registration endpoint an MCP server\'s authorization server names', () => {
  let stub: Server;
  let base = '';
  let port = 0;
  let registrationEndpoint = '';
  const registrations: string[] = [];
  let lk: InProcess;

  before(async () => {
    stub = createServer((req, res) => {
      req.resume();
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (path === '/.well-known/oauth-protected-resource/mcp') return json(200, { resource: `${base}/mcp`, authorization_servers: [base] });
      if (path === '/.well-known/oauth-authorization-server') {
        return json(200, {
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          registration_endpoint: registrationEndpoint,
          code_challenge_methods_supported: ['S256'],
          response_types_supported: ['code'],
        });
      }
      if (path === '/reg') {
        registrations.push(req.headers.host ?? '');
        return json(201, { client_id: 'registered', client_secret: REGISTERED_SECRET, token_endpoint_auth_method: 'client_secret_basic' });
      }
      if (path === '/mcp') return json(401, {}, { 'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"` });
      json(404, { error: 'not_found' });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    port = (stub.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    // A public name that, here, happens to reach the stub: only the URL's scheme may stop the request.
    lk = await startInProcess({
      lookup: async (host) => (host === 'registration.example' ? [{ address: '127.0.0.1', family: 4 }] : systemLookup(host)),
    });
  });

  after(async () => {
    await lk?.close();
    stub?.closeAllConnections();
    stub?.close();
  });

  test('plain http to a public host is refused before anything is sent; nothing is half-written', async () => {
    registrationEndpoint = `http://registration.example:${port}/reg`;
    const res = await lk.admin('POST', '/v1/mcp-servers', { name: 'cleartext', url: `${base}/mcp` });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    const body = res.body as { error: string; message: string };
    assert.equal(body.error, 'invalid_request');
    assert.match(body.message, /registration_endpoint must be an https URL/);
    assert.match(body.message, /give its clientId/, 'says how to go on: a client registered by hand');
    assert.deepEqual(registrations, [], 'no registration request was sent');
    assert.equal((await lk.admin('GET', '/v1/providers/cleartext')).status, 404);
    assert.equal((await lk.admin('GET', '/v1/mcp-servers/cleartext')).status, 404);
    assert.ok(!lk.logs.text().includes(REGISTERED_SECRET));
  });

  test('a client given by hand needs no registration, so the same server is added', async () => {
    registrationEndpoint = `http://registration.example:${port}/reg`;
    const res = await lk.admin('POST', '/v1/mcp-servers', { name: 'manual', url: `${base}/mcp`, clientId: 'mine' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal((res.body as { registration: string }).registration, 'manual');
    assert.deepEqual(registrations, []);
  });

  test('http on loopback is taken under LATCHKEY_ALLOW_HTTP_LOOPBACK, as for every other endpoint', async () => {
    registrationEndpoint = `${base}/reg`;
    const res = await lk.admin('POST', '/v1/mcp-servers', { name: 'loopback', url: `${base}/mcp` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal((res.body as { registration: string }).registration, 'dcr');
    assert.deepEqual(registrations, [`127.0.0.1:${port}`]);
  });
});

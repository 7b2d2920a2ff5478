import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { MCP_REGISTRATIONS_PER_HOUR } from '../src/server/app.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

// Dynamic client registration is open to anyone (MCP hosts register themselves); a loop from one address must
// not grow the client table without bound.
let lk: InProcess;
before(async () => {
  lk = await startInProcess();
});
after(async () => lk?.close());

function register(i: number, server: InProcess = lk, path = '/mcp-oauth/reg'): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: `flood-${i}`,
      redirect_uris: ['http://127.0.0.1:9/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
}

test(`one address registers at most ${MCP_REGISTRATIONS_PER_HOUR} MCP clients an hour; then 429 with Retry-After`, async () => {
  for (let i = 0; i < MCP_REGISTRATIONS_PER_HOUR; i++) {
    const res = await register(i);
    assert.equal(res.status, 201, await res.text());
  }
  const refused = await register(MCP_REGISTRATIONS_PER_HOUR);
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  assert.equal(((await refused.json()) as { error: string }).error, 'rate_limited');
  // Discovery and the rest of the authorization server still answer.
  assert.equal((await fetch(`${lk.url}/.well-known/oauth-authorization-server`)).status, 200);
});

// oidc-provider's router folds case and drops one trailing slash, so each of these is its registration endpoint.
const VARIANTS = ['/mcp-oauth/REG', '/mcp-oauth/reg/', '/mcp-oauth/Reg?x=1', '/mcp-oauth/rEG/?x=1'];

test('every path oidc-provider routes to registration (case, trailing slash, query) counts toward the limit and is refused past it', async () => {
  const clock = new ManualClock();
  const server = await startInProcess({ clock });
  try {
    for (let i = 0; i < MCP_REGISTRATIONS_PER_HOUR; i++) {
      const res = await register(i, server, VARIANTS[i % VARIANTS.length]);
      assert.equal(res.status, 201, await res.text());
    }
    for (const path of ['/mcp-oauth/reg', ...VARIANTS]) {
      const refused = await register(99, server, path);
      assert.equal(refused.status, 429, path);
      assert.ok(Number(refused.headers.get('retry-after')) > 0, path);
      assert.equal(((await refused.json()) as { error: string }).error, 'rate_limited', path);
    }
    const clients = await server.core.store.db.kysely.selectFrom('mcpOauth').select('idHash').where('model', '=', 'Client').execute();
    assert.equal(clients.length, MCP_REGISTRATIONS_PER_HOUR);
    // The window is an hour: then the address may register again.
    clock.advance(3600_000 + 1000);
    const again = await register(100, server, '/mcp-oauth/REG/');
    assert.equal(again.status, 201, await again.text());
  } finally {
    await server.close();
  }
});

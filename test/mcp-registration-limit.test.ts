import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MCP_REGISTRATIONS_PER_HOUR } from '../src/server/app.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

// Dynamic client registration is open to anyone (MCP hosts register themselves); a loop from one address must
// not grow the client table without bound.
let lk: InProcess;
before(async () => {
  lk = await startInProcess();
});
after(async () => lk?.close());

function register(i: number): Promise<Response> {
  return fetch(`${lk.url}/mcp-oauth/reg`, {
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

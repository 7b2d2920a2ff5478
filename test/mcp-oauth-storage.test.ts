import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { MCP_CLIENT_LIMITS } from '../src/server/mcp/adapter.js';
import { MCP_AUTHORIZATIONS_PER_WINDOW, MCP_AUTHORIZATION_REQUEST_MAX_CHARS, MCP_AUTHORIZATION_WINDOW_SECONDS } from '../src/server/mcp/admission.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

// What an unauthenticated caller can make the /mcp-oauth authorization server store is bounded: per address
// (registrations, authorization requests) and per row (client metadata, authorization parameters).
const REDIRECT = 'http://127.0.0.1:9/callback';

async function rows(lk: InProcess, model: string): Promise<number> {
  return (await lk.core.store.db.kysely.selectFrom('mcpOauth').select('idHash').where('model', '=', model).execute()).length;
}

function register(lk: InProcess, metadata: Record<string, unknown>): Promise<Response> {
  return fetch(`${lk.url}/mcp-oauth/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Storage test', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', ...metadata }),
  });
}

async function clientId(lk: InProcess): Promise<string> {
  const res = await register(lk, {});
  assert.equal(res.status, 201);
  return ((await res.json()) as { client_id: string }).client_id;
}

function authParams(lk: InProcess, client: string, extra: Record<string, string> = {}): URLSearchParams {
  return new URLSearchParams({
    client_id: client,
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
    code_challenge_method: 'S256',
    resource: `${lk.url}/mcp`,
    scope: 'mcp',
    state: 's',
    ...extra,
  });
}

async function status(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

test('a registration storing an oversized client_name, too many redirect URIs or an overlong URI is refused with 400 invalid_client_metadata (invalid_redirect_uri)', async () => {
  const lk = await startInProcess();
  try {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ client_name: 'n'.repeat(50_000) }, 'client_name'],
      [{ client_name: 'n'.repeat(MCP_CLIENT_LIMITS.nameChars + 1) }, 'client_name'],
      [{ redirect_uris: Array.from({ length: MCP_CLIENT_LIMITS.redirectUris + 1 }, (_, i) => `http://127.0.0.1:9/cb${i}`) }, 'redirect_uris'],
      [{ redirect_uris: [`http://127.0.0.1:9/${'p'.repeat(MCP_CLIENT_LIMITS.stringChars)}`] }, 'redirect_uris'],
      [{ client_uri: `https://example.com/${'p'.repeat(MCP_CLIENT_LIMITS.stringChars)}` }, 'client_uri'],
      [{ contacts: Array.from({ length: MCP_CLIENT_LIMITS.arrayEntries + 1 }, (_, i) => `a${i}@example.com`) }, 'contacts'],
    ];
    for (const [metadata, field] of cases) {
      const res = await register(lk, metadata);
      const body = (await res.json()) as { error: string; error_description: string };
      assert.equal(res.status, 400, field);
      // oidc-provider reports a problem with redirect_uris under RFC 7591's own code.
      assert.equal(body.error, field === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata', field);
      assert.match(body.error_description, new RegExp(field));
    }
    assert.equal(await rows(lk, 'Client'), 0);
    // Metadata of an ordinary size is stored.
    assert.equal(await status(register(lk, { client_name: 'n'.repeat(MCP_CLIENT_LIMITS.nameChars) })), 201);
  } finally {
    await lk.close();
  }
});

test(`one address makes at most ${MCP_AUTHORIZATIONS_PER_WINDOW} authorization requests per ${MCP_AUTHORIZATION_WINDOW_SECONDS} s, by any path the router takes; then 429 with Retry-After`, async () => {
  const clock = new ManualClock();
  const lk = await startInProcess({ clock });
  try {
    const client = await clientId(lk);
    const query = authParams(lk, client).toString();
    const paths = ['/mcp-oauth/auth', '/mcp-oauth/AUTH', '/mcp-oauth/auth/', '/mcp-oauth/Auth/'];
    for (let i = 0; i < MCP_AUTHORIZATIONS_PER_WINDOW; i++) {
      const res = await fetch(`${lk.url}${paths[i % paths.length]}?${query}`, { redirect: 'manual' });
      await res.body?.cancel();
      assert.equal(res.status, 303, `request ${i}`);
      assert.match(res.headers.get('location') ?? '', /\/console\/mcp\/consent\//);
    }
    assert.equal(await rows(lk, 'Interaction'), MCP_AUTHORIZATIONS_PER_WINDOW);
    for (const path of paths) {
      const refused = await fetch(`${lk.url}${path}?${query}`, { redirect: 'manual' });
      assert.equal(refused.status, 429, path);
      assert.ok(Number(refused.headers.get('retry-after')) > 0, path);
      assert.equal(((await refused.json()) as { error: string }).error, 'rate_limited');
    }
    assert.equal(await rows(lk, 'Interaction'), MCP_AUTHORIZATIONS_PER_WINDOW);
    // Registration and the token endpoint are not part of this limit.
    assert.equal(await status(register(lk, {})), 201);
    clock.advance(MCP_AUTHORIZATION_WINDOW_SECONDS * 1000 + 1000);
    assert.equal(await status(fetch(`${lk.url}/mcp-oauth/auth?${query}`, { redirect: 'manual' })), 303);
  } finally {
    await lk.close();
  }
});

test(`an authorization request longer than ${MCP_AUTHORIZATION_REQUEST_MAX_CHARS} characters is refused with 400 and stores nothing`, async () => {
  const lk = await startInProcess();
  try {
    const client = await clientId(lk);
    const long = authParams(lk, client, { state: 's'.repeat(12_000) }).toString();
    const got = await fetch(`${lk.url}/mcp-oauth/auth?${long}`, { redirect: 'manual' });
    assert.equal(got.status, 400);
    const body = (await got.json()) as { error: string; message: string };
    assert.equal(body.error, 'invalid_request');
    assert.match(body.message, new RegExp(String(MCP_AUTHORIZATION_REQUEST_MAX_CHARS)));
    // Any path the router takes to the endpoint (the authorization endpoint answers GET only).
    const variant = await fetch(`${lk.url}/mcp-oauth/AUTH/?${long}`, { redirect: 'manual' });
    assert.equal(variant.status, 400);
    await variant.body?.cancel();
    assert.equal(await rows(lk, 'Interaction'), 0);
    // An ordinary request, even with a state of a few KiB, still starts an authorization.
    const ordinary = authParams(lk, client, { state: 's'.repeat(4000) }).toString();
    assert.equal(await status(fetch(`${lk.url}/mcp-oauth/auth?${ordinary}`, { redirect: 'manual' })), 303);
    assert.equal(await rows(lk, 'Interaction'), 1);
  } finally {
    await lk.close();
  }
});

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PRESETS } from '../src/providers/presets.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { openLink } from './helpers/oauth-flows.js';

/** An authorization server stub whose metadata the test writes. */
async function metadataServer(metadata: (issuer: string) => Record<string, unknown>): Promise<{ issuer: string; close(): void }> {
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(metadata(issuer)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, close: () => server.close() };
}

describe('consent hardening: PKCE cannot be turned off', () => {
  let server: InProcess;
  const stubs: Array<{ close(): void }> = [];

  before(async () => {
    server = await startInProcess();
  });
  after(async () => {
    await server?.close();
    for (const s of stubs) s.close();
  });

  test('a provider with "pkce": false is refused', async () => {
    const res = await server.admin('POST', '/v1/providers', {
      name: 'no-pkce',
      authorizationEndpoint: 'https://idp.example/authorize',
      tokenEndpoint: 'https://idp.example/token',
      clientId: 'c',
      pkce: false,
    });
    assert.equal(res.status, 400);
    assert.equal((res.body as { error: string }).error, 'invalid_request');
    assert.match((res.body as { message: string }).message, /pkce/i);
    assert.equal((await server.admin('GET', '/v1/providers/no-pkce')).status, 404);
  });

  test('every preset with a consent page starts the flow with an S256 challenge', async () => {
    const withConsent = PRESETS.filter((p) => p.authorizationEndpoint !== null);
    assert.ok(withConsent.some((p) => p.name === 'slack'));
    for (const preset of withConsent) {
      const name = `pk-${preset.name}`;
      const created = await server.admin('POST', '/v1/providers', { name, preset: preset.name, clientId: 'client-1', clientSecret: 'secret-1' });
      assert.equal(created.status, 201, `${preset.name}: ${JSON.stringify(created.body)}`);
      assert.equal((created.body as { pkce: boolean }).pkce, true);
      const started = await server.admin('POST', `/v1/connect/${name}`, { name: `conn-${preset.name}` });
      assert.equal(started.status, 201, `${preset.name}: ${JSON.stringify(started.body)}`);
      const url = new URL(await openLink((started.body as { authorizationUrl: string }).authorizationUrl));
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256', preset.name);
      assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/, preset.name);
    }
  });

  test('a discovery document that offers only "plain" PKCE is refused; one with S256 is accepted', async () => {
    const plainOnly = await metadataServer((issuer) => ({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      code_challenge_methods_supported: ['plain'],
    }));
    const s256 = await metadataServer((issuer) => ({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      code_challenge_methods_supported: ['plain', 'S256'],
    }));
    stubs.push(plainOnly, s256);
    const refused = await server.admin('POST', '/v1/providers', { name: 'plain-only', issuer: plainOnly.issuer, clientId: 'c' });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match((refused.body as { message: string }).message, /S256/);
    assert.equal((await server.admin('GET', '/v1/providers/plain-only')).status, 404);
    const accepted = await server.admin('POST', '/v1/providers', { name: 'with-s256', issuer: s256.issuer, clientId: 'c' });
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  });
});

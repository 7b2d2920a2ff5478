import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PRESETS } from '../src/providers/presets.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { getConnection, newBrowser, openLink, pageError, visit } from './helpers/oauth-flows.js';

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

describe('consent hardening: mix-up defence', () => {
  let server: InProcess;
  let stub: { issuer: string; close(): void };

  before(async () => {
    server = await startInProcess();
    // A discovery document that sends the token to a host other than its issuer's (same machine, other name).
    stub = await metadataServer((issuer) => ({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer.replace('127.0.0.1', 'localhost')}/token`,
    }));
    for (const name of ['acme', 'globex']) {
      const res = await server.admin('POST', '/v1/providers', {
        name,
        authorizationEndpoint: `https://${name}.example/authorize`,
        tokenEndpoint: `https://${name}.example/token`,
        clientId: 'c',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await server?.close();
    stub?.close();
  });

  test('a discovery document with an endpoint on a foreign host is refused unless that endpoint is given explicitly', async () => {
    const refused = await server.admin('POST', '/v1/providers', { name: 'foreign-token', issuer: stub.issuer, clientId: 'c' });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal((refused.body as { error: string }).error, 'invalid_issuer');
    assert.match((refused.body as { message: string }).message, /tokenEndpoint on localhost/);
    const explicit = await server.admin('POST', '/v1/providers', {
      name: 'foreign-token',
      issuer: stub.issuer,
      tokenEndpoint: `${stub.issuer}/token`,
      clientId: 'c',
    });
    assert.equal(explicit.status, 201, JSON.stringify(explicit.body));
  });

  test('a provider without RFC 9207 gets a callback path of its own, shown as its redirectUri', async () => {
    const acme = (await server.admin('GET', '/v1/providers/acme')).body as { redirectUri: string };
    assert.equal(acme.redirectUri, `${server.url}/oauth/callback/acme`);
    const started = await server.admin('POST', '/v1/connect/acme', { name: 'acme-shape' });
    const url = new URL(await openLink((started.body as { authorizationUrl: string }).authorizationUrl));
    assert.equal(url.searchParams.get('redirect_uri'), `${server.url}/oauth/callback/acme`);
  });

  test('an answer brought back to another provider’s callback is refused (mix-up), and so is the shared one', async () => {
    for (const [name, wrongPath] of [
      ['mixup-1', '/oauth/callback/globex'],
      ['mixup-2', '/oauth/callback'],
    ] as const) {
      const browser = newBrowser();
      const started = (await server.admin('POST', '/v1/connect/acme', { name })).body as { connectionId: string; authorizationUrl: string };
      const state = new URL(await openLink(started.authorizationUrl, browser)).searchParams.get('state') ?? '';
      const page = await visit(`${server.url}${wrongPath}?code=stolen&state=${encodeURIComponent(state)}`, browser);
      assert.equal(page.status, 400, wrongPath);
      assert.equal(pageError(page.body), 'invalid_state', wrongPath);
      const connection = await getConnection(server, started.connectionId);
      assert.equal(connection.status, 'error');
      assert.match(connection.lastError ?? '', /mix-up/);
    }
  });

  test('a provider registered without an issuer still refuses a foreign iss in the callback', async () => {
    const browser = newBrowser();
    const started = (await server.admin('POST', '/v1/connect/acme', { name: 'foreign-iss' })).body as { connectionId: string; authorizationUrl: string };
    const state = new URL(await openLink(started.authorizationUrl, browser)).searchParams.get('state') ?? '';
    const page = await visit(
      `${server.url}/oauth/callback/acme?code=c&state=${encodeURIComponent(state)}&iss=${encodeURIComponent('https://evil.example')}`,
      browser,
    );
    assert.equal(page.status, 400);
    assert.equal(pageError(page.body), 'invalid_issuer');
    assert.equal((await getConnection(server, started.connectionId)).status, 'error');
  });
});

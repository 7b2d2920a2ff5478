import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PRESETS } from '../src/providers/presets.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
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

/** A token endpoint (and device endpoint) whose answers the test chooses, per request. */
async function hostileEndpoint(): Promise<{ url: string; answer(fn: (res: import('node:http').ServerResponse) => void): void; close(): void }> {
  let next: (res: import('node:http').ServerResponse) => void = (res) => res.end('{}');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => next(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer: (fn) => (next = fn),
    close: () => server.closeAllConnections() ?? server.close(),
  };
}

const json = (body: unknown) => (res: import('node:http').ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

describe('consent hardening: token responses are not trusted blindly', () => {
  let server: InProcess;
  let endpoint: Awaited<ReturnType<typeof hostileEndpoint>>;
  let n = 0;

  before(async () => {
    server = await startInProcess();
    endpoint = await hostileEndpoint();
    const res = await server.admin('POST', '/v1/providers', {
      name: 'hostile',
      tokenEndpoint: `${endpoint.url}/token`,
      deviceAuthorizationEndpoint: `${endpoint.url}/device`,
      clientId: 'c',
      clientSecret: 's',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });
  after(async () => {
    await server?.close();
    endpoint?.close();
  });

  async function clientCredentials(): Promise<{ status: number; body: Record<string, unknown>; name: string }> {
    const name = `cc-${(n += 1)}`;
    const res = await server.admin('POST', '/v1/connect/hostile/client-credentials', { name });
    return { status: res.status, body: res.body as Record<string, unknown>, name };
  }

  test('a missing or unknown token_type is refused, not stored as Bearer; DPoP stays DPoP', async () => {
    for (const body of [{ access_token: 'tok-no-type' }, { access_token: 'tok-mac', token_type: 'mac' }]) {
      endpoint.answer(json(body));
      const res = await clientCredentials();
      assert.equal(res.status, 502, JSON.stringify(res.body));
      assert.equal(res.body.error, 'upstream_error');
      assert.equal((await server.admin('GET', `/v1/connections/${res.name}`)).status, 404, 'nothing was stored');
    }
    endpoint.answer(json({ access_token: 'tok-dpop', token_type: 'DPoP', expires_in: 60 }));
    const dpop = await clientCredentials();
    assert.equal(dpop.status, 201, JSON.stringify(dpop.body));
    const token = await server.admin('GET', `/v1/connections/${dpop.name}/token`);
    assert.equal((token.body as { tokenType: string }).tokenType, 'dpop');
  });

  test('a 50 MB token response is not read, with or without a Content-Length', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    for (const declared of [true, false]) {
      let sent = 0;
      endpoint.answer((res) => {
        res.setHeader('content-type', 'application/json');
        if (declared) res.setHeader('content-length', String(50 * chunk.length + 40));
        res.write('{"token_type":"bearer","access_token":"');
        const pump = (): void => {
          while (sent < 50) {
            sent += 1;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('"}');
        };
        res.on('error', () => {});
        pump();
      });
      const res = await clientCredentials();
      assert.equal(res.status, 502, JSON.stringify(res.body));
      assert.match(String(res.body.message), /larger than 256 KiB/);
      assert.ok(sent < 50, `the server stopped reading early (sent ${sent} MiB, declared: ${declared})`);
    }
  });

  test('an absurd expires_in is clamped to a year instead of failing with a 500', async () => {
    endpoint.answer(json({ access_token: 'tok-forever', token_type: 'bearer', expires_in: 1e308 }));
    const res = await clientCredentials();
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const expiresAt = Date.parse(String(res.body.expiresAt));
    assert.ok(expiresAt <= Date.now() + 367 * 86_400_000 && expiresAt > Date.now() + 300 * 86_400_000, String(res.body.expiresAt));
  });

  test('a device flow verification_uri must be https on the provider’s own domain; its lifetime is bounded', async () => {
    const device = (verification: Record<string, unknown>, expiresIn = 600) =>
      json({ device_code: 'dc', user_code: 'UC-1', expires_in: expiresIn, interval: 5, ...verification });
    for (const [bad, pattern] of [
      [{ verification_uri: 'javascript:alert(document.cookie)' }, /https/],
      [{ verification_uri: 'https://evil.example/device' }, /not on the provider/],
      [{ verification_uri: `${endpoint.url}/device`, verification_uri_complete: 'https://evil.example/device?code=UC-1' }, /not on the provider/],
    ] as const) {
      endpoint.answer(device(bad));
      const res = await server.admin('POST', '/v1/connect/hostile/device', { name: `dev-${(n += 1)}` });
      assert.equal(res.status, 502, JSON.stringify(res.body));
      assert.match(String((res.body as { message: string }).message), pattern);
    }
    const before = (await server.admin('GET', '/v1/connections')).body as unknown[];
    endpoint.answer(device({ verification_uri: `${endpoint.url}/device` }, 1e308));
    const ok = await server.admin('POST', '/v1/connect/hostile/device', { name: `dev-${(n += 1)}` });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.ok(Date.parse((ok.body as { expiresAt: string }).expiresAt) <= Date.now() + 3_601_000);
    assert.equal(((await server.admin('GET', '/v1/connections')).body as unknown[]).length, before.length + 1, 'refused answers left no connection');
  });
});

describe('consent hardening: deeply nested JSON', () => {
  let server: InProcess;
  before(async () => {
    server = await startInProcess();
  });
  after(async () => server?.close());

  const nested = (depth: number): string => {
    let value = '1';
    for (let i = 0; i < depth; i += 1) value = `{"a":${value}}`;
    return value;
  };
  const post = (path: string, body: string) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body });

  test('a 10,000-deep object in quirks, metadata or a policy is a 400, not a stack overflow', async () => {
    for (const [path, body] of [
      ['/v1/providers', `{"name":"deep","preset":"github","clientId":"c","quirks":${nested(10_000)}}`],
      ['/v1/connections/import', `{"name":"deep","provider":"github","accessToken":"t","metadata":${nested(10_000)}}`],
      ['/v1/agents', `{"name":"deep","policy":${nested(10_000)}}`],
    ] as const) {
      const res = await post(path, body);
      assert.equal(res.status, 400, path);
      const answer = (await res.json()) as { error: string; message: string };
      assert.equal(answer.error, 'invalid_request', path);
      assert.match(answer.message, /deeper than 64 levels/, path);
    }
    assert.ok(!server.logs.text().includes('Maximum call stack'), 'no stack overflow was logged');
    const ordinary = await post('/v1/providers', `{"name":"shallow","preset":"github","clientId":"c","quirks":{"notes":"x"}}`);
    assert.equal(ordinary.status, 201);
  });
});

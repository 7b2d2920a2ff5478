import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import type { AuthorizationServer, FixtureClient } from '../fixtures/authorization-server.js';
import type { AdminCall } from './admin-client.js';

export { adminClient, type AdminCall } from './admin-client.js';

/** Real tokens from the fixture: authorization code + PKCE for a confidential client, driven by approve(). */
export async function fixtureTokens(
  as: AuthorizationServer,
  scope = 'openid offline_access api:read',
  /** A confidential client of the fixture (default: confidentialClient). */
  fixtureClient: FixtureClient = as.confidentialClient,
): Promise<{ accessToken: string; refreshToken: string; expiresIn: number }> {
  const secret = fixtureClient.clientSecret ?? '';
  const config = await client.discovery(
    new URL(as.issuer),
    fixtureClient.clientId,
    secret,
    client.ClientSecretBasic(secret),
    { execute: [client.allowInsecureRequests] },
  );
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fixtureClient.redirectUris[0] ?? 'http://127.0.0.1/oauth/callback',
    scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const location = new URL(await as.approve(url.href));
  const tokens = await client.authorizationCodeGrant(config, location, { pkceCodeVerifier: verifier, expectedState: state });
  assert.ok(tokens.refresh_token, 'the fixture issued a refresh token');
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresIn: tokens.expires_in ?? 0 };
}

/**
 * Registers the fixture as a provider through discovery, with the confidential client;
 * `extra` overrides fields (a token endpoint behind a proxy, quirks).
 */
export async function addProvider(
  admin: AdminCall,
  as: AuthorizationServer,
  name = 'fixture',
  extra: { tokenEndpoint?: string; quirks?: Record<string, unknown> } = {},
): Promise<void> {
  const res = await admin('POST', '/v1/providers', {
    ...extra,
    name,
    issuer: as.issuer,
    clientId: as.confidentialClient.clientId,
    clientSecret: as.confidentialClient.clientSecret,
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['openid', 'offline_access', 'api:read'],
    apiBaseUrl: as.issuer,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

export interface ConnectionView {
  id: string;
  name: string;
  status: string;
  lastError: string | null;
  expiresAt: string | null;
}

export async function importConnection(
  admin: AdminCall,
  body: { name: string; provider?: string; accessToken?: string; refreshToken?: string; expiresAt?: string },
): Promise<ConnectionView> {
  const res = await admin('POST', '/v1/connections/import', { provider: 'fixture', ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as ConnectionView;
}

export interface TokenView {
  accessToken: string;
  tokenType: string;
  expiresAt: string | null;
}

/** Waits for `probe` to return a value (polling; for things another process or a worker does). */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function assertNoSecret(text: string, secrets: Array<string | undefined>, where: string): void {
  for (const s of secrets) {
    if (s === undefined || s.length < 8) continue;
    assert.ok(!text.includes(s), `a secret appeared in ${where}`);
  }
}

/** A webhook receiver on 127.0.0.1 that records what it gets. */
export interface Receiver {
  url: string;
  port: number;
  received: Array<{ headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0, status = 200): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

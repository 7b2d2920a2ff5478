import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import type { AuthorizationServer } from '../fixtures/authorization-server.js';
import type { InProcess } from './in-process.js';

const REDIRECT_URI = 'http://127.0.0.1:45199/oauth/callback';

/** Real tokens from the fixture: authorization code + PKCE, with a refresh token (offline_access). */
export async function fixtureTokens(as: AuthorizationServer, scope = 'openid offline_access api:read'): Promise<client.TokenEndpointResponse> {
  as.setRedirectUris([REDIRECT_URI]);
  const c = as.confidentialClient;
  const config = await client.discovery(new URL(as.issuer), c.clientId, c.clientSecret, client.ClientSecretBasic(c.clientSecret ?? ''), {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const location = new URL(await as.approve(url.href));
  return client.authorizationCodeGrant(config, location, { pkceCodeVerifier: verifier, expectedState: state });
}

/** Registers the fixture as a provider whose API base is the issuer (the protected resource is /api/me). */
export async function addFixtureApiProvider(lk: Pick<InProcess, 'admin'>, as: AuthorizationServer, name = 'fixture'): Promise<void> {
  const res = await lk.admin('POST', '/v1/providers', {
    name,
    issuer: as.issuer,
    clientId: as.confidentialClient.clientId,
    clientSecret: as.confidentialClient.clientSecret,
    apiBaseUrl: as.issuer,
    allowedHosts: [],
    capabilities: [{ name: 'me', description: 'who am I', methods: ['GET'], pathPrefixes: ['/api/me'] }],
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

export async function importTokens(
  lk: Pick<InProcess, 'admin'>,
  body: { name: string; provider: string; accessToken?: string; refreshToken?: string; expiresAt?: string; environment?: string; scopes?: string[] },
): Promise<{ id: string; name: string }> {
  const res = await lk.admin('POST', '/v1/connections/import', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; name: string };
}

export async function createAgent(lk: Pick<InProcess, 'admin'>, body: Record<string, unknown>): Promise<{ id: string; name: string; apiKey: string; keyId: string }> {
  const res = await lk.admin('POST', '/v1/agents', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; name: string; apiKey: string; keyId: string };
}

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeApi {
  url: string;
  host: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A node:http upstream on 127.0.0.1 that records every request it gets. */
export async function startFakeApi(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  },
): Promise<FakeApi> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request whose path goes on the wire exactly as written (fetch would resolve `..` first). */
export function rawRequest(
  base: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string; localAddress?: string },
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers ?? {},
        // Another loopback address (127.0.0.2, ...) is another client as far as the server can tell.
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function json(body: string): Record<string, unknown> {
  return JSON.parse(body) as Record<string, unknown>;
}

export interface AuditEventBody {
  id: string;
  action: string;
  outcome: string;
  status: number | null;
  connection: string | null;
  actor: { type: string; id: string | null; name: string | null };
  detail: Record<string, unknown>;
}

export async function auditEvents(lk: Pick<InProcess, 'admin'>, query = ''): Promise<AuditEventBody[]> {
  const res = await lk.admin('GET', `/v1/audit${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as AuditEventBody[];
}

import assert from 'node:assert/strict';
import { openTokens, type TokenSet } from '../../src/tokens/index.js';
import type { AuthorizationServer } from '../fixtures/authorization-server.js';
import type { InProcess } from './in-process.js';
import { PG_SKIP, createTestDatabase } from './pg.js';

/** The store backends every flow suite runs on: SQLite always, PostgreSQL when configured. */
export interface Backend {
  name: 'sqlite' | 'postgres';
  skip: string | false;
  /** A fresh database (PostgreSQL) or nothing (SQLite lives in the data dir). */
  open(): Promise<{ databaseUrl: string | undefined; drop(): Promise<void> }>;
}

export const BACKENDS: Backend[] = [
  { name: 'sqlite', skip: false, open: async () => ({ databaseUrl: undefined, drop: async () => {} }) },
  {
    name: 'postgres',
    skip: PG_SKIP,
    open: async () => {
      const db = await createTestDatabase();
      return { databaseUrl: db.url, drop: () => db.drop() };
    },
  },
];

/** Anything that can call the admin API: an in-process server or a wrapper around the real process. */
export interface AdminCaller {
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export const FIXTURE_SCOPES = ['openid', 'offline_access', 'api:read'];

/** A provider on the fixture, made by discovery (so RFC 9207 `iss` support is known). */
export async function addFixtureProvider(
  server: AdminCaller,
  as: AuthorizationServer,
  options: { name?: string; client?: 'confidential' | 'public'; scopes?: string[] } = {},
): Promise<string> {
  const name = options.name ?? 'fixture';
  const client = options.client === 'public' ? as.publicClient : as.confidentialClient;
  const res = await server.admin('POST', '/v1/providers', {
    name,
    issuer: as.issuer,
    clientId: client.clientId,
    ...(client.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
    scopes: options.scopes ?? FIXTURE_SCOPES,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return name;
}

export interface ConnectionBody {
  id: string;
  name: string;
  status: string;
  scopes: string[];
  expiresAt: string | null;
  lastError: string | null;
  grantType: string;
  updatedAt: string;
}

export async function getConnection(server: AdminCaller, idOrName: string): Promise<ConnectionBody> {
  const res = await server.admin('GET', `/v1/connections/${encodeURIComponent(idOrName)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as ConnectionBody;
}

export async function listConnections(server: AdminCaller): Promise<ConnectionBody[]> {
  const res = await server.admin('GET', '/v1/connections');
  assert.equal(res.status, 200);
  return res.body as ConnectionBody[];
}

/** The browser's visit to the callback: status, body and Location, without following redirects. */
export async function visit(url: string): Promise<{ status: number; body: string; location: string | null }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, body: await res.text(), location: res.headers.get('location') };
}

export function pageError(html: string): string | undefined {
  return /data-error="([^"]*)"/.exec(html)?.[1];
}

/** Reads the stored tokens in-process (the test plays the operator with the keyring). */
export async function storedTokens(server: InProcess, connectionId: string): Promise<TokenSet> {
  const row = await server.core.store.connections.findById(connectionId);
  assert.ok(row, 'connection row exists');
  return openTokens(server.core.keyring, connectionId, row.tokens);
}

export async function callResource(as: AuthorizationServer, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(as.protectedResourceUrl, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/**
 * Waits for something a background task (the device poller, a child process)
 * does in real time; the fixture's device interval is 1 s.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Asserts none of the secrets appears in the text (logs, output, pages). */
export function assertNoSecrets(text: string, secrets: Array<string | undefined>, where: string): void {
  for (const secret of secrets) {
    if (secret === undefined || secret === '') continue;
    assert.ok(!text.includes(secret), `${where} contains a secret (${secret.slice(0, 4)}…)`);
  }
}

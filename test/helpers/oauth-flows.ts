import assert from 'node:assert/strict';
import type { Clock } from '../../src/clock.js';
import { openTokens, type TokenSet } from '../../src/tokens/index.js';
import { startAuthorizationServer, type AuthorizationServer, type AuthorizationServerOptions } from '../fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './in-process.js';
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

/** The fixture authorization server and an in-process Latchkey on it, with the fixture provider added. */
export interface FlowServer {
  as: AuthorizationServer;
  server: InProcess;
  /** Stops both and drops the backend's database. */
  close(): Promise<void>;
}

/** What every flow suite's `before` does: a fresh database on `backend`, the fixture, Latchkey, the `fixture` provider. */
export async function startFlowServer(
  backend: Backend,
  options: { clock?: Clock; env?: Record<string, string>; as?: AuthorizationServerOptions; provider?: Parameters<typeof addFixtureProvider>[2] } = {},
): Promise<FlowServer> {
  const as = await startAuthorizationServer(options.as);
  const db = await backend.open();
  const server = await startInProcess({
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(db.databaseUrl === undefined ? {} : { databaseUrl: db.databaseUrl }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  await addFixtureProvider(server, as, options.provider);
  return {
    as,
    server,
    close: async () => {
      await server.close();
      await as.close();
      await db.drop();
    },
  };
}

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

/** A browser's cookies, by name. Each test process is one person's browser unless a test makes another. */
export type CookieJar = Map<string, string>;
const theBrowser: CookieJar = new Map();

export function newBrowser(): CookieJar {
  return new Map();
}

function remember(jar: CookieJar, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

function cookieHeader(jar: CookieJar): Record<string, string> {
  return jar.size === 0 ? {} : { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
}

/**
 * Opens the link Latchkey hands out for consent (its start page) in the
 * browser, keeping the cookie that binds the flow to it; returns where the
 * page sends the browser next: the provider's authorization URL.
 */
export async function openLink(url: string, jar: CookieJar = theBrowser): Promise<string> {
  const res = await fetch(url, { redirect: 'manual', headers: cookieHeader(jar) });
  remember(jar, res);
  const location = res.headers.get('location');
  if (res.status !== 302 || location === null) throw new Error(`the start page answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return location;
}

/** The browser's visit to the callback: status, body and Location, without following redirects. */
export async function visit(url: string, jar: CookieJar = theBrowser): Promise<{ status: number; body: string; location: string | null }> {
  const res = await fetch(url, { redirect: 'manual', headers: cookieHeader(jar) });
  remember(jar, res);
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

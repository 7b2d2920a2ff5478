/**
 * The servers of `npm run bench -- proxy`, each in its own process so the load
 * generator never shares an event loop with what it measures. Prints one JSON
 * line with what the parent needs, then serves until killed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, type Dispatcher } from 'undici';
import type * as ConfigModule from '../src/config/index.js';
import type * as LogModule from '../src/log.js';
import type * as ServerModule from '../src/server/index.js';

const BODY = JSON.stringify({ ok: true, items: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] });

function ready(info: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

async function listen(server: ReturnType<typeof createServer>): Promise<number> {
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function upstream(): Promise<void> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) }).end(BODY);
  });
  ready({ url: `http://127.0.0.1:${await listen(server)}` });
}

const HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization', 'cookie', 'content-length']);

/** The reference: a bare Node http server forwarding with an undici Pool, injecting a fixed token. */
async function bare(target: string): Promise<void> {
  const pool = new Pool(target, { keepAliveTimeout: 10_000 });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    headers.authorization = 'Bearer bench-provider-token';
    const path = (req.url ?? '/').replace(/^\/v1\/proxy\/[^/]+/, '');
    const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
    pool
      .request({ method: req.method as Dispatcher.HttpMethod, path, headers, body: hasBody ? req : null })
      .then((up) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && (k === 'content-length' || !HOP.has(k))) out[k] = v;
        res.writeHead(up.statusCode, out);
        up.body.pipe(res);
      })
      .catch(() => {
        res.writeHead(502).end();
      });
  });
  ready({ url: `http://127.0.0.1:${await listen(server)}` });
}

/** Latchkey with a real agent key, policy, sealed token and audit, on SQLite in a temp dir. */
async function latchkey(target: string, logLevel: string): Promise<void> {
  // The compiled build (`npm run build`, which `npm run bench -- proxy` runs first), as in production:
  // through tsx every function expression also calls esbuild's `__name` helper, a cost dist/ does not have.
  const from = process.env.LATCHKEY_BENCH_FROM === 'src' ? '../src' : '../dist';
  const { loadConfig } = (await import(`${from}/config/index.js`)) as typeof ConfigModule;
  const { createLogger } = (await import(`${from}/log.js`)) as typeof LogModule;
  const { startServer } = (await import(`${from}/server/index.js`)) as typeof ServerModule;
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const admin = 'lka_bench_admin_token_0123456789';
  const config = loadConfig(
    { port: 0, dataDir },
    { LATCHKEY_ADMIN_TOKEN: admin, LATCHKEY_ALLOW_HTTP_LOOPBACK: '1', LATCHKEY_LOG_LEVEL: logLevel, LATCHKEY_REFRESHER_INTERVAL: '0' },
  );
  const server = await startServer(config, { logger: createLogger(config.logLevel) });
  const call = async (method: string, path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await call('POST', '/v1/providers', { name: 'bench', tokenEndpoint: `${target}/token`, apiBaseUrl: target });
  await call('POST', '/v1/connections/import', {
    name: 'bench',
    provider: 'bench',
    accessToken: 'bench-provider-token',
    expiresAt: new Date(Date.now() + 24 * 3600_000).toISOString(),
  });
  const agent = await call('POST', '/v1/agents', {
    name: 'bench-agent',
    policy: { rules: [{ connections: ['bench'], methods: ['GET'], paths: ['/items/**'] }] },
  });
  ready({ url: server.url, agentKey: agent.apiKey, dataDir });
}

// Exit normally on SIGTERM so `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));

const [role, target, logLevel] = process.argv.slice(2);
if (role === 'upstream') await upstream();
else if (role === 'bare' && target) await bare(target);
else if (role === 'latchkey' && target) await latchkey(target, logLevel ?? 'warn');
else {
  process.stderr.write('usage: proxy-servers.ts upstream | bare URL | latchkey URL [level]\n');
  process.exit(2);
}

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';
import { addProvider, assertNoSecret, fixtureTokens, importConnection } from './helpers/token-lifecycle.js';

interface Revocation {
  id: string;
  connection: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

/** Forwards to the fixture, or answers 503 while `failing` is set: a revocation endpoint having a bad day. */
async function flakyForwarder(target: string): Promise<{ url: string; failing: boolean; hits: number; close(): Promise<void> }> {
  const state = { failing: false, hits: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.hits += 1;
      if (state.failing) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      fetch(target + (req.url ?? '/'), { method: req.method ?? 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (upstream) => res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' }).end(await upstream.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

for (const backend of BACKENDS) {
  describe(`durable revocation on delete (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    /** A second replica on the same database. */
    let other: InProcess;
    let forwarder: Awaited<ReturnType<typeof flakyForwarder>>;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    const clock = new ManualClock();
    const secrets: string[] = [];

    before(async () => {
      as = await startAuthorizationServer();
      forwarder = await flakyForwarder(as.issuer);
      db = await backend.open();
      const options = {
        dataDir: mkdtempSync(join(tmpdir(), 'latchkey-revocations-')),
        clock,
        env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0', LATCHKEY_REVOCATION_INTERVAL: '0', LATCHKEY_REVOCATION_MAX_ATTEMPTS: '3' },
        ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}),
      };
      server = await startInProcess(options);
      other = await startInProcess(options);
      await addProvider(server.admin, as);
      const patched = await server.admin('PATCH', '/v1/providers/fixture', { revocationEndpoint: `${forwarder.url}/token/revocation` });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
    });

    after(async () => {
      assertNoSecret(server.logs.text() + other.logs.text(), secrets, 'the logs');
      await server.close();
      await other.close();
      await forwarder.close();
      await as.close();
      await db.drop();
    });

    async function connect(name: string): Promise<string> {
      const issued = await fixtureTokens(as);
      secrets.push(issued.accessToken, issued.refreshToken);
      await importConnection(server.admin, { name, accessToken: issued.accessToken, refreshToken: issued.refreshToken });
      return issued.refreshToken;
    }

    test('a failed revocation is kept as a job and retried until the provider confirms', async () => {
      const refreshToken = await connect('gone');
      forwarder.failing = true;
      const res = await server.admin('DELETE', '/v1/connections/gone');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const body = res.body as { deleted: boolean; revokedAtProvider: boolean; revocation: Revocation };
      assert.equal(body.deleted, true);
      assert.equal(body.revokedAtProvider, false);
      assert.equal(body.revocation.status, 'pending');
      assert.equal(body.revocation.attempts, 1);
      assert.match(body.revocation.lastError ?? '', /503/);
      assert.equal((await server.admin('GET', '/v1/connections/gone')).status, 404, 'the connection is gone at once');
      assert.equal((await as.introspect(refreshToken)).active, true, 'the grant still lives at the provider');

      const stored = await server.core.store.revocations.findById(body.revocation.id);
      assert.match(stored?.token ?? '', /^lk1\./, 'the token waits sealed');
      assertNoSecret(JSON.stringify(stored), secrets, 'the job row');

      // Not due yet: the pass leaves it alone.
      assert.equal(await server.core.revocations.runOnce(), 0);
      forwarder.failing = false;
      clock.advance(3600_000);
      assert.equal(await server.core.revocations.runOnce(), 1);
      assert.equal((await as.introspect(refreshToken)).active, false, 'revoked at the provider');
      const list = (await server.admin('GET', '/v1/revocations?status=revoked')).body as Revocation[];
      const job = list.find((r) => r.id === body.revocation.id);
      assert.equal(job?.status, 'revoked');
      assert.equal(job?.attempts, 2);
      assert.equal((await server.core.store.revocations.findById(body.revocation.id))?.token, null, 'the token is forgotten');
    });

    test('two replicas passing over the same due job send it once between them', async () => {
      const refreshToken = await connect('shared');
      forwarder.failing = true;
      const res = await other.admin('DELETE', '/v1/connections/shared');
      const id = (res.body as { revocation: Revocation }).revocation.id;
      forwarder.failing = false;
      clock.advance(3600_000);
      const hits = forwarder.hits;
      const attempted = await Promise.all([server.core.revocations.runOnce(), other.core.revocations.runOnce()]);
      assert.equal(attempted[0] + attempted[1], 1);
      assert.equal(forwarder.hits - hits, 1, 'one revocation request');
      assert.equal((await server.core.store.revocations.findById(id))?.status, 'revoked');
      assert.equal((await as.introspect(refreshToken)).active, false);
    });

    test('a revocation that keeps failing is given up after the last attempt, with an event', async () => {
      await connect('doomed');
      forwarder.failing = true;
      const res = await server.admin('DELETE', '/v1/connections/doomed');
      const id = (res.body as { revocation: Revocation }).revocation.id;
      for (let i = 0; i < 2; i += 1) {
        clock.advance(7200_000);
        assert.equal(await server.core.revocations.runOnce(), 1);
      }
      const job = ((await server.admin('GET', '/v1/revocations')).body as Revocation[]).find((r) => r.id === id);
      assert.equal(job?.status, 'failed');
      assert.equal(job?.attempts, 3);
      clock.advance(7200_000);
      assert.equal(await server.core.revocations.runOnce(), 0, 'nothing retries a given-up job');
      const events = await server.core.store.events.listEvents({ type: 'connection.revocation_failed' });
      assert.equal(events.length, 1);
      const event = JSON.parse(events[0]?.payload ?? '{}') as { data: { connection: { name: string; revocation: string; lastError: string } } };
      assert.equal(event.data.connection.name, 'doomed');
      assert.equal(event.data.connection.revocation, id);
      assert.match(event.data.connection.lastError, /503/);
      assertNoSecret(events[0]?.payload ?? '', secrets, 'the event');

      const cli = await runCli(['revocations', '--status', 'failed', '--url', server.url], { LATCHKEY_ADMIN_TOKEN: ADMIN });
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /doomed\s+fixture\s+failed\s+3/);
      forwarder.failing = false;
    });
  });
}

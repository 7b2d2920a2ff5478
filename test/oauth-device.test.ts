import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import {
  BACKENDS,
  addFixtureProvider,
  assertNoSecrets,
  callResource,
  eventually,
  getConnection,
  storedTokens,
  type ConnectionBody,
} from './helpers/oauth-flows.js';

interface DeviceStarted {
  connectionId: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresAt: string;
  interval: number;
}

const DEVICE_SCOPES = ['api:read'];

for (const backend of BACKENDS) {
  describe(`device authorization grant (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let shortLived: AuthorizationServer;
    let server: InProcess;
    let databaseUrl: string | undefined;
    let drop: () => Promise<void>;
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-device-'));
    const secrets: string[] = [];

    const boot = (): Promise<InProcess> => startInProcess({ dataDir, ...(databaseUrl === undefined ? {} : { databaseUrl }) });

    before(async () => {
      as = await startAuthorizationServer();
      shortLived = await startAuthorizationServer({ deviceCodeTtl: 2 });
      const db = await backend.open();
      databaseUrl = db.databaseUrl;
      drop = db.drop;
      server = await boot();
      await addFixtureProvider(server, as, { name: 'fixture', scopes: DEVICE_SCOPES });
      await addFixtureProvider(server, shortLived, { name: 'short', scopes: DEVICE_SCOPES });
    });

    after(async () => {
      assertNoSecrets(server.logs.text(), secrets, 'server log');
      await server.close();
      await as.close();
      await shortLived.close();
      await drop();
    });

    async function start(provider: string, name: string): Promise<DeviceStarted> {
      const res = await server.admin('POST', `/v1/connect/${provider}/device`, { name });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as DeviceStarted;
    }

    const settled = (id: string) => async (): Promise<ConnectionBody | undefined> => {
      const c = await getConnection(server, id);
      return c.status === 'pending' ? undefined : c;
    };

    test('approved: the background poller makes the connection active and the token works', async () => {
      const started = await start('fixture', 'tv');
      assert.match(started.userCode, /\S/);
      assert.ok(started.verificationUri.startsWith(as.issuer));
      assert.equal(started.interval, 1);
      assert.equal((await getConnection(server, started.connectionId)).status, 'pending');
      // The device code itself is sealed in the database and never returned.
      const row = await server.core.store.db.kysely.selectFrom('deviceAuthorizations').selectAll().executeTakeFirstOrThrow();
      assert.match(row.deviceCode, /^lk1\./);
      assert.ok(!('deviceCode' in started));

      await as.approveDevice(started.userCode);
      const connection = await eventually(settled(started.connectionId));
      assert.equal(connection.status, 'active');
      assert.equal(connection.grantType, 'device_code');
      assert.deepEqual(connection.scopes, DEVICE_SCOPES);
      assert.ok(connection.expiresAt);
      const tokens = await storedTokens(server, started.connectionId);
      assert.ok(tokens.accessToken && tokens.refreshToken);
      secrets.push(tokens.accessToken, tokens.refreshToken);
      assert.equal((await callResource(as, tokens.accessToken)).status, 200);
      const left = await server.core.store.db.kysely.selectFrom('deviceAuthorizations').selectAll().execute();
      assert.equal(left.length, 0, 'the device code is forgotten once used');
      // Nobody waits on a request when the poller finishes: the system actor audits it.
      const audit = await eventually(async () => {
        const res = await server.admin('GET', `/v1/audit?connection=${connection.name}&action=connection.create`);
        const events = res.body as Array<{ actor: { type: string }; outcome: string; detail: Record<string, unknown> }>;
        return events.length > 0 ? events : undefined;
      });
      assert.equal(audit[0]?.actor.type, 'system');
      assert.equal(audit[0]?.outcome, 'success');
      assert.equal(audit[0]?.detail.grantType, 'device_code');
    });

    test('denied: the connection ends in error with a readable lastError', async () => {
      const started = await start('fixture', 'tv-denied');
      await as.approveDevice(started.userCode, { deny: true });
      const connection = await eventually(settled(started.connectionId));
      assert.equal(connection.status, 'error');
      assert.match(connection.lastError ?? '', /denied/);
      assert.equal((await storedTokens(server, started.connectionId)).accessToken, undefined);
    });

    test('expired: nobody approves within the device code lifetime', async () => {
      const started = await start('short', 'tv-expired');
      const connection = await eventually(settled(started.connectionId));
      assert.equal(connection.status, 'error');
      assert.match(connection.lastError ?? '', /expired/);
    });

    test('the server restarted while polling still finishes the flow', async () => {
      const started = await start('fixture', 'tv-restart');
      const before = as.counts()['urn:ietf:params:oauth:grant-type:device_code'] ?? 0;
      assertNoSecrets(server.logs.text(), secrets, 'server log');
      await server.close();
      await as.approveDevice(started.userCode);
      server = await boot();
      const connection = await eventually(settled(started.connectionId));
      assert.equal(connection.status, 'active');
      assert.ok((as.counts()['urn:ietf:params:oauth:grant-type:device_code'] ?? 0) > before);
      const tokens = await storedTokens(server, started.connectionId);
      assert.ok(tokens.accessToken);
      secrets.push(tokens.accessToken);
      assert.equal((await callResource(as, tokens.accessToken)).status, 200);
    });

    test('a provider without a device endpoint is refused with 400', async () => {
      const res = await server.admin('POST', '/v1/providers', {
        name: 'no-device',
        authorizationEndpoint: `${as.issuer}/auth`,
        tokenEndpoint: `${as.issuer}/token`,
        clientId: 'x',
      });
      assert.equal(res.status, 201);
      const refused = await server.admin('POST', '/v1/connect/no-device/device', {});
      assert.equal(refused.status, 400);
    });
  });
}

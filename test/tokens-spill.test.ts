import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { startLatchkey, TEST_ADMIN_TOKEN, type LatchkeyProcess } from './helpers/latchkey-process.js';
import { PG_SKIP, PG_URL, createTestDatabase, type TestDatabase } from './helpers/pg.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import {
  adminClient,
  addProvider,
  assertNoSecret,
  fixtureTokens,
  importConnection,
  until,
  type AdminCall,
  type ConnectionView,
  type TokenView,
} from './helpers/token-lifecycle.js';
import { startTokenProxy, type TokenProxy } from './helpers/token-proxy.js';

/**
 * PostgreSQL goes away (a TCP proxy in front of it is cut) while a refresh
 * answer is on its way: the rotated refresh token must survive in the spill
 * file, through a kill -9, and be committed when the database is back.
 */
describe('a database outage during a refresh keeps the rotated token (spill file)', { skip: PG_SKIP }, () => {
  let as: AuthorizationServer;
  let proxy: TokenProxy;
  let db: TestDatabase;
  let tcp: TcpProxy;
  let env: Record<string, string>;
  let latchkey: LatchkeyProcess;
  const secrets: string[] = [];
  const outputs: string[] = [];

  before(async () => {
    as = await startAuthorizationServer();
    proxy = await startTokenProxy(`${as.issuer}/token`);
    db = await createTestDatabase();
    const pgUrl = new URL(PG_URL ?? '');
    tcp = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    env = {
      LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
      DATABASE_URL: tcp.urlFor(db.url),
      LATCHKEY_ALLOW_HTTP_LOOPBACK: '1',
      LATCHKEY_REFRESHER_INTERVAL: '0',
      LATCHKEY_REFRESH_CLAIM_TTL: '2',
      LATCHKEY_TOKEN_TIMEOUT: '10',
    };
    latchkey = await startLatchkey({ env });
    await addProvider(admin(), as, 'rotating', { tokenEndpoint: proxy.tokenEndpoint, quirks: { rotatesRefreshTokens: true } });
  });

  after(async () => {
    outputs.push(latchkey.output());
    for (const out of outputs) assertNoSecret(out, secrets, 'latchkey output');
    await latchkey.stop();
    await tcp.close();
    await proxy.close();
    await as.close();
    await db.drop();
  });

  // A test that failed mid-outage must not leave the next one without its database.
  afterEach(() => tcp.restore());

  const admin = (): AdminCall => adminClient(latchkey.url, TEST_ADMIN_TOKEN);
  const spillFiles = (): string[] => {
    const dir = join(latchkey.dataDir, 'spill');
    return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => join(dir, n)) : [];
  };

  async function connection(name: string): Promise<{ conn: ConnectionView; refreshToken: string }> {
    const issued = await fixtureTokens(as);
    secrets.push(issued.accessToken, issued.refreshToken);
    const conn = await importConnection(admin(), {
      name,
      provider: 'rotating',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    return { conn, refreshToken: issued.refreshToken };
  }

  /** The answer reaches Latchkey while the database is away; resolves once it is on disk. */
  async function answerDuringOutage(connId: string): Promise<{ spill: string; rotated: string; pending: Promise<unknown> }> {
    proxy.mode = 'hold';
    const pending = admin()('GET', `/v1/connections/${connId}/token`).catch((err: unknown) => err);
    await proxy.held(1);
    tcp.cut();
    proxy.release();
    proxy.mode = 'forward';
    const rotated = proxy.issuedRefreshTokens.at(-1) ?? '';
    secrets.push(rotated);
    // Generous: on a loaded CI machine (three replica processes of another file beside it) this took over 20 s.
    const spill = await until(() => spillFiles()[0], 60_000);
    return { spill, rotated, pending };
  }

  async function assertStoredIsRotated(connId: string, rotated: string): Promise<void> {
    const sentBefore = proxy.refreshTokens.length;
    const forced = await admin()('POST', `/v1/connections/${connId}/refresh`);
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.deepEqual(proxy.refreshTokens.slice(sentBefore), [rotated], 'the next refresh sent the rotated token');
    const token = (await admin()('GET', `/v1/connections/${connId}/token`)).body as TokenView;
    secrets.push(token.accessToken);
    assert.equal((await as.introspect(token.accessToken)).active, true, 'the grant is alive');
    assert.deepEqual(proxy.repeats(), [], 'the provider never saw a refresh token twice');
  }

  test('kill -9 while the answer is spilled, database back, restart: the rotated token is committed', async () => {
    const { conn, refreshToken } = await connection('spilled-crash');
    const { spill, rotated } = await answerDuringOutage(conn.id);
    assert.equal(statSync(spill).mode & 0o777, 0o600);
    const onDisk = readFileSync(spill, 'utf8');
    assert.ok(!onDisk.includes(rotated) && !onDisk.includes(refreshToken), 'no token in clear on disk');

    await latchkey.kill();
    outputs.push(latchkey.output());
    tcp.restore();
    latchkey = await startLatchkey({ env, dataDir: latchkey.dataDir });
    await until(() => (spillFiles().length === 0 ? true : undefined), 20_000);
    // The log line is written before the file is removed, but reaches this process through a pipe, maybe later.
    await until(() => (/stored a refresh answer kept on disk during a database outage/.test(latchkey.output()) ? true : undefined), 20_000);
    const view = (await admin()('GET', `/v1/connections/${conn.id}`)).body as ConnectionView;
    assert.equal(view.status, 'active');
    await assertStoredIsRotated(conn.id, rotated);
  });

  test('the database comes back while the process lives: the spilled answer is committed', async () => {
    const { conn } = await connection('spilled-live');
    const { rotated, pending } = await answerDuringOutage(conn.id);
    tcp.restore();
    await until(() => (spillFiles().length === 0 ? true : undefined), 20_000);
    await pending;
    await assertStoredIsRotated(conn.id, rotated);
  });
});

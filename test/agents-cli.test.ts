import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';

describe('CLI: agents, invoke, lease', () => {
  let lk: InProcess;
  let api: FakeApi;
  let env: Record<string, string>;

  before(async () => {
    lk = await startInProcess();
    api = await startFakeApi((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url }));
    });
    const p = await lk.admin('POST', '/v1/providers', {
      name: 'api',
      tokenEndpoint: `${api.url}/token`,
      apiBaseUrl: api.url,
      capabilities: [{ name: 'playlists', description: 'list playlists', methods: ['GET'], pathPrefixes: ['/v1/me/playlists'] }],
    });
    assert.equal(p.status, 201);
    await importTokens(lk, { name: 'spotify', provider: 'api', accessToken: 'cli-provider-token-0123456789' });
    env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
  });

  after(async () => {
    await lk?.close();
    await api?.close();
  });

  test('agents create prints the key once; invoke by capability and by method and path; lease', async () => {
    const created = await runCli(['agents', 'create', 'cli-bot', '--allow', 'spotify:GET', '--lease-ttl', '10m'], env);
    assert.equal(created.code, 0, created.stderr);
    const key = /(lk_[A-Za-z0-9_-]{43})/.exec(created.stdout)?.[1];
    assert.ok(key, created.stdout);
    const listed = await runCli(['agents', 'list'], env);
    assert.match(listed.stdout, /cli-bot/);
    assert.ok(!listed.stdout.includes(key), 'the key is never shown again');

    const agentEnv = { LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: key };
    const byCapability = await runCli(['invoke', 'spotify/playlists', '--param', 'limit=5'], agentEnv);
    assert.equal(byCapability.code, 0, byCapability.stderr);
    assert.deepEqual(JSON.parse(byCapability.stdout), { method: 'GET', url: '/v1/me/playlists?limit=5' });
    const byPath = await runCli(['invoke', 'spotify', 'GET', '/user'], agentEnv);
    assert.equal(byPath.code, 0, byPath.stderr);
    assert.deepEqual(JSON.parse(byPath.stdout), { method: 'GET', url: '/user' });
    const refused = await runCli(['invoke', 'spotify', 'DELETE', '/user'], agentEnv);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /forbidden/);

    const lease = await runCli(['lease', 'spotify', '--ttl', '5m'], agentEnv);
    assert.equal(lease.code, 0, lease.stderr);
    assert.equal(lease.stdout.trim(), 'cli-provider-token-0123456789');
    assert.match(lease.stderr, /lease lse_/);

    const rotated = await runCli(['agents', 'rotate-key', 'cli-bot'], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    const stale = await runCli(['invoke', 'spotify', 'GET', '/user'], agentEnv);
    assert.equal(stale.code, 1, 'the old key stopped working');
    const removed = await runCli(['agents', 'remove', 'cli-bot'], env);
    assert.equal(removed.code, 0, removed.stderr);
  });

  test('agents create --lease-rotate grants rotation; without --lease-ttl a never-expiring token is not leased', async () => {
    const created = await runCli(['agents', 'create', 'rotator', '--allow', 'spotify', '--lease-rotate'], env);
    assert.equal(created.code, 0, created.stderr);
    const shown = await runCli(['agents', 'show', 'rotator'], env);
    assert.match(shown.stdout, /expiring tokens only, may rotate/);
    const key = /(lk_[A-Za-z0-9_-]{43})/.exec(created.stdout)?.[1] ?? '';
    const lease = await runCli(['lease', 'spotify'], { LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: key });
    assert.equal(lease.code, 1);
    assert.match(lease.stderr, /lease_unbounded/);
    assert.equal(lease.stdout, '', 'no token printed');
  });
});

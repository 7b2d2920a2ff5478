import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grantedCapabilities, isAllowed, parsePolicy, type AccessRequest } from '../src/agents/index.js';
import { hashAgentKey } from '../src/agents/index.js';
import type { Capability } from '../src/providers/index.js';
import { auditEvents, createAgent, importTokens, json, rawRequest, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';

const caps: Capability[] = [
  { name: 'playlists', description: '', methods: ['GET'], pathPrefixes: ['/v1/me/playlists'] },
  { name: 'gmail', description: '', methods: ['GET'], pathPrefixes: ['/gmail/v1/users/'], hosts: ['gmail.googleapis.com'] },
];
const req = (over: Partial<AccessRequest>): AccessRequest => ({
  connection: 'gmail-alice',
  method: 'GET',
  path: '/gmail/v1/users/me/messages',
  upstreamPath: '/gmail/v1/users/me/messages',
  host: 'www.googleapis.com',
  ...over,
});

describe('policy evaluation (unit)', () => {
  const policy = parsePolicy({
    rules: [
      { connections: ['gmail-*'], methods: ['get'], paths: ['/gmail/v1/users/me/**'] },
      { connections: ['spotify'], capabilities: ['playlists'] },
    ],
    lease: { allowed: true, maxTtl: '15m' },
  });

  test('default deny; globs over connection names and paths; methods', () => {
    assert.equal(policy.lease.maxTtl, 900);
    assert.ok(isAllowed(policy, req({}), caps, 'www.googleapis.com'));
    assert.ok(isAllowed(policy, req({ path: '/gmail/v1/users/me' }), caps, 'www.googleapis.com'));
    assert.ok(!isAllowed(policy, req({ method: 'POST' }), caps, 'www.googleapis.com'));
    assert.ok(!isAllowed(policy, req({ path: '/gmail/v1/users/bob/messages' }), caps, 'www.googleapis.com'));
    assert.ok(!isAllowed(policy, req({ connection: 'gmail' }), caps, 'www.googleapis.com'));
    assert.ok(!isAllowed(parsePolicy({}), req({}), caps, 'www.googleapis.com'), 'no rules, no access');
  });

  test('a rule naming capabilities grants exactly their methods, hosts and path prefixes', () => {
    const spotify = (over: Partial<AccessRequest>) => req({ connection: 'spotify', path: '/v1/me/playlists', upstreamPath: '/v1/me/playlists', host: 'api.spotify.com', ...over });
    assert.ok(isAllowed(policy, spotify({}), caps, 'api.spotify.com'));
    assert.ok(isAllowed(policy, spotify({ path: '/v1/me/playlists/1', upstreamPath: '/v1/me/playlists/1' }), caps, 'api.spotify.com'));
    assert.ok(!isAllowed(policy, spotify({ method: 'DELETE' }), caps, 'api.spotify.com'));
    assert.ok(!isAllowed(policy, spotify({ path: '/v1/me/playlistsX', upstreamPath: '/v1/me/playlistsX' }), caps, 'api.spotify.com'));
    assert.ok(!isAllowed(policy, spotify({ path: '/v1/me/player', upstreamPath: '/v1/me/player' }), caps, 'api.spotify.com'));
    assert.ok(!isAllowed(policy, spotify({ host: 'evil.example' }), caps, 'api.spotify.com'));
    assert.ok(isAllowed(policy, spotify({ capability: 'playlists' }), caps, 'api.spotify.com'));
  });

  test('GET /v1/me shows the capabilities a rule grants, or all of them under an unlimited rule', () => {
    const all = [...caps, { name: 'player', description: 'control playback', methods: ['PUT'], pathPrefixes: ['/v1/me/player'] }];
    assert.deepEqual(grantedCapabilities(policy, 'spotify', all).map((c) => c.name), ['playlists']);
    assert.deepEqual(grantedCapabilities(policy, 'gmail-alice', all), [], 'a method/path rule grants no capability by name');
    const open = parsePolicy({ rules: [{ connections: ['spotify'] }] });
    assert.deepEqual(grantedCapabilities(open, 'spotify', all), all);
    assert.deepEqual(grantedCapabilities(open, 'github', all), []);
  });

  test('bad policies are refused with a clear message', () => {
    assert.throws(() => parsePolicy({ rules: [{ methods: ['GET'] }] }), /connections is required/);
    assert.throws(() => parsePolicy({ rules: [{ connections: ['x'], path: ['/'] }] }), /unknown field "path"/);
    assert.throws(() => parsePolicy({ rules: [{ connections: ['x'], paths: ['api'] }] }), /start with "\/"/);
    assert.throws(() => parsePolicy({ lease: { allowed: true, maxTtl: 'soon' } }), /maxTtl/);
    assert.throws(() => parsePolicy({ lease: { allowed: true, rotate: 'yes' } }), /rotate must be a boolean/);
    assert.throws(() => parsePolicy({ lease: { allowed: true, rotates: true } }), /unknown field "rotates"/);
  });

  test('rotating leases is off unless policy.lease.rotate says so', () => {
    assert.equal(policy.lease.rotate, undefined);
    assert.equal(parsePolicy({ lease: { allowed: true, rotate: true } }).lease.rotate, true);
    assert.equal(parsePolicy({ lease: { allowed: true, rotate: false } }).lease.rotate, undefined);
  });
});

for (const backend of BACKENDS) {
  describe(`agents and policies through the server (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let api: FakeApi;
    let drop: () => Promise<void> = async () => {};
    let reader: { id: string; apiKey: string; keyId: string };

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      lk = await startInProcess(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {});
      api = await startFakeApi();
      const p = await lk.admin('POST', '/v1/providers', { name: 'api', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url });
      assert.equal(p.status, 201, JSON.stringify(p.body));
      await importTokens(lk, { name: 'shared', provider: 'api', accessToken: 'policy-token-0123456789' });
      await importTokens(lk, { name: 'prod-only', provider: 'api', accessToken: 'prod-token-0123456789', environment: 'prod' });
      reader = await createAgent(lk, { name: 'reader', policy: { rules: [{ connections: ['*'], methods: ['GET'], paths: ['/read/**'] }] } });
    });

    after(async () => {
      await lk?.close();
      await api?.close();
      await drop();
    });

    const call = (key: string, path: string, method = 'GET') =>
      rawRequest(lk.url, { method, path: `/v1/proxy/shared${path}`, headers: { authorization: `Bearer ${key}` } });

    test('the key is lk_ + 256 bits, shown once, stored only as a hash', async () => {
      assert.match(reader.apiKey, /^lk_[A-Za-z0-9_-]{43}$/);
      const keys = await lk.core.store.agentKeys.listForAgent(reader.id);
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.keyHash, hashAgentKey(reader.apiKey));
      assert.ok(!JSON.stringify(keys).includes(reader.apiKey));
      const shown = await lk.admin('GET', `/v1/agents/reader`);
      assert.ok(!JSON.stringify(shown.body).includes(reader.apiKey), 'GET never shows the key');
    });

    test('allowed requests pass; anything without a matching rule is 403 and audited as auth.denied', async () => {
      assert.equal((await call(reader.apiKey, '/read/x')).status, 200);
      const seen = api.seen.length;
      const post = await call(reader.apiKey, '/read/x', 'POST');
      assert.equal(post.status, 403);
      assert.equal(json(post.body).error, 'forbidden');
      assert.equal((await call(reader.apiKey, '/write/x')).status, 403);
      assert.equal(api.seen.length, seen, 'denied requests never reach the API');
      const denied = await auditEvents(lk, '?action=auth.denied&agent=reader');
      assert.ok(denied.some((e) => e.detail.reason === 'forbidden' && e.detail.method === 'POST' && e.connection === 'shared'));
      const nobody = await createAgent(lk, { name: 'nobody' });
      assert.equal((await call(nobody.apiKey, '/read/x')).status, 403, 'no rules: nothing allowed');
    });

    test("another environment's connections are invisible", async () => {
      const res = await rawRequest(lk.url, { path: '/v1/proxy/prod-only/read/x', headers: { authorization: `Bearer ${reader.apiKey}` } });
      assert.equal(res.status, 404);
      const missing = await rawRequest(lk.url, { path: '/v1/proxy/no-such/read/x', headers: { authorization: `Bearer ${reader.apiKey}` } });
      assert.equal(json(res.body).message, String(json(missing.body).message).replace('no-such', 'prod-only'));
      const me = await fetch(`${lk.url}/v1/me`, { headers: { authorization: `Bearer ${reader.apiKey}` } });
      const body = (await me.json()) as { connections: Array<{ name: string }> };
      assert.deepEqual(body.connections.map((c) => c.name), ['shared']);
      const prodBot = await createAgent(lk, { name: 'prod-bot', environment: 'prod', policy: { rules: [{ connections: ['*'] }] } });
      assert.equal((await call(prodBot.apiKey, '/read/x')).status, 404);
      const own = await rawRequest(lk.url, { path: '/v1/proxy/prod-only/x', headers: { authorization: `Bearer ${prodBot.apiKey}` } });
      assert.equal(own.status, 200);
    });

    test('several keys per agent; a deleted key and a removed agent fail at once', async () => {
      const agent = await createAgent(lk, { name: 'rotating', policy: { rules: [{ connections: ['shared'] }] } });
      const second = await lk.admin('POST', '/v1/agents/rotating/keys');
      assert.equal(second.status, 201);
      const key2 = (second.body as { apiKey: string; id: string });
      assert.equal((await call(agent.apiKey, '/x')).status, 200);
      assert.equal((await call(key2.apiKey, '/x')).status, 200);
      assert.equal((await lk.admin('DELETE', `/v1/agents/rotating/keys/${agent.keyId}`)).status, 200);
      assert.equal((await call(agent.apiKey, '/x')).status, 401, 'the deleted key fails at once');
      assert.equal((await call(key2.apiKey, '/x')).status, 200, 'the other key still works');
      assert.equal((await lk.admin('DELETE', '/v1/agents/rotating')).status, 200);
      const gone = await call(key2.apiKey, '/x');
      assert.equal(gone.status, 401, 'a removed agent fails at once');
      assert.equal(json(gone.body).error, 'unauthorized');
      assert.equal((await call('lk_' + 'A'.repeat(43), '/x')).status, 401);
      assert.equal((await call('not-a-key', '/x')).status, 401);
      const admin = await rawRequest(lk.url, { path: '/v1/proxy/shared/x', headers: { authorization: 'Bearer lka_inprocess_admin_token_000000' } });
      assert.equal(admin.status, 401, 'the admin token is not an agent key');
    });

    test('admin changes to agents are audited', async () => {
      const actions = (await auditEvents(lk, '?limit=1000')).filter((e) => e.actor.type === 'admin').map((e) => e.action);
      for (const action of ['agent.create', 'agent.key_create', 'agent.key_delete', 'agent.delete', 'connection.create', 'provider.create']) {
        assert.ok(actions.includes(action), `${action} is audited`);
      }
    });

    test('policy updates take effect on the next request', async () => {
      const res = await lk.admin('PATCH', '/v1/agents/reader', { policy: { rules: [{ connections: ['shared'], methods: ['POST'] }] } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await call(reader.apiKey, '/read/x')).status, 403);
      assert.equal((await call(reader.apiKey, '/anything', 'POST')).status, 200);
      const bad = await lk.admin('PATCH', '/v1/agents/reader', { policy: { rules: [{ connection: ['x'] }] } });
      assert.equal(bad.status, 400);
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { AddressNotAllowed, Outbound, addressKind, parseNetwork, type Network } from '../src/net/index.js';
import { instanceApiBase } from '../src/providers/index.js';
import { auditEvents, createAgent, importTokens, json, rawRequest, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { FakeDns, connectionCounter, sniRecorder } from './helpers/net-guard.js';

/** Addresses a provider-named host may resolve to that Latchkey must never dial (IPv4, IPv6 and the forms carrying IPv4). */
const FORBIDDEN = [
  '169.254.169.254',
  '10.0.0.1',
  '172.16.5.4',
  '192.168.1.1',
  '100.64.0.1',
  '0.0.0.0',
  '198.18.0.1',
  '224.0.0.1',
  '255.255.255.255',
  '::',
  'fd00:ec2::254',
  'fe80::1',
  'ff02::1',
  '::ffff:169.254.169.254',
  '::ffff:a9fe:a9fe',
  '::ffff:10.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '2002:a9fe:a9fe::1',
  '::169.254.169.254',
  '2001:db8::1',
];

describe('address kinds (unit)', () => {
  test('special ranges, including IPv4 carried in IPv6, are not public', () => {
    for (const address of FORBIDDEN) assert.notEqual(addressKind(address), 'public', address);
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(addressKind(address), 'loopback', address);
    for (const address of ['8.8.8.8', '100.128.0.1', '172.32.0.1', '198.20.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) {
      assert.equal(addressKind(address), 'public', address);
    }
    assert.equal(addressKind('64:ff9b::7f00:1'), 'reserved', "NAT64 of 127.0.0.1 is the gateway's loopback, not ours");
    assert.equal(addressKind('169.254.169.254'), 'link-local');
    assert.equal(addressKind('fd00::1'), 'private');
    assert.equal(addressKind('not an address'), 'reserved');
  });

  test('LATCHKEY_ALLOWED_PRIVATE_NETWORKS lets in private addresses of the listed networks, and nothing else', async () => {
    const config = loadConfig({}, { LATCHKEY_ALLOWED_PRIVATE_NETWORKS: '10.20.0.0/16, fd12:3456::/32' });
    assert.deepEqual(config.allowedPrivateNetworks, ['10.20.0.0/16', 'fd12:3456::/32']);
    for (const bad of ['0.0.0.0/0', '169.254.0.0/16', '127.0.0.0/8', '8.8.8.0/24', '10.0.0.0', '10.0.0.0/33', 'fd00::/129']) {
      assert.throws(() => loadConfig({}, { LATCHKEY_ALLOWED_PRIVATE_NETWORKS: bad }), ConfigError, bad);
    }
    const dns = new FakeDns();
    const networks = config.allowedPrivateNetworks.map((c) => parseNetwork(c) as Network);
    const guard = new Outbound({ allowLoopback: false, privateNetworks: networks, lookup: dns.lookup });
    // Even a network written to cover everything lets in private addresses only.
    const everything = new Outbound({ allowLoopback: false, privateNetworks: [parseNetwork('0.0.0.0/0') as Network, parseNetwork('::/0') as Network] });
    try {
      for (const inside of ['10.20.1.2', '::ffff:10.20.1.2', 'fd12:3456::1']) assert.equal(await guard.pin(inside), inside);
      for (const outside of ['10.21.0.1', '192.168.1.1', 'fd12:3457::1', '127.0.0.1', '169.254.169.254']) {
        await assert.rejects(guard.pin(outside), AddressNotAllowed, outside);
      }
      assert.equal(await everything.pin('192.168.1.1'), '192.168.1.1');
      for (const special of ['127.0.0.1', '169.254.169.254', '::ffff:169.254.169.254', '0.0.0.0', 'fe80::1']) {
        await assert.rejects(everything.pin(special), AddressNotAllowed, special);
      }
    } finally {
      await guard.close();
      await everything.close();
    }
  });

  test("a token response's instance URL that is a special-range literal is not used", () => {
    const quirks = { instanceUrlField: 'instance_url' };
    assert.throws(() => instanceApiBase(quirks, { instance_url: 'https://169.254.169.254' }, true), /link-local address/);
    assert.throws(() => instanceApiBase(quirks, { instance_url: 'https://[::ffff:10.1.1.1]/services' }, true), /private address/);
    assert.throws(() => instanceApiBase(quirks, { instance_url: 'https://127.0.0.1' }, false), /loopback address/);
    assert.equal(instanceApiBase(quirks, { instance_url: 'https://eu12.my.salesforce.com' }, false), 'https://eu12.my.salesforce.com');
  });

  test('a name resolving to several addresses is pinned to a permitted one; none permitted is refused by name', async () => {
    const dns = new FakeDns();
    dns.set('mixed.test.example', ['169.254.169.254', '8.8.4.4', '10.0.0.1']);
    dns.set('internal.test.example', ['10.0.0.1', 'fd00::1']);
    dns.set('local.test.example', ['127.0.0.1']);
    const guard = new Outbound({ allowLoopback: false, lookup: dns.lookup });
    try {
      assert.equal(await guard.pin('mixed.test.example'), '8.8.4.4');
      await assert.rejects(guard.pin('internal.test.example'), (err: unknown) => {
        assert.ok(err instanceof AddressNotAllowed);
        assert.equal(err.code, 'target_not_allowed');
        assert.match(err.message, /internal\.test\.example resolves to a private-network address/);
        assert.ok(!err.message.includes('10.0.0.1'), 'the address itself is not told');
        return true;
      });
      await assert.rejects(guard.pin('local.test.example'), /loopback is allowed only with LATCHKEY_ALLOW_HTTP_LOOPBACK=1/);
      await assert.rejects(guard.pin('[::ffff:169.254.169.254]'), AddressNotAllowed);
      assert.equal(await new Outbound({ allowLoopback: true, lookup: dns.lookup }).pin('local.test.example'), '127.0.0.1');
    } finally {
      await guard.close();
    }
  });
});

/** A token endpoint and API on 127.0.0.1 that close every connection, so each request dials (and resolves) afresh. */
async function startUpstream(): Promise<FakeApi> {
  let issued = 0;
  return startFakeApi((req, res) => {
    if (req.url?.startsWith('/token') === true) {
      issued += 1;
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ access_token: `guard-new-access-token-${issued}-0123456789`, token_type: 'bearer', expires_in: 3600 }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{"ok":true}');
  });
}

/**
 * A provider with its token endpoint on host `auth` and its API on `api` (as `origin` spells them), one
 * connection of the same name with tokens expiring at `expiresAt`, and an agent `<name>-bot` allowed to use it.
 */
async function addProvider(lk: InProcess, name: string, origin: (host: string) => string, expiresAt: Date): Promise<string> {
  const p = await lk.admin('POST', '/v1/providers', {
    name,
    tokenEndpoint: `${origin('auth')}/token`,
    clientId: 'latchkey-guard-test',
    apiBaseUrl: origin('api'),
  });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  await importTokens(lk, {
    name,
    provider: name,
    accessToken: `guard-${name}-access-token-0123456789`,
    refreshToken: `guard-${name}-refresh-token-0123456789`,
    expiresAt: expiresAt.toISOString(),
  });
  return (await createAgent(lk, { name: `${name}-bot`, policy: { rules: [{ connections: [name] }] } })).apiKey;
}

interface DeliveryView {
  status: string;
  attempts: number;
  lastError: string | null;
}

describe('address guard through the real server, LATCHKEY_ALLOW_HTTP_LOOPBACK on', () => {
  const dns = new FakeDns();
  const clock = new ManualClock();
  let lk: InProcess;
  let upstream: FakeApi;
  let port: string;
  let agentKey: string;

  before(async () => {
    upstream = await startUpstream();
    port = new URL(upstream.url).port;
    lk = await startInProcess({
      lookup: dns.lookup,
      onDial: dns.onDial,
      clock,
      env: { LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_WEBHOOK_INTERVAL: '0' },
    });
    dns.set('api.localhost', ['127.0.0.1']);
    dns.set('auth.localhost', ['127.0.0.1']);
    agentKey = await addProvider(lk, 'guarded', (host) => `http://${host}.localhost:${port}`, new Date(clock.now().getTime() + 3600_000));
  });

  after(async () => {
    await lk?.close();
    await upstream?.close();
  });

  const proxy = (path: string) => rawRequest(lk.url, { path: `/v1/proxy/guarded${path}`, headers: { authorization: `Bearer ${agentKey}` } });

  test('proxy: loopback works with the flag, and the connection goes to the address that was checked', async () => {
    const res = await proxy('/ok');
    assert.equal(res.status, 200, res.body);
    assert.equal(upstream.seen.at(-1)?.headers.host, `api.localhost:${port}`, 'Host stays the name');
    assert.deepEqual(dns.dials, ['127.0.0.1']);
  });

  test('proxy over https: the pinned address is dialled with the host name as TLS server name', async () => {
    const tls = await sniRecorder();
    try {
      const key = await addProvider(lk, 'tls', (host) => `https://${host}.localhost:${tls.port}`, new Date(clock.now().getTime() + 3600_000));
      const dials = dns.dials.length;
      const res = await rawRequest(lk.url, { path: '/v1/proxy/tls/x', headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 502, 'the recorder ends every handshake');
      assert.deepEqual(dns.dials.slice(dials), ['127.0.0.1']);
      assert.deepEqual(tls.names, ['api.localhost']);
    } finally {
      await tls.close();
    }
  });

  test('proxy: an allowed name resolving to a forbidden address is refused before any connection', async () => {
    const seen = upstream.seen.length;
    const dials = dns.dials.length;
    for (const address of FORBIDDEN) {
      dns.set('api.localhost', [address]);
      const res = await proxy('/steal');
      assert.equal(res.status, 400, `${address}: ${res.status} ${res.body}`);
      const body = json(res.body);
      assert.equal(body.error, 'target_not_allowed', address);
      assert.match(String(body.message), /api\.localhost resolves to a [a-z-]+ address, which Latchkey does not connect to/);
      assert.ok(!String(body.message).includes(address), `${address}: the address is not told to the agent`);
    }
    assert.equal(upstream.seen.length, seen, 'nothing reached the upstream');
    assert.equal(dns.dials.length, dials, 'nothing was dialled');
    const denied = await auditEvents(lk, '?action=proxy.request&agent=guarded-bot');
    assert.ok(denied.some((e) => e.detail.error === 'target_not_allowed'), 'the refusal is audited');
  });

  test('proxy: a rebinding name cannot redirect a connection: one lookup per connection, and its checked answer is dialled', async () => {
    dns.set('api.localhost', ['127.0.0.1'], ['169.254.169.254']);
    const lookups = dns.lookupsOf('api.localhost');
    const dials = dns.dials.length;
    const first = await proxy('/ok');
    assert.equal(first.status, 200, first.body);
    assert.equal(dns.lookupsOf('api.localhost'), lookups + 1, 'resolved once for the connection, not again to connect');
    assert.deepEqual(dns.dials.slice(dials), ['127.0.0.1']);
    // The upstream closed that connection; the next one resolves again and the new answer is refused.
    const second = await proxy('/ok');
    assert.equal(second.status, 400, second.body);
    assert.equal(json(second.body).error, 'target_not_allowed');
    assert.deepEqual(dns.dials.slice(dials), ['127.0.0.1'], 'the rebound address was never dialled');
    dns.set('api.localhost', ['169.254.169.254', '127.0.0.1']);
    assert.equal((await proxy('/ok')).status, 200, 'of several answers only a permitted one is dialled');
    assert.deepEqual(dns.dials.slice(dials), ['127.0.0.1', '127.0.0.1']);
    dns.set('api.localhost', ['127.0.0.1']);
  });

  test('token endpoint: a refresh to a name resolving to a forbidden address fails as a provider error, not needs_reauth', async () => {
    const tokenCalls = upstream.seen.filter((s) => s.url === '/token').length;
    dns.set('auth.localhost', ['169.254.169.254']);
    const res = await lk.admin('POST', '/v1/connections/guarded/refresh');
    assert.equal(res.status, 502, JSON.stringify(res.body));
    const body = res.body as { error: string; message: string };
    assert.equal(body.error, 'upstream_error');
    assert.match(body.message, /auth\.localhost resolves to a link-local address/);
    const connection = (await lk.admin('GET', '/v1/connections/guarded')).body as { status: string; lastError: string };
    assert.equal(connection.status, 'active', 'the grant is not thrown away');
    assert.match(connection.lastError, /token endpoint not contacted/);
    assert.equal(upstream.seen.filter((s) => s.url === '/token').length, tokenCalls, 'the token endpoint saw nothing');
    assert.ok(!dns.dials.some((d) => d !== '127.0.0.1'));
  });

  test('token endpoint: a rebinding name is refused on the next connection, never redirected', async () => {
    dns.set('auth.localhost', ['127.0.0.1'], ['10.0.0.1']);
    const tokenCalls = upstream.seen.filter((s) => s.url === '/token').length;
    const ok = await lk.admin('POST', '/v1/connections/guarded/refresh');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(upstream.seen.filter((s) => s.url === '/token').length, tokenCalls + 1);
    assert.equal(upstream.seen.at(-1)?.headers.host, `auth.localhost:${port}`);
    const refused = await lk.admin('POST', '/v1/connections/guarded/refresh');
    assert.equal(refused.status, 502, JSON.stringify(refused.body));
    assert.match((refused.body as { message: string }).message, /auth\.localhost resolves to a private-network address/);
    assert.equal(upstream.seen.filter((s) => s.url === '/token').length, tokenCalls + 1);
    assert.equal(((await lk.admin('GET', '/v1/connections/guarded')).body as { status: string }).status, 'active');
    dns.set('auth.localhost', ['127.0.0.1']);
  });

  test('webhook: a receiver name resolving to a forbidden address fails the delivery, which is recorded and retried', async () => {
    dns.set('hooks.localhost', ['169.254.169.254'], ['127.0.0.1']);
    const created = await lk.admin('POST', '/v1/webhooks', { url: `http://hooks.localhost:${port}/hook`, events: ['connection.created'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const hook = created.body as { id: string };
    const seen = upstream.seen.length;
    await importTokens(lk, { name: 'hooked', provider: 'guarded', accessToken: 'guard-hooked-access-token-0123456789' });
    await lk.core.events.delivery.runOnce();
    const [failed] = (await lk.admin('GET', `/v1/webhooks/${hook.id}/deliveries`)).body as DeliveryView[];
    assert.equal(failed?.status, 'pending');
    assert.equal(failed?.attempts, 1);
    assert.match(failed?.lastError ?? '', /not sent: hooks\.localhost resolves to a link-local address/);
    assert.equal(upstream.seen.length, seen, 'nothing was sent');
    // The retry resolves afresh: the name now points at the receiver, and the delivery goes through.
    clock.advance(3600_000);
    await lk.core.events.delivery.runOnce();
    const [done] = (await lk.admin('GET', `/v1/webhooks/${hook.id}/deliveries`)).body as DeliveryView[];
    assert.equal(done?.status, 'delivered', JSON.stringify(done));
    assert.equal(upstream.seen.at(-1)?.url, '/hook');
    assert.ok(!dns.dials.some((d) => d !== '127.0.0.1'));
  });

  test('discovery and the consent flows go through the same guard', async () => {
    const seen = upstream.seen.length;
    dns.set('idp.localhost', ['169.254.169.254']);
    const discovered = await lk.admin('POST', '/v1/providers', { name: 'discovered', issuer: `http://idp.localhost:${port}` });
    assert.equal(discovered.status, 400, JSON.stringify(discovered.body));
    assert.equal((discovered.body as { error: string }).error, 'target_not_allowed');
    assert.match((discovered.body as { message: string }).message, /idp\.localhost resolves to a link-local address/);

    dns.set('cc.localhost', ['10.0.0.1']);
    const created = await lk.admin('POST', '/v1/providers', {
      name: 'machine',
      tokenEndpoint: `http://cc.localhost:${port}/token`,
      clientId: 'latchkey-guard-test',
      clientSecret: 'guard-client-secret-0123456789',
      apiBaseUrl: `http://api.localhost:${port}`,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const granted = await lk.admin('POST', '/v1/connect/machine/client-credentials', { name: 'machine' });
    assert.equal(granted.status, 400, JSON.stringify(granted.body));
    assert.equal((granted.body as { error: string }).error, 'target_not_allowed');
    assert.equal((await lk.admin('GET', '/v1/connections/machine')).status, 404, 'nothing was stored');
    assert.equal(upstream.seen.length, seen, 'nothing was sent');
    assert.ok(!dns.dials.some((d) => d !== '127.0.0.1'));
  });

  test('registration: IP literals in special ranges are refused; loopback ones are accepted under the flag', async () => {
    const refused: Array<Record<string, unknown>> = [
      { name: 'meta', tokenEndpoint: 'https://169.254.169.254/token' },
      { name: 'meta', tokenEndpoint: `http://auth.localhost:${port}/token`, apiBaseUrl: 'https://10.0.0.1' },
      { name: 'meta', tokenEndpoint: `http://auth.localhost:${port}/token`, apiBaseUrl: 'https://[::ffff:169.254.169.254]' },
      { name: 'meta', tokenEndpoint: `http://auth.localhost:${port}/token`, apiBaseUrl: 'https://[fd00:ec2::254]/v1' },
      { name: 'meta', tokenEndpoint: `http://auth.localhost:${port}/token`, allowedHosts: ['192.168.0.10:8443'] },
      { name: 'meta', tokenEndpoint: `http://auth.localhost:${port}/token`, revocationEndpoint: 'https://0.0.0.0/revoke' },
    ];
    for (const body of refused) {
      const res = await lk.admin('POST', '/v1/providers', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((res.body as { error: string }).error, 'invalid_request');
      assert.match((res.body as { message: string }).message, /address, which Latchkey does not connect to/);
    }
    const hook = await lk.admin('POST', '/v1/webhooks', { url: 'https://[fe80::1]/hook', events: ['*'] });
    assert.equal(hook.status, 400, JSON.stringify(hook.body));
    assert.match((hook.body as { message: string }).message, /link-local address/);
    const imported = await lk.admin('POST', '/v1/connections/import', {
      name: 'internal',
      provider: 'guarded',
      accessToken: 'guard-internal-access-token-0123456789',
      apiBaseUrl: 'https://100.64.1.1',
    });
    assert.equal(imported.status, 400, JSON.stringify(imported.body));
    assert.match((imported.body as { message: string }).message, /private address/);
    const loopback = await lk.admin('POST', '/v1/providers', { name: 'local', tokenEndpoint: `https://127.0.0.1:${port}/token`, apiBaseUrl: 'https://[::1]:8443' });
    assert.equal(loopback.status, 201, JSON.stringify(loopback.body));
  });
});

describe('address guard through the real server, LATCHKEY_ALLOW_HTTP_LOOPBACK off', () => {
  const dns = new FakeDns();
  const clock = new ManualClock();
  let lk: InProcess;
  let listener: Awaited<ReturnType<typeof connectionCounter>>;
  let agentKey: string;

  before(async () => {
    listener = await connectionCounter();
    lk = await startInProcess({
      lookup: dns.lookup,
      onDial: dns.onDial,
      clock,
      env: {
        LATCHKEY_ALLOW_HTTP_LOOPBACK: '0',
        LATCHKEY_ALLOWED_PRIVATE_NETWORKS: '10.20.0.0/16',
        LATCHKEY_REFRESHER_INTERVAL: '0',
        LATCHKEY_WEBHOOK_INTERVAL: '0',
      },
    });
    // Names the operator allowed, which resolve to this machine.
    for (const name of ['api.test.example', 'auth.test.example', 'hooks.test.example']) dns.set(name, ['127.0.0.1']);
    // The token has expired, so the first proxied call refreshes.
    agentKey = await addProvider(lk, 'named', (host) => `https://${host}.test.example:${listener.port}`, new Date(clock.now().getTime() - 1000));
  });

  after(async () => {
    await lk?.close();
    await listener?.close();
  });

  test('loopback is refused without the flag: proxy, refresh and webhook never connect', async () => {
    // The token expired: the proxy first refreshes, which the guard stops; the grant is kept.
    const viaProxy = await rawRequest(lk.url, { path: '/v1/proxy/named/x', headers: { authorization: `Bearer ${agentKey}` } });
    assert.equal(viaProxy.status, 502, viaProxy.body);
    assert.match(String(json(viaProxy.body).message), /auth\.test\.example resolves to a loopback address.*LATCHKEY_ALLOW_HTTP_LOOPBACK=1/);
    const connection = (await lk.admin('GET', '/v1/connections/named')).body as { status: string };
    assert.equal(connection.status, 'active');

    // With a valid token, the API call itself is refused.
    await importTokens(lk, {
      name: 'named-valid',
      provider: 'named',
      accessToken: 'guard-named-valid-access-token-0123456789',
      expiresAt: new Date(clock.now().getTime() + 3600_000).toISOString(),
    });
    const patched = await lk.admin('PATCH', '/v1/agents/named-bot', { policy: { rules: [{ connections: ['named', 'named-valid'] }] } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const api = await rawRequest(lk.url, { path: '/v1/proxy/named-valid/x', headers: { authorization: `Bearer ${agentKey}` } });
    assert.equal(api.status, 400, api.body);
    assert.equal(json(api.body).error, 'target_not_allowed');
    assert.match(String(json(api.body).message), /api\.test\.example resolves to a loopback address/);

    const hook = await lk.admin('POST', '/v1/webhooks', { url: `https://hooks.test.example:${listener.port}/hook`, events: ['*'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    await importTokens(lk, { name: 'named-hooked', provider: 'named', accessToken: 'guard-named-hooked-access-token-0123456789' });
    await lk.core.events.delivery.runOnce();
    const [delivery] = (await lk.admin('GET', `/v1/webhooks/${(hook.body as { id: string }).id}/deliveries`)).body as DeliveryView[];
    assert.equal(delivery?.status, 'pending');
    assert.match(delivery?.lastError ?? '', /hooks\.test\.example resolves to a loopback address/);

    assert.equal(listener.count(), 0, 'no connection was made');
    assert.deepEqual(dns.dials, []);
  });

  test('an allowed private network is reached by name; other private addresses are still refused', async () => {
    const dials = dns.dials.length;
    dns.set('api.test.example', ['192.168.10.10']);
    const outside = await rawRequest(lk.url, { path: '/v1/proxy/named-valid/x', headers: { authorization: `Bearer ${agentKey}` } });
    assert.equal(outside.status, 400, outside.body);
    assert.equal(json(outside.body).error, 'target_not_allowed');
    assert.equal(dns.dials.length, dials);
    // Inside LATCHKEY_ALLOWED_PRIVATE_NETWORKS the guard lets the dial happen; the test's tripwire stops it before a packet leaves.
    dns.set('api.test.example', ['10.20.0.5']);
    const inside = await rawRequest(lk.url, { path: '/v1/proxy/named-valid/x', headers: { authorization: `Bearer ${agentKey}` } });
    assert.equal(inside.status, 502, inside.body);
    assert.deepEqual(dns.dials.slice(dials), ['10.20.0.5']);
    dns.set('api.test.example', ['127.0.0.1']);
  });

  test('registration: loopback literals and names are refused without the flag', async () => {
    for (const url of [`https://127.0.0.1:${listener.port}`, 'https://[::1]', 'https://localhost', 'https://[::ffff:127.0.0.1]']) {
      const res = await lk.admin('POST', '/v1/providers', { name: 'local', tokenEndpoint: `${url}/token` });
      assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
      assert.match((res.body as { message: string }).message, /loopback address.*LATCHKEY_ALLOW_HTTP_LOOPBACK=1/);
    }
    const hook = await lk.admin('POST', '/v1/webhooks', { url: 'https://127.0.0.1/hook', events: ['*'] });
    assert.equal(hook.status, 400, JSON.stringify(hook.body));
  });
});

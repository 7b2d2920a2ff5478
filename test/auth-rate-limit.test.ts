import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { loadConfig } from '../src/config/index.js';
import { AuthFailureLimit, sourceOf } from '../src/server/auth-limit.js';
import { auditEvents, createAgent, importTokens, json, rawRequest, startFakeApi, type FakeApi, type RawResponse } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';

const LIMIT = 5;
const WRONG = `lk_${'A'.repeat(43)}`;

describe('rate limit on failed authentication, through the real server', () => {
  const clock = new ManualClock(Date.now());
  let lk: InProcess;
  let api: FakeApi;
  let key: string;

  /** A request from one loopback address: to the server, one client. */
  const from = (localAddress: string, path: string, credential: string, method = 'GET', headers: Record<string, string> = {}): Promise<RawResponse> =>
    rawRequest(lk.url, { localAddress, method, path, headers: { authorization: `Bearer ${credential}`, ...headers } });

  function assertLimited(res: RawResponse, retryAfter: number): void {
    assert.equal(res.status, 429, res.body);
    assert.equal(json(res.body).error, 'rate_limited');
    assert.equal(res.headers['retry-after'], String(retryAfter));
  }

  before(async () => {
    lk = await startInProcess({ clock, env: { LATCHKEY_AUTH_FAILURE_LIMIT: String(LIMIT), LATCHKEY_AUTH_FAILURE_WINDOW: '1m' } });
    api = await startFakeApi();
    const p = await lk.admin('POST', '/v1/providers', { name: 'api', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    await importTokens(lk, { name: 'svc', provider: 'api', accessToken: 'rate-limit-provider-token-0123' });
    key = (await createAgent(lk, { name: 'ok-bot', policy: { rules: [{ connections: ['svc'] }] } })).apiKey;
  });

  after(async () => {
    await lk?.close();
    await api?.close();
  });

  test('wrong agent keys on the proxy: 401 up to the limit, then 429 with Retry-After for every credential from that source', async () => {
    const attacker = '127.0.0.2';
    for (let i = 0; i < LIMIT; i++) assert.equal((await from(attacker, '/v1/proxy/svc/x', WRONG)).status, 401);
    assertLimited(await from(attacker, '/v1/proxy/svc/x', WRONG), 60);
    assertLimited(await from(attacker, '/v1/me', WRONG), 60);
    // A valid key from the blocked source is refused too: otherwise 429-or-200 would still answer each guess.
    assertLimited(await from(attacker, '/v1/proxy/svc/x', key), 60);
    assertLimited(await from(attacker, '/v1/agents', ADMIN), 60);
    // Spoofed forwarding headers change nothing without LATCHKEY_TRUST_PROXY.
    assertLimited(await from(attacker, '/v1/proxy/svc/x', WRONG, 'GET', { 'x-forwarded-for': '203.0.113.9' }), 60);

    const other = '127.0.0.3';
    assert.equal((await from(other, '/v1/proxy/svc/x', key)).status, 200, 'another source is not affected');
    assert.equal((await from(other, '/v1/proxy/svc/x', WRONG)).status, 401, 'and is counted on its own');
    assert.equal((await lk.admin('GET', '/v1/agents')).status, 200);

    clock.advance(45_000);
    assertLimited(await from(attacker, '/v1/proxy/svc/x', key), 15);
    clock.advance(15_000);
    assert.equal((await from(attacker, '/v1/proxy/svc/x', key)).status, 200, 'after the window the source may try again');
    assert.equal((await from(attacker, '/v1/proxy/svc/x', WRONG)).status, 401);

    const limited = (await auditEvents(lk, '?action=auth.rate_limited')).filter((e) => e.detail.source === attacker);
    assert.equal(limited.length, 1, 'one audit event per source and window, not one per refusal');
    assert.equal(limited[0]?.detail.retryAfter, 60);
    const denied = (await auditEvents(lk, '?action=auth.denied&limit=1000')).filter((e) => e.detail.source === attacker);
    assert.equal(denied.length, LIMIT + 1, 'refused guesses are not audited one by one');
    assert.ok(!JSON.stringify(await auditEvents(lk, '?limit=1000')).includes(WRONG), 'the guessed key is never recorded');
  });

  test('wrong admin tokens: the admin routes and the lease route count failures of both kinds together', async () => {
    const attacker = '127.0.0.4';
    for (let i = 0; i < 3; i++) assert.equal((await from(attacker, '/v1/agents', 'lka_wrong_admin_token_0000000000')).status, 401);
    assert.equal((await from(attacker, '/metrics', 'nope')).status, 401);
    assert.equal((await from(attacker, '/v1/leases/lse_x', WRONG, 'DELETE')).status, 401);
    assertLimited(await from(attacker, '/v1/agents', ADMIN), 60);
    assertLimited(await from(attacker, '/v1/leases/lse_x', ADMIN, 'DELETE'), 60);
    assertLimited(await from(attacker, '/metrics', ADMIN), 60);
    assert.equal((await from('127.0.0.5', '/v1/agents', ADMIN)).status, 200);
    clock.advance(60_000);
    assert.equal((await from(attacker, '/v1/agents', ADMIN)).status, 200);
  });
});

describe('rate limit behind a trusted proxy (LATCHKEY_TRUST_PROXY)', () => {
  let lk: InProcess;

  before(async () => {
    lk = await startInProcess({ env: { LATCHKEY_AUTH_FAILURE_LIMIT: '2', LATCHKEY_TRUST_PROXY: '1' } });
  });

  after(async () => {
    await lk?.close();
  });

  test('the source is the address the proxy appended, not what the client put before it', async () => {
    const via = (xff: string, credential = WRONG) =>
      rawRequest(lk.url, { path: '/v1/me', headers: { authorization: `Bearer ${credential}`, 'x-forwarded-for': xff } });
    assert.equal((await via('1.1.1.1, 198.51.100.7')).status, 401);
    assert.equal((await via('2.2.2.2, 198.51.100.7')).status, 401);
    assert.equal((await via('3.3.3.3, 198.51.100.7')).status, 429, 'a client-chosen first entry is no new source');
    assert.equal((await via('198.51.100.8')).status, 401, 'another client behind the same proxy is not affected');
    assert.equal((await lk.admin('GET', '/v1/agents')).status, 200, 'nor the proxy address itself');
  });
});

describe('failure windows (unit)', () => {
  test('memory is bounded: past the cap the oldest window is forgotten', () => {
    const clock = new ManualClock(0);
    const limit = new AuthFailureLimit(clock, { limit: 1, windowSeconds: 60, maxSources: 3 });
    for (const source of ['a', 'b', 'c', 'd']) {
      limit.fail(source);
      clock.advance(1000);
    }
    assert.equal(limit.trackedSources, 3);
    assert.equal(limit.blockedFor('a'), 0, 'the oldest was evicted');
    assert.equal(limit.blockedFor('d'), 59, 'its window started a second ago');
    clock.advance(60_000);
    assert.equal(limit.blockedFor('d'), 0);
    assert.equal(limit.trackedSources, 2, 'expired windows are dropped when met');
  });

  test('settings: 20 failures a minute by default, the peer address unless a proxy is trusted', () => {
    const config = loadConfig({}, {});
    assert.deepEqual([config.authFailureLimit, config.authFailureWindowSeconds, config.trustProxy], [20, 60, false]);
    const set = loadConfig({}, { LATCHKEY_AUTH_FAILURE_LIMIT: '0', LATCHKEY_AUTH_FAILURE_WINDOW: '5m', LATCHKEY_TRUST_PROXY: 'true' });
    assert.deepEqual([set.authFailureLimit, set.authFailureWindowSeconds, set.trustProxy], [0, 300, true]);
    assert.throws(() => loadConfig({}, { LATCHKEY_AUTH_FAILURE_WINDOW: '0' }), /LATCHKEY_AUTH_FAILURE_WINDOW/);
    assert.throws(() => loadConfig({}, { LATCHKEY_AUTH_FAILURE_LIMIT: 'many' }), /LATCHKEY_AUTH_FAILURE_LIMIT/);
  });

  test('a limit of 0 turns it off', () => {
    const limit = new AuthFailureLimit(new ManualClock(0), { limit: 0, windowSeconds: 60 });
    for (let i = 0; i < 100; i++) limit.fail('a');
    assert.equal(limit.blockedFor('a'), 0);
    assert.equal(limit.trackedSources, 0);
  });

  test('sources: mapped IPv4 is IPv4, IPv6 counts per /64, forwarded only when trusted', () => {
    const req = (remoteAddress: string, xff?: string) => ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as Parameters<typeof sourceOf>[0];
    assert.equal(sourceOf(req('::ffff:10.1.2.3'), false), '10.1.2.3');
    assert.equal(sourceOf(req('2001:db8:1:2:aaaa::1'), false), '2001:db8:1:2::/64');
    assert.equal(sourceOf(req('2001:db8:1:2:bbbb:cccc:dddd:eeee'), false), '2001:db8:1:2::/64');
    assert.equal(sourceOf(req('2001:db8::5'), false), '2001:db8:0:0::/64');
    assert.equal(sourceOf(req('::1'), false), '0:0:0:0::/64');
    assert.equal(sourceOf(req('127.0.0.1', '9.9.9.9'), false), '127.0.0.1');
    assert.equal(sourceOf(req('127.0.0.1', 'x, 9.9.9.9'), true), '9.9.9.9');
    assert.equal(sourceOf(req('127.0.0.1', 'not-an-address'), true), '127.0.0.1');
  });
});

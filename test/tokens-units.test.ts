import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { backoffSeconds } from '../src/backoff.js';
import { classifyTokenEndpointError } from '../src/tokens/classify.js';
import { fingerprintOf, parseIntent } from '../src/tokens/intent.js';
import { KeyedLimiter } from '../src/tokens/limiter.js';
import { SingleFlight } from '../src/tokens/single-flight.js';

test('single flight: concurrent callers share one run; the next call runs again', async () => {
  const flights = new SingleFlight<number>();
  let runs = 0;
  const work = async (): Promise<number> => {
    runs += 1;
    await delay(10);
    return runs;
  };
  const results = await Promise.all(Array.from({ length: 50 }, () => flights.run('a', work)));
  assert.deepEqual(new Set(results), new Set([1]));
  assert.equal(flights.size, 0);
  assert.equal(await flights.run('a', work), 2);
});

test('keyed limiter: never more than the limit per key, other keys unaffected', async () => {
  const limiter = new KeyedLimiter(2);
  const running = new Map<string, number>();
  let worst = 0;
  const task = (key: string) => async (): Promise<void> => {
    running.set(key, (running.get(key) ?? 0) + 1);
    worst = Math.max(worst, running.get('p1') ?? 0);
    await delay(5);
    running.set(key, (running.get(key) ?? 0) - 1);
  };
  await Promise.all([
    ...Array.from({ length: 20 }, () => limiter.run('p1', task('p1'))),
    ...Array.from({ length: 5 }, () => limiter.run('p2', task('p2'))),
  ]);
  assert.equal(worst, 2);
});

test('backoff grows exponentially up to the cap, with jitter in the upper half', () => {
  const policy = { baseSeconds: 2, maxSeconds: 300 };
  assert.equal(backoffSeconds(1, policy, () => 0), 1);
  assert.equal(backoffSeconds(1, policy, () => 0.999), 2);
  assert.equal(backoffSeconds(5, policy, () => 0), 16);
  assert.equal(backoffSeconds(5, policy, () => 0.999), 32);
  assert.equal(backoffSeconds(30, policy, () => 0.999), 300);
});

test('network failures and timeouts are outages whose answer may be lost', () => {
  const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
  const a = classifyTokenEndpointError(refused);
  assert.equal(a.kind, 'outage');
  assert.match(a.description, /ECONNREFUSED/);
  const timeout = classifyTokenEndpointError(new DOMException('signal timed out', 'TimeoutError'));
  assert.deepEqual(timeout, { kind: 'outage', description: 'token endpoint did not answer in time', answerLost: true });
});

test('an intent names the refresh token by a fingerprint that reveals nothing usable', () => {
  const fp = fingerprintOf('a-refresh-token');
  assert.match(fp, /^[0-9a-f]{16}$/);
  assert.equal(fp, fingerprintOf('a-refresh-token'));
  assert.notEqual(fp, fingerprintOf('another-refresh-token'));
  assert.deepEqual(parseIntent(JSON.stringify({ owner: 'o', at: 't', fingerprint: fp })), { owner: 'o', at: 't', fingerprint: fp });
  assert.equal(parseIntent('not json'), undefined);
  assert.equal(parseIntent(null), undefined);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startInProcess, type InProcess } from './helpers/in-process.js';

let server: InProcess;
let open: InProcess;

before(async () => {
  server = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
  open = await startInProcess({ env: { LATCHKEY_METRICS_PUBLIC: '1', LATCHKEY_REFRESHER_INTERVAL: '0' } });
});
after(async () => {
  await server?.close();
  await open?.close();
});

test('/metrics needs the admin token unless made public', async () => {
  const denied = await fetch(`${server.url}/metrics`);
  assert.equal(denied.status, 401);
  assert.equal(((await denied.json()) as { error: string }).error, 'unauthorized');
  const publicRes = await fetch(`${open.url}/metrics`);
  assert.equal(publicRes.status, 200);
  assert.match(publicRes.headers.get('content-type') ?? '', /^text\/plain/);
});

test('/metrics counts requests by route pattern and connections by status', async () => {
  await server.admin('POST', '/v1/providers', { name: 'gh', preset: 'github' });
  await server.admin('POST', '/v1/connections/import', { name: 'secret-name-alice', provider: 'gh', accessToken: 'tok-metrics' });
  await server.admin('GET', '/v1/connections/secret-name-alice');
  const res = await server.admin('GET', '/metrics');
  assert.equal(res.status, 200);
  const text = String(res.body);
  assert.match(text, /# TYPE latchkey_http_requests_total counter/);
  assert.match(text, /latchkey_http_requests_total\{method="GET",route="\/v1\/connections\/:id",status="200"\} 1/);
  assert.match(text, /latchkey_connections\{status="active"\} 1/);
  assert.match(text, /process_resident_memory_bytes \d+/);
  assert.ok(!text.includes('secret-name-alice'), 'concrete URLs must not leak into metrics');
  assert.ok(!text.includes('tok-metrics'));
});

test("the server made for the proxy route keeps Fastify's keep-alive and bounds every request (LATCHKEY_REQUEST_TIMEOUT)", () => {
  const http = server.app.server;
  assert.equal(http.keepAliveTimeout, 72_000);
  assert.equal(http.requestTimeout, 300_000);
  assert.equal(http.headersTimeout, 60_000);
  // No idle timeout on the socket as a whole: a slow upstream answer is not the client's silence (slow-clients.test.ts).
  assert.equal(http.timeout, 0);
});

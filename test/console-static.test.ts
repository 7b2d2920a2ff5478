import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { CONSOLE_CSP } from '../src/server/console.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

let server: InProcess;

before(async () => {
  assert.ok(existsSync('dist/console/index.html'), 'npm run build makes dist/console (npm test builds first)');
  server = await startInProcess();
});
after(() => server.close());

/** A raw request, so the path reaches the server exactly as written (fetch would resolve dot segments). */
function raw(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers: { host: url.host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('/ and /console redirect to the console; no admin token is needed', async () => {
  for (const path of ['/', '/console']) {
    const res = await fetch(server.url + path, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/console/');
  }
});

test('index.html: strict CSP, no inline script or style, not cached', async () => {
  const res = await fetch(`${server.url}/console/`);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.equal(csp, CONSOLE_CSP);
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const html = await res.text();
  // Every script is a file; no inline script, no inline style, no event handler attributes.
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\ssrc="\/console\/assets\/[^"]+\.js"/);
  assert.ok(!/<style\b/i.test(html) && !/\sstyle=/i.test(html) && !/\son[a-z]+=/i.test(html), html);
});

test('history routes get index.html; hashed assets are cached for good', async () => {
  const index = await (await fetch(`${server.url}/console/`)).text();
  for (const path of ['/console/connections/github-alice', '/console/connections/x?reconnect=1', '/console/sign-in', '/console/audit']) {
    const res = await fetch(server.url + path);
    assert.equal(res.status, 200, path);
    assert.equal(await res.text(), index);
  }
  const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(index)?.[1];
  assert.ok(asset);
  const res = await fetch(server.url + asset);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(res.headers.get('content-security-policy'), CONSOLE_CSP);
  assert.equal((await fetch(`${server.url}/console/assets/nope.js`)).status, 404);
});

test('path traversal never reaches a file outside the build', async () => {
  for (const path of [
    '/console/../package.json',
    '/console/assets/../../../package.json',
    '/console/assets/..%2f..%2f..%2fpackage.json',
    '/console/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
    '/console/assets/..\\..\\..\\package.json',
    '/console/%2e%2e/%2e%2e/src/server/console.ts',
  ]) {
    const res = await raw(path);
    assert.ok(!res.body.includes('"name": "latchkey"') && !res.body.includes('CONSOLE_CSP'), `${path} leaked a file`);
    if (path.startsWith('/console/assets/')) assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { auditEvents, createAgent, importTokens, startFakeApi, type AuditEventBody, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { CLI_PATH, REPO_ROOT } from './helpers/latchkey-process.js';
import { everyForm, leakedForms } from './helpers/token-forms.js';

// `/`, `+` and `=` make the URL-encoded, JSON-escaped and base64url forms differ from the raw one.
const ACCESS = 'ya29.a0Canary/Access+Token=0123456789abcdefXYZ';
const REFRESH = '1//0canary-Refresh+Token/uvw=9876543210fedcba';
const TOKENS = [ACCESS, REFRESH];
const EVERY_FORM = TOKENS.map(everyForm).join('\n');

/** A hostile API that reflects the provider token (and knows the refresh token) in every way it can. */
function echoingApi(origin: () => string) {
  return (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const url = new URL(req.url ?? '/', origin());
    const endpoint = url.pathname.replace(/^\/base\/canary/, '');
    const auth = req.headers.authorization ?? '';
    const text = { 'content-type': 'text/plain' };
    switch (endpoint) {
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ headers: req.headers, body, escaped: auth.replaceAll('/', '\\/') }));
        return;
      case '/forms':
        res.writeHead(200, { ...text, 'content-length': Buffer.byteLength(EVERY_FORM) }).end(EVERY_FORM);
        return;
      case '/gzip':
        res.writeHead(200, { ...text, 'content-encoding': 'gzip' }).end(gzipSync(EVERY_FORM));
        return;
      case '/deflate':
        res.writeHead(200, { ...text, 'content-encoding': 'deflate' }).end(deflateSync(EVERY_FORM));
        return;
      case '/br':
        res.writeHead(200, { ...text, 'content-encoding': 'br' }).end(brotliCompressSync(EVERY_FORM));
        return;
      case '/chunks': {
        // Five bytes at a time, each its own chunk on the wire: every token is split.
        res.writeHead(200, text);
        const bytes = Buffer.from(EVERY_FORM);
        const write = (at: number): void => {
          if (at >= bytes.length) res.end();
          else res.write(bytes.subarray(at, at + 5), () => setImmediate(() => write(at + 5)));
        };
        write(0);
        return;
      }
      case '/headers':
        res.writeHead(200, {
          ...text,
          location: `${origin()}/base/canary/json?t=${encodeURIComponent(ACCESS)}`,
          'set-cookie': [`sid=${ACCESS}`, `r=${Buffer.from(REFRESH).toString('base64')}`],
          'www-authenticate': `Bearer realm="x", error="invalid_token", token="${ACCESS}"`,
          'x-echo': Buffer.from(auth).toString('hex'),
        });
        res.end('no token here');
        return;
      case '/error':
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end(`<html><body><h1>Internal error</h1><pre>Authorization: ${auth}\nrefresh=${encodeURIComponent(REFRESH)}</pre></body></html>`);
        return;
      case '/redirect':
        res.writeHead(302, { location: `${origin()}/base/canary/json?page=2` }).end();
        return;
      case '/away':
        res.writeHead(302, { location: 'https://elsewhere.example/download' }).end();
        return;
      case '/zstd':
        res.writeHead(200, { ...text, 'content-encoding': 'zstd' }).end('not really zstd');
        return;
      case '/token-coding':
        // A coding named after the token: the refusal must not echo it.
        res.writeHead(200, { ...text, 'content-encoding': ACCESS.toLowerCase().slice(0, 40) }).end('x');
        return;
      case '/broken-gzip':
        // A gzip body whose second half is garbage: the agent's body fails, the server stays up.
        res.writeHead(200, { ...text, 'content-encoding': 'gzip' });
        res.write(gzipSync(EVERY_FORM).subarray(0, 40));
        res.end(Buffer.alloc(200, 0x41));
        return;
      case '/cut': {
        // The upstream dies mid-body, in the middle of a token.
        const half = EVERY_FORM.slice(0, EVERY_FORM.indexOf(ACCESS) + ACCESS.length - 3);
        res.writeHead(200, { ...text, 'content-length': Buffer.byteLength(EVERY_FORM) });
        res.write(half, () => res.destroy());
        return;
      }
      default:
        res.writeHead(404, text).end('not here');
    }
  };
}

const ENDPOINTS = ['/json', '/forms', '/gzip', '/deflate', '/br', '/chunks', '/headers', '/error'];

/** What an agent sees of a response: status, every header (cookies included) and the decoded body. */
async function visible(res: Response): Promise<string> {
  const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).concat(res.headers.getSetCookie().map((c) => `set-cookie: ${c}`));
  return `${res.status}\n${headers.join('\n')}\n\n${await res.text()}`;
}

function assertNoForm(text: string, where: string, tokens = TOKENS): void {
  for (const token of tokens) {
    const leaked = leakedForms(text, token);
    assert.deepEqual(leaked, [], `${where}: a form of a provider token reached the agent (${leaked.join(', ')})`);
  }
}

/** Every outcome event of these requests is marked: `redacted: true` on it, or a `.redacted` event with its requestId. */
function assertMarked(events: AuditEventBody[], action: 'proxy.request' | 'invoke', paths: string[]): void {
  const followUps = new Set(events.filter((e) => e.action === `${action}.redacted`).map((e) => e.detail.requestId));
  for (const path of paths) {
    const outcome = events.find((e) => e.action === action && e.detail.path === path);
    assert.ok(outcome !== undefined, `no ${action} outcome for ${path}`);
    assert.ok(outcome.detail.redacted === true || followUps.has(outcome.detail.requestId), `${action} ${path} is not marked as redacted`);
    assert.ok(!JSON.stringify(outcome).includes(ACCESS), 'the audit event itself holds no token');
  }
}

describe('response redaction: no form of a provider token reaches the agent', () => {
  let lk: InProcess;
  let api: FakeApi;
  let agentKey: string;

  const proxy = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${lk.url}/v1/proxy/canary${path}`, { redirect: 'manual', ...init, headers: { authorization: `Bearer ${agentKey}`, ...(init.headers as Record<string, string>) } });

  before(async () => {
    let origin = '';
    api = await startFakeApi(echoingApi(() => origin));
    origin = api.url;
    lk = await startInProcess();
    const provider = await lk.admin('POST', '/v1/providers', {
      name: 'echoer',
      tokenEndpoint: `${api.url}/token`,
      apiBaseUrl: `${api.url}/base`,
      capabilities: [{ name: 'echo', description: 'reflects the request', methods: ['GET'], pathPrefixes: ['/base/canary'] }],
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    const cookies = await lk.admin('POST', '/v1/providers', {
      name: 'cookie-api',
      tokenEndpoint: `${api.url}/token`,
      apiBaseUrl: `${api.url}/base`,
      quirks: { relaySetCookie: true },
    });
    assert.equal(cookies.status, 201, JSON.stringify(cookies.body));
    await importTokens(lk, { name: 'cookies', provider: 'cookie-api', accessToken: ACCESS, expiresAt: '2999-01-01T00:00:00Z' });
    await importTokens(lk, { name: 'canary', provider: 'echoer', accessToken: ACCESS, refreshToken: REFRESH, expiresAt: '2999-01-01T00:00:00Z' });
    agentKey = (
      await createAgent(lk, {
        name: 'canary-bot',
        policy: {
          rules: [
            { connections: ['canary', 'cookies'], methods: ['GET', 'POST'], paths: ['/canary/**'] },
            { connections: ['canary'], capabilities: ['echo'] },
          ],
        },
      })
    ).apiKey;
  });

  after(async () => {
    await lk?.close();
    await api?.close();
  });

  test('the canary is real: the upstream sends every form, and the search finds each', () => {
    for (const token of TOKENS) {
      const found = new Set(leakedForms(everyForm(token), token).map((f) => f.replace(/@\d$/, '')));
      assert.deepEqual([...found].sort(), ['base64', 'hex', 'json-escaped', 'raw', 'url-encoded']);
    }
  });

  test('through the proxy, for every echoing endpoint', async () => {
    for (const endpoint of ENDPOINTS) {
      const res = await proxy(`/canary${endpoint}`, { method: 'POST', body: JSON.stringify({ echo: 'me' }) });
      const seen = await visible(res);
      assertNoForm(seen, `proxy ${endpoint}`);
      assert.ok(seen.includes('[REDACTED]'), `proxy ${endpoint}: the marker shows where a token was`);
    }
    assertMarked(
      await auditEvents(lk, '?connection=canary&limit=500'),
      'proxy.request',
      ENDPOINTS.map((e) => `/base/canary${e}`),
    );
  });

  test('headers: the token is masked in Location, WWW-Authenticate and others; Set-Cookie is stripped; the outcome event is marked', async () => {
    const res = await proxy('/canary/headers');
    assert.equal(res.headers.getSetCookie().length, 0, 'Set-Cookie is stripped by default');
    assert.match(res.headers.get('www-authenticate') ?? '', /token="\[REDACTED\]\**"/);
    assert.equal(res.headers.get('location'), `${lk.url}/v1/proxy/canary/canary/json?t=[REDACTED]${'*'.repeat(encodeURIComponent(ACCESS).length - 10)}`);
    const outcome = (await auditEvents(lk, '?connection=canary&action=proxy.request&limit=5')).find((e) => e.action === 'proxy.request');
    assert.equal(outcome?.detail.redacted, true);
  });

  test('a compressed body reaches the agent decoded, without Content-Encoding or a stale Content-Length', async () => {
    for (const coding of ['gzip', 'deflate', 'br']) {
      const res = await proxy(`/canary/${coding}`, { headers: { 'accept-encoding': `${coding}, zstd` } });
      assert.equal(res.headers.get('content-encoding'), null, coding);
      assert.equal(res.headers.get('content-length'), null, coding);
      assert.ok((await res.text()).startsWith('form 0: "[REDACTED]'), coding);
    }
    const asked = api.seen.at(-1)?.headers['accept-encoding'];
    assert.equal(asked, 'br', 'upstream is asked only for codings Latchkey can decode');
  });

  test('an identity body keeps its length: the marker is as long as what it replaces', async () => {
    const res = await proxy('/canary/forms');
    const body = await res.text();
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(EVERY_FORM));
    assert.equal(body.length, EVERY_FORM.length);
  });

  test('a token in the body is recorded by a follow-up event tied to the outcome by requestId, written before the body ends', async () => {
    const res = await proxy('/canary/forms');
    await res.text();
    const events = await auditEvents(lk, '?connection=canary&limit=20');
    const outcome = events.find((e) => e.action === 'proxy.request' && e.detail.path === '/base/canary/forms');
    const followUp = events.find((e) => e.action === 'proxy.request.redacted' && e.detail.requestId === outcome?.detail.requestId);
    assert.equal(followUp?.detail.where, 'body');
    assert.equal(outcome?.detail.redacted, undefined, 'the outcome was written before the body was read');
  });

  test('a provider may let Set-Cookie through (quirk relaySetCookie); token forms in it are still masked', async () => {
    const res = await fetch(`${lk.url}/v1/proxy/cookies/canary/headers`, { headers: { authorization: `Bearer ${agentKey}` }, redirect: 'manual' });
    const cookies = res.headers.getSetCookie();
    assert.equal(cookies.length, 2);
    assert.match(cookies[0] ?? '', /^sid=\[REDACTED\]\*+$/);
    // This connection has no refresh token: only its access token is a secret here.
    assertNoForm(await visible(res), 'relayed cookies', [ACCESS]);
  });

  test('a redirect under the API base comes back pointing at the proxy; one elsewhere is passed on as it is', async () => {
    const inside = await proxy('/canary/redirect');
    assert.equal(inside.status, 302);
    assert.equal(inside.headers.get('location'), `${lk.url}/v1/proxy/canary/canary/json?page=2`);
    const away = await proxy('/canary/away');
    assert.equal(away.headers.get('location'), 'https://elsewhere.example/download');
  });

  test('a body coding Latchkey cannot decode (so cannot scan) is refused with 502, audited as a failure', async () => {
    const res = await proxy('/canary/zstd');
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: string }).error, 'upstream_error');
    const outcome = (await auditEvents(lk, '?connection=canary&action=proxy.request&limit=5')).find((e) => e.detail.path === '/base/canary/zstd');
    assert.equal(outcome?.outcome, 'failure');
    assert.equal(outcome?.detail.error, 'upstream_error');
    const named = await proxy('/canary/token-coding');
    assert.equal(named.status, 502);
    const text = await named.text();
    assert.ok(!text.toLowerCase().includes(ACCESS.toLowerCase().slice(0, 16)), `the refusal echoed the token: ${text}`);
  });

  test('an upstream that fails mid-body (corrupt gzip, a cut connection inside a token) ends the agent body; the server stays up', async () => {
    for (const endpoint of ['/broken-gzip', '/cut']) {
      // The agent sees a reset: before the headers when nothing could be sent yet, or mid-body.
      const body = await proxy(`/canary${endpoint}`).then(
        (res) => res.text(),
        () => '(reset)',
      ).catch(() => '(aborted)');
      assertNoForm(body, endpoint);
      assert.ok(!body.includes(ACCESS.slice(0, -3)), `${endpoint}: the held-back start of a token is never sent`);
    }
    const after = await proxy('/canary/forms');
    assert.equal(after.status, 200);
    assertNoForm(await after.text(), 'after the failures');
  });

  test('through invoke, for every echoing endpoint', async () => {
    for (const endpoint of ENDPOINTS) {
      const res = await fetch(`${lk.url}/v1/invoke/canary/echo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'GET', path: `/base/canary${endpoint}` }),
        redirect: 'manual',
      });
      assertNoForm(await visible(res), `invoke ${endpoint}`);
    }
    assertMarked(
      await auditEvents(lk, '?connection=canary&limit=500'),
      'invoke',
      ENDPOINTS.map((e) => `/base/canary${e}`),
    );
  });

  test('through `latchkey mcp` (the official MCP client): call_api and invoke_capability', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_PATH, 'mcp'],
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: lk.config.dataDir, LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: agentKey },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'latchkey-canary', version: '1.0.0' });
    await client.connect(transport);
    try {
      for (const endpoint of ENDPOINTS) {
        for (const [tool, args] of [
          ['call_api', { connection: 'canary', method: 'GET', path: `/canary${endpoint}` }],
          ['invoke_capability', { connection: 'canary', capability: 'echo', path: `/base/canary${endpoint}` }],
        ] as const) {
          const result = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
          const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
          assert.match(text, /status: |HTTP|answered/, `${tool} ${endpoint} gave an answer: ${text.slice(0, 200)}`);
          assertNoForm(text, `mcp ${tool} ${endpoint}`);
        }
      }
    } finally {
      await client.close();
    }
  });
});

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * The gateway's Client ID Metadata Documents against a mix-up (RFC 9700
 * §4.4): a hostile MCP server's authorization server bounces the person to an
 * honest one with Latchkey's client id there and the hostile server's callback.
 * Neither authorization server sends RFC 9207 `iss`, so each server has a
 * callback path of its own; the document behind a client id must list only
 * the callback of the server that uses it.
 */

const PUBLIC_URL = 'https://latchkey.example';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, body: string) => void | Promise<void>;

async function serve(handler: Handler): Promise<{ base: string; server: Server }> {
  let base = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void Promise.resolve(handler(req, res, new URL(req.url ?? '/', base), Buffer.concat(chunks).toString())).catch(() => {
        res.writeHead(500).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, server };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

interface AsOptions {
  cimd: boolean;
  /** Fetches a client id (an https URL under Latchkey's public URL) as this AS would. */
  fetchDocument: (clientId: string) => Promise<Response>;
  tokenRequests: string[];
  issued: string[];
}

/**
 * An authorization server without RFC 9207 `iss`. With `cimd`, it takes
 * Client ID Metadata Documents and, as the draft requires, issues a code only
 * for a redirect_uri the document behind the client_id lists.
 */
function authorizationServer(options: AsOptions): Handler {
  return async (req, res, url, body) => {
    const base = url.origin;
    if (url.pathname === '/.well-known/openid-configuration' || url.pathname === '/.well-known/oauth-authorization-server') {
      return json(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        code_challenge_methods_supported: ['S256'],
        response_types_supported: ['code'],
        client_id_metadata_document_supported: options.cimd,
        registration_endpoint: `${base}/register`,
      });
    }
    if (url.pathname === '/register' && req.method === 'POST') return json(res, 201, { client_id: `dcr-client-${base.slice(-5)}` });
    if (url.pathname === '/token') {
      options.tokenRequests.push(body);
      return json(res, 400, { error: 'invalid_grant' });
    }
    if (url.pathname === '/authorize' && options.cimd) {
      const clientId = url.searchParams.get('client_id') ?? '';
      const redirectUri = url.searchParams.get('redirect_uri') ?? '';
      const document = await options.fetchDocument(clientId);
      if (document.status !== 200) return json(res, 400, { error: 'invalid_client' });
      const metadata = (await document.json()) as { client_id?: string; redirect_uris?: string[] };
      if (metadata.client_id !== clientId) return json(res, 400, { error: 'invalid_client' });
      if (!(metadata.redirect_uris ?? []).includes(redirectUri)) return json(res, 400, { error: 'invalid_request', error_description: 'redirect_uri' });
      const code = `GOOD-AS-CODE-${options.issued.length}`;
      options.issued.push(code);
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    json(res, 404, {});
  };
}

function mcpServer(authorizationServerBase: () => string): Handler {
  return (_req, res, url) => {
    if (url.pathname === '/.well-known/oauth-protected-resource/mcp') {
      return json(res, 200, { resource: `${url.origin}/mcp`, authorization_servers: [authorizationServerBase()] });
    }
    json(res, 401, {}, { 'www-authenticate': 'Bearer' });
  };
}

describe('MCP gateway: one Client ID Metadata Document per server', () => {
  let lk: InProcess;
  const servers: Server[] = [];
  const goodTokenRequests: string[] = [];
  const evilTokenRequests: string[] = [];
  const issuedByGood: string[] = [];
  let goodAs = '';
  let evilAs = '';
  let goodMcp = '';
  let legacyMcp = '';
  /** Latchkey's public https URL, reached on its local address. */
  const local = (href: string): string => href.replace(PUBLIC_URL, lk.url);

  before(async () => {
    lk = await startInProcess({ env: { LATCHKEY_PUBLIC_URL: PUBLIC_URL } });
    const fetchDocument = (clientId: string): Promise<Response> =>
      clientId.startsWith(`${PUBLIC_URL}/`) ? fetch(local(clientId), { redirect: 'manual' }) : Promise.resolve(new Response('{}', { status: 404 }));
    const good = await serve(authorizationServer({ cimd: true, fetchDocument, tokenRequests: goodTokenRequests, issued: issuedByGood }));
    const evil = await serve(authorizationServer({ cimd: false, fetchDocument, tokenRequests: evilTokenRequests, issued: [] }));
    goodAs = good.base;
    evilAs = evil.base;
    const goodServer = await serve(mcpServer(() => goodAs));
    const evilServer = await serve(mcpServer(() => evilAs));
    const legacyServer = await serve(mcpServer(() => goodAs));
    goodMcp = `${goodServer.base}/mcp`;
    legacyMcp = `${legacyServer.base}/mcp`;
    servers.push(good.server, evil.server, goodServer.server, evilServer.server, legacyServer.server);
    for (const [name, url] of [
      ['good', goodMcp],
      ['evil', `${evilServer.base}/mcp`],
    ]) {
      const added = await lk.admin('POST', '/v1/mcp-servers', { name, url });
      assert.equal(added.status, 201, JSON.stringify(added.body));
    }
  });

  after(async () => {
    await lk?.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  /** The operator connects "evil"; the person's browser lands at evil's authorization endpoint. */
  async function startEvilConsent(): Promise<{ atEvil: URL; cookie: string }> {
    const started = await lk.admin('POST', '/v1/connect/evil', { name: `evil-${Math.random().toString(36).slice(2, 8)}` });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const start = await fetch(local((started.body as { authorizationUrl: string }).authorizationUrl), { redirect: 'manual' });
    const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const atEvil = new URL(start.headers.get('location') ?? '');
    assert.equal(atEvil.origin, evilAs);
    assert.equal(atEvil.searchParams.get('redirect_uri'), `${PUBLIC_URL}/oauth/callback/evil`);
    return { atEvil, cookie };
  }

  /** Evil's AS sends the browser to good's with `clientId` and everything else of the request it got; the browser follows. */
  async function bounceToGood(atEvil: URL, cookie: string, clientId: string): Promise<Response> {
    const bounced = new URL(`${goodAs}/authorize`);
    for (const [k, v] of atEvil.searchParams) bounced.searchParams.set(k, v);
    bounced.searchParams.set('client_id', clientId);
    const atGood = await fetch(bounced, { redirect: 'manual' });
    const location = atGood.headers.get('location');
    if (atGood.status !== 302 || location === null) return atGood;
    // Good's AS issued a code to the redirect_uri: the browser brings it to Latchkey.
    return fetch(local(location), { redirect: 'manual', headers: { cookie } });
  }

  test('mix-up: good\'s client id does not list evil\'s callback, so good\'s code never reaches evil\'s token endpoint', async () => {
    const good = (await lk.admin('GET', '/v1/mcp-servers/good')).body as { clientId: string; registration: string };
    assert.equal(good.registration, 'cimd');

    const { atEvil, cookie } = await startEvilConsent();
    const answer = await bounceToGood(atEvil, cookie, good.clientId);
    assert.equal(answer.status, 400, 'good\'s AS refuses: its document lists only /oauth/callback/good');
    assert.deepEqual(issuedByGood, []);
    assert.ok(!evilTokenRequests.some((b) => b.includes('GOOD-AS-CODE')), 'no code of good\'s reached evil');
  });

  test('mix-up: a document in evil\'s name does not exist (evil registered by DCR), so that client id is refused too', async () => {
    const { atEvil, cookie } = await startEvilConsent();
    const evil = (await lk.admin('GET', '/v1/mcp-servers/evil')).body as { id: string; registration: string };
    assert.equal(evil.registration, 'dcr');
    const answer = await bounceToGood(atEvil, cookie, `${PUBLIC_URL}/.well-known/latchkey-client/evil/${evil.id}`);
    assert.equal(answer.status, 400);
    const shared = await bounceToGood(atEvil, cookie, `${PUBLIC_URL}/.well-known/latchkey-client.json`);
    assert.equal(shared.status, 400, 'the old shared client id is no longer served (no server is registered with it)');
    assert.deepEqual(issuedByGood, []);
    assert.ok(!evilTokenRequests.some((b) => b.includes('GOOD-AS-CODE')));
  });

  test('each server\'s document lists only its own callback; unknown and non-CIMD servers are 404 without detail', async () => {
    const good = (await lk.admin('GET', '/v1/mcp-servers/good')).body as { id: string; clientId: string };
    assert.equal(good.clientId, `${PUBLIC_URL}/.well-known/latchkey-client/good/${good.id}`);
    const evil = (await lk.admin('GET', '/v1/mcp-servers/evil')).body as { id: string };
    const res = await fetch(local(good.clientId));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const doc = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(doc, {
      client_id: good.clientId,
      client_name: 'Latchkey (good)',
      client_uri: PUBLIC_URL,
      redirect_uris: [`${PUBLIC_URL}/oauth/callback/good`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    for (const path of [`evil/${evil.id}`, `good/${evil.id}`, `nope/${good.id}`, `GOOD/${good.id}`, `good/${good.id}x`, `..%2Fgood/${good.id}`, 'good', '']) {
      const missing = await fetch(`${lk.url}/.well-known/latchkey-client/${path}`);
      assert.equal(missing.status, 404, path);
      const body = (await missing.json()) as { error: string; message: string };
      assert.equal(body.error, 'not_found');
      assert.ok(!body.message.includes('dcr-client'), 'a 404 says nothing about the server');
    }
    assert.equal((await fetch(`${lk.url}/.well-known/latchkey-client.json`)).status, 404, 'no server uses the shared document');
  });

  test('a legitimate consent for good, with good\'s own client id, still gets its code to good\'s token endpoint', async () => {
    const started = await lk.admin('POST', '/v1/connect/good', { name: 'good-alice' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const start = await fetch(local((started.body as { authorizationUrl: string }).authorizationUrl), { redirect: 'manual' });
    const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const atGood = new URL(start.headers.get('location') ?? '');
    assert.equal(atGood.origin, goodAs);
    const bounced = await bounceToGood(atGood, cookie, atGood.searchParams.get('client_id') ?? '');
    assert.equal(bounced.status, 400, 'the stub token endpoint refuses the code, so the consent page reports a failure');
    assert.equal(issuedByGood.length, 1);
    assert.ok(goodTokenRequests.some((b) => b.includes(`code=${issuedByGood[0]}`) && b.includes('code_verifier=')));
    assert.ok(!evilTokenRequests.some((b) => b.includes('GOOD-AS-CODE')));
  });

  test('a server registered with the shared document of earlier versions keeps it, listing only such servers\' callbacks', async () => {
    const added = await lk.admin('POST', '/v1/mcp-servers', { name: 'legacy', url: legacyMcp });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    // What an upgraded database holds: the provider's client id is the one shared URL.
    const sharedId = `${PUBLIC_URL}/.well-known/latchkey-client.json`;
    const patched = await lk.admin('PATCH', '/v1/providers/legacy', { clientId: sharedId });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));

    const res = await fetch(`${lk.url}/.well-known/latchkey-client.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { client_id: string; redirect_uris: string[] };
    assert.equal(doc.client_id, sharedId);
    assert.deepEqual(doc.redirect_uris, [`${PUBLIC_URL}/oauth/callback/legacy`], 'neither good\'s nor evil\'s callback');
    assert.match(lk.logs.text(), /served the shared client metadata document/);
    // Its own per-server URL is not its client id, so nothing is served there.
    assert.equal((await fetch(`${lk.url}/.well-known/latchkey-client/legacy/${(added.body as { id: string }).id}`)).status, 404);

    // Evil, not registered with the shared client id, cannot use it to reach its own callback either.
    const { atEvil, cookie } = await startEvilConsent();
    assert.equal((await bounceToGood(atEvil, cookie, sharedId)).status, 400);
    assert.ok(!evilTokenRequests.some((b) => b.includes('GOOD-AS-CODE')));

    assert.equal((await lk.admin('DELETE', '/v1/mcp-servers/legacy')).status, 200);
    assert.equal((await fetch(`${lk.url}/.well-known/latchkey-client.json`)).status, 404, 'gone with the last server using it');
  });

  test('a name removed and added again is a new client: the old client id is 404, consents given to it do not carry over', async () => {
    const first = await lk.admin('POST', '/v1/mcp-servers', { name: 'again', url: legacyMcp });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const oldId = (first.body as { clientId: string }).clientId;
    assert.equal((await fetch(local(oldId))).status, 200);
    assert.equal((await lk.admin('DELETE', '/v1/mcp-servers/again')).status, 200);
    assert.equal((await fetch(local(oldId))).status, 404, 'a removed server has no document');
    const second = await lk.admin('POST', '/v1/mcp-servers', { name: 'again', url: legacyMcp });
    const newId = (second.body as { clientId: string }).clientId;
    assert.notEqual(newId, oldId);
    assert.equal((await fetch(local(oldId))).status, 404);
    const doc = (await (await fetch(local(newId))).json()) as { client_id: string; redirect_uris: string[] };
    assert.equal(doc.client_id, newId);
    assert.deepEqual(doc.redirect_uris, [`${PUBLIC_URL}/oauth/callback/again`]);
  });
});

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { pollDeviceAuthorization, type OAuthDeps } from '../src/oauth/index.js';
import { openTokens, sealTokens } from '../src/tokens/index.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { assertNoSecrets, getConnection, openLink, pageError, storedTokens, visit } from './helpers/oauth-flows.js';

const GOOD_CODE = 'good-code';
const ACCESS_TOKEN = 'gho_fake_access_token_for_quirks_0001';
const DEVICE_CODE = 'fake-device-code-secret-0001';

interface SeenRequest {
  path: string;
  accept: string | undefined;
  form: URLSearchParams;
}

/**
 * A token endpoint that answers as GitHub does: HTTP 200 with an `error`
 * member for failures, comma-separated scopes, no `expires_in`, and form
 * encoding unless asked for JSON.
 */
async function startFakeGitHub(): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const devicePolls: string[] = ['slow_down', 'authorization_pending'];
  const read = async (req: IncomingMessage): Promise<string> => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    return body;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const form = new URLSearchParams(await read(req));
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push({ path, accept: req.headers.accept, form });
      const answer = (body: Record<string, unknown>): void => {
        if (!(req.headers.accept ?? '').includes('application/json')) {
          res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
          res.end(new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString());
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      if (path === '/login/device/code') {
        answer({ device_code: DEVICE_CODE, user_code: 'WDJB-MJHT', verification_uri: `http://${req.headers.host ?? ''}/login/device`, expires_in: 900, interval: 1 });
        return;
      }
      const granted = { access_token: ACCESS_TOKEN, token_type: 'bearer', scope: 'repo,read:user' };
      if (form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code') {
        const next = devicePolls.shift();
        answer(next === undefined ? granted : { error: next, error_description: 'poll later', interval: 6 });
        return;
      }
      if (form.get('code') === GOOD_CODE && form.get('code_verifier') && form.get('client_secret') === 'gh-secret') {
        answer(granted);
        return;
      }
      answer({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('provider quirks come from preset data, not from the flow code', () => {
  let github: Awaited<ReturnType<typeof startFakeGitHub>>;
  let server: InProcess;
  const clock = new ManualClock();

  before(async () => {
    github = await startFakeGitHub();
    server = await startInProcess({ clock });
    const res = await server.admin('POST', '/v1/providers', {
      name: 'gh',
      preset: 'github',
      authorizationEndpoint: `${github.url}/login/oauth/authorize`,
      tokenEndpoint: `${github.url}/login/oauth/access_token`,
      deviceAuthorizationEndpoint: `${github.url}/login/device/code`,
      clientId: 'Iv1.fake',
      clientSecret: 'gh-secret',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  after(async () => {
    assertNoSecrets(server.logs.text(), [ACCESS_TOKEN, DEVICE_CODE, GOOD_CODE, 'gh-secret'], 'server log');
    await server.close();
    await github.close();
  });

  async function startGitHub(name: string): Promise<{ connectionId: string; state: string; callback: string }> {
    const res = await server.admin('POST', '/v1/connect/gh', { name, scopes: ['repo', 'read:user'] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const body = res.body as { connectionId: string; authorizationUrl: string };
    const url = new URL(await openLink(body.authorizationUrl));
    assert.equal(url.searchParams.get('scope'), 'repo read:user');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('nonce'), null, 'no nonce without openid');
    // GitHub does not send RFC 9207 `iss`, so its answers come back on a callback path of its own.
    assert.equal(url.searchParams.get('redirect_uri'), `${server.url}/oauth/callback/gh`);
    return { connectionId: body.connectionId, state: url.searchParams.get('state') ?? '', callback: `${server.url}/oauth/callback/gh` };
  }

  test('GitHub-style success: JSON on request, comma scopes split, no expires_in means no expiry', async () => {
    const { connectionId, state, callback } = await startGitHub('gh-ok');
    const page = await visit(`${callback}?code=${GOOD_CODE}&state=${encodeURIComponent(state)}`);
    assert.equal(page.status, 200, page.body);
    const exchange = github.seen.at(-1);
    assert.equal(exchange?.accept, 'application/json');
    assert.equal(exchange?.form.get('grant_type'), 'authorization_code');
    assert.ok(exchange?.form.get('code_verifier'), 'PKCE verifier sent');
    const connection = await getConnection(server, connectionId);
    assert.equal(connection.status, 'active');
    assert.deepEqual(connection.scopes, ['repo', 'read:user']);
    assert.equal(connection.expiresAt, null);
    assert.equal((await storedTokens(server, connectionId)).accessToken, ACCESS_TOKEN);
  });

  test('GitHub-style failure: HTTP 200 with an error body is a failed exchange, not a token', async () => {
    const { connectionId, state, callback } = await startGitHub('gh-bad');
    const page = await visit(`${callback}?code=wrong&state=${encodeURIComponent(state)}`);
    assert.equal(page.status, 400);
    assert.match(page.body, /bad_verification_code/);
    assert.equal(pageError(page.body), 'invalid_request');
    const connection = await getConnection(server, connectionId);
    assert.equal(connection.status, 'error');
    assert.match(connection.lastError ?? '', /bad_verification_code/);
    assert.equal((await storedTokens(server, connectionId)).accessToken, undefined);
  });

  test('GitHub-style device flow: slow_down in a 200 body adds 5 s to the interval, then pending, then a token', async () => {
    const res = await server.admin('POST', '/v1/connect/gh/device', { name: 'gh-device', scopes: ['repo'] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const started = res.body as { connectionId: string; interval: number; userCode: string };
    assert.equal(started.interval, 1);
    assert.equal(github.seen.at(-1)?.form.get('scope'), 'repo');
    const kysely = server.core.store.db.kysely;
    const row = async () => {
      const r = await kysely.selectFrom('deviceAuthorizations').selectAll().where('connectionId', '=', started.connectionId).executeTakeFirst();
      return r === undefined ? undefined : { ...r, scopes: JSON.parse(r.scopes) as string[], intervalSeconds: Number(r.intervalSeconds) };
    };
    const deps: OAuthDeps = {
      ...server.core,
      sealTokens: (id, tokens) => sealTokens(server.core.keyring, id, tokens),
      openTokens: (id, sealed) => openTokens(server.core.keyring, id, sealed),
      emit: server.core.events.emit,
      fetch: server.core.outbound.fetch,
    };
    // The injected clock stands still, so the background poller never finds this code due; the test polls.
    const first = await row();
    assert.ok(first);
    assert.equal(await pollDeviceAuthorization(deps, first), 'slow_down');
    const slowed = await row();
    assert.equal(slowed?.intervalSeconds, 6);
    assert.equal(slowed?.nextPollAt, new Date(clock.now().getTime() + 6000).toISOString());
    assert.equal(await pollDeviceAuthorization(deps, slowed ?? first), 'pending');
    assert.equal((await getConnection(server, started.connectionId)).status, 'pending');
    assert.equal(await pollDeviceAuthorization(deps, slowed ?? first), 'active');
    const connection = await getConnection(server, started.connectionId);
    assert.equal(connection.status, 'active');
    assert.deepEqual(connection.scopes, ['repo', 'read:user']);
    assert.equal(connection.expiresAt, null);
    assert.equal(await row(), undefined);
  });

  test('Slack: user scopes go in user_scope, comma-separated; PKCE is sent (Slack ignores it)', async () => {
    const created = await server.admin('POST', '/v1/providers', { name: 'slack', preset: 'slack', clientId: '123.456' });
    assert.equal(created.status, 201);
    const res = await server.admin('POST', '/v1/connect/slack', { scopes: ['channels:read', 'chat:write'] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const url = new URL(await openLink((res.body as { authorizationUrl: string }).authorizationUrl));
    assert.equal(url.origin + url.pathname, 'https://slack.com/oauth/v2/authorize');
    assert.equal(url.searchParams.get('user_scope'), 'channels:read,chat:write');
    assert.equal(url.searchParams.get('scope'), null);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.ok((url.searchParams.get('state') ?? '').length >= 22);
  });
});

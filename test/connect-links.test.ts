import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import type { AuthorizationServer } from './fixtures/authorization-server.js';
import { addFixtureApiProvider, auditEvents, createAgent } from './helpers/broker-setup.js';
import { continueToProvider, goneKind, openConnectPage, pressContinue, type CreatedLink } from './helpers/connect-link.js';
import type { InProcess } from './helpers/in-process.js';
import {
  BACKENDS,
  FIXTURE_SCOPES,
  assertNoSecrets,
  getConnection,
  listConnections,
  newBrowser,
  pageError,
  storedTokens,
  startFlowServer,
  visit,
} from './helpers/oauth-flows.js';

for (const backend of BACKENDS) {
  describe(`connect links (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let close: () => Promise<void>;
    const clock = new ManualClock();
    const secrets: string[] = [];

    before(async () => {
      ({ as, server, close } = await startFlowServer(backend, { clock, env: { LATCHKEY_REFRESHER_INTERVAL: '0' } }));
      await addFixtureApiProvider(server, as, 'fixture-api');
    });

    after(async () => {
      // No link token, access, refresh or ID token ever reaches the log.
      assertNoSecrets(server.logs.text(), secrets, 'server log');
      await close();
    });

    async function makeLink(body: Record<string, unknown>): Promise<CreatedLink> {
      const res = await server.admin('POST', '/v1/connect-links', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const link = res.body as CreatedLink;
      secrets.push(link.url.split('/').at(-1) ?? '');
      return link;
    }

    async function remember(connectionId: string): Promise<void> {
      const tokens = await storedTokens(server, connectionId);
      for (const t of [tokens.accessToken, tokens.refreshToken, tokens.idToken]) if (t !== undefined) secrets.push(t);
    }

    /** The whole end-user path in one browser: page, Continue, consent, callback page. */
    async function finish(link: CreatedLink, accountId?: string): Promise<{ status: number; body: string }> {
      const jar = newBrowser();
      const providerUrl = await continueToProvider(link.url, jar);
      const callback = await as.approve(providerUrl, accountId === undefined ? {} : { accountId });
      return visit(callback, jar);
    }

    test('an operator makes a link; the owner opens it, continues, consents, and the connection is active', async () => {
      const link = await makeLink({ provider: 'fixture', subject: 'alice@example.com', name: 'fixture-alice', expiresIn: '1d' });
      assert.match(link.url, new RegExp(`^${server.url}/connect/[A-Za-z0-9_-]{43}$`));
      assert.equal(Date.parse(link.expiresAt), clock.now().getTime() + 86_400_000);
      assert.equal((await listConnections(server)).some((c) => c.name === 'fixture-alice'), false, 'nothing exists until the owner continues');

      const page = await openConnectPage(link.url);
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /style-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|script-src/);
      assert.match(csp, new RegExp(`form-action 'self' ${new URL(as.issuer).origin}`));
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.match(page.body, /alice@example\.com/);
      assert.match(page.body, /fixture-alice/);
      assert.match(page.body, /<code>api:read<\/code>/);
      assert.match(page.body, /The Latchkey administrator/);
      assert.match(page.body, /<form method="post"><button type="submit" id="continue">/);
      assert.ok(!page.body.includes(link.url.split('/').at(-1) ?? ''), 'the token is not written into the page');
      assert.doesNotMatch(page.body, /<script/);
      // Opening the page twice (a mail scanner, then the person) changes nothing.
      assert.equal((await openConnectPage(link.url)).status, 200);
      assert.equal((await fetch(link.url, { method: 'HEAD' })).status, 404);

      const jar = newBrowser();
      const cont = await pressContinue(link.url, jar);
      assert.equal(cont.status, 303);
      assert.equal(new URL(cont.location ?? '').origin, new URL(as.issuer).origin);
      assert.match(cont.headers.getSetCookie()[0] ?? '', /^__Host-lk_flow_[0-9a-f]{16}=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/);
      const done = await visit(await as.approve(cont.location ?? ''), jar);
      assert.equal(done.status, 200, done.body);
      assert.match(done.body, /<h1 id="success" data-outcome="connected">Connected<\/h1>/);
      assert.match(done.body, /<code>fixture-alice<\/code>/);

      const connection = await getConnection(server, 'fixture-alice');
      assert.equal(connection.status, 'active');
      assert.equal((connection as unknown as { subject: string }).subject, 'alice@example.com');
      await remember(connection.id);
      assertNoSecrets(done.body, secrets, 'result page');

      // Used once: the page and the button both say so.
      const again = await openConnectPage(link.url);
      assert.equal(again.status, 410);
      assert.equal(goneKind(again.body), 'used');
      const twice = await pressContinue(link.url, newBrowser());
      assert.equal(twice.status, 410);
      assert.equal(goneKind(twice.body), 'used');

      const listed = await server.admin('GET', '/v1/connect-links');
      assert.equal(listed.status, 200);
      const view = (listed.body as Array<Record<string, unknown>>).find((l) => l.id === link.id);
      assert.equal(view?.status, 'used');
      assert.deepEqual(view?.requestedBy, { type: 'admin', id: null, name: 'admin' });
      assert.ok(!JSON.stringify(listed.body).includes(link.url), 'no link URL (token) in the list');

      const audit = await auditEvents(server, '?connection=fixture-alice');
      const actions = audit.map((e) => e.action);
      assert.ok(actions.includes('connect_link.create'));
      assert.ok(actions.includes('connect_link.use'));
      assert.ok(audit.some((e) => e.action === 'connection.create' && e.detail.link === link.id));
      assertNoSecrets(JSON.stringify(audit), secrets, 'audit');
    });

    test('a cross-site post, a foreign Origin or a post without Origin is refused and the link stays open', async () => {
      const link = await makeLink({ provider: 'fixture', subject: 'bob', name: 'fixture-bob' });
      const attempts: Array<Record<string, string>> = [
        { origin: 'https://evil.example' },
        { origin: 'null' },
        { 'sec-fetch-site': 'cross-site', origin: server.url },
        { 'sec-fetch-site': 'same-site' },
        {},
      ];
      for (const headers of attempts) {
        const res = await pressContinue(link.url, newBrowser(), headers);
        assert.equal(res.status, 403, JSON.stringify(headers));
        assert.equal(pageError(res.body), 'forbidden');
        assert.equal(res.headers.getSetCookie().length, 0);
      }
      assert.equal((await openConnectPage(link.url)).status, 200, 'still usable by its owner');
      assert.equal((await listConnections(server)).some((c) => c.name === 'fixture-bob'), false);
    });

    test('a link expires (injected clock), and an expired one cannot be used', async () => {
      const link = await makeLink({ provider: 'fixture', subject: 'carol', name: 'fixture-carol', expiresIn: 120 });
      clock.advance(121_000);
      const page = await openConnectPage(link.url);
      assert.equal(page.status, 410);
      assert.equal(goneKind(page.body), 'expired');
      const res = await pressContinue(link.url, newBrowser());
      assert.equal(res.status, 410);
      assert.equal(goneKind(res.body), 'expired');
      assert.equal((await listConnections(server)).some((c) => c.name === 'fixture-carol'), false);
      const unknown = await openConnectPage(`${server.url}/connect/${'x'.repeat(43)}`);
      assert.equal(unknown.status, 404);
      assert.equal(goneKind(unknown.body), 'unknown');
    });

    test('two browsers press Continue at once: one is sent to the provider, the other is told the link was used', async () => {
      const link = await makeLink({ provider: 'fixture', subject: 'erin', name: 'fixture-erin' });
      const presses = await Promise.all([pressContinue(link.url, newBrowser()), pressContinue(link.url, newBrowser())]);
      const statuses = presses.map((p) => p.status).sort();
      assert.deepEqual(statuses, [303, 410], presses.map((p) => p.body.slice(0, 200)).join('\n'));
      const loser = presses.find((p) => p.status === 410);
      assert.equal(goneKind(loser?.body ?? ''), 'used');
      assert.equal(loser?.headers.getSetCookie().length, 0, 'the loser gets no flow cookie');
      const uses = (await auditEvents(server, '?action=connect_link.use')).filter((e) => e.detail.link === link.id);
      assert.equal(uses.length, 1, 'one use on record');
      // A token that names no link: the button says so too.
      const unknown = await pressContinue(`${server.url}/connect/${'y'.repeat(43)}`, newBrowser());
      assert.equal(unknown.status, 404);
      assert.equal(goneKind(unknown.body), 'unknown');
    });

    test('finished in another browser: refused at the callback, nothing stored', async () => {
      const link = await makeLink({ provider: 'fixture', subject: 'dave', name: 'fixture-dave' });
      const owner = newBrowser();
      const callback = await as.approve(await continueToProvider(link.url, owner));
      const page = await visit(callback, newBrowser());
      assert.equal(page.status, 400);
      assert.equal(pageError(page.body), 'invalid_state');
      const connection = await getConnection(server, 'fixture-dave');
      assert.notEqual(connection.status, 'active');
      assert.equal((await storedTokens(server, connection.id)).accessToken, undefined);
    });

    test('declining at the provider: the page says access was denied and names the connection', async () => {
      const link = await makeLink({ provider: 'fixture', subject: 'erin', name: 'fixture-erin' });
      const jar = newBrowser();
      const callback = await as.approve(await continueToProvider(link.url, jar), { deny: true });
      const page = await visit(callback, jar);
      assert.equal(page.status, 400);
      assert.match(page.body, /<h1 id="denied">Access denied<\/h1>/);
      assert.match(page.body, /<code id="connection">fixture-erin<\/code>/);
    });

    test('reconnect in place: a needs_reauth connection comes back active under the same id, and its agent works again', async () => {
      const first = await finish(await makeLink({ provider: 'fixture-api', subject: 'frank', name: 'fixture-frank', scopes: FIXTURE_SCOPES }));
      assert.equal(first.status, 200, first.body);
      const before = await getConnection(server, 'fixture-frank');
      await remember(before.id);
      const agent = await createAgent(server, { name: 'frank-bot', policy: { rules: [{ connections: ['fixture-frank'], methods: ['GET'], paths: ['/**'] }] } });
      secrets.push(agent.apiKey);

      // The provider forgets the grant: the next refresh gets invalid_grant.
      const old = await storedTokens(server, before.id);
      const revoked = await fetch(`${as.issuer}/token/revocation`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${as.confidentialClient.clientId}:${as.confidentialClient.clientSecret ?? ''}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token: old.refreshToken ?? '', token_type_hint: 'refresh_token' }).toString(),
      });
      assert.equal(revoked.status, 200);
      const refresh = await server.admin('POST', '/v1/connections/fixture-frank/refresh');
      assert.equal(refresh.status, 409, JSON.stringify(refresh.body));
      const reauth = refresh.body as { error: string; reconnectUrl: string };
      assert.equal(reauth.error, 'needs_reauth');
      assert.equal(reauth.reconnectUrl, `${server.url}/console/connections/fixture-frank?reconnect=1`);
      assert.equal((await getConnection(server, 'fixture-frank')).status, 'needs_reauth');

      const link = await makeLink({ connection: 'fixture-frank' });
      const page = await openConnectPage(link.url);
      assert.match(page.body, /<h1 id="title">Reconnect your /);
      assert.match(page.body, /<code id="connection">fixture-frank<\/code>/);
      const done = await finish(link);
      assert.equal(done.status, 200, done.body);
      assert.match(done.body, /data-outcome="reconnected">Reconnected</);

      const afterwards = await getConnection(server, 'fixture-frank');
      assert.equal(afterwards.id, before.id, 'the same connection');
      assert.equal(afterwards.status, 'active');
      assert.equal(afterwards.lastError, null);
      assert.equal((await listConnections(server)).filter((c) => c.name.startsWith('fixture-frank')).length, 1, 'no new connection');
      await remember(before.id);
      assert.notEqual((await storedTokens(server, before.id)).accessToken, old.accessToken);

      // The agent calls through the proxy again (the fixture's protected resource).
      const proxied = await fetch(`${server.url}/v1/proxy/fixture-frank/api/me`, {
        headers: { authorization: `Bearer ${agent.apiKey}` },
      });
      assert.equal(proxied.status, 200, await proxied.clone().text());
      assert.equal(((await proxied.json()) as { sub: string }).sub, 'test-user');

      const audit = await auditEvents(server, '?connection=fixture-frank');
      assert.ok(audit.some((e) => e.action === 'connection.reauthorize' && e.detail.link === link.id));
      const events = await server.core.store.events.listEvents({ type: 'connection.reauthorized', connectionId: before.id });
      assert.equal(events.length, 1);
    });

    test('a reconnect consented by a different account is refused; the connection and its tokens are unchanged', async () => {
      const first = await finish(await makeLink({ provider: 'fixture', subject: 'gina', name: 'fixture-gina' }));
      assert.equal(first.status, 200, first.body);
      const before = await getConnection(server, 'fixture-gina');
      const tokens = await storedTokens(server, before.id);
      await remember(before.id);
      const done = await finish(await makeLink({ connection: 'fixture-gina' }), 'someone-else');
      assert.equal(done.status, 400);
      assert.equal(pageError(done.body), 'conflict');
      assert.match(done.body, /different account/);
      const afterwards = await getConnection(server, 'fixture-gina');
      assert.equal(afterwards.id, before.id);
      assert.equal(afterwards.status, 'active');
      assert.deepEqual(await storedTokens(server, before.id), tokens);
    });

    test('untrusted text renders as text: provider display name and subject', async () => {
      const evil = '<script>alert(1)</script>';
      const img = '<img src=x onerror=alert(1)>';
      const res = await server.admin('POST', '/v1/providers', {
        name: 'evil',
        displayName: `${evil}"'\``,
        issuer: as.issuer,
        clientId: as.confidentialClient.clientId,
        clientSecret: as.confidentialClient.clientSecret,
        scopes: ['openid', img],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const link = await makeLink({ provider: 'evil', subject: img, name: 'evil-conn' });
      const page = await openConnectPage(link.url);
      assert.equal(page.status, 200);
      assert.ok(!page.body.includes(evil) && !page.body.includes(img), 'no raw markup');
      assert.ok(page.body.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
      assert.ok(page.body.includes('&#60;img src=x onerror=alert(1)&#62;'));
    });

    test('bad requests: 400/404/409 with an error code, nothing written', async () => {
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{}, 400, 'invalid_request'],
        [{ provider: 'fixture' }, 400, 'invalid_request'],
        [{ provider: 'fixture', subject: 's', connection: 'fixture-alice' }, 400, 'invalid_request'],
        [{ provider: 'fixture', subject: 's', expiresIn: '31d' }, 400, 'invalid_request'],
        [{ provider: 'fixture', subject: 's', expiresIn: '10s' }, 400, 'invalid_request'],
        [{ provider: 'fixture', subject: 's', extra: 1 }, 400, 'invalid_request'],
        [{ provider: 'nope', subject: 's' }, 404, 'not_found'],
        [{ connection: 'nope' }, 404, 'not_found'],
        [{ provider: 'fixture', subject: 's', name: 'fixture-alice' }, 409, 'conflict'],
      ];
      const count = async () => ((await server.admin('GET', '/v1/connect-links')).body as unknown[]).length;
      const before = await count();
      for (const [body, status, error] of cases) {
        const res = await server.admin('POST', '/v1/connect-links', body);
        assert.equal(res.status, status, JSON.stringify(body));
        assert.equal((res.body as { error: string }).error, error, JSON.stringify(res.body));
      }
      assert.equal(await count(), before);
      assert.equal((await fetch(`${server.url}/v1/connect-links`)).status, 401);
      assert.equal((await fetch(`${server.url}/v1/connect-links`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);
    });

    test('a removed link stops working; removal is audited', async () => {
      const link = await makeLink({ provider: 'fixture', subject: 'hal', name: 'fixture-hal' });
      const removed = await server.admin('DELETE', `/v1/connect-links/${link.id}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal((await openConnectPage(link.url)).status, 404);
      assert.equal((await server.admin('DELETE', `/v1/connect-links/${link.id}`)).status, 404);
      assert.ok((await auditEvents(server, '?action=connect_link.remove')).some((e) => e.detail.link === link.id));
    });

    test('roles: an operator makes and removes links under its own name; a viewer can only list them', async () => {
      const key = async (name: string, role: string): Promise<string> => {
        assert.equal((await server.admin('POST', '/v1/operators', { name, role })).status, 201);
        const made = await server.admin('POST', `/v1/operators/${name}/keys`, {});
        assert.equal(made.status, 201, JSON.stringify(made.body));
        const apiKey = (made.body as { apiKey: string }).apiKey;
        secrets.push(apiKey);
        return apiKey;
      };
      const call = (apiKey: string, method: string, path: string, body?: unknown) =>
        fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      const operator = await key('olive', 'operator');
      const viewer = await key('victor', 'viewer');
      const res = await call(operator, 'POST', '/v1/connect-links', { provider: 'fixture', subject: 'jo', name: 'fixture-jo' });
      assert.equal(res.status, 201);
      const link = (await res.json()) as CreatedLink;
      secrets.push(link.url.split('/').at(-1) ?? '');
      assert.match((await openConnectPage(link.url)).body, /The operator <strong id="asked-by">olive<\/strong>/);
      const created = await auditEvents(server, '?action=connect_link.create');
      assert.ok(created.some((e) => e.actor.type === 'operator' && e.actor.name === 'olive' && e.detail.link === link.id));

      assert.equal((await call(viewer, 'POST', '/v1/connect-links', { provider: 'fixture', subject: 'jo' })).status, 403);
      assert.equal((await call(viewer, 'DELETE', `/v1/connect-links/${link.id}`)).status, 403);
      assert.equal((await call(viewer, 'GET', '/v1/connect-links')).status, 200);
      assert.equal((await call(operator, 'DELETE', `/v1/connect-links/${link.id}`)).status, 200);
      const removed = await auditEvents(server, '?action=connect_link.remove');
      assert.ok(removed.some((e) => e.actor.name === 'olive' && e.detail.link === link.id));
    });

    test('an agent may ask for a link only for a connection its policy names (audited as the agent)', async () => {
      const agent = await createAgent(server, { name: 'mail-bot', policy: { rules: [{ connections: ['mail-*'], methods: ['GET'], paths: ['/**'] }] } });
      secrets.push(agent.apiKey);
      const asAgent = (body: unknown) =>
        fetch(`${server.url}/v1/connect-links`, {
          method: 'POST',
          headers: { authorization: `Bearer ${agent.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const ok = await asAgent({ provider: 'fixture', subject: 'ivy', name: 'mail-ivy' });
      assert.equal(ok.status, 201);
      const link = (await ok.json()) as CreatedLink;
      secrets.push(link.url.split('/').at(-1) ?? '');
      assert.match((await openConnectPage(link.url)).body, /The agent <strong id="asked-by">mail-bot<\/strong>/);

      for (const body of [{ provider: 'fixture', subject: 'ivy', name: 'other' }, { provider: 'fixture', subject: 'ivy' }, { connection: 'fixture-alice' }]) {
        const res = await asAgent(body);
        assert.equal(res.status, 403, JSON.stringify(body));
      }
      const created = await auditEvents(server, '?action=connect_link.create');
      assert.ok(created.some((e) => e.actor.type === 'agent' && e.actor.name === 'mail-bot' && e.outcome === 'success' && e.connection === 'mail-ivy'));
      assert.ok(created.some((e) => e.actor.type === 'agent' && e.outcome === 'denied' && e.connection === 'other'));
      // Agents cannot list or remove links.
      assert.equal((await fetch(`${server.url}/v1/connect-links`, { headers: { authorization: `Bearer ${agent.apiKey}` } })).status, 401);

      // A working connection its policy names: an agent cannot have its account swapped, by a reconnect link
      // or by a "new" link under the same name; a broken one it may ask a person to repair.
      const imported = await server.admin('POST', '/v1/connections/import', { name: 'mail-work', provider: 'fixture', accessToken: 'at-mail-work' });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      assert.equal((await asAgent({ connection: 'mail-work' })).status, 403, 'no reconnect link for an active connection');
      assert.equal((await asAgent({ provider: 'fixture', subject: 'eve', name: 'mail-work' })).status, 409, 'a new link never takes an existing name');
      await server.core.connections.setStatus((imported.body as { id: string }).id, 'needs_reauth', 'refused');
      const repair = await asAgent({ connection: 'mail-work' });
      const repairText = await repair.text();
      assert.equal(repair.status, 201, repairText);
      secrets.push((JSON.parse(repairText) as CreatedLink).url.split('/').at(-1) ?? '');
    });
  });
}

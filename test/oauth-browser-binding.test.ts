import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { launchChromium } from './helpers/browser.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { addFixtureProvider, getConnection, newBrowser, openLink, pageError, storedTokens, visit } from './helpers/oauth-flows.js';

describe('consent flows are bound to the browser that opened the link', () => {
  let as: AuthorizationServer;
  let server: InProcess;

  before(async () => {
    as = await startAuthorizationServer();
    server = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    await addFixtureProvider(server, as);
  });
  const startTokens: string[] = [];
  after(async () => {
    await server?.close();
    await as?.close();
    // The one-time start links are bearer links until opened: they never reach the log.
    for (const token of startTokens) assert.ok(!server.logs.text().includes(token), 'a start token is in the server log');
  });

  async function start(name: string): Promise<{ connectionId: string; authorizationUrl: string }> {
    const res = await server.admin('POST', '/v1/connect/fixture', { name });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const started = res.body as { connectionId: string; authorizationUrl: string };
    startTokens.push(started.authorizationUrl.split('/').at(-1) ?? '');
    return started;
  }

  test('the start page sets a __Host- cookie (HttpOnly, Secure, SameSite=Lax) and sends the browser to the provider', async () => {
    const { authorizationUrl } = await start('cookie-shape');
    const res = await fetch(authorizationUrl, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(new URL(res.headers.get('location') ?? '').origin, new URL(as.issuer).origin);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const [cookie = ''] = res.headers.getSetCookie();
    assert.match(cookie, /^__Host-lk_flow_[0-9a-f]{16}=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/);
  });

  test('a callback finished in another browser is refused and stores nothing; the link opens only once', async () => {
    const { connectionId, authorizationUrl } = await start('other-browser');
    const owner = newBrowser();
    const intruder = newBrowser();
    const callback = await as.approve(await openLink(authorizationUrl, owner));

    await assert.rejects(openLink(authorizationUrl, intruder), /start page answered 400/);
    const page = await visit(callback, intruder);
    assert.equal(page.status, 400);
    assert.equal(pageError(page.body), 'invalid_state');
    const connection = await getConnection(server, connectionId);
    assert.equal(connection.status, 'error');
    assert.match(connection.lastError ?? '', /another browser/);
    assert.equal((await storedTokens(server, connectionId)).accessToken, undefined);
    // The state was used up by the refused attempt: the owner starts again.
    assert.equal((await visit(callback, owner)).status, 400);
  });

  test('a provider may opt out (a callback relayed server-side); the opt-out is audited', async () => {
    const patched = await server.admin('PATCH', '/v1/providers/fixture', { quirks: { unboundCallback: true } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    try {
      const { connectionId, authorizationUrl } = await start('relayed');
      assert.equal(new URL(authorizationUrl).origin, new URL(as.issuer).origin, 'the provider URL itself');
      assert.equal((await visit(await as.approve(authorizationUrl), newBrowser())).status, 200);
      assert.equal((await getConnection(server, connectionId)).status, 'active');
      const audit = await server.admin('GET', '/v1/audit?action=provider.update');
      const events = audit.body as Array<{ detail: { unboundCallback?: boolean } }>;
      assert.ok(events.some((e) => e.detail.unboundCallback === true));
    } finally {
      await server.admin('PATCH', '/v1/providers/fixture', { quirks: {} });
    }
  });

  describe('in real Chromium: a pair of browser contexts', () => {
    let browser: Browser;
    let alice: BrowserContext;
    let mallory: BrowserContext;

    before(async () => {
      browser = await launchChromium();
      alice = await browser.newContext();
      mallory = await browser.newContext();
    });
    after(async () => browser?.close());

    /** Alice opens the link in her browser; her consent at the provider is played by the fixture's driver. */
    async function aliceConsents(authorizationUrl: string): Promise<string> {
      const page = await alice.newPage();
      let providerUrl: string | undefined;
      const issuer = new URL(as.issuer).origin;
      page.on('request', (request) => {
        if (providerUrl === undefined && new URL(request.url()).origin === issuer) providerUrl = request.url();
      });
      // Lands on the provider's sign-in page.
      await page.goto(authorizationUrl);
      await page.close();
      assert.ok(providerUrl, 'the start page sent the browser to the provider');
      return as.approve(providerUrl);
    }

    test('finished in the browser that opened it, the connection is active', async () => {
      const { connectionId, authorizationUrl } = await start('chromium-alice');
      const callback = await aliceConsents(authorizationUrl);
      const page = await alice.newPage();
      await page.goto(callback);
      assert.equal(await page.locator('#success').textContent(), 'Connected');
      assert.equal((await getConnection(server, connectionId)).status, 'active');
    });

    test('finished in another browser context, it is refused', async () => {
      const { connectionId, authorizationUrl } = await start('chromium-mallory');
      const callback = await aliceConsents(authorizationUrl);
      const page = await mallory.newPage();
      const response = await page.goto(callback);
      assert.equal(response?.status(), 400);
      assert.equal(await page.locator('#error').getAttribute('data-error'), 'invalid_state');
      assert.equal((await getConnection(server, connectionId)).status, 'error');
    });
  });
});

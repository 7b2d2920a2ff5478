import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { addFixtureApiProvider, createAgent } from './helpers/broker-setup.js';
import { launchChromium } from './helpers/browser.js';
import type { CreatedLink } from './helpers/connect-link.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { FIXTURE_SCOPES, assertNoSecrets, getConnection, storedTokens } from './helpers/oauth-flows.js';

/** Where browser tests leave screenshots for CI to keep (not committed). */
const SCREENSHOTS = resolve(import.meta.dirname, '..', 'artifacts', 'screenshots');

/** axe-core, when installed (the console brings it as a dev dependency). */
function axeSource(): string | undefined {
  try {
    return readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The end user's side of a connect link in real Chromium: each person is a
 * fresh browser context (no cookies, no session of any kind).
 */
describe('connect links in real Chromium', () => {
  let as: AuthorizationServer;
  let server: InProcess;
  let browser: Browser;
  let attacker: Server;
  const secrets: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    as = await startAuthorizationServer();
    server = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    await addFixtureApiProvider(server, as, 'fixture');
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await new Promise((resolve) => (attacker === undefined ? resolve(undefined) : attacker.close(resolve)));
    assertNoSecrets(server.logs.text(), secrets, 'server log');
    await server?.close();
    await as?.close();
  });

  async function person(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    // CSP violations and script errors; a missing favicon is not one.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    return { context, page, problems };
  }

  async function makeLink(body: Record<string, unknown>): Promise<CreatedLink> {
    const res = await server.admin('POST', '/v1/connect-links', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const link = res.body as CreatedLink;
    secrets.push(link.url.split('/').at(-1) ?? '');
    return link;
  }

  /**
   * Signs in and consents at the provider in this browser context: the
   * fixture's interaction endpoints answer JSON, not forms, so the posts go
   * through the context's own request client (the same cookie jar). Returns
   * where the provider sends the browser back (Latchkey's callback), without
   * going there, so a test can choose which browser does.
   */
  async function consentAtProvider(context: BrowserContext, page: Page, accountId = 'test-user'): Promise<string> {
    const issuer = new URL(as.issuer).origin;
    let here = new URL(page.url());
    for (let step = 0; step < 6; step++) {
      if (here.origin !== issuer) return here.href;
      let location: string | undefined;
      if (here.pathname.startsWith('/interaction/')) {
        const details = (await (await context.request.get(here.href)).json()) as { prompt: { name: string } };
        const action = details.prompt.name === 'login' ? 'login' : 'consent';
        const res = await context.request.post(`${here.origin}${here.pathname}/${action}`, { form: action === 'login' ? { accountId } : {}, maxRedirects: 0 });
        location = res.headers().location;
      } else {
        location = (await context.request.get(here.href, { maxRedirects: 0 })).headers().location;
      }
      assert.ok(location, `the provider answered ${here.pathname} without a redirect`);
      here = new URL(location, here);
    }
    throw new Error('the provider never sent the browser back');
  }

  /** Continue on the open link page, consent, and land on the result page in the same browser. */
  async function continueAndConsent(context: BrowserContext, page: Page): Promise<void> {
    await page.locator('#continue').click();
    await page.waitForURL((url) => url.origin === new URL(as.issuer).origin);
    await page.goto(await consentAtProvider(context, page));
  }

  test('open, read, continue, consent: the result page names the connection, and it is active', async () => {
    const link = await makeLink({ provider: 'fixture', subject: 'alice@example.com', name: 'br-alice', scopes: FIXTURE_SCOPES });
    const { context, page, problems } = await person();
    const response = await page.goto(link.url);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('#title').textContent(), 'Connect your fixture account');
    assert.equal(await page.locator('#subject').textContent(), 'alice@example.com');
    assert.equal(await page.locator('#connection').textContent(), 'br-alice');
    assert.deepEqual(await page.locator('#scopes li').allTextContents(), FIXTURE_SCOPES);
    // The stylesheet loads under `style-src 'self'` (no inline style anywhere).
    assert.equal(await page.evaluate('getComputedStyle(document.getElementById("continue")).backgroundColor'), 'rgb(29, 78, 216)');
    // Reachable by keyboard: Tab lands on Continue, Enter presses it.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'continue');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.origin === new URL(as.issuer).origin);
    await page.goto(await consentAtProvider(context, page));
    assert.equal(new URL(page.url()).pathname.startsWith('/oauth/callback'), true, page.url());
    assert.equal(await page.locator('#success').textContent(), 'Connected');
    assert.match((await page.locator('main').textContent()) ?? '', /br-alice/);
    const connection = await getConnection(server, 'br-alice');
    assert.equal(connection.status, 'active');
    const tokens = await storedTokens(server, connection.id);
    for (const t of [tokens.accessToken, tokens.refreshToken, tokens.idToken]) if (t !== undefined) secrets.push(t);
    assertNoSecrets(await page.content(), secrets.slice(-3), 'result page');
    assertNoSecrets(page.url(), secrets, 'result URL');
    assert.deepEqual(problems, [], 'no CSP violation, script error or dialog');

    // Used once: the next person (or the same one) sees a clear page.
    const second = await person();
    const again = await second.page.goto(link.url);
    assert.equal(again?.status(), 410);
    assert.equal(await second.page.locator('#gone').getAttribute('data-link'), 'used');
  });

  test('started in one browser, the callback replayed in another is refused and nothing is stored', async () => {
    const link = await makeLink({ provider: 'fixture', subject: 'bob', name: 'br-bob', scopes: FIXTURE_SCOPES });
    const owner = await person();
    await owner.page.goto(link.url);
    await owner.page.locator('#continue').click();
    await owner.page.waitForURL((url) => url.origin === new URL(as.issuer).origin);
    const callback = await consentAtProvider(owner.context, owner.page);
    const thief = await person();
    const res = await thief.page.goto(callback);
    assert.equal(res?.status(), 400);
    assert.equal(await thief.page.locator('#error').getAttribute('data-error'), 'invalid_state');
    const connection = await getConnection(server, 'br-bob');
    assert.notEqual(connection.status, 'active');
    assert.equal((await storedTokens(server, connection.id)).accessToken, undefined);
  });

  test('a reconnect link brings a needs_reauth connection back under the same id; its agent calls through again', async () => {
    const first = await makeLink({ provider: 'fixture', subject: 'carol', name: 'br-carol', scopes: FIXTURE_SCOPES });
    const a = await person();
    await a.page.goto(first.url);
    await continueAndConsent(a.context, a.page);
    const before = await getConnection(server, 'br-carol');
    assert.equal(before.status, 'active');
    const agent = await createAgent(server, { name: 'carol-bot', policy: { rules: [{ connections: ['br-carol'], methods: ['GET'], paths: ['/**'] }] } });
    secrets.push(agent.apiKey);
    // The provider forgets the grant (as a user revoking the app would); the next refresh fails for good.
    await server.core.store.connections.update(before.id, { status: 'needs_reauth', lastError: 'invalid_grant' }, new Date().toISOString());
    const proxy = () => fetch(`${server.url}/v1/proxy/br-carol/api/me`, { headers: { authorization: `Bearer ${agent.apiKey}` } });
    assert.equal((await proxy()).status, 409);

    const link = await makeLink({ connection: 'br-carol' });
    const b = await person();
    await b.page.goto(link.url);
    assert.equal(await b.page.locator('#title').textContent(), 'Reconnect your fixture account');
    await continueAndConsent(b.context, b.page);
    assert.equal(await b.page.locator('#success').textContent(), 'Reconnected');
    const afterwards = await getConnection(server, 'br-carol');
    assert.equal(afterwards.id, before.id);
    assert.equal(afterwards.status, 'active');
    const res = await proxy();
    assert.equal(res.status, 200, await res.clone().text());
    const tokens = await storedTokens(server, before.id);
    for (const t of [tokens.accessToken, tokens.refreshToken, tokens.idToken]) if (t !== undefined) secrets.push(t);
  });

  test('a form on another site cannot press Continue for the visitor', async () => {
    const link = await makeLink({ provider: 'fixture', subject: 'dave', name: 'br-dave', scopes: FIXTURE_SCOPES });
    // `localhost` is another site than `127.0.0.1`: the page an attacker would send the owner to.
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<form method="post" action="${link.url}"><button id="go">win a prize</button></form>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const port = (attacker.address() as AddressInfo).port;
    const victim = await person();
    await victim.page.goto(`http://localhost:${port}/`);
    const [response] = await Promise.all([victim.page.waitForResponse((r) => r.url() === link.url), victim.page.locator('#go').click()]);
    assert.equal(response.status(), 403);
    assert.equal((await victim.context.cookies()).filter((c) => c.name.includes('lk_flow')).length, 0, 'no flow bound to the victim');
    // The owner can still use it.
    const owner = await person();
    assert.equal((await owner.page.goto(link.url))?.status(), 200);
  });

  test('HTML in the provider name and the subject is shown as text, and nothing runs', async () => {
    const evil = '<img src=x onerror="alert(document.domain)"><script>alert(1)</script>';
    const res = await server.admin('POST', '/v1/providers', {
      name: 'evil',
      displayName: evil,
      issuer: as.issuer,
      clientId: as.confidentialClient.clientId,
      clientSecret: as.confidentialClient.clientSecret,
      scopes: FIXTURE_SCOPES,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const link = await makeLink({ provider: 'evil', subject: `<b>${evil}</b>`, name: 'br-evil' });
    const { page, problems } = await person();
    await page.goto(link.url);
    assert.equal(await page.locator('#provider').textContent(), evil);
    assert.equal(await page.locator('#subject').textContent(), `<b>${evil}</b>`);
    assert.equal(await page.locator('img, script, b').count(), 0);
    assert.deepEqual(problems.filter((p) => p.startsWith('dialog')), []);
  });

  test('every page: screenshots, and no serious or critical axe violations', async () => {
    const axe = axeSource();
    const check = async (page: Page, name: string): Promise<void> => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `connect-link-${name}.png`), fullPage: true });
      if (axe === undefined) return;
      // Through the DevTools protocol: the pages' CSP (rightly) refuses an inline script.
      await page.evaluate(axe);
      const serious = await page.evaluate<Array<{ id: string; impact: string | null }>>(
        `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact })))`,
      );
      assert.deepEqual(serious.filter((v) => v.impact === 'serious' || v.impact === 'critical'), [], `${name}: axe violations`);
    };
    const link = await makeLink({ provider: 'fixture', subject: 'erin@example.com', name: 'br-erin', scopes: FIXTURE_SCOPES });
    const { context, page } = await person();
    await page.goto(link.url);
    await check(page, 'page');
    await continueAndConsent(context, page);
    await check(page, 'connected');
    await page.goto(link.url);
    await check(page, 'used');
    const denied = await makeLink({ provider: 'fixture', subject: 'erin@example.com', name: 'br-erin-2', scopes: FIXTURE_SCOPES });
    const other = await person();
    await other.page.goto(denied.url);
    await other.page.locator('#continue').click();
    await other.page.waitForURL((url) => url.origin === new URL(as.issuer).origin);
    await other.page.goto(`${server.url}/oauth/callback?state=unknown&code=x`);
    await check(other.page, 'failed');
  });
});

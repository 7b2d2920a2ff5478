import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN } from './helpers/in-process.js';
import { addOperator, open, signIn, startConsoleEnv, type ConsoleEnv } from './helpers/console-env.js';
import { Traffic, pageReadable, screenshot } from './helpers/console.js';
import { addFixtureProvider } from './helpers/oauth-flows.js';

const PASSWORD = 'a long enough test password';
// Names are restricted to letters, digits, ".", "_" and "-"; these fields take any text.
const HTML_REASON = '<img src=x id=pwn-reason onerror="window.__pwned=1">';
const HTML_PATH = '/<svg id="pwn-path" onload="window.__pwned=1">';
const HTML_DISPLAY = '<b id="pwn-provider">bold</b>';
const HTML_SUBJECT = '<script id="pwn-subject">window.__pwned=1</script>';
const ACCESS = 'imported_access_token_value_0123456789';
const REFRESH = 'imported_refresh_token_value_0123456789';

let env: ConsoleEnv;
let agentKey: string;
let webhookSecret: string;

before(async () => {
  env = await startConsoleEnv();
  const { server, as } = env;
  await addOperator(server, 'vera', 'viewer', PASSWORD);
  await addOperator(server, 'ada', 'admin', PASSWORD);
  await addFixtureProvider(server, as);
  assert.equal((await server.admin('PATCH', '/v1/providers/fixture', { displayName: HTML_DISPLAY })).status, 200);
  const imported = await server.admin('POST', '/v1/connections/import', {
    name: 'imported',
    provider: 'fixture',
    subject: HTML_SUBJECT,
    accessToken: ACCESS,
    refreshToken: REFRESH,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  assert.equal(imported.status, 201, JSON.stringify(imported.body));
  const agent = await server.admin('POST', '/v1/agents', { name: 'html-bot', policy: { rules: [{ connections: ['imported'], methods: ['GET'] }] } });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  agentKey = (agent.body as { apiKey: string }).apiKey;
  // The agent's own words and asked paths: shown on the proposals page and in the audit event's detail.
  const proposal = await fetch(`${server.url}/v1/proposals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ connection: 'imported', methods: ['GET'], paths: [HTML_PATH], reason: HTML_REASON }),
  });
  assert.equal(proposal.status, 201, await proposal.clone().text());
  const hook = await server.admin('POST', '/v1/webhooks', { url: 'https://hooks.example.com/latchkey', events: ['*'] });
  webhookSecret = (hook.body as { secret: string }).secret;
});
after(() => env?.close());

function secrets(): string[] {
  return [ADMIN, agentKey, webhookSecret, ACCESS, REFRESH, env.as.confidentialClient.clientSecret ?? '', PASSWORD];
}

function assertClean(text: string, where: string): void {
  for (const secret of secrets()) assert.ok(!text.includes(secret), `${where} holds a secret (${secret.slice(0, 6)}…)`);
}

/** The session's CSRF token, as the app reads it. */
async function csrfOf(page: Page): Promise<string> {
  return page.evaluate(async () => ((await (await fetch('/v1/session')).json()) as { csrfToken: string }).csrfToken);
}

describe('a viewer', () => {
  let context: BrowserContext;
  let page: Page;
  before(async () => {
    context = await env.browser.newContext();
    page = await signIn(context, env.server, 'vera', PASSWORD);
  });
  after(() => context.close());

  test('sees no change controls on any page', async () => {
    for (const path of ['/providers', '/connections/imported', '/agents', '/leases', '/webhooks', '/proposals']) {
      await open(page, env.server, path);
      await page.waitForLoadState('networkidle');
      const buttons = await page.locator('main button').allTextContents();
      assert.deepEqual(
        buttons.filter((b) => /add|create|remove|connect|refresh|reconnect|revoke|end|decide|approve|deny|edit/i.test(b)),
        [],
        `${path} shows ${buttons.join(', ')}`,
      );
    }
    assert.equal(await page.getByRole('link', { name: 'Operators' }).count(), 0);
  });

  test('and its own API calls to change things are refused with 403', async () => {
    const csrf = await csrfOf(page);
    // Page-side code as a string: tsx would wrap named functions in a helper the page lacks.
    const statuses = await page.evaluate<number[]>(`(async () => {
      const send = async (method, path, body) =>
        (await fetch(path, {
          method,
          headers: { 'x-latchkey-csrf': ${JSON.stringify(csrf)}, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })).status;
      return [
        await send('POST', '/v1/agents', { name: 'sneaky' }),
        await send('DELETE', '/v1/connections/imported'),
        await send('POST', '/v1/connections/imported/refresh'),
        await send('POST', '/v1/providers', { name: 'p2', issuer: 'https://idp.example.com' }),
        await send('GET', '/v1/connections/imported/token'),
      ];
    })()`);
    assert.deepEqual(statuses, [403, 403, 403, 403, 403]);
    assert.equal((await env.server.admin('GET', '/v1/connections/imported')).status, 200);
  });
});

describe('an admin session', () => {
  let context: BrowserContext;
  let page: Page;
  let traffic: Traffic;
  before(async () => {
    context = await env.browser.newContext();
    page = await signIn(context, env.server, 'ada', PASSWORD);
    traffic = new Traffic(page);
  });
  after(() => context.close());

  test('a request with a foreign Origin, or without the CSRF token, is refused', async () => {
    const cookies = await context.cookies(env.server.url);
    const session = cookies.find((c) => c.name.includes('lk_session'));
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    const cookie = `${session.name}=${session.value}`;
    const csrf = await csrfOf(page);
    const post = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${env.server.url}/v1/agents`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name: 'csrf-victim' }) });
    assert.equal((await post({ origin: 'https://evil.example', 'x-latchkey-csrf': csrf })).status, 403);
    assert.equal((await post({ origin: env.server.url })).status, 403, 'no CSRF token');
    assert.equal((await post({ origin: env.server.url, 'x-latchkey-csrf': 'wrong' })).status, 403);
    assert.equal((await env.server.admin('GET', '/v1/agents/csrf-victim')).status, 404);
  });

  test('a cross-site form post is refused', async () => {
    // Another site (localhost vs 127.0.0.1 are different sites) posts a form to the API.
    const target = `${env.server.url}/v1/agents`;
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        `<form id="f" method="post" action="${target}" enctype="text/plain"><input name='{"name":"forged","x":"' value='"}'></form>` +
          '<script>document.getElementById("f").submit()</script>',
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const evilPage = await context.newPage();
      const landed = evilPage.waitForURL(target);
      await evilPage.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      await landed;
      const body = (await evilPage.textContent('body')) ?? '';
      assert.match(body, /"error":"(forbidden|unauthorized)"/);
      await evilPage.close();
    } finally {
      evil.close();
    }
    assert.equal((await env.server.admin('GET', '/v1/agents/forged')).status, 404);
  });

  test('the CSP stops an injected inline script', async () => {
    await open(page, env.server, '/');
    const ran = await page.evaluate<boolean>(`(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.append(script);
      await new Promise((r) => setTimeout(r, 50));
      return window.__injected === true;
    })()`);
    assert.equal(ran, false);
  });

  test('HTML in provider, agent and connection fields and in audit details renders as text', async () => {
    const checks: Array<[string, string]> = [
      ['/providers', HTML_DISPLAY],
      ['/connections', HTML_SUBJECT],
      ['/proposals', HTML_REASON],
      ['/audit', JSON.stringify(HTML_PATH).slice(1, -1)],
    ];
    for (const [path, text] of checks) {
      await open(page, env.server, path);
      await page.locator('main', { hasText: text }).first().waitFor();
      assert.equal(await page.locator('[id^=pwn]').count(), 0, `${path}: an element was made from untrusted text`);
      await screenshot(page, `untrusted-${path.slice(1)}`);
    }
    assert.equal(await page.evaluate<unknown>('window.__pwned'), undefined);
  });

  test('no token, secret or key in the page, its storage, readable cookies or its requests', async () => {
    for (const path of ['/', '/providers', '/connections', '/connections/imported', '/agents', '/leases', '/audit', '/webhooks', '/proposals', '/operators']) {
      await open(page, env.server, path);
      await page.waitForLoadState('networkidle');
      assertClean(await pageReadable(page), `page ${path}`);
    }
    assert.equal(await page.evaluate<string>('document.cookie'), '', 'no cookie is readable by script');
    assertClean(traffic.requestText(), 'requests');
    for (const response of traffic.responses) assertClean(response.body, `response ${response.url}`);
  });

  test('a new agent key is shown once, and is gone from the page and storage when closed', async () => {
    await open(page, env.server, '/agents');
    await page.getByLabel('Name', { exact: true }).fill('shown-once');
    await page.getByRole('button', { name: 'Create agent' }).click();
    const key = await page.locator('dialog #secret-value').inputValue();
    assert.match(key, /^lk_/);
    await page.getByRole('button', { name: 'Close' }).click();
    await page.locator('dialog').waitFor({ state: 'detached' });
    const readable = await pageReadable(page);
    assert.ok(!readable.includes(key), 'the key is still in the page');
    const urls = traffic.requests.map((r) => r.split('\n')[0] ?? '').join('\n');
    assert.ok(!urls.includes(key), 'the key went into a URL');
  });
});

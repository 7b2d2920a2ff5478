import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createAgent, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { addOperator, startConsoleEnv, type ConsoleEnv } from './helpers/console-env.js';
import { TestOAuthProvider, connectExpectingAuth, mcpClient } from './helpers/mcp-remote.js';

const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">Evil Host';

describe('remote MCP consent in the console (Chromium)', () => {
  let env: ConsoleEnv;
  let callback: FakeApi;

  before(async () => {
    env = await startConsoleEnv();
    callback = await startFakeApi((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('back at the host'));
    await addOperator(env.server, 'olga', 'operator', 'olga-password-123456');
    await createAgent(env.server, { name: 'browser-bot', policy: { rules: [] } });
  });

  after(async () => {
    await env?.close();
    await callback?.close();
  });

  test('the host sends the browser to Latchkey; the operator signs in, sees the client, picks the agent; the host gets its code', async () => {
    const redirect = `${callback.url}/callback`;
    const provider = new TestOAuthProvider(redirect, { client_name: HOSTILE_NAME, redirect_uris: [redirect], token_endpoint_auth_method: 'none' });
    const transport = await connectExpectingAuth(`${env.server.url}/mcp`, provider);
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.goto((provider.authorizationUrl as URL).href);
    // No session yet: the console asks to sign in first, then comes back to the consent page.
    await page.getByLabel('Operator name').fill('olga');
    await page.getByLabel('Password').fill('olga-password-123456');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Authorize an MCP client' }).waitFor();
    assert.match(new URL(page.url()).pathname, /^\/console\/mcp\/consent\//);
    assert.equal(await page.locator('[data-testid=client-name]').textContent(), HOSTILE_NAME, 'the name is shown as text');
    assert.equal(await page.locator('main img').count(), 0, 'untrusted text is never HTML');
    assert.equal(await page.locator('[data-testid=redirect-uri]').textContent(), redirect);
    assert.match((await page.locator('main').textContent()) ?? '', /dynamic client registration/);
    await page.locator('#agent').selectOption('browser-bot');
    // Checked before Allow: afterwards the page is navigating to the host's redirect URI.
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    const arrived = page.waitForRequest((r) => r.url().startsWith(redirect));
    await page.getByRole('button', { name: 'Allow' }).click();
    const back = new URL((await arrived).url());
    const code = back.searchParams.get('code');
    assert.ok(code, back.href);
    await transport.finishAuth(code);
    const client = mcpClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(`${env.server.url}/mcp`), { authProvider: provider }));
    assert.ok((await client.listTools()).tools.length >= 3);
    await client.close();
    await context.close();
    const audit = await env.server.admin('GET', '/v1/audit?action=mcp.client.authorize');
    const events = audit.body as Array<{ actor: { type: string; name: string }; detail: Record<string, unknown> }>;
    assert.ok(events.some((e) => e.actor.name === 'olga' && e.detail.agent === 'browser-bot'), JSON.stringify(events));
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { addOperator, open, signIn, startConsoleEnv, type ConsoleEnv } from './helpers/console-env.js';
import { assertAccessible, screenshot } from './helpers/console.js';
import { TestOAuthProvider, authorizeWithOperator, connectExpectingAuth } from './helpers/mcp-remote.js';

const PASSWORD = 'a long enough test password';
const REDIRECT = 'http://127.0.0.1:1/callback';
// The host names itself at registration: untrusted text that must stay text in the console.
const HOST_NAME = '<img src=x id=pwn-host onerror=window.__pwned=1>';

let env: ConsoleEnv;
let host: { clientId: string; access: string };

/** DCR, an operator's consent for `agent`, the code exchanged: what a remote MCP host holds afterwards. */
async function grant(agent: string, name: string): Promise<{ clientId: string; access: string }> {
  const provider = new TestOAuthProvider(REDIRECT, {
    client_name: name,
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });
  const transport = await connectExpectingAuth(`${env.server.url}/mcp`, provider);
  const { back } = await authorizeWithOperator(provider, env.server.admin, { agent });
  await transport.finishAuth(back.searchParams.get('code') ?? '');
  const access = provider.tokens()?.access_token;
  assert.ok(access);
  return { clientId: (provider.clientInformation() as { client_id: string }).client_id, access };
}

async function mcpStatus(token: string): Promise<number> {
  const res = await fetch(`${env.server.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  await res.text();
  return res.status;
}

/** Opens the agent's dialog from the agents page and waits for its MCP hosts section to load. */
async function openAgent(page: Page, agent: string): Promise<void> {
  await open(page, env.server, '/agents');
  await page.getByRole('button', { name: `Details of ${agent}` }).click();
  await page.locator('dialog[open]').waitFor();
  await page.locator('dialog #mcp-hosts tbody tr, dialog #mcp-hosts-empty').first().waitFor();
}

before(async () => {
  env = await startConsoleEnv();
  await addOperator(env.server, 'olga', 'operator', PASSWORD);
  await addOperator(env.server, 'vic', 'viewer', PASSWORD);
  for (const name of ['host-bot', 'lonely-bot']) assert.equal((await env.server.admin('POST', '/v1/agents', { name, policy: { rules: [] } })).status, 201);
  host = await grant('host-bot', HOST_NAME);
});
after(() => env?.close());

test('a viewer sees the agent’s MCP host, as text, read-only: no Revoke or other change button in the dialog', async () => {
  const context: BrowserContext = await env.browser.newContext();
  const page = await signIn(context, env.server, 'vic', PASSWORD);
  await openAgent(page, 'host-bot');
  const row = page.locator('dialog #mcp-hosts tbody tr');
  assert.equal(await row.count(), 1);
  assert.equal(await row.locator('td').first().textContent(), HOST_NAME);
  assert.ok((await row.textContent())?.includes(host.clientId));
  const buttons = await page.locator('dialog button').allTextContents();
  assert.deepEqual(buttons, ['Close'], `the viewer's dialog shows ${buttons.join(', ')}`);
  assert.equal(await page.locator('dialog textarea').count(), 0, 'the policy is shown, not editable');
  assert.equal(await page.locator('[id^=pwn]').count(), 0, 'an element was made from the client name');
  assert.equal(await page.evaluate<unknown>('window.__pwned'), undefined);
  await assertAccessible(page, 'agent dialog (viewer)');
  await page.locator('dialog #mcp-hosts').scrollIntoViewIfNeeded();
  await screenshot(page, 'agent-dialog-viewer');
  await context.close();
  assert.equal(await mcpStatus(host.access), 200, 'nothing was revoked');
});

test('an operator sees the host (its HTML name as text), revokes it after confirming; the row goes and its token gets 401 on /mcp', async () => {
  const context = await env.browser.newContext();
  const page = await signIn(context, env.server, 'olga', PASSWORD);
  await openAgent(page, 'host-bot');
  const row = page.locator('dialog #mcp-hosts tbody tr');
  assert.equal(await row.count(), 1);
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[0], HOST_NAME);
  assert.equal(cells[1], host.clientId);
  assert.equal(cells[2], 'dynamic registration');
  for (const at of cells.slice(3, 6)) assert.match(at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.equal(await page.locator('[id^=pwn]').count(), 0, 'an element was made from the client name');
  assert.equal(await page.evaluate<unknown>('window.__pwned'), undefined);
  await assertAccessible(page, 'agent dialog (operator)');
  await page.locator('dialog #mcp-hosts').scrollIntoViewIfNeeded();
  await screenshot(page, 'agent-dialog-mcp-hosts');

  const revoke = page.getByRole('button', { name: `Revoke ${HOST_NAME} (${host.clientId})`, exact: true });
  // Cancelling the confirmation changes nothing.
  page.once('dialog', (d) => void d.dismiss());
  await revoke.click();
  await page.waitForLoadState('networkidle');
  assert.equal(await row.count(), 1);
  assert.equal(await mcpStatus(host.access), 200, 'cancelled: the host still works');

  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await revoke.click();
  await page.locator('dialog #mcp-hosts-empty').waitFor();
  assert.ok(asked.includes(HOST_NAME) && asked.includes(host.clientId) && asked.includes('host-bot'), asked);
  assert.equal(await page.locator('dialog #mcp-hosts').count(), 0, 'the row is gone');
  assert.equal(await mcpStatus(host.access), 401, 'the host’s access token is refused');
  assert.deepEqual((await env.server.admin('GET', '/v1/agents/host-bot/mcp-clients')).body, []);
  const audit = await env.server.admin('GET', '/v1/audit?action=mcp.client.revoke');
  const events = audit.body as Array<{ actor: { name: string } }>;
  assert.deepEqual(
    events.map((e) => e.actor.name),
    ['olga'],
  );
  await context.close();
});

test('an agent no MCP host acts as says so', async () => {
  const context = await env.browser.newContext();
  const page = await signIn(context, env.server, 'olga', PASSWORD);
  await openAgent(page, 'lonely-bot');
  assert.equal(await page.locator('dialog #mcp-hosts-empty').textContent(), 'No MCP host acts as this agent.');
  await context.close();
});

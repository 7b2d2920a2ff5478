import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { addOperator, open, signIn, startConsoleEnv, type ConsoleEnv } from './helpers/console-env.js';
import { screenshot } from './helpers/console.js';
import { storedTokens } from './helpers/oauth-flows.js';

/**
 * The main scenario, in real Chromium against the real server and
 * oidc-provider's own login and consent pages: an operator adds a provider
 * by discovery, connects an account, watches it break, has the account's
 * owner fix it through a reconnect link in another browser, and approves an
 * agent's access proposal.
 */
let env: ConsoleEnv;
const PASSWORD = 'correct horse battery staple';

before(async () => {
  env = await startConsoleEnv();
  await addOperator(env.server, 'ada', 'admin', PASSWORD);
});
after(() => env?.close());

/** The provider's login and consent pages, clicked through as a person would. */
async function consentAtProvider(page: Page): Promise<void> {
  await page.locator('#provider-sign-in').click();
  await page.locator('#provider-allow').click();
}

function resourcePath(): string {
  return new URL(env.as.protectedResourceUrl).pathname;
}

async function agentCall(agentKey: string, connection: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${env.server.url}/v1/proxy/${connection}${resourcePath()}`, { headers: { authorization: `Bearer ${agentKey}` } });
  return { status: res.status, body: await res.text() };
}

test('sign in, add a provider by discovery, connect, break, reconnect in the owner\'s browser, approve a proposal', async () => {
  const { server, as, browser } = env;
  const operator = await browser.newContext();
  const page = await signIn(operator, server, 'ada', PASSWORD);
  await screenshot(page, 'overview-empty');

  // Add a provider by discovery.
  await open(page, server, '/providers');
  await page.getByLabel('Discovery', { exact: true }).check();
  await page.getByLabel('Name', { exact: true }).fill('fixture');
  await page.getByLabel('Issuer URL', { exact: true }).fill(as.issuer);
  await page.getByLabel('Client ID').fill(as.confidentialClient.clientId);
  await page.getByLabel('Client secret (optional)').fill(as.confidentialClient.clientSecret ?? '');
  await page.getByLabel('Scopes (space separated)').fill('openid offline_access api:read');
  await page.getByLabel('API base URL (optional)').fill(as.baseUrl);
  await page.getByRole('button', { name: 'Add provider' }).click();
  const row = page.locator('#providers tbody tr', { hasText: 'fixture' });
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', new RegExp(as.issuer.replace(/[.:/]/g, '\\$&')));

  // Connect an account in this browser, through the provider's own pages.
  await row.getByRole('button', { name: 'Connect…' }).click();
  await page.getByLabel('Connection name (optional)').fill('mail');
  await page.getByLabel('Subject (whose account, optional)').fill('alice');
  await page.getByRole('button', { name: 'Connect in this browser' }).click();
  await page.locator('#provider-sign-in').waitFor();
  await consentAtProvider(page);
  await page.waitForURL(`${server.url}/console/connections`);
  const connectionRow = page.locator('#connections tr[data-connection="mail"]');
  await connectionRow.waitFor();
  assert.match((await connectionRow.textContent()) ?? '', /active/);
  const before = (await server.admin('GET', '/v1/connections/mail')).body as { id: string; status: string };
  assert.equal(before.status, 'active');

  // An agent allowed to call the API through this connection only on a path it does not need yet.
  await open(page, server, '/agents');
  await page.getByLabel('Name', { exact: true }).fill('mailbot');
  await page.getByLabel('Policy (JSON)').fill(JSON.stringify({ rules: [{ connections: ['mail'], methods: ['GET'], paths: ['/elsewhere/**'] }] }));
  assert.equal(await page.locator('#a-policy-problems').textContent(), 'The policy is well formed.');
  await page.getByRole('button', { name: 'Create agent' }).click();
  const keyBox = page.locator('dialog #secret-value');
  await keyBox.waitFor();
  const agentKey = await keyBox.inputValue();
  assert.match(agentKey, /^lk_/);
  await page.getByRole('button', { name: 'Close' }).click();
  assert.equal(await page.locator('#secret-value').count(), 0, 'the key is gone from the page once the dialog is closed');
  assert.equal((await agentCall(agentKey, 'mail')).status, 403, 'refused before the proposal');

  // The agent asks; the operator approves in the console; the same call now goes through.
  const proposal = await fetch(`${server.url}/v1/proposals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ connection: 'mail', methods: ['GET'], paths: [resourcePath()], reason: 'read the mailbox owner' }),
  });
  assert.equal(proposal.status, 201, await proposal.clone().text());
  await open(page, server, '/proposals');
  const proposalRow = page.locator('#proposals tbody tr', { hasText: 'mailbot' });
  await proposalRow.waitFor();
  await screenshot(page, 'proposals');
  await proposalRow.getByRole('button', { name: 'Decide…' }).click();
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.locator('#proposals tbody tr', { hasText: 'mailbot' }).waitFor({ state: 'detached' });
  const allowed = await agentCall(agentKey, 'mail');
  assert.equal(allowed.status, 200, allowed.body);

  // The provider stops honouring the grant: the refresh token is revoked at the provider.
  const tokens = await storedTokens(server, before.id);
  assert.ok(tokens.refreshToken);
  const basic = Buffer.from(`${as.confidentialClient.clientId}:${as.confidentialClient.clientSecret ?? ''}`).toString('base64');
  const revoked = await fetch(`${as.baseUrl}/token/revocation`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokens.refreshToken, token_type_hint: 'refresh_token' }),
  });
  assert.equal(revoked.status, 200);
  await open(page, server, '/connections/mail');
  await page.getByRole('button', { name: 'Refresh now' }).click();
  await page.locator('#connection-status', { hasText: 'needs_reauth' }).waitFor();

  // The overview names it.
  await open(page, server, '/');
  await page.locator('#needs-reauth', { hasText: 'mail' }).waitFor();
  await screenshot(page, 'overview');

  // The needs_reauth reconnectUrl is a console page that opens the reconnect dialog.
  await page.goto(`${server.url}/console/connections/mail?reconnect=1`);
  await page.getByRole('button', { name: 'Make reconnect link' }).click();
  const link = await page.locator('dialog #secret-value').inputValue();
  assert.match(link, new RegExp(`^${server.url}/connect/`));
  await screenshot(page, 'connection-reconnect');
  await page.getByRole('button', { name: 'Close' }).click();

  // The account's owner opens it in their own, fresh browser.
  const owner = await browser.newContext();
  const ownerPage = await owner.newPage();
  await ownerPage.goto(link);
  await screenshot(ownerPage, 'connect-link');
  await ownerPage.getByRole('button', { name: /continue/i }).click();
  await ownerPage.locator('#provider-sign-in').waitFor();
  await consentAtProvider(ownerPage);
  await ownerPage.waitForURL((url) => url.pathname.startsWith('/oauth/callback') || url.pathname.startsWith('/connect'));
  await owner.close();

  // The same connection is active again, and its agent calls through it as before.
  await open(page, server, '/connections/mail');
  await page.locator('#connection-status', { hasText: 'active' }).waitFor();
  await screenshot(page, 'connection-detail');
  const after = (await server.admin('GET', '/v1/connections')).body as Array<{ id: string; name: string }>;
  assert.deepEqual(after.map((c) => [c.id, c.name]), [[before.id, 'mail']], 'reconnected in place, not a new connection');
  const again = await agentCall(agentKey, 'mail');
  assert.equal(again.status, 200, again.body);
  await operator.close();
});

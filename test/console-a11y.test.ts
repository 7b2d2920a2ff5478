import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { addOperator, open, signIn, startConsoleEnv, type ConsoleEnv } from './helpers/console-env.js';
import { assertAccessible, screenshot, tabTo } from './helpers/console.js';
import { addFixtureProvider } from './helpers/oauth-flows.js';

const PASSWORD = 'a long enough test password';
const PAGES: Array<[string, string]> = [
  ['/', 'overview'],
  ['/providers', 'providers'],
  ['/connections', 'connections'],
  ['/connections/imported', 'connection-detail-imported'],
  ['/agents', 'agents'],
  ['/leases', 'leases'],
  ['/audit', 'audit'],
  ['/webhooks', 'webhooks'],
  ['/proposals', 'proposals-list'],
  ['/operators', 'operators'],
];

let env: ConsoleEnv;
let page: Page;

before(async () => {
  env = await startConsoleEnv();
  const { server, as } = env;
  await addOperator(server, 'ada', 'admin', PASSWORD);
  await addFixtureProvider(server, as);
  await server.admin('POST', '/v1/connections/import', { name: 'imported', provider: 'fixture', subject: 'alice', accessToken: 'a'.repeat(40) });
  await server.admin('POST', '/v1/agents', { name: 'bot', policy: { rules: [{ connections: ['imported'], methods: ['GET'] }], lease: { allowed: true } } });
  await server.admin('POST', '/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['connection.needs_reauth'] });
  page = await signIn(await env.browser.newContext(), server, 'ada', PASSWORD);
});
after(() => env?.close());

test('the sign-in page has no serious or critical axe violations', async () => {
  const context = await env.browser.newContext();
  const signInPage = await context.newPage();
  await signInPage.goto(`${env.server.url}/console/sign-in`);
  await signInPage.locator('#page-title').waitFor();
  await assertAccessible(signInPage, 'sign-in');
  await screenshot(signInPage, 'sign-in');
  await context.close();
});

test('every page: no serious or critical axe violations (screenshots written)', async () => {
  for (const [path, name] of PAGES) {
    await open(page, env.server, path);
    await page.waitForLoadState('networkidle');
    await assertAccessible(page, path);
    await screenshot(page, name);
  }
});

test('the main actions work from the keyboard alone', async () => {
  // Navigation: Tab to a nav link and follow it with Enter.
  await open(page, env.server, '/');
  await tabTo(page, 'nav a[href="/console/agents"]');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${env.server.url}/console/agents`);

  // Create an agent: type into the form, submit with Space, close the key dialog with Enter.
  await tabTo(page, '#a-name');
  await page.keyboard.type('keyboard-bot');
  await tabTo(page, 'form button[type=submit]');
  await page.keyboard.press('Space');
  await page.locator('dialog #secret-value').waitFor();
  await tabTo(page, 'dialog button.secondary');
  await page.keyboard.press('Enter');
  await page.locator('dialog').waitFor({ state: 'detached' });
  assert.equal((await env.server.admin('GET', '/v1/agents/keyboard-bot')).status, 200);

  // A dialog opens with Enter and closes with Escape, giving focus back.
  await open(page, env.server, '/providers');
  await page.waitForLoadState('networkidle');
  await tabTo(page, '#providers button');
  await page.keyboard.press('Enter');
  await page.locator('dialog[open]').waitFor();
  await screenshot(page, 'providers-connect-dialog');
  await page.keyboard.press('Escape');
  await page.locator('dialog').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate<string | undefined>('document.activeElement?.textContent'), 'Connect…');

  // Refresh a connection from its page with the keyboard.
  await open(page, env.server, '/connections/imported');
  await page.waitForLoadState('networkidle');
  await tabTo(page, '#refresh');
  await page.keyboard.press('Enter');
  await page.waitForLoadState('networkidle');

  // Audit: verify the chain with the keyboard; the result is announced.
  await open(page, env.server, '/audit');
  await tabTo(page, '#verify');
  await page.keyboard.press('Enter');
  await page.locator('#verify-result', { hasText: 'intact' }).waitFor();
  await screenshot(page, 'audit-verified');
});

import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorization-server.js';
import { launchChromium } from './browser.js';
import { startInProcess, type InProcess } from './in-process.js';

/** A real server, the oidc-provider fixture (redirecting back to it) and Chromium: what every console test starts from. */
export interface ConsoleEnv {
  as: AuthorizationServer;
  server: InProcess;
  browser: Browser;
  close(): Promise<void>;
}

export async function startConsoleEnv(): Promise<ConsoleEnv> {
  const as = await startAuthorizationServer();
  const server = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
  as.setRedirectUris([`${server.url}/oauth/callback`]);
  const browser = await launchChromium();
  return {
    as,
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
      await as.close();
    },
  };
}

/** An operator made with the admin token (the break-glass credential), as `latchkey operators add` does. */
export async function addOperator(server: InProcess, name: string, role: 'viewer' | 'operator' | 'admin', password: string): Promise<void> {
  const res = await server.admin('POST', '/v1/operators', { name, role, password });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** Signs in through the console's own form; resolves once the app shows who is signed in. */
export async function signIn(context: BrowserContext, server: InProcess, name: string, password: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.url}/console/sign-in`);
  await page.getByLabel('Operator name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-testid=who]').waitFor();
  return page;
}

/** Goes to a console page by its path and waits for its heading. */
export async function open(page: Page, server: InProcess, path: string): Promise<void> {
  await page.goto(`${server.url}/console${path}`);
  await page.locator('#page-title').waitFor();
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UrlElicitationRequiredError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { createAgent } from './helpers/broker-setup.js';
import type { Browser } from 'playwright-core';
import { launchChromium } from './helpers/browser.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { FIXTURE_SCOPES } from './helpers/oauth-flows.js';

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

describe('remote MCP: a call that needs an account a person must connect', () => {
  let as: AuthorizationServer;
  let lk: InProcess;
  let key = '';
  let browser: Browser;

  const connect = async (elicitation: boolean): Promise<Client> => {
    const client = new Client({ name: 'elicit-host', version: '1.0.0' }, { capabilities: elicitation ? { elicitation: { url: {} } } : {} });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${lk.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    return client;
  };
  const callMe = (client: Client) => client.callTool({ name: 'call_api', arguments: { connection: 'fixture', method: 'GET', path: '/api/me' } });

  /** The person in the host, in a real browser: opens the link, presses Continue, signs in and consents at the provider's pages. */
  async function follow(url: string): Promise<void> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url);
      await page.getByRole('button', { name: /continue/i }).click();
      await page.locator('#provider-sign-in').click();
      await page.locator('#provider-allow').click();
      await page.waitForURL((u) => u.pathname.startsWith('/oauth/callback'));
      assert.match(await page.locator('body').innerText(), /connected/i);
    } finally {
      await context.close();
    }
  }

  before(async () => {
    as = await startAuthorizationServer();
    browser = await launchChromium();
    lk = await startInProcess();
    as.setRedirectUris([`${lk.url}/oauth/callback`]);
    const provider = await lk.admin('POST', '/v1/providers', {
      name: 'fixture',
      issuer: as.issuer,
      clientId: as.confidentialClient.clientId,
      clientSecret: as.confidentialClient.clientSecret,
      scopes: FIXTURE_SCOPES,
      apiBaseUrl: as.issuer,
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    key = (await createAgent(lk, { name: 'elicit-bot', policy: { rules: [{ connections: ['fixture'], methods: ['GET'], paths: ['/api/**'] }] } })).apiKey;
  });

  after(async () => {
    await browser?.close();
    await lk?.close();
    await as?.close();
  });

  test('a host without URL elicitation gets the connect link in the tool result', async () => {
    const client = await connect(false);
    const result = (await callMe(client)) as CallToolResult;
    assert.equal(result.isError, true);
    const link = /(http\S+\/connect\/\S+)/.exec(textOf(result))?.[1];
    assert.ok(link?.startsWith(`${lk.url}/connect/`), textOf(result));
    await client.close();
  });

  test('a host with URL elicitation gets -32042 with the link; after the person follows it, the call succeeds', async () => {
    const client = await connect(true);
    let elicitation: UrlElicitationRequiredError | undefined;
    try {
      await callMe(client);
    } catch (err) {
      if (err instanceof UrlElicitationRequiredError) elicitation = err;
      else throw err;
    }
    assert.ok(elicitation, 'the call asked for a URL elicitation');
    const [wanted] = elicitation.elicitations;
    assert.equal(wanted?.mode, 'url');
    assert.match(wanted?.message ?? '', /"fixture" is not connected/);
    assert.ok(wanted?.url.startsWith(`${lk.url}/connect/`));
    await follow(wanted?.url ?? '');
    const connection = await lk.admin('GET', '/v1/connections/fixture');
    assert.equal((connection.body as { status: string }).status, 'active');
    const after = (await callMe(client)) as CallToolResult;
    assert.ok(!after.isError, textOf(after));
    assert.match(textOf(after), /status: 200/);
    await client.close();
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addOperator, open, signIn, startConsoleEnv, type ConsoleEnv } from './helpers/console-env.js';
import { addFixtureProvider } from './helpers/oauth-flows.js';

const PASSWORD = 'a long enough test password';
// One more than a list route answers without a cursor (PAGE_LIMIT_DEFAULT): the console must follow the pages.
const COUNT = 101;
const name = (i: number): string => `item-${String(i).padStart(3, '0')}`;

let env: ConsoleEnv;

before(async () => {
  env = await startConsoleEnv();
  const { server, as } = env;
  await addOperator(server, 'ada', 'admin', PASSWORD);
  await addFixtureProvider(server, as);
  for (let i = 0; i < COUNT; i++) {
    const agent = await server.admin('POST', '/v1/agents', { name: name(i) });
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    const imported = await server.admin('POST', '/v1/connections/import', { name: name(i), provider: 'fixture', subject: name(i), accessToken: `access-token-${name(i)}` });
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
  }
});
after(() => env?.close());

test('the console lists every agent and connection, not only the first page', async () => {
  const context = await env.browser.newContext();
  try {
    const page = await signIn(context, env.server, 'ada', PASSWORD);
    await open(page, env.server, '/agents');
    await page.locator(`#agents tr[data-agent="${name(COUNT - 1)}"]`).waitFor();
    assert.equal(await page.locator('#agents tbody tr').count(), COUNT);
    await open(page, env.server, '/connections');
    await page.locator(`#connections tr[data-connection="${name(COUNT - 1)}"]`).waitFor();
    assert.equal(await page.locator('#connections tbody tr').count(), COUNT);
  } finally {
    await context.close();
  }
});

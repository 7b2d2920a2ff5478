import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAgent, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';

describe('latchkey proposals (CLI)', () => {
  let lk: InProcess;
  let api: FakeApi;
  let agentKey: string;

  before(async () => {
    lk = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    api = await startFakeApi();
    assert.equal((await lk.admin('POST', '/v1/providers', { name: 'api', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url })).status, 201);
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    assert.equal((await lk.admin('POST', '/v1/connections/import', { name: 'api', provider: 'api', accessToken: 'cli-proposal-token-0123456789', expiresAt })).status, 201);
    agentKey = (await createAgent(lk, { name: 'clibot', policy: { rules: [] } })).apiKey;
  });

  after(async () => {
    await lk.close();
    await api.close();
  });

  const asAgent = (args: string[]) => runCli(args, { LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: agentKey });
  const asOperator = (args: string[]) => runCli(args, { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN });

  test('an agent asks, the operator lists, narrows and approves; the agent sees the decision', async () => {
    const reason = 'read the repos\u001b[31m red';
    const created = await asAgent(['--json', 'proposals', 'create', '--connection', 'api', '--methods', 'get,post', '--paths', '/repos/**', '--reason', 'read the repos']);
    assert.equal(created.code, 0, created.stderr);
    const proposal = JSON.parse(created.stdout) as { id: string; status: string };
    assert.equal(proposal.status, 'pending');

    // Terminal control characters in a reason are refused by the API (only lines and tabs are text).
    const bad = await asAgent(['proposals', 'create', '--connection', 'api', '--reason', reason]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid_request/);

    const listed = await asOperator(['proposals']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(proposal.id));
    assert.match(listed.stdout, /clibot/);
    const pending = await asOperator(['--json', 'proposals', 'list', '--status', 'pending']);
    assert.equal((JSON.parse(pending.stdout) as unknown[]).length, 1);
    assert.equal((await asOperator(['proposals', 'list', '--status', 'bogus'])).code, 2);

    const wider = await asOperator(['proposals', 'approve', proposal.id, '--methods', 'DELETE']);
    assert.equal(wider.code, 1);
    assert.match(wider.stderr, /not within the request/);

    const approved = await asOperator(['--json', 'proposals', 'approve', proposal.id, '--methods', 'GET', '--paths', '/repos/a/**']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.deepEqual((JSON.parse(approved.stdout) as { rule: unknown }).rule, { connections: ['api'], methods: ['GET'], paths: ['/repos/a/**'] });

    const shown = await asAgent(['proposals', 'show', proposal.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /status\s+approved/);
    assert.match(shown.stdout, /\/repos\/a\/\*\*/);

    const again = await asAgent(['--json', 'proposals', 'create', '--connection', 'api', '--reason', 'everything']);
    const second = JSON.parse(again.stdout) as { id: string };
    const denied = await asOperator(['proposals', 'deny', second.id, '--reason', 'too broad']);
    assert.equal(denied.code, 0, denied.stderr);
    const mine = await asAgent(['--json', 'proposals', 'list', '--status', 'denied']);
    assert.equal((JSON.parse(mine.stdout) as Array<{ decisionReason: string }>)[0]?.decisionReason, 'too broad');
  });

  test('an agent cannot approve: without an admin token the CLI has nothing to approve with', async () => {
    const res = await runCli(['proposals', 'approve', 'prop_x'], { LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: agentKey });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /no admin token/);
  });
});

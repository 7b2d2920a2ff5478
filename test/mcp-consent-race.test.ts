import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createAgent } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { CookieBrowser } from './helpers/mcp-remote.js';
import { PG_SKIP, createTestDatabase, type TestDatabase } from './helpers/pg.js';

// An MCP authorization is decided once: two operators (or two replicas) answering the same consent at once
// must not both be audited as having authorized while only the last write takes effect.
const REDIRECT = 'http://127.0.0.1:9/callback';

async function pendingConsent(lk: InProcess): Promise<string> {
  const reg = await fetch(`${lk.url}/mcp-oauth/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Race', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
  });
  const clientId = ((await reg.json()) as { client_id: string }).client_id;
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
    code_challenge_method: 'S256',
    resource: `${lk.url}/mcp`,
    scope: 'mcp',
  });
  const at = await new CookieBrowser().follow(`${lk.url}/mcp-oauth/auth?${query}`, (u) => u.pathname.startsWith('/console/mcp/consent/'));
  return decodeURIComponent(at.url.pathname.split('/').pop() ?? '');
}

/** Decides `uid` for each agent at once (round robin over the servers); checks that exactly one decision won and was audited. */
async function race(servers: InProcess[], uid: string, agents: string[]): Promise<void> {
  const answers = await Promise.all(agents.map((agent, i) => (servers[i % servers.length] as InProcess).admin('POST', `/v1/mcp-consent/${uid}`, { agent })));
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, ...agents.slice(1).map(() => 409)], JSON.stringify(answers.map((a) => a.body)));
  const winner = answers.find((a) => a.status === 200)?.body as { agent: { id: string; name: string } };
  const lk = servers[0] as InProcess;
  const audit = (await lk.admin('GET', '/v1/audit?action=mcp.client.authorize')).body as Array<{ detail: { agent: string } }>;
  assert.deepEqual(audit.map((e) => e.detail.agent), [winner.agent.name]);
  // Decided is decided, also for a later attempt.
  const late = await lk.admin('POST', `/v1/mcp-consent/${uid}`, { agent: agents[0] });
  assert.equal(late.status, 409);
}

describe('MCP consent decisions on SQLite', () => {
  let lk: InProcess;
  before(async () => {
    lk = await startInProcess();
    for (const name of ['race-a', 'race-b', 'race-c']) await createAgent(lk, { name, policy: { rules: [] } });
  });
  after(async () => lk?.close());

  test('concurrent approvals of one consent for different agents: one wins (200), the others get 409, one audit event', async () => {
    await race([lk], await pendingConsent(lk), ['race-a', 'race-b', 'race-c']);
  });

  test('a decision that fails (an unknown agent) decides nothing: the operator may decide again', async () => {
    const uid = await pendingConsent(lk);
    assert.equal((await lk.admin('POST', `/v1/mcp-consent/${uid}`, { agent: 'no-such-agent' })).status, 404);
    const again = await lk.admin('POST', `/v1/mcp-consent/${uid}`, { agent: 'race-b' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
  });
});

describe('MCP consent decisions across two replicas on PostgreSQL', { skip: PG_SKIP }, () => {
  let db: TestDatabase;
  let a: InProcess;
  let b: InProcess;
  before(async () => {
    db = await createTestDatabase();
    a = await startInProcess({ databaseUrl: db.url });
    b = await startInProcess({ databaseUrl: db.url, dataDir: a.config.dataDir, env: { LATCHKEY_PUBLIC_URL: a.url } });
    for (const name of ['race-a', 'race-b']) await createAgent(a, { name, policy: { rules: [] } });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  test('concurrent approvals on two replicas: one wins, the other gets 409, one audit event', async () => {
    await race([a, b], await pendingConsent(a), ['race-a', 'race-b']);
  });
});

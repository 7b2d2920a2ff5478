import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { assertNoSecrets } from './helpers/oauth-flows.js';
import { fixtureTokens } from './helpers/token-lifecycle.js';

/** Issue 14 items 2, 4, 5, 7: the commands the API had and the CLI did not, secrets off the command line, errors for scripts, status. */
describe('CLI commands over the whole API', () => {
  let as: AuthorizationServer;
  let lk: InProcess;
  let env: Record<string, string>;
  const secrets: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-commands-'));
  const cli = async (args: string[], input?: string, extraEnv: Record<string, string> = {}) => {
    const result = await runCli(args, { ...env, ...extraEnv }, input);
    if (secrets.length > 0) assertNoSecrets(result.stderr, secrets, `stderr of ${args.join(' ')}`);
    return result;
  };
  const ok = async (args: string[], input?: string, extraEnv: Record<string, string> = {}) => {
    const result = await cli(args, input, extraEnv);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result;
  };

  before(async () => {
    as = await startAuthorizationServer();
    lk = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
    secrets.push(as.confidentialClient.clientSecret ?? '');
  });
  after(async () => {
    assertNoSecrets(lk.logs.text(), secrets, 'server log');
    await lk.close();
    await as.close();
  });

  test('providers add warns at once about a missing client secret; providers update sets it and an API base', async () => {
    const added = await ok(['providers', 'add', 'fixture', '--issuer', as.issuer, '--client-id', as.confidentialClient.clientId, '--auth-method', 'client_secret_basic', '--scope', 'openid offline_access api:read']);
    assert.match(added.stderr, /warning: provider fixture has no client secret, but its token endpoint expects one \(client_secret_basic\)/);
    const updated = await ok(['providers', 'update', 'fixture', '--client-secret-stdin', '--api-base-url', as.baseUrl], `${as.confidentialClient.clientSecret}\n`);
    assert.doesNotMatch(updated.stderr, /warning/);
    const shown = JSON.parse((await ok(['--json', 'providers', 'show', 'fixture'])).stdout) as { hasClientSecret: boolean; apiBaseUrl: string };
    assert.equal(shown.hasClientSecret, true);
    assert.equal(shown.apiBaseUrl, as.baseUrl);
    const nothing = await cli(['providers', 'update', 'fixture']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /nothing to change/);
    const badMethod = await cli(['providers', 'update', 'fixture', '--auth-method', 'magic']);
    assert.equal(badMethod.code, 2);
    assert.match(badMethod.stderr, /client_secret_basic, client_secret_post, none/);
    const clients = JSON.parse((await ok(['--json', 'providers', 'clients', 'fixture'])).stdout) as Array<{ id: string | null }>;
    assert.equal(clients.length, 1);
  });

  test('connect --client-credentials makes an active connection, and connections token reads its token (audited)', async () => {
    const connected = await ok(['connect', 'fixture', '--client-credentials', '--name', 'machine', '--scope', 'api:read']);
    assert.match(connected.stdout, /connection machine is active \(client credentials/);
    const token = await ok(['connections', 'token', 'machine']);
    const accessToken = token.stdout.trim();
    secrets.push(accessToken);
    assert.match(token.stderr, /audit log/);
    assert.equal((await as.introspect(accessToken)).active, true);
    const json = JSON.parse((await ok(['connections', 'token', 'machine', '--json'])).stdout) as { accessToken: string; tokenType: string };
    assert.equal(json.accessToken, accessToken);
    const audit = JSON.parse((await ok(['--json', 'audit', '--connection', 'machine'])).stdout) as Array<{ action: string }>;
    assert.ok(audit.some((e) => e.action === 'connection.token_read'), JSON.stringify(audit.map((e) => e.action)));
    const both = await cli(['connect', 'fixture', '--client-credentials', '--device']);
    assert.equal(both.code, 2);
  });

  test('secrets create takes the JSON on stdin or from a file, and checks the refresh token with one refresh', async () => {
    const good = await fixtureTokens(as);
    secrets.push(good.accessToken, good.refreshToken);
    const viaStdin = await ok(['secrets', 'create', '--name', 'imported', '--provider', 'fixture', '--value-stdin'], JSON.stringify({ refreshToken: good.refreshToken }));
    assert.match(viaStdin.stdout, /imported, refresh token verified/);
    const shown = JSON.parse((await ok(['--json', 'connections', 'show', 'imported'])).stdout) as { status: string; expiresAt: string | null };
    assert.equal(shown.status, 'active');
    assert.notEqual(shown.expiresAt, null, 'the refresh fetched an access token');

    // A bogus refresh token is caught now, not when an agent first needs the connection.
    const file = join(dir, 'bogus.json');
    writeFileSync(file, JSON.stringify({ refreshToken: 'not-a-real-refresh-token', accessToken: 'not-a-real-access-token' }), { mode: 0o600 });
    const bogus = await cli(['secrets', 'create', '--name', 'bogus', '--provider', 'fixture', '--value-file', file]);
    assert.equal(bogus.code, 1, bogus.stdout);
    assert.match(bogus.stderr, /refused its refresh token/);
    assert.equal((JSON.parse((await ok(['--json', 'connections', 'show', 'bogus'])).stdout) as { status: string }).status, 'needs_reauth');

    const none = await cli(['secrets', 'create', '--name', 'x', '--provider', 'fixture']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--value-stdin, --value-file FILE or --value JSON/);
    const missing = await cli(['secrets', 'create', '--name', 'x', '--provider', 'fixture', '--value-file', join(dir, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ENOENT/);
  });

  test('keys list, and agents update / keys / add-key / remove-key', async () => {
    const keys = JSON.parse((await ok(['--json', 'keys', 'list'])).stdout) as Array<{ id: string; status: string }>;
    assert.deepEqual(keys.map((k) => k.status), ['active']);

    const created = JSON.parse((await ok(['--json', 'agents', 'create', 'bot', '--allow', 'nothing-yet'])).stdout) as { apiKey: string; keyId: string };
    secrets.push(created.apiKey);
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ rules: [{ connections: ['machine', 'imported'], methods: ['GET'] }], lease: { allowed: true, maxTtl: '5m' } }));
    const updated = await ok(['agents', 'update', 'bot', '--policy', policy]);
    assert.match(updated.stdout, /agent bot updated: 1 rule\(s\), leases up to 300s/);
    const noPolicy = await cli(['agents', 'update', 'bot']);
    assert.equal(noPolicy.code, 2);

    const added = JSON.parse((await ok(['--json', 'agents', 'add-key', 'bot'])).stdout) as { id: string; apiKey: string };
    secrets.push(added.apiKey);
    const listed = JSON.parse((await ok(['--json', 'agents', 'keys', 'bot'])).stdout) as Array<{ id: string }>;
    assert.deepEqual(listed.map((k) => k.id).sort(), [created.keyId, added.id].sort());
    await ok(['agents', 'remove-key', 'bot', created.keyId]);
    const after = JSON.parse((await ok(['--json', 'agents', 'keys', 'bot'])).stdout) as Array<{ id: string }>;
    assert.deepEqual(after.map((k) => k.id), [added.id]);
    // The removed key stops working at once; the other works.
    const refused = await cli(['me'], undefined, { LATCHKEY_ADMIN_TOKEN: '', LATCHKEY_AGENT_KEY: created.apiKey });
    assert.equal(refused.code, 1);

    const me = JSON.parse((await ok(['--json', 'me'], undefined, { LATCHKEY_ADMIN_TOKEN: '', LATCHKEY_AGENT_KEY: added.apiKey })).stdout) as {
      name: string;
      connections: Array<{ name: string }>;
    };
    assert.equal(me.name, 'bot');
    assert.deepEqual(me.connections.map((c) => c.name).sort(), ['imported', 'machine']);
    const meTable = await ok(['me'], undefined, { LATCHKEY_ADMIN_TOKEN: '', LATCHKEY_AGENT_KEY: added.apiKey });
    assert.match(meTable.stdout, /agent\s+bot/);

    // Leases: the agent takes one, the operator lists and ends it; the agent ends its own with its key.
    const agentEnv = { LATCHKEY_ADMIN_TOKEN: '', LATCHKEY_AGENT_KEY: added.apiKey };
    const lease = JSON.parse((await ok(['--json', 'lease', 'machine', '--ttl', '1m'], undefined, agentEnv)).stdout) as { leaseId: string; accessToken: string };
    secrets.push(lease.accessToken);
    const leases = JSON.parse((await ok(['--json', 'leases'])).stdout) as Array<{ id: string; agent: string; connection: string }>;
    assert.deepEqual(leases.map((l) => [l.id, l.agent, l.connection]), [[lease.leaseId, 'bot', 'machine']]);
    assert.match((await ok(['leases', 'list'])).stdout, new RegExp(lease.leaseId));
    assert.match((await ok(['leases', 'end', lease.leaseId])).stdout, /ended/);
    assert.deepEqual(JSON.parse((await ok(['--json', 'leases'])).stdout), []);
    const second = JSON.parse((await ok(['--json', 'lease', 'machine', '--ttl', '1m'], undefined, agentEnv)).stdout) as { leaseId: string; accessToken: string };
    secrets.push(second.accessToken);
    assert.match((await ok(['leases', 'end', second.leaseId], undefined, agentEnv)).stdout, /ended/);
  });

  test('status: reachable, version, database, keys, counts; exit 1 while a connection needs a person', async () => {
    const status = await cli(['status']);
    // "bogus" is needs_reauth (the secrets test).
    assert.equal(status.code, 1, status.stderr);
    assert.match(status.stdout, /server\s+http:\/\/127\.0\.0\.1:\d+ \(reachable\)/);
    assert.match(status.stdout, /version\s+0\.1\.0/);
    assert.match(status.stdout, /database\s+sqlite/);
    assert.match(status.stdout, /keys\s+1 \(active /);
    assert.match(status.stdout, /needs attention:/);
    assert.match(status.stdout, /connection\s+bogus\s+fixture\s+needs_reauth/);
    const json = JSON.parse((await cli(['--json', 'status'])).stdout) as {
      connections: { total: number; byStatus: Record<string, number> };
      attention: Array<{ name: string }>;
      needsAttention: boolean;
    };
    assert.equal(json.connections.byStatus.needs_reauth, 1);
    assert.equal(json.needsAttention, true);
    assert.deepEqual(json.attention.map((a) => a.name), ['bogus']);

    await ok(['connections', 'revoke', 'bogus']);
    const clean = await ok(['status']);
    assert.match(clean.stdout, /nothing needs attention/);

    const down = await cli(['status'], undefined, { LATCHKEY_URL: 'http://127.0.0.1:9' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /server not reachable at http:\/\/127\.0\.0\.1:9/);
  });

  test('--json failures print the API error object on stderr with the exit code; usage errors too', async () => {
    const missing = await cli(['--json', 'connections', 'show', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.deepEqual(Object.keys(JSON.parse(missing.stderr) as object).sort(), ['error', 'message']);
    assert.equal((JSON.parse(missing.stderr) as { error: string }).error, 'not_found');

    // A needs_reauth answer carries reconnectUrl for scripts.
    await ok(['secrets', 'create', '--name', 'dying', '--provider', 'fixture', '--value-stdin', '--no-verify'], JSON.stringify({ refreshToken: 'refused-refresh-token' }));
    const reauth = await cli(['--json', 'connections', 'refresh', 'dying']);
    assert.equal(reauth.code, 1);
    const body = JSON.parse(reauth.stderr) as { error: string; reconnectUrl?: string };
    assert.equal(body.error, 'needs_reauth');
    assert.equal(typeof body.reconnectUrl, 'string');
    await ok(['connections', 'revoke', 'dying']);

    const usage = await cli(['--json', 'connections', 'list', '--expiring', 'soon']);
    assert.equal(usage.code, 2);
    const usageBody = JSON.parse(usage.stderr) as { error: string; message: string };
    assert.equal(usageBody.error, 'usage');
    assert.match(usageBody.message, /seconds \(e\.g\. 3600\) or a number with s, m, h or d/);
  });

  test('a wrong --expiring says what is accepted and exits 2; a bad LATCHKEY_URL names the variable', async () => {
    const expiring = await cli(['connections', 'list', '--expiring', '1 hour']);
    assert.equal(expiring.code, 2);
    assert.match(expiring.stderr, /"1 hour" is not a duration: give seconds \(e\.g\. 3600\) or a number with s, m, h or d/);
    assert.equal((await cli(['connections', 'list', '--expiring', '2d'])).code, 0);

    const notUrl = await cli(['connections', 'list'], undefined, { LATCHKEY_URL: '127.0.0.1:8787' });
    assert.equal(notUrl.code, 2);
    assert.match(notUrl.stderr, /LATCHKEY_URL must be an http:\/\/ or https:\/\/ URL|LATCHKEY_URL is not a URL/);
    const garbage = await cli(['connections', 'list'], undefined, { LATCHKEY_URL: 'not a url' });
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /LATCHKEY_URL is not a URL: "not a url"/);
    const flag = await cli(['--url', 'ftp://127.0.0.1', 'connections', 'list']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--url must be an http:\/\/ or https:\/\/ URL/);
  });

  test('latchkey mcp checks its server URL and agent key at start', async () => {
    const agent = JSON.parse((await ok(['--json', 'agents', 'create', 'mcp-bot'])).stdout) as { apiKey: string };
    secrets.push(agent.apiKey);
    const badKey = await cli(['mcp'], '', { LATCHKEY_ADMIN_TOKEN: '', LATCHKEY_AGENT_KEY: 'lk_not_a_key' });
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /does not accept this agent key .*LATCHKEY_AGENT_KEY/);
    const down = await cli(['mcp'], '', { LATCHKEY_ADMIN_TOKEN: '', LATCHKEY_AGENT_KEY: agent.apiKey, LATCHKEY_URL: 'http://127.0.0.1:9' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach Latchkey at http:\/\/127\.0\.0\.1:9 \(set LATCHKEY_URL/);
    const notLatchkey = await cli(['mcp'], '', { LATCHKEY_ADMIN_TOKEN: '', LATCHKEY_AGENT_KEY: agent.apiKey, LATCHKEY_URL: as.baseUrl });
    assert.equal(notLatchkey.code, 1);
    assert.match(notLatchkey.stderr, /LATCHKEY_URL/);
  });
});

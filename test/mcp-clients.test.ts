import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { migrate, openStore } from '../src/store/index.js';
import { MIGRATIONS } from '../src/store/migrations/index.js';
import { adminClient, type AdminCall } from './helpers/admin-client.js';
import { createAgent } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { TestOAuthProvider, authorizeWithOperator, connectExpectingAuth } from './helpers/mcp-remote.js';
import { BACKENDS } from './helpers/oauth-flows.js';

const REDIRECT = 'http://127.0.0.1:1/callback';

interface Entry {
  id: string;
  clientId: string;
  clientName: string | null;
  registration: string;
  redirectUris: string[];
  scopes: string[];
  consentedAt: string | null;
  expiresAt: string | null;
  lastTokenIssuedAt: string | null;
}

interface Granted {
  clientId: string;
  access: string;
  refresh: string;
}

for (const backend of BACKENDS) {
  describe(`an operator lists and revokes the MCP clients acting as an agent (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let drop: () => Promise<void> = async () => {};
    let viewer: AdminCall;
    let operator: AdminCall;
    let agentKey = '';

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      lk = await startInProcess(db.databaseUrl === undefined ? {} : { databaseUrl: db.databaseUrl });
      agentKey = (await createAgent(lk, { name: 'host-bot', policy: { rules: [] } })).apiKey;
      await createAgent(lk, { name: 'other-bot', policy: { rules: [] } });
      for (const [name, role] of [['olga', 'operator'], ['vic', 'viewer']] as const) {
        assert.equal((await lk.admin('POST', '/v1/operators', { name, role })).status, 201);
        const key = await lk.admin('POST', `/v1/operators/${name}/keys`, { role });
        assert.equal(key.status, 201, JSON.stringify(key.body));
        const call = adminClient(lk.url, (key.body as { apiKey: string }).apiKey);
        if (role === 'viewer') viewer = call;
        else operator = call;
      }
    });

    after(async () => {
      await lk?.close();
      await drop();
    });

    /** DCR, an operator's consent for `agent`, and the code exchanged: what a remote MCP host holds afterwards. */
    async function grant(agent: string, name: string): Promise<Granted> {
      const provider = new TestOAuthProvider(REDIRECT, { client_name: name, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' });
      const transport = await connectExpectingAuth(`${lk.url}/mcp`, provider);
      const { back } = await authorizeWithOperator(provider, lk.admin, { agent });
      await transport.finishAuth(back.searchParams.get('code') ?? '');
      const tokens = provider.tokens();
      assert.ok(tokens?.access_token && tokens.refresh_token);
      return { clientId: (provider.clientInformation() as { client_id: string }).client_id, access: tokens.access_token, refresh: tokens.refresh_token };
    }

    const mcpCall = async (token: string): Promise<number> => {
      const res = await fetch(`${lk.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      await res.text();
      return res.status;
    };

    const refresh = async (g: Granted): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${lk.url}/mcp-oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: g.refresh, client_id: g.clientId, resource: `${lk.url}/mcp` }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    test('a viewer lists the agent’s MCP clients (no secret); an operator revokes one: its access and refresh tokens die, the agent key and the other grants live', async () => {
      const kept = await grant('host-bot', 'Kept Host');
      const ended = await grant('host-bot', 'Ended Host');
      const foreign = await grant('other-bot', 'Other Host');

      // The agent's key and its MCP grants are independent: removing every key leaves the grants working.
      const spare = await lk.admin('POST', '/v1/agents/host-bot/keys');
      assert.equal(spare.status, 201);
      const keys = (await lk.admin('GET', '/v1/agents/host-bot')).body as { keys: Array<{ id: string }> };
      for (const k of keys.keys.filter((k) => k.id !== (spare.body as { id: string }).id)) assert.equal((await lk.admin('DELETE', `/v1/agents/host-bot/keys/${k.id}`)).status, 200);
      assert.equal(await mcpCall(agentKey), 401, 'the removed key is refused');
      agentKey = (spare.body as { apiKey: string }).apiKey;
      assert.equal(await mcpCall(ended.access), 200, 'a grant outlives the keys');

      const listed = await viewer('GET', '/v1/agents/host-bot/mcp-clients');
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const entries = listed.body as Entry[];
      assert.deepEqual(entries.map((e) => e.clientName).sort(), ['Ended Host', 'Kept Host']);
      const entry = entries.find((e) => e.clientId === ended.clientId);
      assert.ok(entry);
      assert.match(entry.id, /^[0-9a-f]{64}$/);
      assert.equal(entry.registration, 'dynamic');
      assert.deepEqual(entry.redirectUris, [REDIRECT]);
      assert.ok(entry.scopes.includes('mcp'), entry.scopes.join(' '));
      assert.ok(entry.consentedAt !== null && entry.expiresAt !== null && entry.lastTokenIssuedAt !== null, JSON.stringify(entry));
      const text = JSON.stringify(listed.body);
      for (const secret of [kept, ended, foreign].flatMap((g) => [g.access, g.refresh])) assert.ok(!text.includes(secret), 'no token in the list');
      const foreignId = ((await lk.admin('GET', '/v1/agents/other-bot/mcp-clients')).body as Entry[])[0]?.id ?? '';
      assert.match(foreignId, /^[0-9a-f]{64}$/);

      assert.equal((await viewer('DELETE', `/v1/agents/host-bot/mcp-clients/${entry.id}`)).status, 403, 'a viewer cannot revoke');
      const cross = await operator('DELETE', `/v1/agents/host-bot/mcp-clients/${foreignId}`);
      assert.equal(cross.status, 404, 'another agent’s grant is not this agent’s');
      assert.equal((cross.body as { error: string }).error, 'not_found');
      const bad = await operator('DELETE', '/v1/agents/host-bot/mcp-clients/not-a-grant');
      assert.equal(bad.status, 400);
      assert.equal((bad.body as { error: string }).error, 'invalid_request');
      assert.equal((await operator('GET', '/v1/agents/no-such-bot/mcp-clients')).status, 404);

      const revoked = await operator('DELETE', `/v1/agents/host-bot/mcp-clients/${entry.id}`);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.deepEqual(revoked.body, { deleted: true });

      assert.equal(await mcpCall(ended.access), 401, 'the revoked grant’s access token is refused on /mcp');
      const refused = await refresh(ended);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
      assert.equal(await mcpCall(agentKey), 200, 'the agent’s own key still works');
      assert.equal(await mcpCall(kept.access), 200, 'the agent’s other grant still works');
      assert.equal(await mcpCall(foreign.access), 200, 'another agent’s grant still works');
      const renewed = await refresh(kept);
      assert.equal(renewed.status, 200, JSON.stringify(renewed.body));

      const after = (await viewer('GET', '/v1/agents/host-bot/mcp-clients')).body as Entry[];
      assert.deepEqual(after.map((e) => e.clientName), ['Kept Host']);
      assert.equal((await operator('DELETE', `/v1/agents/host-bot/mcp-clients/${entry.id}`)).status, 404, 'once revoked, it is gone');

      const audit = await lk.admin('GET', '/v1/audit?action=mcp.client.revoke');
      const events = audit.body as Array<{ actor: { type: string; name: string }; detail: Record<string, unknown> }>;
      assert.equal(events.length, 1);
      assert.equal(events[0]?.actor.name, 'olga');
      assert.equal(events[0]?.detail.agent, 'host-bot');
      assert.equal(events[0]?.detail.mcpClient, ended.clientId);
      assert.ok(!JSON.stringify(events).includes(ended.access) && !JSON.stringify(events).includes(ended.refresh));
    });

    test('an access token whose grant is gone is refused, as oidc-provider’s introspection would (a revoke racing a token exchange)', async () => {
      const racing = await grant('other-bot', 'Racing Host');
      assert.equal(await mcpCall(racing.access), 200);
      const entry = ((await lk.admin('GET', '/v1/agents/other-bot/mcp-clients')).body as Entry[]).find((e) => e.clientId === racing.clientId);
      assert.ok(entry);
      // Only the grant row goes, as when tokens are written just after a revocation deleted everything under it.
      await lk.core.store.mcpOauth.destroy('Grant', entry.id);
      assert.equal(await mcpCall(racing.access), 401);
    });

    test('an /mcp call reads the authorization server’s table once for an access token (its grant with it), and not at all for an agent key', async () => {
      const counted = await grant('other-bot', 'Counted Host');
      const store = lk.core.store.mcpOauth as unknown as Record<string, unknown>;
      const reads: string[] = [];
      const originals = new Map<string, unknown>();
      for (const verb of ['find', 'findWithGrant', 'findByUid', 'findByUserCode', 'listByAccount', 'newestOfGrant']) {
        const original = store[verb] as (...args: unknown[]) => unknown;
        originals.set(verb, original);
        store[verb] = (...args: unknown[]): unknown => {
          reads.push(`${verb}(${String(args[0])})`);
          return original(...args);
        };
      }
      try {
        assert.equal(await mcpCall(counted.access), 200);
        assert.deepEqual(reads, ['findWithGrant(AccessToken)']);
        reads.length = 0;
        assert.equal(await mcpCall(agentKey), 200);
        assert.deepEqual(reads, [], 'an agent key is not looked up as an access token');
      } finally {
        for (const [verb, original] of originals) store[verb] = original;
      }
    });

    test('the CLI lists and revokes an agent’s MCP clients', { skip: backend.name !== 'sqlite' }, async () => {
      const granted = await grant('other-bot', 'CLI Host');
      const env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
      const listed = await runCli(['--json', 'agents', 'mcp-clients', 'other-bot'], env);
      assert.equal(listed.code, 0, listed.stderr);
      const entry = (JSON.parse(listed.stdout) as Entry[]).find((e) => e.clientId === granted.clientId);
      assert.ok(entry, listed.stdout);
      const table = await runCli(['agents', 'mcp-clients', 'other-bot'], env);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /CLI Host/);
      const revoked = await runCli(['agents', 'revoke-mcp-client', 'other-bot', entry.id], env);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal(await mcpCall(granted.access), 401);
    });
  });

  describe(`migration 0022 gives grants stored before it their agent (${backend.name})`, { skip: backend.skip }, () => {
    test('a Grant row written before 0022 is listed under its agent afterwards', async () => {
      const db = await backend.open();
      const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'latchkey-0022-')), databaseUrl: db.databaseUrl });
      try {
        const migrator = new Migrator({ db: store.db.kysely, provider: { getMigrations: async () => MIGRATIONS } });
        assert.equal((await migrator.migrateTo('0020_list_indexes')).error, undefined);
        const payload = JSON.stringify({ accountId: 'agt_before', clientId: 'mcp_old', kind: 'Grant', iat: 1_700_000_000 });
        await sql`insert into mcp_oauth (model, id_hash, payload) values ('Grant', ${'a'.repeat(64)}, ${payload})`.execute(store.db.kysely);
        await sql`insert into mcp_oauth (model, id_hash, payload) values ('Grant', ${'b'.repeat(64)}, ${'not json'})`.execute(store.db.kysely);
        await migrate(store.db);
        const rows = await store.mcpOauth.listByAccount('Grant', 'agt_before', new Date().toISOString());
        assert.deepEqual(rows.map((r) => r.idHash), ['a'.repeat(64)]);
      } finally {
        await store.close();
        await db.drop();
      }
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { sql } from 'kysely';
import { openStore } from '../src/store/index.js';
import { createAgent } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { TestOAuthProvider, authorizeWithOperator, connectExpectingAuth, mcpClient } from './helpers/mcp-remote.js';
import { PG_SKIP, createTestDatabase, type TestDatabase } from './helpers/pg.js';

const REDIRECT = 'http://127.0.0.1:1/callback';

describe('remote MCP on PostgreSQL: the authorization server shares the database, tokens only as hashes', { skip: PG_SKIP }, () => {
  let db: TestDatabase;
  let a: InProcess;
  let b: InProcess;

  before(async () => {
    db = await createTestDatabase();
    a = await startInProcess({ databaseUrl: db.url });
    // A second replica on the same database: whatever one issues, the other honours.
    b = await startInProcess({ databaseUrl: db.url, dataDir: a.config.dataDir, env: { LATCHKEY_PUBLIC_URL: a.url } });
    await createAgent(a, { name: 'pg-host', policy: { rules: [] } });
  });

  after(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  test('a client authorized on one replica is served by the other; the table holds no token', async () => {
    const provider = new TestOAuthProvider(REDIRECT, { client_name: 'PG Host', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    const transport = await connectExpectingAuth(`${a.url}/mcp`, provider);
    const { back } = await authorizeWithOperator(provider, a.admin, { agent: 'pg-host' });
    const code = back.searchParams.get('code') ?? '';
    await transport.finishAuth(code);
    const tokens = provider.tokens();
    assert.ok(tokens?.access_token && tokens.refresh_token);
    const client = mcpClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(`${b.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${tokens.access_token}` } } }));
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'list_connections'));
    await client.close();
    const store = await openStore({ databaseUrl: db.url, dataDir: a.config.dataDir });
    try {
      const rows = await sql<Record<string, unknown>>`select * from mcp_oauth`.execute(store.db.kysely);
      const dump = JSON.stringify(rows.rows);
      assert.ok(rows.rows.length > 0);
      for (const secret of [tokens.access_token, tokens.refresh_token, code]) assert.ok(!dump.includes(secret), 'a token or code is stored in clear');
    } finally {
      await store.close();
    }
  });
});

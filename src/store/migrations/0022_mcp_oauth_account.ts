import { sql, type Kysely } from 'kysely';

// The agent (oidc-provider's accountId) a row of mcp_oauth belongs to, as a column, so an operator can
// list an agent's MCP client grants without reading every payload. Rows written before this carry it
// only in their payload JSON: the Grant rows (the ones listed) get it copied here.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('mcp_oauth').addColumn('account_id', 'text').execute();
  await db.schema.createIndex('mcp_oauth_account_idx').on('mcp_oauth').columns(['model', 'account_id']).execute();
  // One-word aliases: the store's CamelCasePlugin would rename snake_case keys of the result.
  const grants = await sql<{ h: string; p: string }>`select id_hash as h, payload as p from mcp_oauth where model = 'Grant' and account_id is null`.execute(db);
  for (const row of grants.rows) {
    let accountId: unknown;
    try {
      accountId = (JSON.parse(row.p) as { accountId?: unknown }).accountId;
    } catch {
      continue;
    }
    if (typeof accountId !== 'string') continue;
    await sql`update mcp_oauth set account_id = ${accountId} where model = 'Grant' and id_hash = ${row.h}`.execute(db);
  }
}

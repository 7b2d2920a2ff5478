import { sql, type Kysely } from 'kysely';

// Access proposals (docs/agents.md, "Asking for access"): an agent asks for a policy rule, an operator decides.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('proposals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    // The agent's name when it asked, so a decided proposal still reads after the agent is gone.
    .addColumn('agent_name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    // JSON: the requested rule (connection or provider, methods, paths, capabilities, lease)
    .addColumn('request', 'text', (c) => c.notNull())
    // SHA-256 of the canonical request: one pending proposal per agent and request
    .addColumn('request_key', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    // JSON actor {type, id?, name}
    .addColumn('decided_by', 'text')
    // JSON: the rule (and lease grant) approved, exactly as appended to the policy
    .addColumn('rule', 'text')
    .addColumn('decision_reason', 'text')
    .execute();
  await db.schema.createIndex('proposals_agent_status_idx').on('proposals').columns(['agent_id', 'status']).execute();
  await db.schema.createIndex('proposals_created_idx').on('proposals').columns(['created_at', 'id']).execute();
  // A retried or repeated ask while one is pending is the same proposal, even from two requests at once.
  await db.schema
    .createIndex('proposals_pending_unique')
    .on('proposals')
    .columns(['agent_id', 'request_key'])
    .unique()
    .where(sql.ref('status'), '=', 'pending')
    .execute();
}

import type { Db } from './dialect.js';
import type { AgentRow } from './agents.js';
import type { Json } from './json.js';
import { fromJson } from './json.js';

export interface AgentKeyRow {
  id: string;
  agentId: string;
  keyHash: string;
  createdAt: string;
}

export function agentKeyStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: AgentKeyRow): Promise<void> {
      await k.insertInto('agentKeys').values(row).execute();
    },
    async listForAgent(agentId: string): Promise<AgentKeyRow[]> {
      return k.selectFrom('agentKeys').selectAll().where('agentId', '=', agentId).orderBy('createdAt').execute();
    },
    /** The key with this hash and its agent, in one query (the hot path of every agent request). */
    async findByHash(keyHash: string): Promise<{ key: AgentKeyRow; agent: AgentRow } | undefined> {
      const r = await k
        .selectFrom('agentKeys')
        .innerJoin('agents', 'agents.id', 'agentKeys.agentId')
        .select([
          'agentKeys.id as keyId',
          'agentKeys.keyHash as keyHash',
          'agentKeys.createdAt as keyCreatedAt',
          'agents.id as agentId',
          'agents.name as name',
          'agents.environment as environment',
          'agents.policy as policy',
          'agents.createdAt as createdAt',
          'agents.updatedAt as updatedAt',
        ])
        .where('agentKeys.keyHash', '=', keyHash)
        .executeTakeFirst();
      if (r === undefined) return undefined;
      return {
        key: { id: r.keyId, agentId: r.agentId, keyHash: r.keyHash, createdAt: r.keyCreatedAt },
        agent: {
          id: r.agentId,
          name: r.name,
          environment: r.environment,
          policy: fromJson<Json>(r.policy, {}),
          createdAt: r.createdAt,
          updatedAt: r.updatedAt,
        },
      };
    },
    /** Returns whether a key was deleted. */
    async remove(agentId: string, keyId: string): Promise<boolean> {
      const result = await k
        .deleteFrom('agentKeys')
        .where('agentId', '=', agentId)
        .where('id', '=', keyId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type AgentKeyStore = ReturnType<typeof agentKeyStore>;

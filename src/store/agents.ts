import type { Db } from './dialect.js';
import { keysetPage, type Keyset } from './keyset.js';
import type { Json } from './json.js';
import { fromJson, toJson } from './json.js';
import type { AgentsTable } from './schema.js';

/** An agent row with its policy decoded. */
export interface AgentRow {
  id: string;
  name: string;
  environment: string;
  policy: Json;
  createdAt: string;
  updatedAt: string;
}

function decode(r: AgentsTable): AgentRow {
  return { ...r, policy: fromJson<Json>(r.policy, {}) };
}

export function agentStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: AgentRow): Promise<void> {
      await k.insertInto('agents').values({ ...row, policy: toJson(row.policy) }).execute();
    },
    async findById(id: string): Promise<AgentRow | undefined> {
      const r = await k.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    async findByName(name: string): Promise<AgentRow | undefined> {
      const r = await k.selectFrom('agents').selectAll().where('name', '=', name).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    /** By name; with `page`, one keyset page. */
    async list(page?: Keyset): Promise<AgentRow[]> {
      return (await keysetPage(k.selectFrom('agents').selectAll(), ['name'], page).execute()).map(decode);
    },
    async updatePolicy(id: string, policy: Json, updatedAt: string): Promise<void> {
      await k.updateTable('agents').set({ policy: toJson(policy), updatedAt }).where('id', '=', id).execute();
    },
    /** Deletes the agent and its keys together, so no key outlives its agent. */
    async remove(id: string): Promise<void> {
      await k.transaction().execute(async (tx) => {
        await tx.deleteFrom('agentKeys').where('agentId', '=', id).execute();
        await tx.deleteFrom('agents').where('id', '=', id).execute();
      });
    },
  };
}

export type AgentStore = ReturnType<typeof agentStore>;

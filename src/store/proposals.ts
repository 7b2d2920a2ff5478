import type { Db } from './dialect.js';
import { forUpdate } from './dialect.js';
import type { Json } from './json.js';
import { fromJson, toJson } from './json.js';
import type { ProposalsTable } from './schema.js';

export type ProposalStatus = 'pending' | 'approved' | 'denied';

/** A proposal row with its JSON columns decoded. */
export interface ProposalRow {
  id: string;
  agentId: string;
  agentName: string;
  status: ProposalStatus;
  request: Json;
  requestKey: string;
  reason: string;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: Json | null;
  rule: Json | null;
  decisionReason: string | null;
}

export interface ProposalDecision {
  status: Exclude<ProposalStatus, 'pending'>;
  decidedAt: string;
  decidedBy: Json;
  rule: Json | null;
  decisionReason: string | null;
}

function decode(r: ProposalsTable): ProposalRow {
  return {
    ...r,
    status: r.status as ProposalStatus,
    request: fromJson<Json>(r.request, {}),
    decidedBy: fromJson<Json | null>(r.decidedBy, null),
    rule: fromJson<Json | null>(r.rule, null),
  };
}

/** Owner of proposals: an agent's ask for a policy rule and the operator's decision on it. */
export function proposalStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: ProposalRow): Promise<void> {
      await k
        .insertInto('proposals')
        .values({ ...row, request: toJson(row.request), decidedBy: row.decidedBy === null ? null : toJson(row.decidedBy), rule: row.rule === null ? null : toJson(row.rule) })
        .execute();
    },
    async findById(id: string): Promise<ProposalRow | undefined> {
      const r = await k.selectFrom('proposals').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    async findPending(agentId: string, requestKey: string): Promise<ProposalRow | undefined> {
      const r = await k
        .selectFrom('proposals')
        .selectAll()
        .where('agentId', '=', agentId)
        .where('requestKey', '=', requestKey)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    async countPending(agentId: string): Promise<number> {
      const r = await k
        .selectFrom('proposals')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('agentId', '=', agentId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    /** Newest first; `after` is the (createdAt, id) of the last row of the previous page. */
    async list(filter: { agentId?: string; status?: ProposalStatus; limit: number; after?: { createdAt: string; id: string } }): Promise<ProposalRow[]> {
      let q = k.selectFrom('proposals').selectAll();
      if (filter.agentId !== undefined) q = q.where('agentId', '=', filter.agentId);
      if (filter.status !== undefined) q = q.where('status', '=', filter.status);
      const after = filter.after;
      if (after !== undefined) {
        q = q.where((eb) => eb.or([eb('createdAt', '<', after.createdAt), eb.and([eb('createdAt', '=', after.createdAt), eb('id', '<', after.id)])]));
      }
      const rows = await q.orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(decode);
    },
    /**
     * Compare-and-set from pending: true only for the one caller that decided
     * it. Inside a transaction this also holds the row until commit, so a
     * second decision waits and then finds it decided.
     */
    async decide(id: string, decision: ProposalDecision): Promise<boolean> {
      const result = await k
        .updateTable('proposals')
        .set({
          status: decision.status,
          decidedAt: decision.decidedAt,
          decidedBy: toJson(decision.decidedBy),
          rule: decision.rule === null ? null : toJson(decision.rule),
          decisionReason: decision.decisionReason,
        })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /** The agent's row, locked until the transaction ends where the dialect can (PostgreSQL); SQLite's write lock is already held. */
    async lockAgent(agentId: string): Promise<{ id: string; name: string; policy: Json } | undefined> {
      const r = await forUpdate(db, k.selectFrom('agents').select(['id', 'name', 'policy']).where('id', '=', agentId)).executeTakeFirst();
      return r === undefined ? undefined : { id: r.id, name: r.name, policy: fromJson<Json>(r.policy, {}) };
    },
  };
}

export type ProposalStore = ReturnType<typeof proposalStore>;

import { CompiledQuery } from 'kysely';
import type { Db } from './dialect.js';
import type { AuditEventsTable } from './schema.js';

export type AuditEventRow = AuditEventsTable;

export interface AuditChainRow {
  id: string;
  startedAt: string;
  lastSeq: number;
  lastHash: string;
}

export interface AuditFilter {
  actorId?: string;
  actorName?: string;
  connection?: string;
  action?: string;
  since?: string;
  limit: number;
}

function decode(r: AuditEventsTable): AuditEventRow {
  return { ...r, seq: Number(r.seq), status: r.status === null ? null : Number(r.status) };
}

const COLUMNS = [
  'chainId',
  'seq',
  'id',
  'at',
  'actorType',
  'actorId',
  'actorName',
  'action',
  'connection',
  'outcome',
  'status',
  'detail',
  'prevHash',
  'hash',
] as const;

export function auditStore(db: Db) {
  const k = db.kysely;
  // Building a many-row insert through the query builder costs more than writing it; the SQL text
  // depends only on the row count, so Kysely compiles it once per batch size (in the right dialect).
  const insertSql = new Map<number, string>();
  function insertFor(rows: AuditEventRow[]): CompiledQuery {
    let text = insertSql.get(rows.length);
    if (text === undefined) {
      // Columns in COLUMNS order, so the parameters below line up with the compiled text.
      const ordered = rows.map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c]])) as unknown as AuditEventRow);
      text = k.insertInto('auditEvents').values(ordered).compile().sql;
      insertSql.set(rows.length, text);
    }
    const parameters: unknown[] = [];
    for (const r of rows) for (const c of COLUMNS) parameters.push(r[c]);
    return CompiledQuery.raw(text, parameters);
  }
  return {
    /** Appends a batch and moves the chain head in one transaction: all of the batch or none of it. */
    async appendBatch(chain: AuditChainRow, events: AuditEventRow[]): Promise<void> {
      await k.transaction().execute(async (tx) => {
        await tx.executeQuery(insertFor(events));
        const moved = await tx
          .updateTable('auditChains')
          .set({ lastSeq: chain.lastSeq, lastHash: chain.lastHash })
          .where('id', '=', chain.id)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) === 0) await tx.insertInto('auditChains').values(chain).execute();
      });
    },
    async list(filter: AuditFilter): Promise<AuditEventRow[]> {
      let q = k.selectFrom('auditEvents').selectAll();
      if (filter.actorId !== undefined && filter.actorName !== undefined) {
        const { actorId, actorName } = filter;
        q = q.where((eb) => eb.or([eb('actorId', '=', actorId), eb('actorName', '=', actorName)]));
      }
      if (filter.connection !== undefined) q = q.where('connection', '=', filter.connection);
      if (filter.action !== undefined) q = q.where('action', '=', filter.action);
      if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
      const rows = await q.orderBy('at', 'desc').orderBy('chainId').orderBy('seq', 'desc').limit(filter.limit).execute();
      return rows.map(decode);
    },
    async chains(): Promise<AuditChainRow[]> {
      const rows = await k.selectFrom('auditChains').selectAll().orderBy('startedAt').orderBy('id').execute();
      return rows.map((r) => ({ ...r, lastSeq: Number(r.lastSeq) }));
    },
    /** Chain ids that have events, including any whose head row is gone. */
    async chainIdsWithEvents(): Promise<string[]> {
      const rows = await k.selectFrom('auditEvents').select('chainId').distinct().execute();
      return rows.map((r) => r.chainId);
    },
    /** One chain's events in order, a page at a time. */
    async page(chainId: string, afterSeq: number, limit: number): Promise<AuditEventRow[]> {
      const rows = await k
        .selectFrom('auditEvents')
        .selectAll()
        .where('chainId', '=', chainId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(decode);
    },
  };
}

export type AuditStore = ReturnType<typeof auditStore>;

import type BetterSqlite3 from 'better-sqlite3';
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

/**
 * The same transaction as the Kysely path, on prepared better-sqlite3 statements:
 * the proxy writes two events per request, and through Kysely each batch cost
 * four compiled queries and a dozen promise hops for about 10 µs of SQLite work.
 */
function sqliteAppender(database: BetterSqlite3.Database): (chain: AuditChainRow, events: AuditEventRow[]) => void {
  const insert = database.prepare(
    'insert into audit_events (chain_id, seq, id, at, actor_type, actor_id, actor_name, action, connection, outcome, status, detail, prev_hash, hash) ' +
      'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const moveHead = database.prepare('update audit_chains set last_seq = ?, last_hash = ? where id = ?');
  const insertHead = database.prepare('insert into audit_chains (id, started_at, last_seq, last_hash) values (?, ?, ?, ?)');
  return database.transaction((chain: AuditChainRow, events: AuditEventRow[]) => {
    for (const e of events) {
      insert.run(e.chainId, e.seq, e.id, e.at, e.actorType, e.actorId, e.actorName, e.action, e.connection, e.outcome, e.status, e.detail, e.prevHash, e.hash);
    }
    if (moveHead.run(chain.lastSeq, chain.lastHash, chain.id).changes === 0) {
      insertHead.run(chain.id, chain.startedAt, chain.lastSeq, chain.lastHash);
    }
  });
}

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
  // Prepared on first use: the store is built before migrations create the tables.
  let appendSqlite: ((chain: AuditChainRow, events: AuditEventRow[]) => void) | undefined;
  return {
    /** Appends a batch and moves the chain head in one transaction: all of the batch or none of it. */
    async appendBatch(chain: AuditChainRow, events: AuditEventRow[]): Promise<void> {
      if (db.sqlite !== undefined) {
        const sqlite = db.sqlite;
        // Holding Kysely's only connection: no Kysely transaction can be open or start meanwhile.
        await k.connection().execute(async () => {
          appendSqlite ??= sqliteAppender(sqlite);
          appendSqlite(chain, events);
        });
        return;
      }
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
